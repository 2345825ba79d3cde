// The admin page of the team server: users, their roles, disabling, new passwords.
// Every change is made by the server with its audit event; this page only asks.
// (Elements by class and form names: only main.js knows element ids, of index.html.)

const ROLES = ["annotator", "reviewer", "admin"];
const message = document.querySelector(".admin-message");
const form = document.forms.namedItem("add");

async function call(method, url, body) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const response = await fetch(url, options);
  // An answer that is not JSON is reported below by its status, so nothing is hidden.
  const data = await response.json().catch(() => null);
  if (response.status === 401) location.assign("/login?next=/admin");
  if (!response.ok) throw new Error(data?.message || `Refused (HTTP ${response.status}).`);
  return data;
}

function say(text) {
  message.textContent = text;
}

async function act(work, done) {
  try {
    await work();
    say(done);
  } catch (error) {
    say(error.message);
  }
  await load();
}

function row(user) {
  const tr = document.createElement("tr");
  const name = document.createElement("td");
  name.textContent = user.name;
  const role = document.createElement("td");
  const select = document.createElement("select");
  select.setAttribute("aria-label", `Role of ${user.name}`);
  for (const r of ROLES) select.add(new Option(r, r, false, r === user.role));
  select.addEventListener("change", () =>
    act(() => call("POST", "/api/admin/users/role", { name: user.name, role: select.value }), `${user.name} is now ${select.value}.`));
  role.append(select);
  const state = document.createElement("td");
  state.textContent = user.disabled ? "disabled" : "active";
  const actions = document.createElement("td");
  const toggle = document.createElement("button");
  toggle.type = "button";
  toggle.textContent = user.disabled ? "Enable" : "Disable";
  toggle.addEventListener("click", () => {
    const which = user.disabled ? "enable" : "disable";
    act(() => call("POST", `/api/admin/users/${which}`, { name: user.name }), `${user.name}: ${which}d.`);
  });
  const reset = document.createElement("button");
  reset.type = "button";
  reset.textContent = "New password";
  reset.addEventListener("click", () => {
    const password = prompt(`New password for ${user.name} (at least 10 characters):`);
    if (password) act(() => call("POST", "/api/admin/users/password", { name: user.name, password }), `New password set for ${user.name}.`);
  });
  actions.append(toggle, " ", reset);
  tr.append(name, role, state, actions);
  return tr;
}

async function load() {
  try {
    const users = await call("GET", "/api/admin/users");
    document.querySelector("table.admin-users tbody").replaceChildren(...users.map(row));
  } catch (error) {
    say(error.message);
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const field = (name) => form.elements.namedItem(name);
  const name = field("name").value;
  const body = { name, role: field("role").value, password: field("password").value };
  act(() => call("POST", "/api/admin/users", body), `Added ${name}.`).then(() => {
    field("password").value = "";
  });
});

load();
