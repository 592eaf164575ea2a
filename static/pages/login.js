import { api, showError } from "../app.js";

const form = document.getElementById("auth-form");
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const fields = Object.fromEntries(new FormData(form));
  if (fields.display_name === "") delete fields.display_name;
  try {
    await api("POST", form.dataset.action, fields);
    location.assign("/");
  } catch (error) {
    showError("form-error", error);
  }
});
