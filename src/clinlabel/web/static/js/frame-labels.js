// "Label this frame only": the toggle (L) that sends the frame on screen with the label, and the
// list of this file's frame labels (saved, saving or refused). Off by default and again for each
// new file: a label is for the whole file unless the annotator says otherwise.

export class FrameLabels {
  // elements: {box, toggle, number, list} (main.js)
  constructor({ box, toggle, number, list }) {
    this.box = box;
    this.toggleBox = toggle;
    this.number = number;
    this.list = list;
    this.frame = 0;
    this.count = 1;
    this.noun = "frame"; // "slice" for volumes (NIfTI), wherever the page names them
    this.waiting = new Map(); // "id/frame" -> {label, comment, failed}
    this.toggleBox.addEventListener("change", () => this.box.classList.toggle("is-on", this.toggleBox.checked));
  }

  reset() {
    this.frame = 0;
    this.count = 1;
    this.setOn(false);
    this.box.hidden = true;
  }

  setOn(on) {
    this.toggleBox.checked = on;
    this.box.classList.toggle("is-on", on);
  }

  toggle() {
    if (this.count > 1) this.setOn(!this.toggleBox.checked);
  }

  frameShown(frame, count) {
    this.frame = frame;
    this.count = count;
    this.number.textContent = `${frame} of ${count}`;
    // The words around the number: "Label this slice only (slice 12 of 40)" for volumes.
    const words = this.number.previousSibling;
    if (words?.nodeType === Node.TEXT_NODE) words.textContent = `Label this ${this.noun} only (${this.noun} `;
    this.box.hidden = count <= 1;
  }

  // The frame a label key applies to now: 0 (the whole file) unless the toggle is on.
  target() {
    return this.count > 1 && this.toggleBox.checked ? this.frame : 0;
  }

  pending(id, frame, change) {
    this.waiting.set(`${id}/${frame}`, change);
  }

  settled(id, frame, failed = null) {
    const key = `${id}/${frame}`;
    if (failed) this.waiting.set(key, { ...this.waiting.get(key), failed });
    else this.waiting.delete(key);
  }

  // Frame labels the server refused (the save line counts them as not saved).
  failedCount() {
    return [...this.waiting.values()].filter((change) => change.failed).length;
  }

  render(view) {
    this.noun = view.kind === "nifti" ? "slice" : "frame";
    const byFrame = new Map((view.frame_labels ?? []).map((f) => [f.frame, { ...f, state: "saved" }]));
    for (const [key, change] of this.waiting) {
      const [id, frame] = key.split("/").map(Number);
      if (id === view.id) byFrame.set(frame, { frame, ...change, state: change.failed ? `NOT saved (${change.failed})` : "saving…" });
    }
    const items = [...byFrame.values()].sort((a, b) => a.frame - b.frame);
    this.list.replaceChildren(
      ...items.map((f) => {
        const li = document.createElement("li");
        li.textContent = `${this.noun === "slice" ? "Slice" : "Frame"} ${f.frame}: ${f.label} — ${f.state}${f.comment ? ` ("${f.comment}")` : ""}`;
        li.dataset.frame = f.frame;
        return li;
      }),
    );
    if (items.length) this.box.hidden = false;
  }
}
