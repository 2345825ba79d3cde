// The labelling page on the team server (`clinlabel serve`): who is logged in, Log out, and the
// automatic log-off after inactivity. On the local server (`clinlabel label`) /api/auth/me does
// not exist and this module does nothing.
//
// Logging off never loses work: the page is not left or reloaded. The image is covered and the
// password asked for in a dialog on top of everything; a comment being typed stays in its box,
// and label changes waiting to be sent stay in the save queue, which retries them (refusals
// marked "login" are retried like an unknown token, api.js) until the same user is back.

import { logIn, logOut, whoAmI } from "./team-login.js";

const ACTIVITY = ["pointerdown", "pointermove", "keydown", "wheel", "touchstart"];

let me = null;
let lastActive = Date.now();
let dialog = null;

function bar() {
  const element = document.createElement("div");
  element.className = "team-bar";
  element.id = "team-bar";
  const who = document.createElement("span");
  who.id = "team-user";
  who.textContent = `${me.name} (${me.role})`;
  element.append(who);
  if (me.role === "admin") {
    const admin = document.createElement("a");
    admin.href = "/admin";
    admin.textContent = "Users";
    element.append(admin);
  }
  const out = document.createElement("button");
  out.type = "button";
  out.id = "team-logout";
  out.textContent = "Log out";
  out.addEventListener("click", async () => {
    await logOut();
    location.assign("/login");
  });
  element.append(out);
  document.body.prepend(element);
}

// The dialog's own elements, by class and type (only main.js looks up index.html's ids).
const password = () => dialog.querySelector("input[type=password]");

function askPassword(reason) {
  if (dialog?.open) return;
  if (!dialog) {
    dialog = document.createElement("dialog");
    dialog.id = "relogin";
    dialog.className = "relogin";
    dialog.innerHTML = `
      <form method="dialog" class="login-form">
        <h2>Logged off</h2>
        <p id="relogin-reason" class="relogin-reason"></p>
        <label for="relogin-password">Password for <strong class="relogin-name"></strong></label>
        <input id="relogin-password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
        <button type="submit" id="relogin-submit">Log in again</button>
        <p id="relogin-message" class="login-message" role="alert"></p>
      </form>`;
    document.body.append(dialog);
    // Escape must not close it: the page stays covered until the user is back.
    dialog.addEventListener("cancel", (event) => event.preventDefault());
    dialog.querySelector("form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const message = dialog.querySelector(".login-message");
      message.textContent = "";
      try {
        await logIn(me.name, password().value);
        password().value = "";
        document.body.classList.remove("logged-off");
        lastActive = Date.now();
        dialog.close();
      } catch (error) {
        message.textContent = error.message;
      }
    });
  }
  dialog.querySelector(".relogin-name").textContent = me.name;
  dialog.querySelector(".relogin-reason").textContent = reason;
  document.body.classList.add("logged-off");
  dialog.showModal();
  password().focus();
}

async function idleCheck() {
  if (dialog?.open) return;
  if (Date.now() - lastActive < me.idle_minutes * 60_000) return;
  // Ended here too, so the trail records the log-off when it happened.
  await logOut();
  askPassword(`Logged off after ${Math.round(me.idle_minutes)} minutes without activity. Nothing typed or waiting to be saved is lost.`);
}

async function start() {
  me = await whoAmI();
  if (!me) return;
  bar();
  for (const name of ACTIVITY) {
    window.addEventListener(name, () => {
      if (!dialog?.open) lastActive = Date.now();
    }, { passive: true, capture: true });
  }
  window.addEventListener("clinlabel:login-needed", () =>
    askPassword("Your login has ended. Log in again: nothing typed or waiting to be saved is lost."));
  setInterval(idleCheck, 5_000);
}

start();
