import { api, el, emit, say, showError, socket } from "../app.js";
import { deviceName } from "../devices.js";
import { ago } from "../time.js";

document.getElementById("name-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  try {
    const { user } = await emit("profile:rename", {
      display_name: document.getElementById("display-name").value,
    });
    document.getElementById("me").textContent = user.display_name;
    showError("name-error", null);
    say("Name saved.");
  } catch (error) {
    showError("name-error", error);
  }
});

for (const radio of document.querySelectorAll('input[name="theme"]')) {
  radio.addEventListener("change", async () => {
    // Written to the session over the socket; the server applies it to every page it renders.
    const { prefs } = await emit("prefs:set", { theme: radio.value });
    document.documentElement.dataset.theme = prefs.theme;
    say(`Theme: ${prefs.theme}.`);
  });
}

// -- where you're logged in --------------------------------------------------------------------

const logins = document.getElementById("logins");

function tabs(count) {
  if (count === 0) return "no open tab";
  return count === 1 ? "1 open tab" : `${count} open tabs`;
}

function loginView(login) {
  const name = deviceName(login.user_agent);
  const details = [
    login.current ? "this device" : `last seen ${ago(login.last_seen)}`,
    tabs(login.sockets),
    login.address ? `network ${login.address}` : null,
  ].filter(Boolean).join(" · ");
  const end = el("button", { type: "button", class: "secondary",
    "aria-label": `Log out ${name}${login.current ? " (this device)" : ""}`,
    onclick: () => endLogin(login, end) }, "Log out");
  return el("li", { class: login.current ? "login current" : "login" },
    el("div", {}, el("strong", {}, name), el("br"), el("span", { class: "muted" }, details)),
    el("div", { class: "actions" }, end));
}

async function endLogin(login, button) {
  button.disabled = true;
  try {
    await api("DELETE", `/api/sessions/${login.id}`);
    if (login.current) location.assign("/login");
    else await showLogins();
  } catch (error) {
    button.disabled = false;
    showError("logins-error", error);
  }
}

async function showLogins() {
  try {
    const { sessions } = await api("GET", "/api/sessions");
    logins.replaceChildren(...sessions.map(loginView));
    document.getElementById("logout-others").hidden = sessions.length < 2;
    showError("logins-error", null);
  } catch (error) {
    showError("logins-error", error);
  }
}

document.getElementById("logout-others").addEventListener("click", async (event) => {
  event.target.disabled = true;
  try {
    await api("DELETE", "/api/sessions");
    say("Logged out everywhere else.");
    await showLogins();
  } catch (error) {
    showError("logins-error", error);
  } finally {
    event.target.disabled = false;
  }
});

// -- change password ---------------------------------------------------------------------------

document.getElementById("password-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const current = document.getElementById("current-password");
  const next = document.getElementById("new-password");
  try {
    await api("PUT", "/api/password", { current_password: current.value, new_password: next.value });
    current.value = next.value = "";
    showError("password-error", null);
    say("Password changed. Every other device was logged out.");
    await showLogins();
  } catch (error) {
    showError("password-error", error);
  }
});

socket?.on("sessions:changed", showLogins); // a login ended, a tab opened or closed elsewhere
showLogins();
