// A room as chat apps show it (./thread.js): one's own on the right with Edit and Delete,
// who is typing, the members. What is on screen while the tab is looked at is read.
import { api, el, emit, linkified, me, say, showError, socket, when } from "../app.js";
import { thread } from "./thread.js";

const room = document.body.dataset.subject;
const form = document.getElementById("message-form");
const text = document.getElementById("message-text");
const typingLine = document.getElementById("typing");
const gone = document.getElementById("gone");
const memberList = document.getElementById("members");
const memberCount = document.getElementById("member-count");
const TYPING_SHOWN_MS = 4000;
const TYPING_SENT_EVERY_MS = 3000;

function render(message) {
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
  return el("li", { class: mine ? "bubble mine" : "bubble theirs" },
    from, body, el("span", { class: "meta" }, when(message.created_at), edited), actions);
}

const chat = thread({
  history: `/api/rooms/${room}/messages`,
  readUrl: `/api/rooms/${room}/read`,
  render,
  send: async (typed) => (await emit("room:send", { room, text: typed })).message,
  failed: (error) => {
    if (error.code !== "unknown_room") return false;
    showMembers({ members: [], owner: {} });
    return true;
  },
});

async function edit(message) {
  const changed = prompt("Edit your message", message.text);
  if (changed === null || changed === message.text) return;
  try {
    chat.put((await api("PATCH", `/api/rooms/${room}/messages/${message.id}`, { text: changed })).message);
  } catch (error) {
    showError("form-error", error);
  }
}

async function remove(message) {
  if (!confirm("Delete this message for everyone?")) return;
  try {
    await api("DELETE", `/api/rooms/${room}/messages/${message.id}`);
    chat.put({ ...message, text: "", deleted: true });
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

async function loadMembers() {
  const { rooms } = await api("GET", "/api/rooms");
  const mine = rooms.find((r) => r.room.id === room);
  showMembers(mine ? mine.room : { members: [], owner: {} });
}

let typedAt = 0;
text.addEventListener("input", () => {
  if (Date.now() - typedAt < TYPING_SENT_EVERY_MS || !text.value) return;
  typedAt = Date.now();
  emit("room:typing", { room }).catch(() => {});
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

socket?.on("room:message", (message) => {
  if (message.room !== room) return;
  typists.delete(message.from.display_name);
  showTyping();
  chat.arrived(message);
});
socket?.on("room:edited", (message) => { if (message.room === room) chat.put(message); });
socket?.on("room:typing", ({ room: where, user }) => {
  if (where !== room || user.id === me()) return;
  clearTimeout(typists.get(user.display_name));
  typists.set(user.display_name, setTimeout(() => { typists.delete(user.display_name); showTyping(); }, TYPING_SHOWN_MS));
  showTyping();
});
socket?.on("room:members", ({ room: changed }) => {
  if (changed.id === room) showMembers(changed);
});
loadMembers().catch(() => {});
