// The login and sign-up forms: the form names its endpoint and where to go after. A form
// that has an error line per field (sign-up) checks every field before sending and shows
// each error under its own field at once; the server's answer goes under its field too.
import { api, busy, showError } from "../app.js";

const form = document.getElementById("auth-form");
const field = (name) => form.elements.namedItem(name);
const FIELDS = ["username", "display_name", "password"];

/** What the browser can tell before asking: the sign-up rules (the server checks again). */
const RULES = {
  username: (v) => (/^[a-z0-9_]{3,32}$/.test(v) ? null : "A username is 3 to 32 of a-z, 0-9 and _."),
  display_name: (v) => ([...v].length <= 64 ? null : `A display name has at most 64 characters; this has ${[...v].length}.`),
  password: (v) => (v.length >= 8 ? null : "A password has at least 8 characters."),
};

/** Which fields an error is about, from its code; a wrong login is about both. */
function fieldsOf(code = "") {
  if (code === "bad_credentials") return [field("username"), field("password")];
  return FIELDS.filter((name) => code.includes(name)).map(field);
}

const perField = (name) => document.getElementById(`${name}-error`);

/** Every field's error under it (true if there was one); only on a form with such lines. */
function checkEachField(values) {
  let faults = 0;
  for (const name of FIELDS) {
    if (!perField(name) || !field(name)) continue;
    const fault = RULES[name](values[name] ?? "");
    showError(`${name}-error`, fault && { message: fault }, [field(name)]);
    faults += fault ? 1 : 0;
  }
  return faults > 0;
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const fields = Object.fromEntries(new FormData(form));
  showError("form-error", null);
  if (checkEachField(fields)) return;
  if (fields.display_name === "") delete fields.display_name;
  const all = [...form.querySelectorAll("input")];
  busy(form.querySelector("button[type=submit]"), async () => {
    try {
      await api("POST", form.dataset.action, fields);
      location.assign(form.dataset.next || "/"); // a path on this site: the server checked it
    } catch (error) {
      showError("form-error", null, all);
      const about = fieldsOf(error.code);
      const line = about.length === 1 && perField(about[0].name) ? `${about[0].name}-error` : "form-error";
      showError(line, error, about);
    }
  });
});
