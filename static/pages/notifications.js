// Notifications, newest first, each a link to what it is about. What is on screen while the
// page is looked at is read: marked read on the server, still highlighted here as new.
import {
  KeyedList, api, avatar, busy, describe, el, handleNotifications, linkOf, looking, nextCursor,
  onConnect, showError, when,
} from "../app.js";

const list = new KeyedList(document.getElementById("notifications"));
const more = document.getElementById("more");
const empty = document.getElementById("empty");
let next = null;

function show(n) {
  list.put(n.id, el("li", { class: n.read ? "notification card" : "notification card unread" },
    el("a", { href: linkOf(n) }, avatar(n.actor), el("span", {},
      describe(n), n.text ? `: “${n.text}”` : "", el("br"), when(n.created_at)),
    n.read ? null : el("span", { class: "new-label" }, "new"))));
  empty.hidden = true;
}

async function markViewed(notifications) {
  const ids = notifications.filter((n) => !n.read).map((n) => n.id);
  if (ids.length && looking()) await api("POST", "/api/notifications/read", { ids });
}

async function load(before) {
  try {
    const page = await api("GET", `/api/notifications${before ? `?before=${before}` : ""}`);
    page.notifications.forEach(show);
    next = nextCursor(next, before, page);
    more.hidden = next === null;
    empty.hidden = list.items.size > 0;
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
      for (const item of document.querySelectorAll("#notifications .unread")) {
        item.classList.remove("unread");
        item.querySelector(".new-label")?.remove();
      }
    } catch (error) {
      showError("form-error", error);
    }
  }));
more.addEventListener("click", () => busy(more, () => load(next)));
// A notification arriving while the list is looked at is seen: shown here, read at once.
handleNotifications((n) => {
  if (!looking()) return false;
  show(n);
  markViewed([n]).catch(() => {});
  return true;
});
document.addEventListener("visibilitychange", () => looking() && load(null));
onConnect(() => load(null));
load(null);
