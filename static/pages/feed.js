import { KeyedList, api, el, onReconnect, showError, socket, when } from "../app.js";

const posts = new KeyedList(document.getElementById("posts"));
const more = document.getElementById("more");
const openComments = new Map(); // post id -> KeyedList of its comments
let next = null;

function postView(post) {
  const count = el("span", { class: "count" }, String(post.comment_count));
  const toggle = el("button", { type: "button", class: "link", "aria-expanded": "false",
    onclick: () => toggleComments(post.id, toggle, section) }, "Comments (", count, ")");
  const section = el("section", { class: "comments", hidden: true, "aria-label": "Comments" });
  return el("li", { class: "post card" },
    el("header", {}, el("strong", {}, post.author.display_name), " ",
      el("span", { class: "muted" }, "@", post.author.username, " · ", when(post.created_at))),
    el("p", { class: "text" }, post.text),
    toggle, section);
}

/** A post once: a post seen again (event and re-read) only refreshes its comment count. */
function showPost(post) {
  const shown = posts.items.get(post.id);
  if (shown) shown.querySelector(".count").textContent = String(post.comment_count);
  else posts.put(post.id, postView(post));
}

async function toggleComments(postId, toggle, section) {
  const opening = section.hidden;
  section.hidden = !opening;
  toggle.setAttribute("aria-expanded", String(opening));
  if (!opening) return openComments.delete(postId);
  section.replaceChildren();
  const list = el("ol", { class: "comment-list" });
  const comments = new KeyedList(list, { newestFirst: false });
  openComments.set(postId, comments);
  const input = el("input", { id: `comment-${postId}`, maxlength: "1000", required: true });
  const error = el("p", { class: "error", role: "alert" });
  const form = el("form", { onsubmit: async (event) => {
    event.preventDefault();
    try {
      const { comment } = await api("POST", `/api/posts/${postId}/comments`, { text: input.value });
      addComment(comment);
      input.value = "";
      error.textContent = "";
    } catch (failure) {
      error.textContent = failure.message;
    }
  } }, el("label", { for: `comment-${postId}` }, "Your comment"), input, error,
    el("button", { type: "submit" }, "Comment"));
  section.append(list, form);
  const { comments: loaded } = await api("GET", `/api/posts/${postId}`);
  loaded.forEach(addComment);
}

function addComment(comment) {
  const comments = openComments.get(comment.post_id);
  if (comments && !comments.has(comment.id)) {
    comments.put(comment.id, el("li", {}, el("strong", {}, comment.author.display_name), ": ",
      comment.text));
  }
}

async function load(before) {
  const page = await api("GET", before ? `/api/feed?before=${before}` : "/api/feed");
  page.posts.forEach(showPost);
  if (!before || page.next === null || Number(page.next) < Number(next)) next = page.next;
  more.hidden = next === null;
}

document.getElementById("post-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const text = document.getElementById("post-text");
  try {
    const { post } = await api("POST", "/api/posts", { text: text.value });
    showPost(post);
    text.value = "";
    showError("form-error", null);
  } catch (error) {
    showError("form-error", error);
  }
});

more.addEventListener("click", () => load(next));
socket?.on("feed:post", showPost);
socket?.on("feed:comment", (comment) => {
  addComment(comment);
  const post = posts.items.get(comment.post_id);
  const count = post?.querySelector(".count");
  if (count) count.textContent = String(Number(count.textContent) + 1); // one event per comment
});
onReconnect(() => load(null)); // newer posts missed while away; existing ones are kept, not doubled
load(null);
