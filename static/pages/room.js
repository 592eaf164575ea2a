// A room as chat apps show it: newest at the bottom, one's own on the right with Edit and
// Delete, who is typing, the members. What is on screen while the tab is looked at is read.
import {
  KeyedList, api, busy, el, emit, linkified, looking, me, nextCursor, onConnect, say,
  showError, socket, tooLong, when,
} from "../app.js";

const room = document.body.dataset.subject;
const scroller = document.getElementById("scroller");
const older = document.getElementById("older");
const form = document.getElementById("message-form");
const text = document.getElementById("message-text");
const typingLine = document.getElementById("typing");
const gone = document.getElementById("gone");
const memberList = document.getElementById("members");
const memberCount = document.getElementById("member-count");
const messages = new KeyedList(document.getElementById("messages"), { newestFirst: false });
const TYPING_SHOWN_MS = 4000;
const TYPING_SENT_EVERY_MS = 3000;
let next = null;

const nearBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
const toBottom = () => { scroller.scrollTop = scroller.scrollHeight; };

function show(message) {
  const mine = message.from.id === me();
  const body = message.deleted
    ? el("p", { class: "text muted" }, "Message deleted")
    : el("p", { class: "text" }, ...linkified(message.text));
  const actions = mine && !message.deleted
    ? el("span", { class: "actions" },
      el("button", { type: "button", class: "link", onclick: () => edit(message) }, "Edit"),
      el("button", { type: "button", class: "link", onclick: () => remove(message) }, "Delete"))
    : null;
  const from = mine ? el("span", { class: "visually-hidden" }, "You: ")
    : el("span", { class: "from" }, message.from.display_name, el("span", { class: "visually-hidden" }, ": "));
  const edited = message.edited_at && !message.deleted ? " · edited" : "";
  messages.put(message.id, el("li", { class: mine ? "bubble mine" : "bubble theirs" },
    from, body, el("span", { class: "meta" }, when(message.created_at), edited), actions));
}

async function edit(message) {
  const changed = prompt("Edit your message", message.text);
  if (changed === null || changed === message.text) return;
  try {
    show((await api("PATCH", `/api/rooms/${room}/messages/${message.id}`, { text: changed })).message);
  } catch (error) {
    showError("form-error", error);
  }
}

async function remove(message) {
  if (!confirm("Delete this message for everyone?")) return;
  try {
    await api("DELETE", `/api/rooms/${room}/messages/${message.id}`);
    show({ ...message, text: "", deleted: true });
  } catch (error) {
    showError("form-error", error);
  }
}

function showMembers(current) {
  memberCount.textContent = String(current.members.length);
  memberList.replaceChildren(...current.members.map((m) => el("li", {}, m.display_name,
    el("span", { class: "muted" }, ` @${m.username}`), m.id === current.owner.id ? " (owner)" : "")));
  const stillIn = current.members.some((m) => m.id === me());
  gone.hidden = stillIn;
  form.hidden = !stillIn;
}

let reading = false;
async function markRead() {
  if (!looking() || reading) return;
  reading = true;
  try {
    await api("POST", `/api/rooms/${room}/read`);
  } catch {
    // read again when the page is looked at again
  } finally {
    reading = false;
  }
}

async function load(before) {
  try {
    const query = before ? `?before=${encodeURIComponent(before)}` : "";
    const page = await api("GET", `/api/rooms/${room}/messages${query}`);
    const height = scroller.scrollHeight;
    const follow = !messages.items.size || nearBottom();
    page.messages.forEach(show);
    next = nextCursor(next, before, page);
    older.hidden = next === null;
    if (before) scroller.scrollTop += scroller.scrollHeight - height;
    else if (follow) toBottom();
    showError("form-error", null);
    markRead();
  } catch (error) {
    if (error.code === "unknown_room") showMembers({ members: [], owner: {} });
    else showError("form-error", error);
  }
}

async function loadMembers() {
  const { rooms } = await api("GET", "/api/rooms");
  const mine = rooms.find((r) => r.room.id === room);
  showMembers(mine ? mine.room : { members: [], owner: {} });
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  if (!text.value.trim() || tooLong(text, "form-error")) return;
  busy(form.querySelector("button[type=submit]"), async () => {
    try {
      show((await emit("room:send", { room, text: text.value })).message);
      text.value = "";
      showError("form-error", null, [text]);
      toBottom();
    } catch (error) {
      showError("form-error", { message: `${error.message} Your message is kept.` }, [text]);
    }
  });
});

let typedAt = 0;
text.addEventListener("input", () => {
  if (Date.now() - typedAt < TYPING_SENT_EVERY_MS || !text.value) return;
  typedAt = Date.now();
  emit("room:typing", { room }).catch(() => {});
});
text.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    form.requestSubmit();
  }
});

document.getElementById("add-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = document.getElementById("add-name");
  try {
    await api("POST", `/api/rooms/${room}/members`, { username: input.value.trim().toLowerCase() });
    say(`${input.value} added.`);
    input.value = "";
  } catch (error) {
    showError("form-error", error, [input]);
  }
});

document.getElementById("leave").addEventListener("click", async () => {
  const username = document.getElementById("me").dataset.username;
  if (!confirm("Leave this room? You will no longer see its messages.")) return;
  try {
    await api("DELETE", `/api/rooms/${room}/members/${encodeURIComponent(username)}`);
    location.assign("/rooms");
  } catch (error) {
    showError("form-error", error);
  }
});

const typists = new Map();
function showTyping() {
  const names = [...typists.keys()];
  typingLine.textContent = names.length === 0 ? ""
    : names.length === 1 ? `${names[0]} is typing…` : `${names.join(", ")} are typing…`;
}

older.addEventListener("click", () => busy(older, () => load(next)));
socket?.on("room:message", (message) => {
  if (message.room !== room) return;
  typists.delete(message.from.display_name);
  showTyping();
  const follow = nearBottom() || message.from.id === me();
  show(message);
  if (follow) toBottom();
  if (message.from.id !== me()) markRead();
});
socket?.on("room:edited", (message) => { if (message.room === room) show(message); });
socket?.on("room:typing", ({ room: where, user }) => {
  if (where !== room || user.id === me()) return;
  clearTimeout(typists.get(user.display_name));
  typists.set(user.display_name, setTimeout(() => { typists.delete(user.display_name); showTyping(); }, TYPING_SHOWN_MS));
  showTyping();
});
socket?.on("room:members", ({ room: changed }) => {
  if (changed.id === room) showMembers(changed);
});
document.addEventListener("visibilitychange", markRead);
onConnect(() => load(null));
load(null);
loadMembers().catch(() => {});
