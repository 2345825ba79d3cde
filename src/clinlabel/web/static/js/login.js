// The team server's login page: name and password, then on to the labelling page (or the
// admin page for an admin who asked for it). No framework, no network resource but this server.

import { logIn } from "./team-login.js";

const form = document.getElementById("login-form");
const message = document.getElementById("login-message");

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  message.textContent = "";
  const submit = document.getElementById("login-submit");
  submit.disabled = true;
  try {
    await logIn(document.getElementById("login-name").value, document.getElementById("login-password").value);
    const next = new URLSearchParams(location.search).get("next");
    location.assign(next === "/admin" ? "/admin" : "/");
  } catch (error) {
    message.textContent = error.message;
    document.getElementById("login-password").select();
  } finally {
    submit.disabled = false;
  }
});
