import { api, el, onReconnect, say, socket } from "../app.js";

const lists = ["friends", "incoming", "requested"];

function person(user, ...actions) {
  return el("li", { "data-user": user.id },
    el("span", {}, el("strong", {}, user.display_name), " ", el("span", { class: "muted" }, "@", user.username)),
    el("span", { class: "actions" }, ...actions));
}

function act(label, method, username) {
  return el("button", { type: "button", onclick: async () => {
    await api(method, `/api/friends/${encodeURIComponent(username)}`);
    say(`${label}: ${username}`);
    await Promise.all([load(), search()]);
  } }, label);
}

function presence(online) {
  return el("span", { class: online ? "dot online" : "dot", role: "img",
    "aria-label": online ? "online" : "offline" });
}

async function load() {
  const page = await api("GET", "/api/friends");
  document.getElementById("friends").replaceChildren(...page.friends.map((friend) =>
    person(friend, presence(friend.online),
      el("a", { href: `/messages/${friend.username}` }, "Message"),
      act("Unfriend", "DELETE", friend.username))));
  document.getElementById("incoming").replaceChildren(...page.incoming.map((user) =>
    person(user, act("Accept", "POST", user.username), act("Decline", "DELETE", user.username))));
  document.getElementById("requested").replaceChildren(...page.requested.map((user) =>
    person(user, act("Cancel", "DELETE", user.username))));
  lists.forEach((id) => {
    const list = document.getElementById(id);
    if (!list.children.length) list.append(el("li", { class: "muted" }, "Nobody yet."));
  });
}

const input = document.getElementById("search");
const ACTIONS = {
  none: ["Add friend", "POST"], requested: ["Cancel request", "DELETE"],
  incoming: ["Accept", "POST"], friends: ["Unfriend", "DELETE"],
};

async function search() {
  const query = input.value.trim().toLowerCase();
  const results = document.getElementById("results");
  if (!query) return results.replaceChildren();
  const { users } = await api("GET", `/api/users?q=${encodeURIComponent(query)}`);
  results.replaceChildren(...users.map((user) => person(user, act(...ACTIONS[user.friendship], user.username))));
  if (!users.length) results.append(el("li", { class: "muted" }, "No one by that name."));
}

let typing;
input.addEventListener("input", () => {
  clearTimeout(typing);
  typing = setTimeout(search, 200);
});
socket?.on("presence", ({ user, online }) => {
  const dot = document.querySelector(`#friends li[data-user="${CSS.escape(user.id)}"] .dot`);
  if (dot) dot.replaceWith(presence(online));
});
socket?.on("notification", (n) => {
  if (n.kind === "friend_request" || n.kind === "friend_accepted") load();
});
onReconnect(load);
load();
