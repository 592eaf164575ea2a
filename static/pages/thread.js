// What a conversation and a room share, as chat apps show them: newest at the bottom, older
// messages on demand without moving what is on screen, a composer where Enter sends and a
// failed send keeps the text, and what arrives while the tab is looked at read at once.
import {
  KeyedList, api, busy, looking, me, nextCursor, onConnect, showError, tooLong,
} from "../app.js";

const scroller = document.getElementById("scroller");
const older = document.getElementById("older");
const form = document.getElementById("message-form");
const text = document.getElementById("message-text");

const nearBottom = () => scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
const toBottom = () => { scroller.scrollTop = scroller.scrollHeight; };

/** Mark what is on screen read (POST `url`) while the page is looked at. A call while one is
 *  on its way runs once more after it: it may cover a newer message. */
function reader(url) {
  let reading = false;
  let again = false;
  return async function markRead() {
    if (!looking()) return;
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    try {
      await api("POST", url);
    } catch {
      // unreachable: read again on reconnect or when the page is looked at again
    } finally {
      reading = false;
    }
    if (again) {
      again = false;
      markRead();
    }
  };
}

/**
 * history: the API path of the messages (paged with `?before=`); readUrl: where reading is
 * marked; render(message): its list item; send(text): the sent message (a socket event);
 * failed(error): a load that failed, false to show it as usual.
 */
export function thread({ history, readUrl, render, send, failed = () => false }) {
  const messages = new KeyedList(document.getElementById("messages"), { newestFirst: false });
  const markRead = reader(readUrl);
  let next = null;
  const put = (message) => messages.put(message.id, render(message));

  async function load(before) {
    try {
      const query = before ? `?before=${encodeURIComponent(before)}` : "";
      const page = await api("GET", `${history}${query}`);
      const height = scroller.scrollHeight;
      const follow = !messages.items.size || nearBottom();
      page.messages.forEach(put);
      next = nextCursor(next, before, page);
      older.hidden = next === null;
      // Older messages go above without moving what is on screen; the first load opens at the newest.
      if (before) scroller.scrollTop += scroller.scrollHeight - height;
      else if (follow) toBottom();
      showError("form-error", null);
      markRead();
    } catch (error) {
      if (!failed(error)) showError("form-error", error);
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (!text.value.trim() || tooLong(text, "form-error")) return;
    busy(form.querySelector("button[type=submit]"), async () => {
      try {
        put(await send(text.value));
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
  document.addEventListener("visibilitychange", markRead);
  onConnect(() => load(null));
  load(null);

  return {
    put,
    markRead,
    /** A message pushed to this page: shown, followed if the reader was at the bottom. */
    arrived(message) {
      const follow = nearBottom() || message.from.id === me();
      put(message);
      if (follow) toBottom();
      if (message.from.id !== me()) markRead();
    },
  };
}
