// JSON requests to this server. The token travels in an HttpOnly cookie set by the launch URL.

export class ApiError extends Error {
  constructor(message, { status = 0, kind = "network", retryable = false } = {}) {
    super(message);
    this.status = status;
    this.kind = kind;
    this.retryable = retryable;
  }
}

export async function request(method, url, body) {
  const options = { method, credentials: "same-origin", headers: { Accept: "application/json" } };
  if (body !== undefined) {
    options.headers["Content-Type"] = "application/json";
    options.body = JSON.stringify(body);
  }
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
  if (!response.ok) {
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
    throw new ApiError(message, { status: response.status, kind: data?.error ?? "http", retryable });
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
