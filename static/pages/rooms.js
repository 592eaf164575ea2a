// The rooms one is in, the most recently active first, with unread counts (also in the
// tab's title); and a form to start one with some friends.
import { api, el, excerpt, me, nameOf, onConnect, showError, socket, tooLong, when } from "../app.js";

const list = document.getElementById("rooms");
const empty = document.getElementById("empty");
const form = document.getElementById("room-form");
const name = document.getElementById("room-name");
const members = document.getElementById("room-members");
const noFriends = document.getElementById("no-friends");
const baseTitle = document.title;

function row({ room, last_message: last, unread }) {
  const summary = last
    ? [last.from.id === me() ? "You: " : `${last.from.display_name}: `, excerpt(last)]
    : [`${room.members.length} members`];
  return el("li", {}, el("a", { class: unread ? "conversation unread" : "conversation",
    href: `/rooms/${encodeURIComponent(room.id)}` },
  el("span", { class: "avatar room-avatar", "aria-hidden": "true" }, room.name.slice(0, 1).toUpperCase()),
  el("span", { class: "summary" },
    el("span", { class: "line" }, el("strong", {}, room.name), last ? when(last.created_at) : null),
    el("span", { class: "line" }, el("span", { class: "last muted" }, ...summary),
      unread ? el("span", { class: "count-badge", "aria-label": `${unread} unread` }, String(unread)) : null))));
}

async function load() {
  try {
    const { rooms } = await api("GET", "/api/rooms");
    list.replaceChildren(...rooms.map(row));
    empty.hidden = rooms.length > 0;
    const unread = rooms.reduce((sum, r) => sum + r.unread, 0);
    document.title = unread ? `(${unread}) ${baseTitle}` : baseTitle;
    showError("form-error", null);
  } catch (error) {
    showError("form-error", error);
  }
}

async function loadFriends() {
  const { friends } = await api("GET", "/api/friends");
  members.querySelectorAll("label.pick").forEach((node) => node.remove());
  noFriends.hidden = friends.length > 0;
  for (const friend of friends) {
    const id = `pick-${friend.id}`;
    members.append(el("label", { class: "pick", for: id },
      el("input", { type: "checkbox", id, value: friend.username }), " ", nameOf(friend, "span"),
      el("span", { class: "muted" }, ` @${friend.username}`)));
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  if (tooLong(name, "form-error")) return;
  const chosen = [...members.querySelectorAll("input:checked")].map((box) => box.value);
  try {
    const { room } = await api("POST", "/api/rooms", { name: name.value, members: chosen });
    location.assign(`/rooms/${encodeURIComponent(room.id)}`);
  } catch (error) {
    showError("form-error", error, [name]);
  }
});

socket?.on("room:message", load);
socket?.on("room:members", load);
socket?.on("room:edited", load);
onConnect(load);
load();
loadFriends().catch((error) => showError("form-error", error));
