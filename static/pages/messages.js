import { KeyedList, api, el, emit, onReconnect, showError, socket, when } from "../app.js";

const partner = document.body.dataset.subject;
const messages = new KeyedList(document.getElementById("messages"), { newestFirst: false });

function show(message) {
  messages.put(message.id, el("li", { class: "message card" },
    el("header", {}, el("strong", {}, message.from.display_name), " ",
      el("span", { class: "muted" }, when(message.created_at))),
    el("p", { class: "text" }, message.text)));
}

async function load() {
  try {
    (await api("GET", `/api/messages/${encodeURIComponent(partner)}`)).messages.forEach(show);
  } catch (error) {
    showError("form-error", error);
  }
}

document.getElementById("message-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = document.getElementById("message-text");
  try {
    show((await emit("chat:send", { to: partner, text: text.value })).message);
    text.value = "";
    showError("form-error", null);
  } catch (error) {
    showError("form-error", error);
  }
});

socket?.on("chat:message", (message) => {
  if (message.from.username === partner || message.to.username === partner) show(message);
});
onReconnect(load);
load();
