// Notifications, newest first, each a link to what it is about; a run of messages from one
// person is one row that counts them ("Ana sent you 3 messages"), as the bell counts each.
// What is on screen while the page is looked at is read: marked read on the server, still
// highlighted here as new.
import {
  api, avatar, busy, describeMany, el, handleNotifications, linkOf, looking, nextCursor,
  onConnect, quoted, runOf, showError, when,
} from "../app.js";

const list = document.getElementById("notifications");
const more = document.getElementById("more");
const empty = document.getElementById("empty");
const shown = new Map(); // id -> notification, whatever the page it came on
let next = null;

/** Neighbours of one run, both new or both seen, are one row. */
function rows() {
  const newestFirst = [...shown.values()].sort((a, b) => Number(b.id) - Number(a.id));
  const grouped = [];
  for (const n of newestFirst) {
    const last = grouped.at(-1);
    if (last && runOf(n) && runOf(n) === runOf(last.first) && n.read === last.first.read) last.count += 1;
    else grouped.push({ first: n, count: 1 });
  }
  return grouped;
}

function render() {
  list.replaceChildren(...rows().map(({ first: n, count }) =>
    el("li", { class: n.read ? "notification card" : "notification card unread", "data-id": n.id },
      el("a", { href: linkOf(n) }, avatar(n.actor), el("span", {},
        describeMany(n, count), quoted(n), el("br"), when(n.created_at)),
      n.read ? null : el("span", { class: "new-label" }, "new")))));
  empty.hidden = shown.size > 0;
}

function show(notifications) {
  for (const n of notifications) shown.set(n.id, n);
  render();
}

async function markViewed(notifications) {
  const ids = notifications.filter((n) => !n.read).map((n) => n.id);
  if (ids.length && looking()) await api("POST", "/api/notifications/read", { ids });
}

async function load(before) {
  try {
    const page = await api("GET", `/api/notifications${before ? `?before=${before}` : ""}`);
    show(page.notifications);
    next = nextCursor(next, before, page);
    more.hidden = next === null;
    await markViewed(page.notifications);
    showError("form-error", null);
  } catch (error) {
    showError("form-error", error);
  }
}

document.getElementById("read-all").addEventListener("click", (event) =>
  busy(event.target, async () => {
    try {
      await api("POST", "/api/notifications/read", {});
      show([...shown.values()].map((n) => ({ ...n, read: true })));
    } catch (error) {
      showError("form-error", error);
    }
  }));
more.addEventListener("click", () => busy(more, () => load(next)));
// A notification arriving while the list is looked at is seen: shown here, read at once.
handleNotifications((n) => {
  if (!looking()) return false;
  show([n]);
  markViewed([n]).catch(() => {});
  return true;
});
document.addEventListener("visibilitychange", () => looking() && load(null));
onConnect(() => load(null));
load(null);
