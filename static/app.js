// chatapp in the browser: shared helpers and the page's one socket. Each page's module
// (static/pages/*.js, the page's entry point) imports this file, so it runs once per tab.
// User text is only ever inserted as text (textContent, text nodes): never as HTML.

import { refreshTimes, timeElement } from "./time.js";

const LOGGED_OUT = new Set(["unauthorized", "session_ended"]);
const UNREACHABLE = "The server is unreachable. Check your connection and try again.";
const xsrf = () => (document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/) || [])[1] || "";

function failure(message, code) {
  const error = new Error(message);
  error.code = code;
  return error;
}

/** A JSON API call; every failure is an Error whose message can be shown as it is. */
export async function api(method, path, body, headers = {}) {
  let response;
  try {
    response = await fetch(path, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-XSRFToken": decodeURIComponent(xsrf()), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw failure(UNREACHABLE, "unreachable"); // not "Failed to fetch"
  }
  let data = null;
  if (response.status !== 204) {
    try {
      data = await response.json();
    } catch {
      throw failure(`The server answered ${response.status}; try again in a moment.`, "bad_answer");
    }
  }
  // Not logged in (any more): to the login page. A wrong password is answered 401 too,
  // but with its own code, and stays on the page as a form error.
  if (response.status === 401 && LOGGED_OUT.has(data?.error?.code)) location.assign(loginUrl());
  if (!response.ok) {
    throw failure(data?.error?.message || `request failed (${response.status})`, data?.error?.code);
  }
  return data;
}

/** The login page, told why the session ended (it says so) and where to come back to. */
export function loginUrl(ended) {
  const query = new URLSearchParams(ended ? { ended } : {});
  const here = location.pathname + location.search;
  if (here !== "/") query.set("next", here);
  const search = query.toString();
  return search ? `/login?${search}` : "/login";
}

/** An element with attributes and children; strings become text nodes, never markup. */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

export const when = timeElement;

const LINK = /\bhttps?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g;

/** A text's parts, with each http(s) address a link that opens in a new tab and gives the
 *  target no way back (noopener, noreferrer); everything else stays plain text. */
export function linkified(text) {
  const parts = [];
  let at = 0;
  for (const match of text.matchAll(LINK)) {
    parts.push(text.slice(at, match.index));
    parts.push(el("a", { href: match[0], target: "_blank", rel: "noopener noreferrer nofollow" }, match[0]));
    at = match.index + match[0].length;
  }
  parts.push(text.slice(at));
  return parts.filter((part) => part !== "");
}

/** The start of a message for a list, "…" where it is cut (and a deleted one says so). */
export function excerpt(message, most = 80) {
  if (message.deleted) return "Message deleted";
  const chars = [...message.text];
  return chars.length > most ? `${chars.slice(0, most).join("")}…` : message.text;
}

/** True while the person can see this tab: what is on screen then counts as read. */
export const looking = () => document.visibilityState === "visible";

/** The "load more" cursor after a page: a page older than `current` moves it on; the newest
 *  page read again (a reconnect) starts it over, as a first load does. */
export const nextCursor = (current, before, page) =>
  !before || page.next === null || Number(page.next) < Number(current) ? page.next : current;
export const me = () => document.getElementById("me")?.dataset.userId;
setInterval(refreshTimes, 30_000);

/** Short feedback ("Name saved."), announced politely. */
export function say(text) {
  document.getElementById("status").textContent = text;
}

/** Announced to screen readers only: new posts and messages that appear by themselves. */
export function announce(text) {
  const region = document.getElementById("announcer");
  region.textContent = "";
  setTimeout(() => { region.textContent = text; }, 50);
}

/** An error shown under a form; the fields it is about are marked aria-invalid (each
 *  field names the error element in its aria-describedby). */
export function showError(id, error, fields = []) {
  const target = document.getElementById(id);
  if (!target) return;
  target.textContent = error ? error.message : "";
  for (const field of fields) {
    if (error) field?.setAttribute("aria-invalid", "true");
    else field?.removeAttribute("aria-invalid");
  }
}

/** True, with the error shown, when a field holds more than its `data-max-length`: a paste
 *  over the limit is refused with the numbers and kept, never cut short in silence. */
export function tooLong(field, errorId) {
  const most = Number(field.dataset.maxLength);
  const length = [...field.value].length;
  if (!most || length <= most) return false;
  showError(errorId, { message: `At most ${most} characters; this has ${length}. Your text is kept.` }, [field]);
  return true;
}

/** Runs `action` with `button` disabled, so a double click sends once. */
export async function busy(button, action) {
  if (button.disabled) return undefined;
  button.disabled = true;
  try {
    return await action();
  } finally {
    button.disabled = false;
  }
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

// -- people ---------------------------------------------------------------------------------

const initials = (name) =>
  (name.trim().split(/\s+/).slice(0, 2).map((word) => [...word][0] || "").join("") || "?").toUpperCase();

function hue(id) {
  let hash = 0;
  for (const char of String(id)) hash = (hash * 31 + char.charCodeAt(0)) >>> 0;
  return hash % 8;
}

/** Initials on a colour of the user's own (decorative: the name is always next to it). */
export function avatar(user, size = "") {
  return el("span", { class: `avatar hue-${hue(user.id)} ${size}`.trim(), "aria-hidden": "true",
    "data-avatar-of": user.id }, initials(user.display_name));
}

/** A user's display name that follows renames live, wherever it is shown. */
export function nameOf(user, tag = "strong") {
  return el(tag, { "data-name-of": user.id }, user.display_name);
}

function showRename(user) {
  for (const node of document.querySelectorAll(`[data-name-of="${CSS.escape(user.id)}"]`)) {
    node.textContent = user.display_name;
  }
  for (const node of document.querySelectorAll(`[data-avatar-of="${CSS.escape(user.id)}"]`)) {
    node.textContent = initials(user.display_name);
  }
}

// -- notifications: the words, the link, the toast --------------------------------------------

const WHAT = {
  friend_request: "sent you a friend request",
  friend_accepted: "accepted your friend request",
  post: "posted",
  comment: "commented on your post",
  message: "sent you a message",
  room_message: "wrote in a room",
};

/** "Carol King sent you a friend request" (without the quoted text). */
export const describe = (n) => `${n.actor.display_name} ${WHAT[n.kind] || n.kind}`;

/** Kinds that come in runs: several from one person read as one ("Ana sent you 3 messages"). */
const MANY = {
  message: (count) => `sent you ${count} messages`,
  room_message: (count) => `wrote ${count} messages in a room`,
};
/** The run a notification belongs to (its kind, who, and the room), or null for one that
 *  stands alone. */
export const runOf = (n) => (MANY[n.kind] ? `${n.kind}:${n.actor.id}:${n.room_id ?? ""}` : null);
/** `describe` for `count` notifications of one run. */
export const describeMany = (n, count) =>
  (count > 1 && MANY[n.kind] ? `${n.actor.display_name} ${MANY[n.kind](count)}` : describe(n));
/** A notification's quoted text, "…" where it is cut. */
export const quoted = (n) => (n.text ? `: “${excerpt({ text: n.text })}”` : "");

/** Where a notification leads: the post, the friends page, the conversation, the room. */
export function linkOf(n) {
  if (n.kind === "message") return `/messages/${encodeURIComponent(n.actor.username)}`;
  if (n.kind === "room_message") return n.room_id ? `/rooms/${encodeURIComponent(n.room_id)}` : "/rooms";
  if (n.post_id) return `/posts/${encodeURIComponent(n.post_id)}`;
  return "/friends";
}

/** A toast for a notification, with a button that closes it; one more of a run already on
 *  screen replaces that toast with one counting them all. */
function toast(n) {
  const region = document.getElementById("toasts");
  const run = runOf(n);
  const earlier = run && [...region.children].find((item) => item.dataset.run === run);
  const count = earlier ? Number(earlier.dataset.count) + 1 : 1;
  earlier?.remove();
  const item = el("div", { class: "toast", "data-run": run, "data-count": count },
    el("a", { href: linkOf(n) }, avatar(n.actor, "small"), " ", describeMany(n, count), quoted(n)),
    el("button", { type: "button", class: "toast-close link", "aria-label": "Dismiss",
      onclick: () => item.remove() }, "×"));
  region.append(item);
  setTimeout(() => item.remove(), 6000);
  while (region.children.length > 3) region.firstElementChild.remove();
}

const notificationHandlers = [];

/** A page that shows a notification itself (the open conversation) returns true. */
export function handleNotifications(handler) {
  notificationHandlers.push(handler);
}

function onNotification(n) {
  if (notificationHandlers.some((handler) => handler(n))) return;
  bellChanged(unread + 1);
  toast(n);
}

// -- the socket -----------------------------------------------------------------------------

// A connection attempt that hangs (a server mid-restart) is given up after 5 s, not the
// client's default 20 s, and the next attempt follows (backoff from 1 s up to 5 s).
// WebSocket first; where it cannot pass (a proxy that drops upgrades), long-polling.
export const socket = window.io
  ? window.io({ transports: ["websocket", "polling"], tryAllTransports: true, timeout: 5000 })
  : null;
const resyncs = [];

/** Run `catchUp` on every connect: re-read from the API what no socket of this page heard.
 * The first connect too: whatever happened between the page's first API reads and its
 * socket's first connect (or a connect that was cut before it completed) was pushed to
 * no socket of this page. Catch-ups merge by id, so nothing is shown twice. */
export function onConnect(catchUp) {
  resyncs.push(catchUp);
}

export function emit(event, data) {
  return new Promise((resolve, reject) => {
    if (!socket?.connected) {
      reject(failure("Not connected to the server right now; try again in a moment.", "unreachable"));
      return;
    }
    socket.timeout(10000).emit(event, data, (timeout, ack) => {
      if (timeout) return reject(failure("No answer from the server; try again.", "timeout"));
      if (!ack.ok) return reject(failure(ack.error.message, ack.error.code));
      resolve(ack);
    });
  });
}

/** What a refused connect means to the person (the server's refusal codes). */
const REFUSALS = {
  too_many_sockets: "Too many open chatapp tabs: close some, then reload this one to get live updates.",
  unavailable: "The server is having trouble; live updates will resume shortly…",
};

/** The fixed banner about the live connection: lost, refused, back. */
function connection(text, state) {
  const banner = document.getElementById("connection");
  clearTimeout(connection.timer);
  banner.textContent = text;
  banner.dataset.state = state;
  banner.hidden = !text;
  if (state === "back") connection.timer = setTimeout(() => connection("", ""), 3000);
}

let loggingOut = false; // this tab asked to log out: its own session:ended is expected

if (socket) {
  let connectedBefore = false;
  let sessionEnded = false;
  socket.on("connect", () => {
    if (connectedBefore) connection("Back online.", "back");
    else connection("", "");
    resyncs.forEach((catchUp) => catchUp());
    refreshBell(); // a count pushed before this socket was there is read now
    connectedBefore = true;
  });
  socket.on("disconnect", (reason) => {
    if (sessionEnded) return;
    connection("Connection lost. Reconnecting…", "lost");
    // A server that says goodbye is not retried by the client: a restarting server
    // closes transports instead, but whatever the cause, this page comes back by itself.
    if (reason === "io server disconnect") setTimeout(() => socket.connect(), 1000);
  });
  socket.on("connect_error", (error) => {
    if (error.message === "unauthorized") return location.assign(loginUrl());
    connection(REFUSALS[error.message] || "Cannot reach the server. Retrying…", "lost");
    // A refusal by the server is final for the client; retry ourselves, unhurried.
    if (!socket.active) setTimeout(() => socket.connect(), 5000);
  });
  socket.on("session:ended", ({ reason }) => {
    sessionEnded = true;
    if (loggingOut) return; // this tab's own logout goes to the login page itself
    say("Your session has ended. Taking you to the login page…");
    document.body.classList.add("ended");
    setTimeout(() => location.assign(loginUrl(reason)), 300);
  });
  socket.on("session:expiring", ({ expires_at: at, extendable }) => warnOfExpiry(at, extendable));
  socket.on("notification", onNotification);
  socket.on("notifications:unread", ({ unread: count }) => bellChanged(count));
  socket.on("user:renamed", showRename);
}

// -- "you'll be logged out soon" -----------------------------------------------------------------

let expiryTimer = null;

/** A banner counting down to the session's end: "Stay logged in" renews it, and where
 *  nothing can (the login's absolute deadline), "Log in again" starts a fresh one. */
function warnOfExpiry(expiresAt, extendable = true) {
  let banner = document.getElementById("expiry");
  if (!banner) {
    banner = el("div", { id: "expiry", class: "expiry", role: "alert" },
      el("span", { id: "expiry-text" }), " ",
      el("button", { type: "button", id: "stay", onclick: stayLoggedIn }, "Stay logged in"),
      el("button", { type: "button", id: "relogin", onclick: logInAgain }, "Log in again"));
    document.body.prepend(banner);
  }
  banner.hidden = false;
  banner.dataset.expiresAt = expiresAt;
  document.getElementById("stay").hidden = !extendable;
  document.getElementById("relogin").hidden = extendable;
  clearInterval(expiryTimer);
  const tick = () => {
    const left = Math.max(0, Math.round((new Date(expiresAt) - Date.now()) / 1000));
    document.getElementById("expiry-text").textContent = extendable
      ? `You'll be logged out in ${left} s for inactivity.`
      : `This login ends in ${left} s and can't be extended: log in again to go on.`;
  };
  tick();
  expiryTimer = setInterval(tick, 1000);
}

async function stayLoggedIn() {
  try {
    const { expires_at: expiresAt, extendable } = await emit("session:renew");
    if (!extendable) return warnOfExpiry(expiresAt, false);
    clearInterval(expiryTimer);
    document.getElementById("expiry").hidden = true;
    say("You're still logged in.");
  } catch (error) {
    say(error.message);
  }
}

/** A fresh login (with a new absolute deadline), back to this page after. */
async function logInAgain() {
  loggingOut = true;
  try {
    await api("POST", "/api/logout");
  } finally {
    location.assign(loginUrl());
  }
}

// -- the header: bell, menu, log out -----------------------------------------------------------

let unread = 0;
let bellChanges = 0; // pushes that moved the count: a count read before one of them is old

function bellChanged(count) {
  bellChanges += 1;
  setUnread(count);
}

function setUnread(count) {
  unread = count;
  const badge = document.getElementById("unread");
  if (!badge) return;
  badge.textContent = String(count);
  badge.hidden = count === 0;
  badge.parentElement.setAttribute("aria-label", `Notifications, ${count} unread`);
}

/** The server's count. One read while pushes moved the bell may predate them: it is read
 *  again (they are counted in the new read), a few times at most while pushes keep coming. */
async function refreshBell() {
  if (!document.getElementById("unread")) return;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const before = bellChanges;
    try {
      const { unread: count } = await api("GET", "/api/notifications?limit=1");
      if (bellChanges === before) {
        setUnread(count);
        return;
      }
    } catch {
      return; // unreachable: the connection banner says so, and a reconnect refreshes the bell
    }
  }
}

const menuButton = document.getElementById("menu-button");
menuButton?.addEventListener("click", () => {
  const open = menuButton.getAttribute("aria-expanded") !== "true";
  menuButton.setAttribute("aria-expanded", String(open));
  document.querySelector(".bar").classList.toggle("open", open);
});

const logoutButton = document.getElementById("logout");

/** Log out; a server out of reach is said, and the logout tried again until it answers. */
async function logOut() {
  logoutButton.disabled = true;
  loggingOut = true;
  try {
    await api("POST", "/api/logout");
    location.assign("/login");
  } catch (error) {
    if (error.code !== "unreachable") {
      logoutButton.disabled = false;
      loggingOut = false;
      return say(error.message);
    }
    say("The server is unreachable: you'll be logged out as soon as it answers…");
    setTimeout(logOut, 3000);
  }
}

logoutButton?.addEventListener("click", logOut);

refreshBell();
