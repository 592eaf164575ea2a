// A conversation as chat apps show it: newest at the bottom, own messages on the right,
// older ones on demand, Enter sends. The conversation in front of the person is read:
// its messages neither ring the bell nor stay unread.
import {
  KeyedList, api, busy, el, emit, handleNotifications, looking, me, nextCursor, onConnect,
  showError, socket, tooLong, when,
} from "../app.js";

const partner = document.body.dataset.subject;
const scroller = document.getElementById("scroller");
const older = document.getElementById("older");
const form = document.getElementById("message-form");
const text = document.getElementById("message-text");
const messages = new KeyedList(document.getElementById("messages"), { newestFirst: false });
let next = null;

const nearBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
const toBottom = () => { scroller.scrollTop = scroller.scrollHeight; };

function show(message) {
  const mine = message.from.id === me();
  messages.put(message.id, el("li", { class: mine ? "bubble mine" : "bubble theirs" },
    el("span", { class: "visually-hidden" }, mine ? "You: " : `${message.from.display_name}: `),
    el("p", { class: "text" }, message.text), when(message.created_at)));
}

const ours = (message) => message.from.username === partner || message.to.username === partner;
/** Everything here is read now; the server tells every tab's bell the new count. A call
 *  while one is on its way runs once more after it (it may cover a newer notification). */
let reading = false;
let readAgain = false;
async function markRead() {
  if (!looking()) return;
  if (reading) {
    readAgain = true;
    return;
  }
  reading = true;
  try {
    await api("POST", `/api/conversations/${encodeURIComponent(partner)}/read`);
  } catch {
    // unreachable: read again on reconnect or when the page is looked at again
  } finally {
    reading = false;
  }
  if (readAgain) {
    readAgain = false;
    markRead();
  }
}

async function load(before) {
  try {
    const query = before ? `?before=${encodeURIComponent(before)}` : "";
    const page = await api("GET", `/api/messages/${encodeURIComponent(partner)}${query}`);
    const height = scroller.scrollHeight;
    const follow = !messages.items.size || nearBottom();
    page.messages.forEach(show);
    next = nextCursor(next, before, page);
    older.hidden = next === null;
    // Older messages go above without moving what is on screen; the first load opens at the newest.
    if (before) scroller.scrollTop += scroller.scrollHeight - height;
    else if (follow) toBottom();
    showError("form-error", null);
    markRead();
  } catch (error) {
    showError("form-error", error);
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!text.value.trim() || tooLong(text, "form-error")) return;
  busy(form.querySelector("button[type=submit]"), async () => {
    try {
      show((await emit("chat:send", { to: partner, text: text.value })).message);
      text.value = "";
      showError("form-error", null, [text]);
      toBottom();
    } catch (error) {
      showError("form-error", { message: `${error.message} Your message is kept.` }, [text]);
    }
  });
});

text.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

older.addEventListener("click", () => busy(older, () => load(next)));
socket?.on("chat:message", (message) => {
  if (!ours(message)) return;
  const follow = nearBottom() || message.from.id === me();
  show(message);
  if (follow) toBottom();
  if (message.from.id !== me()) markRead();
});
// The partner's messages are on screen: no bell, no toast, while the page is looked at;
// the notification is stored by now, so reading again marks it read for every tab.
handleNotifications((n) => {
  if (n.kind !== "message" || n.actor.username !== partner || !looking()) return false;
  markRead();
  return true;
});
document.addEventListener("visibilitychange", markRead);
onConnect(() => load(null));
load(null);
