// The metadata panel (M): every attribute of the file (keyword, tag, value), searchable.
// Identifying values arrive masked; "Unmask" asks the server, which records the unmasking in the
// audit trail before it sends them. Unmasked values are forgotten when the image changes.

import { get, post } from "./api.js";

export class MetadataPanel {
  // elements: {panel, body, search, count, unmask, toggle, close} (main.js)
  constructor(elements, { onError }) {
    this.panel = elements.panel;
    this.body = elements.body;
    this.search = elements.search;
    this.count = elements.count;
    this.unmaskButton = elements.unmask;
    this.toggleButton = elements.toggle;
    this.onError = onError;
    this.view = null;
    this.data = null;
    this.search.addEventListener("input", () => this.render());
    this.unmaskButton.addEventListener("click", () => this.unmask());
    this.toggleButton.addEventListener("click", () => this.toggle());
    elements.close.addEventListener("click", () => this.toggle(false));
  }

  get isOpen() {
    return !this.panel.hidden;
  }

  toggle(open = !this.isOpen) {
    this.panel.hidden = !open;
    this.toggleButton.setAttribute("aria-pressed", String(open));
    if (open) this.load();
  }

  // The image on screen changed: the panel follows it (and forgets unmasked values).
  follow(view) {
    if (this.view?.id === view.id) return;
    this.view = view;
    this.data = null;
    if (this.isOpen) this.load();
  }

  async load() {
    const view = this.view;
    if (!view || this.data) return this.render();
    this.count.textContent = "Loading…";
    try {
      const data = await get(`/api/images/${view.id}/metadata`);
      if (this.view === view) {
        this.data = data;
        this.render();
      }
    } catch (e) {
      this.count.textContent = `No metadata: ${e.message}`;
      this.body.replaceChildren();
    }
  }

  async unmask() {
    const view = this.view;
    if (!view) return;
    try {
      const data = await post(`/api/images/${view.id}/metadata/unmask`, { keywords: [] });
      if (this.view === view) {
        this.data = data;
        this.render();
      }
    } catch (e) {
      this.onError(`Cannot unmask: ${e.message}`);
    }
  }

  render() {
    const data = this.data;
    if (!data) return;
    const needle = this.search.value.trim().toLowerCase();
    const rows = data.attributes.filter(
      (a) => !needle || a.keyword.toLowerCase().includes(needle) || a.tag.toLowerCase().includes(needle) || (a.value ?? "").toLowerCase().includes(needle),
    );
    const geometry = Object.entries(data.geometry).filter(([, v]) => typeof v !== "object" || v === null);
    const lines = rows.map((a) => {
      const tr = document.createElement("tr");
      const value = a.masked ? "•••••• (masked)" : a.value;
      for (const [text, cls] of [["\u00a0".repeat(2 * a.depth) + a.keyword, "kw"], [a.tag, "tag"], [value, a.masked ? "masked" : "value"]]) {
        const td = document.createElement("td");
        td.textContent = text;
        td.className = cls;
        tr.append(td);
      }
      return tr;
    });
    if (!data.attributes.length) {
      lines.push(
        ...geometry.map(([k, v]) => {
          const tr = document.createElement("tr");
          for (const text of [k, "", String(v)]) {
            const td = document.createElement("td");
            td.textContent = text;
            tr.append(td);
          }
          return tr;
        }),
      );
    }
    this.body.replaceChildren(...lines);
    this.unmaskButton.hidden = data.masked === 0;
    const masked = data.masked ? `, ${data.masked} identifying value(s) masked` : "";
    this.count.textContent = `${rows.length} of ${data.attributes.length} attributes${masked}`;
  }
}
