// JSON requests to this server. The token travels in an HttpOnly cookie set by the launch URL.

export class ApiError extends Error {
  constructor(message, { status = 0, kind = "network", retryable = false } = {}) {
    super(message);
    this.status = status;
    this.kind = kind;
    this.retryable = retryable;
  }
}

// The version of each of this reader's labels (by image and frame) as this page last had it
// answered: a change is sent based on it (If-Match), so a change made meanwhile in another tab
// is answered 409 with the stored label, shown to the annotator, instead of overwritten.
const labelVersions = new Map();
// Images whose labels this page knows from the server: a frame of one with no version known
// has no label (version 0).
const knownImages = new Set();
// Answers about a label must not be overwritten by an answer to a read that started before it
// (a queue window asked for just before a save, answered just after): `writes` counts the label
// changes answered, and each label's entry remembers the count at its last change.
let writes = 0;
const changedAt = new Map();

function learn(key, version, startedAt) {
  if (typeof version !== "number") return;
  if ((changedAt.get(key) ?? -1) >= startedAt) return; // a change answered since this read began
  labelVersions.set(key, version);
}

// Every image record (ImageOut) in an answer carries its label versions: learn them.
function learnImages(data, startedAt, depth = 0) {
  if (!data || typeof data !== "object" || depth > 4) return;
  if (Array.isArray(data)) {
    for (const item of data) learnImages(item, startedAt, depth + 1);
    return;
  }
  if (typeof data.id === "number" && typeof data.relpath === "string" && typeof data.version === "number") {
    knownImages.add(data.id);
    learn(`${data.id}:0`, data.version, startedAt);
    for (const frame of data.frame_labels ?? []) learn(`${data.id}:${frame.frame}`, frame.version, startedAt);
    return;
  }
  for (const value of Object.values(data)) if (value && typeof value === "object") learnImages(value, startedAt, depth + 1);
}

function versionOf(key) {
  if (labelVersions.has(key)) return labelVersions.get(key);
  return knownImages.has(Number(key.split(":")[0])) ? 0 : undefined;
}

function labelKey(method, url, body) {
  // A clear may name its frame and the position it was given at (`?frame=2&position=7`).
  const found = /^\/api\/images\/(\d+)\/label(?:\?(.*))?$/.exec(url);
  if (!found || (method !== "PUT" && method !== "DELETE")) return null;
  const frame = method === "PUT" ? (body?.frame ?? 0) : Number(new URLSearchParams(found[2] ?? "").get("frame") ?? 0);
  return `${found[1]}:${frame}`;
}

function stale(data) {
  const current = data?.current;
  if (current && typeof current.version === "number") return current;
  return null;
}

// Who this page was opened for on the team server (main.js sets it from the session): sent with
// every request, so that once someone else has logged in in this browser (the cookie is theirs
// now) the server refuses this page's requests instead of taking them as the new user's.
let reader = null;

export function setReader(name) {
  reader = name || null;
}

export async function request(method, url, body) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (reader) options.headers["X-Clinlabel-Reader"] = encodeURIComponent(reader);
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
  const versionKey = labelKey(method, url, body);
  const version = versionKey ? versionOf(versionKey) : undefined;
  if (version !== undefined) options.headers["If-Match"] = `"${version}"`;
  const startedAt = writes;
  let response;
  try {
    response = await fetch(url, options);
  } catch (error) {
    throw new ApiError("Cannot reach the clinlabel server.", { retryable: true });
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (versionKey && (response.ok || (response.status === 409 && stale(data)))) {
    writes += 1;
    changedAt.set(versionKey, writes);
    // Saved: the new version. Refused as stale: the stored label is now the one this page
    // knows, so choosing again replaces it knowingly.
    const known = response.ok ? data?.version : stale(data).version;
    if (typeof known === "number") labelVersions.set(versionKey, known);
  }
  if (url === "/api/session/undo" && response.ok && data?.image) {
    // Ctrl+Z changed the label: the answer's image record carries its version now.
    writes += 1;
    changedAt.set(`${data.image.id}:${data.frame}`, writes);
    const restored = data.frame === 0 ? data.image.version : (data.image.frame_labels ?? []).find((f) => f.frame === data.frame)?.version ?? 0;
    if (typeof restored === "number") labelVersions.set(`${data.image.id}:${data.frame}`, restored);
    else labelVersions.delete(`${data.image.id}:${data.frame}`);
  }
  if (response.ok) learnImages(versionKey ? data?.shown : data, startedAt);
  if (!response.ok) {
    if (response.headers.get("X-Clinlabel-Refused") === "reader") {
      // Someone else logged in in this browser: team-session.js covers the page. The change
      // waits, kept for this page's reader, and is sent only once they are logged in again.
      const message = messageOf(data) || "Another user has logged in in this browser.";
      window.dispatchEvent(new CustomEvent("clinlabel:reader-changed", { detail: { message } }));
      throw new ApiError(message, { status: response.status, kind: "token", retryable: true });
    }
    if (response.headers.get("X-Clinlabel-Refused") === "login") {
      // The team server logged this user off (idle, or ended elsewhere): team-session.js asks
      // for the password; until then the change waits and is retried, like an unknown token.
      window.dispatchEvent(new CustomEvent("clinlabel:login-needed"));
      throw new ApiError("Logged off: log in again; nothing is lost.", { status: response.status, kind: "token", retryable: true });
    }
    if (response.headers.get("X-Clinlabel-Refused") === "token") {
      // Not a refusal of the change: this page's token is not the server's (it was started
      // with a new one). Retried, so nothing is dropped, until the page is opened with the link.
      throw new ApiError("This page's access token is not accepted by the server (it was restarted with a new token).", { status: response.status, kind: "token", retryable: true });
    }
    const message = messageOf(data) || text || `HTTP ${response.status}`;
    // Server trouble and a busy database are worth retrying; a broken rule is not.
    const retryable = response.status >= 500 || response.status === 408 || response.status === 429;
    const error = new ApiError(message, { status: response.status, kind: data?.error ?? "http", retryable });
    // A stale change (409): the label stored now, which the page shows instead of its own.
    error.current = stale(data);
    throw error;
  }
  return data;
}

function messageOf(data) {
  if (!data) return "";
  if (typeof data.message === "string") return data.message;
  if (Array.isArray(data.detail)) return data.detail.map((d) => d.msg).join("; ");
  if (typeof data.detail === "string") return data.detail;
  return "";
}

export const get = (url) => request("GET", url);
export const post = (url, body) => request("POST", url, body ?? {});
