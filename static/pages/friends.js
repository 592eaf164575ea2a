// Friends, requests and search. Every button names the state it was drawn for
// (`?expect=`), so a button left stale by a change elsewhere cannot do something else;
// every change to a friendship redraws both people's open pages (`friendship:changed`).
import { api, avatar, busy, el, nameOf, onConnect, say, showError, socket } from "../app.js";

const lists = ["friends", "incoming", "requested"];

function person(user, ...actions) {
  return el("li", { "data-user": user.id },
    el("span", { class: "who" }, avatar(user), el("span", {}, nameOf(user), " ",
      el("span", { class: "muted" }, "@", user.username))),
    el("span", { class: "actions" }, ...actions));
}

/** What can be done from each state: label, method, style, question asked first. */
const ACTIONS = {
  none: [["Add friend", "POST"]],
  requested: [["Cancel request", "DELETE", "secondary"]],
  incoming: [["Accept", "POST"], ["Decline", "DELETE", "secondary", "Decline the friend request from"]],
  friends: [["Unfriend", "DELETE", "danger", "Remove from your friends:"]],
};

function actionsFor(user, state) {
  const buttons = ACTIONS[state].map(([label, method, style, question]) => {
    const button = el("button", { type: "button", class: style,
      "aria-label": `${label}: ${user.display_name}`,
      onclick: () => busy(button, () => act(user, state, label, method, question)) }, label);
    return button;
  });
  if (state === "friends") {
    buttons.unshift(el("a", { href: `/messages/${encodeURIComponent(user.username)}` }, "Message"));
  }
  return buttons;
}

async function act(user, state, label, method, question) {
  if (question && !confirm(`${question} ${user.display_name} (@${user.username})?`)) return;
  const path = `/api/friends/${encodeURIComponent(user.username)}`;
  try {
    await api(method, method === "DELETE" ? `${path}?expect=${state}` : path);
    say(`${label}: ${user.display_name}.`);
    showError("form-error", null);
  } catch (error) {
    if (error.code === "friendship_changed") {
      say(`That changed meanwhile: nothing was done. The list shows ${user.display_name}'s state now.`);
    } else showError("form-error", error);
  }
  await refresh();
}

/** Online or offline in words beside the dot: not told by colour alone. */
function presence(online) {
  return el("span", { class: online ? "presence online" : "presence" },
    el("span", { class: "dot", "aria-hidden": "true" }), online ? "online" : "offline");
}

// A page read and presence events race: a read answered after an event may have been made
// before it. So only the newest read is shown, with the events since it began on top.
let reads = 0;
const presenceSince = new Map(); // user id -> online, from events since the newest read began

async function load() {
  const mine = ++reads;
  presenceSince.clear();
  const page = await api("GET", "/api/friends");
  if (mine !== reads) return; // a newer read is on its way
  document.getElementById("friends").replaceChildren(...page.friends.map((friend) =>
    person(friend, presence(presenceSince.get(friend.id) ?? friend.online), ...actionsFor(friend, "friends"))));
  for (const state of ["incoming", "requested"]) {
    document.getElementById(state).replaceChildren(...page[state].map((user) =>
      person(user, ...actionsFor(user, state))));
  }
  lists.forEach((id) => {
    const list = document.getElementById(id);
    if (!list.children.length) list.append(el("li", { class: "muted" }, "Nobody yet."));
  });
}

const input = document.getElementById("search");

async function search() {
  const query = input.value.trim().toLowerCase();
  const results = document.getElementById("results");
  if (!query) return results.replaceChildren();
  const { users } = await api("GET", `/api/users?q=${encodeURIComponent(query)}`);
  if (input.value.trim().toLowerCase() !== query) return; // typed on meanwhile
  results.replaceChildren(...users.map((user) => person(user, ...actionsFor(user, user.friendship))));
  if (!users.length) results.append(el("li", { class: "muted" }, "No one by that name."));
}

async function refresh() {
  try {
    await Promise.all([load(), search()]);
  } catch (error) {
    showError("form-error", error);
  }
}

let typing;
input.addEventListener("input", () => {
  clearTimeout(typing);
  typing = setTimeout(() => search().catch((error) => showError("form-error", error)), 200);
});
socket?.on("presence", ({ user, online }) => {
  presenceSince.set(user.id, online);
  const shown = document.querySelector(`#friends li[data-user="${CSS.escape(user.id)}"] .presence`);
  if (shown) shown.replaceWith(presence(online));
});
socket?.on("friendship:changed", refresh); // here or on the other person's side
onConnect(refresh);
refresh();
