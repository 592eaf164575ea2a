import {
  KeyedList, announce, api, busy, me, nextCursor, onConnect, showError, socket, tooLong,
} from "../app.js";
import { commentArrived, showPost } from "../posts.js";

const posts = new KeyedList(document.getElementById("posts"));
const more = document.getElementById("more");
const empty = document.getElementById("empty");
const text = document.getElementById("post-text");
const postButton = document.querySelector("#post-form button[type=submit]");
let next = null;

function show(post) {
  showPost(posts, post);
  empty.hidden = true;
}

async function load(before) {
  try {
    const page = await api("GET", before ? `/api/feed?before=${before}` : "/api/feed");
    page.posts.forEach(show);
    next = nextCursor(next, before, page);
    more.hidden = next === null;
    empty.hidden = posts.items.size > 0;
  } catch (error) {
    showError("form-error", error);
  }
}

// One key per text being posted: a retry after a lost answer, or a double click, repeats
// the key, and the server makes one post (Idempotency-Key). A new text gets a new key.
let idempotencyKey = null;
text.addEventListener("input", () => { idempotencyKey = null; });

document.getElementById("post-form").addEventListener("submit", (event) => {
  event.preventDefault();
  if (tooLong(text, "form-error")) return;
  idempotencyKey ||= crypto.randomUUID();
  busy(postButton, async () => {
    try {
      const { post } = await api("POST", "/api/posts", { text: text.value },
        { "Idempotency-Key": idempotencyKey });
      show(post);
      text.value = "";
      idempotencyKey = null;
      showError("form-error", null, [text]);
    } catch (error) {
      const kept = error.code === "unreachable" ? " Your text is kept: press Post to try again." : "";
      showError("form-error", { message: error.message + kept }, [text]);
    }
  });
});

more.addEventListener("click", () => busy(more, () => load(next)));
socket?.on("feed:post", (post) => {
  const fresh = !posts.has(post.id);
  show(post);
  if (fresh && post.author.id !== me()) announce(`New post from ${post.author.display_name}`);
});
socket?.on("feed:comment", (comment) => commentArrived(posts, comment));
onConnect(() => load(null)); // newer posts missed while away; existing ones are kept, not doubled
load(null);
