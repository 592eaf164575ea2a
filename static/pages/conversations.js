// Every conversation, the most recent first: the friend, the last message, unread count.
import { api, avatar, el, me, nameOf, onConnect, showError, socket, when } from "../app.js";

const list = document.getElementById("conversations");
const empty = document.getElementById("empty");

function row({ with: friend, last_message: last, unread }) {
  const mine = last.from.id === me();
  return el("li", {}, el("a", { class: unread ? "conversation unread" : "conversation",
    href: `/messages/${encodeURIComponent(friend.username)}`, "data-user": friend.id },
  avatar(friend),
  el("span", { class: "summary" },
    el("span", { class: "line" }, nameOf(friend), when(last.created_at)),
    el("span", { class: "line" }, el("span", { class: "last muted" }, mine ? "You: " : "", last.text),
      unread ? el("span", { class: "count-badge", "aria-label": `${unread} unread` }, String(unread)) : null))));
}

async function load() {
  try {
    const { conversations } = await api("GET", "/api/conversations");
    list.replaceChildren(...conversations.map(row));
    empty.hidden = conversations.length > 0;
    showError("form-error", null);
  } catch (error) {
    showError("form-error", error);
  }
}

// A message in any conversation reorders the list and moves its unread count: re-read it.
socket?.on("chat:message", load);
socket?.on("notifications:unread", load); // a conversation was read in another tab
onConnect(load);
load();
