// The image viewer: fit to the stage, zoom (wheel, +/-) about a point, pan by dragging, reset,
// full screen. The browser does the last scaling step on the GPU (CSS transform).

const MIN_SCALE = 0.05;
const MAX_SCALE = 32;

export class Viewer {
  constructor(stage, area, message) {
    this.stage = stage;
    this.area = area;
    this.message = message;
    this.img = null;
    this.scale = 1;
    this.x = 0;
    this.y = 0;
    this.fitted = true;
    this.drag = null;
    stage.addEventListener("wheel", (e) => this.onWheel(e), { passive: false });
    stage.addEventListener("pointerdown", (e) => this.onDown(e));
    stage.addEventListener("pointermove", (e) => this.onMove(e));
    stage.addEventListener("pointerup", (e) => this.onUp(e));
    stage.addEventListener("pointercancel", (e) => this.onUp(e));
    stage.addEventListener("dblclick", () => this.fit());
    new ResizeObserver(() => this.fitted && this.fit()).observe(stage);
  }

  // Shows an image element that is already decoded (see images.js), replacing the previous one.
  setImage(img, alt) {
    this.message.hidden = true;
    if (this.img && this.img !== img) this.img.remove();
    this.img = img;
    img.alt = alt;
    img.draggable = false;
    img.className = "stage-image";
    if (img.parentNode !== this.stage) this.stage.append(img);
    this.fit();
  }

  showMessage(text) {
    if (this.img) this.img.remove();
    this.img = null;
    this.message.textContent = text;
    this.message.hidden = false;
  }

  fit() {
    this.fitted = true;
    if (!this.img) return;
    const w = this.img.naturalWidth || 1;
    const h = this.img.naturalHeight || 1;
    const box = this.stage.getBoundingClientRect();
    this.scale = Math.min(box.width / w, box.height / h);
    this.x = (box.width - w * this.scale) / 2;
    this.y = (box.height - h * this.scale) / 2;
    this.apply();
  }

  zoomBy(factor, cx, cy) {
    if (!this.img) return;
    const box = this.stage.getBoundingClientRect();
    const px = cx ?? box.width / 2;
    const py = cy ?? box.height / 2;
    const next = Math.min(MAX_SCALE, Math.max(MIN_SCALE, this.scale * factor));
    // Keep the point under the cursor where it is.
    this.x = px - ((px - this.x) * next) / this.scale;
    this.y = py - ((py - this.y) * next) / this.scale;
    this.scale = next;
    this.fitted = false;
    this.apply();
  }

  apply() {
    if (this.img) {
      this.img.style.transform = `translate(${this.x}px, ${this.y}px) scale(${this.scale})`;
    }
  }

  onWheel(event) {
    event.preventDefault();
    const box = this.stage.getBoundingClientRect();
    this.zoomBy(Math.exp(-event.deltaY * 0.0015), event.clientX - box.left, event.clientY - box.top);
  }

  onDown(event) {
    if (!this.img || event.button !== 0) return;
    this.drag = { id: event.pointerId, x: event.clientX - this.x, y: event.clientY - this.y };
    this.stage.setPointerCapture(event.pointerId);
    this.stage.classList.add("dragging");
  }

  onMove(event) {
    if (!this.drag || event.pointerId !== this.drag.id) return;
    this.x = event.clientX - this.drag.x;
    this.y = event.clientY - this.drag.y;
    this.fitted = false;
    this.apply();
  }

  onUp(event) {
    if (!this.drag || event.pointerId !== this.drag.id) return;
    this.drag = null;
    this.stage.classList.remove("dragging");
  }

  toggleFullscreen() {
    if (document.fullscreenElement) document.exitFullscreen();
    else this.area.requestFullscreen?.().catch(() => {});
  }
}
