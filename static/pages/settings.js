import { emit, say, showError } from "../app.js";

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
