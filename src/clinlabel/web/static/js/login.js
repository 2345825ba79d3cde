// The team server's login page: name and password, then on to the labelling page (or the
// admin page for an admin who asked for it). No framework, no network resource but this server.
// (Elements by form and field name: only main.js knows element ids, of index.html.)

import { logIn } from "./team-login.js";

const form = document.forms.namedItem("login");
const message = form.querySelector(".login-message");
const submit = form.querySelector("button[type=submit]");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  message.textContent = "";
  submit.disabled = true;
  try {
    await logIn(form.elements.namedItem("username").value, form.elements.namedItem("password").value);
    const next = new URLSearchParams(location.search).get("next");
    location.assign(next === "/admin" ? "/admin" : "/");
  } catch (error) {
    message.textContent = error.message;
    form.elements.namedItem("password").select();
  } finally {
    submit.disabled = false;
  }
});
