// The image viewer: fit to the stage, zoom (wheel, +/-) about a point, pan by dragging, reset,
// full screen. The browser does the last scaling step on the GPU (CSS transform). It shows an
// <img> (photos, colour DICOM) or a <canvas> (grey DICOM and NIfTI, windowed in the page), whose
// rows may be stretched (`aspect`) so that non-square pixels keep their true proportions.

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
    this.aspect = 1; // displayed height / stored height, per pixel (row spacing / column spacing)
    this.wheelHandler = null; // (event) => true when it used the wheel (frame stepping)
    this.dragHandler = null; // (event) => true when it takes this pointer (window/level)
    // Layers over the image (regions): they follow its transform (`sync`) and may take the
    // left button first (`onDown` true), before panning.
    this.overlays = [];
    stage.addEventListener("contextmenu", (e) => this.dragHandler && e.preventDefault());
    stage.addEventListener("wheel", (e) => this.onWheel(e), { passive: false });
    stage.addEventListener("pointerdown", (e) => this.onDown(e));
    stage.addEventListener("pointermove", (e) => this.onMove(e));
    stage.addEventListener("pointerup", (e) => this.onUp(e));
    stage.addEventListener("pointercancel", (e) => this.onUp(e));
    stage.addEventListener("dblclick", () => this.fit());
    new ResizeObserver(() => this.fitted && this.fit()).observe(stage);
  }

  // Shows an image element that is already decoded (see images.js), replacing the previous one.
  setImage(img, alt, { aspect = 1, keepView = false } = {}) {
    this.message.hidden = true;
    const same = this.img === img && this.aspect === aspect;
    this.aspect = aspect;
    if (this.img && this.img !== img) this.img.remove();
    this.img = img;
    img.draggable = false;
    img.className = "stage-image";
    if (img.parentNode !== this.stage) this.stage.append(img);
    if (img instanceof HTMLImageElement) img.alt = alt;
    else {
      img.setAttribute("role", "img");
      img.setAttribute("aria-label", alt);
    }
    // Stepping through frames keeps the zoom and pan the annotator chose.
    if (keepView && same && !this.fitted) this.apply();
    else this.fit();
  }

  size() {
    const el = this.img;
    const w = el.naturalWidth ?? el.width;
    const h = el.naturalHeight ?? el.height;
    return { w: w || 1, h: (h || 1) * this.aspect };
  }

  showMessage(text) {
    if (this.img) this.img.remove();
    this.img = null;
    for (const overlay of this.overlays) overlay.sync(this);
    this.message.textContent = text;
    this.message.hidden = false;
  }

  fit() {
    this.fitted = true;
    if (!this.img) return;
    const { w, h } = this.size();
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
      this.img.style.transform = `translate(${this.x}px, ${this.y}px) scale(${this.scale}, ${this.scale * this.aspect})`;
    }
    for (const overlay of this.overlays) overlay.sync(this);
  }

  onWheel(event) {
    event.preventDefault();
    if (this.wheelHandler?.(event)) return;
    const box = this.stage.getBoundingClientRect();
    this.zoomBy(Math.exp(-event.deltaY * 0.0015), event.clientX - box.left, event.clientY - box.top);
  }

  onDown(event) {
    if (this.dragHandler?.(event)) return;
    if (this.overlays.some((overlay) => overlay.onDown(event))) return;
    // The middle button pans too, so a drawing tool on the left button leaves panning.
    if (!this.img || (event.button !== 0 && event.button !== 1)) return;
    this.drag = { id: event.pointerId, x: event.clientX - this.x, y: event.clientY - this.y };
    this.stage.setPointerCapture(event.pointerId);
    this.stage.classList.add("dragging");
  }

  onMove(event) {
    for (const overlay of this.overlays) overlay.onMove(event);
    if (!this.drag || event.pointerId !== this.drag.id) return;
    this.x = event.clientX - this.drag.x;
    this.y = event.clientY - this.drag.y;
    this.fitted = false;
    this.apply();
  }

  onUp(event) {
    for (const overlay of this.overlays) overlay.onUp(event);
    if (!this.drag || event.pointerId !== this.drag.id) return;
    this.drag = null;
    this.stage.classList.remove("dragging");
  }

  // Resolves when the change is made; rejects when the browser refuses it (the caller says so).
  toggleFullscreen() {
    if (document.fullscreenElement) return document.exitFullscreen();
    if (!this.area.requestFullscreen) return Promise.reject(new Error("this browser has no full-screen mode"));
    return this.area.requestFullscreen();
  }
}
