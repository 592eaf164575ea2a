// One post, its comments open: where a post or comment notification leads.
import { KeyedList, api, onConnect, showError, socket } from "../app.js";
import { commentArrived, openCommentsOf, showPost } from "../posts.js";

const postId = document.body.dataset.subject;
const posts = new KeyedList(document.getElementById("posts"));

async function load() {
  try {
    const { post } = await api("GET", `/api/posts/${encodeURIComponent(postId)}`);
    const opening = !posts.has(post.id);
    showPost(posts, post);
    if (opening) openCommentsOf(posts.items.get(post.id));
  } catch (error) {
    if (error.code === "unknown_post") error.message = "This post is gone, or only its author's friends can see it.";
    showError("form-error", error);
  }
}

socket?.on("feed:comment", (comment) => commentArrived(posts, comment));
onConnect(load);
load();
