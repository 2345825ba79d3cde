// The labelling page on the team server (`clinlabel serve`): who is logged in, Log out, and the
// automatic log-off after inactivity. On the local server (`clinlabel label`) /api/auth/me does
// not exist and this module does nothing.
//
// Logging off never loses work: the page is not left or reloaded. The image is covered and the
// password asked for in a dialog on top of everything; a comment being typed stays in its box,
// and label changes waiting to be sent stay in the save queue, which retries them (refusals
// marked "login" are retried like an unknown token, api.js) until the same user is back.

//
// Another user logging in in the same browser (another tab, or this one's login page) makes
// this page someone else's: it is covered at once and says so. Nothing of its reader (the
// image, the queue, a comment being typed, changes waiting to be sent) is shown or sent as the
// new user: the waiting changes stay kept for the page's reader and are sent when they log in
// again; "Continue as NAME" reloads the page as the new user, with only their own.

import { LOGIN_NOTICE, logIn, logOut, whoAmI } from "./team-login.js";

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

let switched = null;
// Dialogs of the page (a comment being typed) hidden while it is covered for another user.
let hiddenDialogs = [];

function hideOtherDialogs() {
  for (const other of document.querySelectorAll("dialog")) {
    if (other === switched || !other.open || hiddenDialogs.includes(other)) continue;
    other.style.visibility = "hidden";
    hiddenDialogs.push(other);
  }
}

function showOtherDialogs() {
  for (const other of hiddenDialogs.splice(0)) other.style.visibility = "";
}

function coverForOther(name, reason) {
  if (dialog?.open) dialog.close();
  if (!switched) {
    switched = document.createElement("dialog");
    switched.id = "reader-changed";
    switched.className = "relogin";
    switched.innerHTML = `
      <form method="dialog" class="login-form">
        <h2>Someone else has logged in</h2>
        <p class="relogin-reason"></p>
        <label for="switch-password">Password for <strong class="relogin-name"></strong></label>
        <input id="switch-password" name="password" type="password" autocomplete="current-password" required maxlength="1024">
        <button type="submit" id="switch-back">Log in again</button>
        <button type="button" id="switch-continue" formnovalidate>Continue as the other user</button>
        <p id="switch-message" class="login-message" role="alert"></p>
      </form>`;
    document.body.append(switched);
    switched.addEventListener("cancel", (event) => event.preventDefault());
    switched.querySelector("#switch-continue").addEventListener("click", () => {
      // A fresh page, the new user's own: this page's waiting changes stay in the browser,
      // kept for their reader (pending-store.js), and are never sent as the new user's.
      location.replace("/");
    });
    switched.querySelector("form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const field = switched.querySelector("input[type=password]");
      const message = switched.querySelector(".login-message");
      message.textContent = "";
      try {
        await logIn(me.name, field.value);
        field.value = "";
        switched.close();
        showOtherDialogs();
        document.body.classList.remove("logged-off");
        lastActive = Date.now();
      } catch (error) {
        message.textContent = error.message;
      }
    });
  }
  const other = name ? `${name} has` : "Another user has";
  switched.querySelector(".relogin-reason").textContent =
    reason || `${other} logged in in this browser. This page is ${me.name}'s: it is hidden, and ${me.name}'s unsaved changes are kept for ${me.name} and sent only when they log in again.`;
  switched.querySelector(".relogin-name").textContent = me.name;
  switched.querySelector("#switch-continue").textContent = name ? `Continue as ${name}` : "Continue as the other user";
  document.body.classList.add("logged-off");
  hideOtherDialogs();
  if (!switched.open) switched.showModal();
  switched.querySelector("input[type=password]").focus();
}

// Whether the browser's login is still this page's reader (after the tab was in the background).
async function checkStillMe() {
  if (switched?.open) return;
  const now = await whoAmI();
  if (now && now.name !== me.name) coverForOther(now.name);
}

async function idleCheck() {
  // Covered for another user: the login in this browser is theirs, not this page's to end.
  if (dialog?.open || switched?.open) return;
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
  window.addEventListener("clinlabel:login-needed", () => {
    if (switched?.open) return;
    askPassword("Your login has ended. Log in again: nothing typed or waiting to be saved is lost.");
  });
  window.addEventListener("clinlabel:reader-changed", () => checkStillMe());
  window.addEventListener("storage", (event) => {
    if (event.key !== LOGIN_NOTICE || !event.newValue) return;
    let notice = null;
    try {
      notice = JSON.parse(event.newValue);
    } catch {
      return;
    }
    if (notice?.name && notice.name !== me.name) coverForOther(notice.name);
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") checkStillMe();
  });
  setInterval(idleCheck, 5_000);
}

start();
