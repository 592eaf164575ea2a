// chatapp in the browser: shared helpers and the page's one socket. Each page's module
// (static/pages/*.js, the page's entry point) imports this file, so it runs once per tab.
// User text is only ever inserted as text (textContent, text nodes): never as HTML.

const LOGGED_OUT = new Set(["unauthorized", "session_ended"]);
const xsrf = () => (document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/) || [])[1] || "";

export async function api(method, path, body) {
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-XSRFToken": decodeURIComponent(xsrf()) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = response.status === 204 ? null : await response.json();
  // Not logged in (any more): to the login page. A wrong password is answered 401 too,
  // but with its own code, and stays on the page as a form error.
  if (response.status === 401 && LOGGED_OUT.has(data?.error?.code)) location.assign("/login");
  if (!response.ok) {
    const error = new Error(data?.error?.message || `request failed (${response.status})`);
    error.code = data?.error?.code;
    throw error;
  }
  return data;
}

/** An element with attributes and children; strings become text nodes, never markup. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const when = (iso) => new Date(iso).toLocaleString();
export const me = () => document.getElementById("me")?.dataset.userId;

export function say(text) {
  document.getElementById("status").textContent = text;
}

export function showError(id, error) {
  const target = document.getElementById(id);
  if (target) target.textContent = error ? error.message : "";
}

/** Keeps one element per id in a list, newest (highest id) first or last. */
export class KeyedList {
  constructor(list, { newestFirst = true } = {}) {
    this.list = list;
    this.newestFirst = newestFirst;
    this.items = new Map();
  }
  has(id) {
    return this.items.has(id);
  }
  put(id, node) {
    node.dataset.id = id;
    const old = this.items.get(id);
    this.items.set(id, node);
    if (old) {
      old.replaceWith(node); // the same item again (an event and a re-read): shown once
      return;
    }
    const after = [...this.list.children].find((other) =>
      this.newestFirst ? Number(other.dataset.id) < Number(id) : Number(other.dataset.id) > Number(id));
    this.list.insertBefore(node, after || null);
  }
}

// -- the socket -----------------------------------------------------------------------------

// A connection attempt that hangs (a server mid-restart) is given up after 5 s, not the
// client's default 20 s, and the next attempt follows (backoff from 1 s up to 5 s).
export const socket = window.io
  ? window.io({ transports: ["websocket", "polling"], timeout: 5000 })
  : null;
const resyncs = [];

/** Run `catchUp` after every reconnect: re-read from the API what a dropped socket missed. */
export function onReconnect(catchUp) {
  resyncs.push(catchUp);
}

export function emit(event, data) {
  return new Promise((resolve, reject) => {
    socket.timeout(10000).emit(event, data, (timeout, ack) => {
      if (timeout) return reject(new Error("no answer from the server; try again"));
      if (!ack.ok) {
        const error = new Error(ack.error.message);
        error.code = ack.error.code;
        return reject(error);
      }
      resolve(ack);
    });
  });
}

/** What a refused connect means to the person (the server's refusal codes). */
const REFUSALS = {
  too_many_sockets: "Too many open chatapp tabs: close some, then reload this one to get live updates.",
  unavailable: "The server is having trouble; live updates will resume shortly…",
};

if (socket) {
  let connectedBefore = false;
  let sessionEnded = false;
  socket.on("connect", () => {
    if (connectedBefore) {
      say("");
      resyncs.forEach((catchUp) => catchUp());
      refreshBell();
    }
    connectedBefore = true;
  });
  socket.on("disconnect", (reason) => {
    if (sessionEnded) return;
    say("Connection lost; reconnecting…");
    // A server that says goodbye is not retried by the client: a restarting server
    // closes transports instead, but whatever the cause, this page comes back by itself.
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), 1000);
  });
  socket.on("connect_error", (error) => {
    if (error.message === "unauthorized") return location.assign("/login");
    say(REFUSALS[error.message] || "Cannot reach the server; retrying…");
    // A refusal by the server is final for the client; retry ourselves, unhurried.
    if (!socket.active) setTimeout(() => socket.connect(), 5000);
  });
  socket.on("session:ended", () => {
    sessionEnded = true;
    say("Your session has ended. Taking you to the login page…");
    document.body.classList.add("ended");
    setTimeout(() => location.assign("/login"), 300);
  });
  socket.on("session:expiring", ({ expires_at }) => warnOfExpiry(expires_at));
  socket.on("notification", () => setUnread(unread + 1));
  socket.on("user:renamed", (user) => {
    if (user.id === me()) document.getElementById("me").textContent = user.display_name;
  });
}

// -- "you'll be logged out soon" -----------------------------------------------------------------

let expiryTimer = null;

/** A banner counting down to the session's end, with one button that renews it. */
function warnOfExpiry(expiresAt) {
  let banner = document.getElementById("expiry");
  if (!banner) {
    const text = el("span", { id: "expiry-text" });
    const stay = el("button", { type: "button", onclick: stayLoggedIn }, "Stay logged in");
    banner = el("div", { id: "expiry", class: "expiry", role: "alert" }, text, " ", stay);
    document.body.prepend(banner);
  }
  banner.hidden = false;
  banner.dataset.expiresAt = expiresAt;
  clearInterval(expiryTimer);
  const tick = () => {
    const left = Math.max(0, Math.round((new Date(expiresAt) - Date.now()) / 1000));
    document.getElementById("expiry-text").textContent =
      `You'll be logged out in ${left} s for inactivity.`;
  };
  tick();
  expiryTimer = setInterval(tick, 1000);
}

async function stayLoggedIn() {
  try {
    await emit("session:get"); // any event renews the session
    clearInterval(expiryTimer);
    document.getElementById("expiry").hidden = true;
    say("You're still logged in.");
  } catch (error) {
    say(error.message);
  }
}

// -- the bell -------------------------------------------------------------------------------

let unread = 0;

export function setUnread(count) {
  unread = count;
  const badge = document.getElementById("unread");
  if (!badge) return;
  badge.textContent = String(count);
  badge.hidden = count === 0;
  badge.parentElement.setAttribute("aria-label", `Notifications, ${count} unread`);
}

async function refreshBell() {
  if (document.getElementById("unread")) setUnread((await api("GET", "/api/notifications?limit=1")).unread);
}

document.getElementById("logout")?.addEventListener("click", async () => {
  await api("POST", "/api/logout");
  location.assign("/login");
});

refreshBell();
