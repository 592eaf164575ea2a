import { KeyedList, api, el, onReconnect, setUnread, socket, when } from "../app.js";

const list = new KeyedList(document.getElementById("notifications"));
const WHAT = {
  friend_request: "wants to be your friend",
  friend_accepted: "accepted your friend request",
  post: "posted",
  comment: "commented on your post",
  message: "sent you a message",
};

function show(n) {
  list.put(n.id, el("li", { class: n.read ? "card" : "card unread" },
    el("strong", {}, n.actor.display_name), " ", WHAT[n.kind] || n.kind,
    n.text ? el("q", {}, n.text) : "", " ", el("span", { class: "muted" }, when(n.created_at))));
}

async function load() {
  const { notifications, unread } = await api("GET", "/api/notifications");
  notifications.forEach(show);
  setUnread(unread);
}

document.getElementById("read-all").addEventListener("click", async () => {
  await api("POST", "/api/notifications/read", {});
  await load();
});
socket?.on("notification", show);
onReconnect(load);
load();
