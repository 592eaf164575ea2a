import { api, busy, showError } from "../app.js";

const form = document.getElementById("auth-form");
const field = (name) => form.elements.namedItem(name);

/** Which fields an error is about, from its code; a wrong login is about both. */
function fieldsOf(code = "") {
  if (code === "bad_credentials") return [field("username"), field("password")];
  return ["username", "display_name", "password"].filter((name) => code.includes(name)).map(field);
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const fields = Object.fromEntries(new FormData(form));
  if (fields.display_name === "") delete fields.display_name;
  const all = [...form.querySelectorAll("input")];
  busy(form.querySelector("button[type=submit]"), async () => {
    try {
      await api("POST", form.dataset.action, fields);
      location.assign(form.dataset.next || "/"); // a path on this site: the server checked it
    } catch (error) {
      showError("form-error", null, all);
      showError("form-error", error, fieldsOf(error.code));
    }
  });
});
