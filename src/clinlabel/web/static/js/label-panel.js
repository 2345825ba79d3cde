// The label buttons (accessible names = label names, keys from the schema) and the line that
// says what this image's label is, and whether it is saved yet.

export class LabelPanel {
  // elements: {box, status} (main.js)
  constructor({ box, status }, labels, onLabel) {
    this.labels = labels;
    this.box = box;
    this.status = status;
    this.buttons = new Map();
    for (const def of labels) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "label-button";
      button.setAttribute("aria-pressed", "false");
      button.setAttribute("aria-keyshortcuts", def.key);
      const name = document.createElement("span");
      name.textContent = def.name;
      // The key hint is visual only, so the button's accessible name is exactly the label name.
      const key = document.createElement("kbd");
      key.textContent = def.key;
      key.setAttribute("aria-hidden", "true");
      button.append(key, name);
      button.addEventListener("click", () => onLabel(def));
      this.buttons.set(def.name, button);
      this.box.append(button);
    }
  }

  // state: {label, comment, saved, failed} for the image on screen.
  render(state) {
    for (const [name, button] of this.buttons) {
      button.setAttribute("aria-pressed", String(state.label === name));
    }
    this.status.classList.toggle("is-set", Boolean(state.label));
    this.status.classList.toggle("is-failed", Boolean(state.failed));
    if (!state.label) {
      // A study's first read whose repeat is still to come: read, but not shown (blinded).
      const none = state.sealed ? "Read — your label stays hidden until you have read this image's repeat" : "Not labelled yet";
      this.status.textContent = state.failed ? `Not saved: ${state.failed}` : none;
      return;
    }
    const word = state.failed ? `NOT saved (${state.failed})` : state.saved ? "saved" : "saving…";
    const strong = document.createElement("strong");
    strong.textContent = state.label;
    const parts = [strong, ` — ${word}`];
    if (state.comment) {
      const quote = document.createElement("q");
      quote.textContent = state.comment;
      parts.push(document.createElement("br"), "Comment: ", quote);
    }
    if (state.changed) parts.push(document.createElement("br"), "The file changed after it was labelled.");
    this.status.replaceChildren(...parts);
  }
}
