// A strip of the current visit's images: thumbnails (256 px renditions, loaded lazily), the one
// on screen marked, a click or Enter jumps to it. Left/Right move between thumbnails while the
// strip has focus (they do not change image there); S puts focus on the current one.
// On each image change only the mark moves; the list is built when the visit changes, once the
// image has stayed on screen a moment (`BUILD_DELAY_MS`): its requests then never compete with
// the next image, a label save or the record of what is shown, and fast stepping asks nothing.

import { thumbnailUrl } from "./visits.js";

const BUILD_DELAY_MS = 400;
const SCROLL_DELAY_MS = 100;

export class VisitStrip {
  // elements: {strip, list} (main.js); visits: a CaseVisits; onJump(position); onError(text).
  constructor({ strip, list }, visits, { onJump, onError }) {
    this.strip = strip;
    this.list = list;
    this.visits = visits;
    this.onJump = onJump;
    this.onError = onError;
    this.key = null; // "case\nvisit" on the strip
    this.current = null; // image id marked
    this.buttons = new Map(); // image id -> button
    this.wanted = null;
    list.addEventListener("keydown", (event) => this.onKey(event));
  }

  follow(view) {
    this.current = view.id;
    const key = `${view.case}\n${view.visit}`;
    this.wanted = key;
    clearTimeout(this.timer);
    if (key === this.key && this.buttons.has(view.id)) {
      this.mark();
      return;
    }
    this.timer = setTimeout(() => this.load(view, key), BUILD_DELAY_MS);
  }

  load(view, key) {
    if (this.wanted !== key) return;
    this.visits.of(view).then(
      (found) => {
        if (this.wanted !== key) return;
        const visit = found.visits.find((v) => v.visit === view.visit);
        this.build(key, view, visit?.images ?? []);
      },
      (e) => {
        if (this.wanted === key) this.onError(`Cannot list the images of this visit: ${e.message}`);
      },
    );
  }

  build(key, view, images) {
    this.key = key;
    this.buttons.clear();
    const items = images.map((image, i) => {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.className = "strip-item";
      button.dataset.position = String(image.position);
      button.setAttribute("aria-label", `Image ${i + 1} of ${images.length} in ${view.visit}: ${image.file}`);
      button.title = image.file;
      const img = document.createElement("img");
      img.decoding = "async";
      img.fetchPriority = "low";
      img.alt = "";
      img.dataset.src = thumbnailUrl(image);
      button.append(img);
      button.addEventListener("click", () => this.onJump(image.position));
      this.buttons.set(image.id, button);
      li.append(button);
      return li;
    });
    this.list.replaceChildren(...items);
    this.list.setAttribute("aria-label", `Images of ${view.case}, ${view.visit}`);
    this.strip.hidden = images.length < 2;
    this.mark();
    this.loadThumbnails(key);
  }

  // One thumbnail at a time: the strip never holds more than one of the browser's six
  // connections to the server, so the next image and a label save always find one free.
  async loadThumbnails(key) {
    for (const img of this.list.querySelectorAll("img[data-src]")) {
      if (this.key !== key || this.strip.hidden) return;
      img.src = img.dataset.src;
      delete img.dataset.src;
      await img.decode().catch(() => {
        // A thumbnail that cannot be shown leaves its button empty; the image itself says why.
      });
    }
  }

  mark() {
    let current = null;
    for (const [id, button] of this.buttons) {
      if (id === this.current) {
        button.setAttribute("aria-current", "true");
        current = button;
      } else button.removeAttribute("aria-current");
    }
    // Scrolling it into view measures the page: after the next image is painted, not before.
    clearTimeout(this.scrollTimer);
    if (current) this.scrollTimer = setTimeout(() => current.isConnected && this.scrollTo(current), SCROLL_DELAY_MS);
  }

  scrollTo(button) {
    const strip = this.strip.getBoundingClientRect();
    const item = button.getBoundingClientRect();
    if (item.left < strip.left || item.right > strip.right) {
      this.strip.scrollLeft += item.left - strip.left - (strip.width - item.width) / 2;
    }
  }

  focusCurrent() {
    if (this.strip.hidden) return;
    (this.buttons.get(this.current) ?? this.list.querySelector("button"))?.focus();
  }

  onKey(event) {
    if (!["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
    // The strip's own arrows: the page's image keys must not also act.
    event.preventDefault();
    event.stopPropagation();
    const buttons = [...this.list.querySelectorAll("button")];
    const at = buttons.indexOf(document.activeElement);
    let next = at;
    if (event.key === "ArrowLeft") next = Math.max(0, at - 1);
    else if (event.key === "ArrowRight") next = Math.min(buttons.length - 1, at + 1);
    else if (event.key === "Home") next = 0;
    else next = buttons.length - 1;
    buttons[next]?.focus();
  }
}
