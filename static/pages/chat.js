// A conversation as chat apps show it (./thread.js): own messages on the right. The
// conversation in front of the person is read: its messages neither ring the bell nor
// stay unread.
import { el, emit, handleNotifications, looking, me, socket, when } from "../app.js";
import { thread } from "./thread.js";

const partner = document.body.dataset.subject;
const path = encodeURIComponent(partner);

function render(message) {
  const mine = message.from.id === me();
  return el("li", { class: mine ? "bubble mine" : "bubble theirs" },
    el("span", { class: "visually-hidden" }, mine ? "You: " : `${message.from.display_name}: `),
    el("p", { class: "text" }, message.text), when(message.created_at));
}

const chat = thread({
  history: `/api/messages/${path}`,
  readUrl: `/api/conversations/${path}/read`,
  render,
  send: async (text) => (await emit("chat:send", { to: partner, text })).message,
});

const ours = (message) => message.from.username === partner || message.to.username === partner;
socket?.on("chat:message", (message) => {
  if (ours(message)) chat.arrived(message);
});
// The partner's messages are on screen: no bell, no toast, while the page is looked at;
// the notification is stored by now, so reading again marks it read for every tab.
handleNotifications((n) => {
  if (n.kind !== "message" || n.actor.username !== partner || !looking()) return false;
  chat.markRead();
  return true;
});
