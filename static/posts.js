// A post as the feed and the post page show it: author, text, time, and its comments,
// which open in place and stay live.

import { KeyedList, api, avatar, busy, el, nameOf, showError, tooLong, when } from "./app.js";

const openComments = new Map(); // post id -> KeyedList of its comments

function byline(user, created_at) {
  return el("header", { class: "byline" }, avatar(user), el("span", {}, nameOf(user), " ",
    el("span", { class: "muted" }, "@", user.username, " · ", when(created_at))));
}

export function postView(post) {
  const count = el("span", { class: "count" }, String(post.comment_count));
  const section = el("section", { class: "comments", hidden: true, "aria-label": "Comments" });
  const toggle = el("button", { type: "button", class: "link", "aria-expanded": "false",
    onclick: () => toggleComments(post.id, toggle, section) }, "Comments (", count, ")");
  return el("li", { class: "post card" }, byline(post.author, post.created_at),
    el("p", { class: "text" }, post.text), toggle, section);
}

/** The post's element in `list` once: seen again (event, re-read), only its count moves. */
export function showPost(list, post) {
  const shown = list.items.get(post.id);
  if (shown) shown.querySelector(".count").textContent = String(post.comment_count);
  else list.put(post.id, postView(post));
}

export function openCommentsOf(postElement) {
  postElement.querySelector("button[aria-expanded]").click();
}

async function toggleComments(postId, toggle, section) {
  const opening = section.hidden;
  section.hidden = !opening;
  toggle.setAttribute("aria-expanded", String(opening));
  if (!opening) return openComments.delete(postId);
  section.replaceChildren();
  const list = el("ol", { class: "comment-list" });
  openComments.set(postId, new KeyedList(list, { newestFirst: false }));
  section.append(list, commentForm(postId));
  try {
    const { comments } = await api("GET", `/api/posts/${postId}`);
    comments.forEach(addComment);
  } catch (error) {
    showError(`comment-error-${postId}`, error);
  }
}

function commentForm(postId) {
  const errorId = `comment-error-${postId}`;
  const input = el("input", { id: `comment-${postId}`, "data-max-length": "1000", required: true,
    autocomplete: "off", "aria-describedby": errorId });
  const button = el("button", { type: "submit" }, "Comment");
  const submit = (event) => {
    event.preventDefault();
    if (tooLong(input, errorId)) return;
    busy(button, async () => {
      try {
        const { comment } = await api("POST", `/api/posts/${postId}/comments`, { text: input.value });
        addComment(comment);
        input.value = "";
        showError(errorId, null, [input]);
      } catch (error) {
        showError(errorId, error, [input]); // the typed text stays; Comment tries again
      }
    });
  };
  return el("form", { class: "comment-form", onsubmit: submit },
    el("label", { for: input.id }, "Your comment"),
    el("div", { class: "inline-form" }, input, button),
    el("p", { class: "error", id: errorId, role: "alert" }));
}

/** A comment under its post, if that post's comments are open; true if it is new. */
export function addComment(comment) {
  const comments = openComments.get(comment.post_id);
  if (!comments || comments.has(comment.id)) return false;
  comments.put(comment.id, el("li", { class: "comment" }, byline(comment.author, comment.created_at),
    el("p", { class: "text" }, comment.text)));
  return true;
}

/** A comment that arrived live: shown if open, and counted on its post either way. */
export function commentArrived(list, comment) {
  addComment(comment);
  const count = list.items.get(comment.post_id)?.querySelector(".count");
  if (count) count.textContent = String(Number(count.textContent) + 1); // one event per comment
}
