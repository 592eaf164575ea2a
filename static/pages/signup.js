// Sign-up uses the same form handling as login; the form names its endpoint.
import "./login.js";
