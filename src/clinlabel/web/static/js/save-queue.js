// Every state change goes through one ordered queue: a label is saved before the next `show`,
// nothing is sent twice at once, and a failed request is retried (network, server; a 408 or 429
// a few times) or reported (a broken rule, a 4xx that keeps coming). Nothing is dropped silently.
// Label changes are also kept in the browser until answered (pending-store.js, labelling.js).

import { request } from "./api.js";

const BACKOFF_MS = [250, 500, 1000, 2000, 4000];
// A 408 or 429 means "not now", so it is retried, but only this many times: a client error
// retried for ever would leave the label "saving…" for ever and never say why it is not stored.
// Network failures and 5xx answers (server trouble, a busy database) are retried until they pass.
export const MAX_CLIENT_ERROR_RETRIES = 4;

function givesUp(error, attempt) {
  // A token the server does not accept is waited out too: opening the link fixes it.
  const clientError = error.status >= 400 && error.status < 500 && error.kind !== "token";
  return clientError && attempt >= MAX_CLIENT_ERROR_RETRIES;
}

export class SaveQueue {
  constructor({ onChange }) {
    this.items = [];
    this.running = false;
    this.error = null; // the error of the request being retried, if any
    this.attempt = 0;
    this.onChange = onChange;
    this.waiting = []; // resolvers of idle() promises
  }

  // Resolves when the queue is next empty: every request queued so far answered (saved or
  // refused). While the server is unreachable it waits, as the status bar says.
  idle() {
    if (!this.items.length) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  get pending() {
    return this.items.length;
  }

  // Returns a promise for the server's answer; rejects only for errors that retrying cannot fix.
  enqueue(method, url, body, { kind = "other" } = {}) {
    return new Promise((resolve, reject) => {
      this.items.push({ method, url, body, kind, resolve, reject });
      this.changed();
      this.run();
    });
  }

  countOf(kind) {
    return this.items.filter((item) => item.kind === kind).length;
  }

  async run() {
    if (this.running) return;
    this.running = true;
    while (this.items.length) {
      const item = this.items[0];
      try {
        const result = await request(item.method, item.url, item.body);
        this.items.shift();
        this.error = null;
        this.attempt = 0;
        this.changed();
        item.resolve(result);
      } catch (error) {
        if (error.retryable && !givesUp(error, this.attempt)) {
          this.error = error;
          const wait = BACKOFF_MS[Math.min(this.attempt, BACKOFF_MS.length - 1)];
          this.attempt += 1;
          this.changed(wait);
          await new Promise((r) => setTimeout(r, wait));
          continue;
        }
        if (error.retryable) error.message = `${error.message} (refused ${this.attempt + 1} times; not retried again)`;
        this.items.shift();
        this.error = null;
        this.attempt = 0;
        this.changed();
        item.reject(error);
      }
    }
    this.running = false;
  }

  changed(retryInMs = null) {
    this.onChange?.({ pending: this.items.length, error: this.error, retryInMs });
    if (!this.items.length) for (const resolve of this.waiting.splice(0)) resolve();
  }
}
