// Logging in to the team server (`clinlabel serve`), shared by the login page and the
// log-in-again dialog of the labelling page.

export async function logIn(name, password) {
  let response;
  try {
    response = await fetch("/api/auth/login", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ name: name.trim(), password }),
    });
  } catch {
    throw new Error("Cannot reach the clinlabel server.");
  }
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) throw new Error(data?.message || `Refused (HTTP ${response.status}).`);
  // Other tabs of this browser hear of it (a "storage" event, team-session.js): a page opened
  // for someone else covers itself at once, before anything of theirs is shown to this user.
  try {
    localStorage.setItem(LOGIN_NOTICE, JSON.stringify({ name: data?.name ?? name, at: Date.now() }));
  } catch {
    // No storage (a private window's quota): the server's refusal covers the page instead.
  }
  return data;
}

export const LOGIN_NOTICE = "clinlabel:login";

export async function logOut() {
  await fetch("/api/auth/logout", { method: "POST", credentials: "same-origin" });
}

export async function whoAmI() {
  try {
    const response = await fetch("/api/auth/me", { credentials: "same-origin", headers: { Accept: "application/json" } });
    // 204: the local server (`clinlabel label`), which has no logins.
    return response.ok && response.status !== 204 ? await response.json() : null;
  } catch {
    return null;
  }
}
