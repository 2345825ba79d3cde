// The image viewer: fit to the stage, zoom (wheel, +/-) about a point, pan by dragging, reset,
// full screen. The browser does the last scaling step on the GPU (CSS transform). It shows an
// <img> (photos, colour DICOM) or a <canvas> (grey DICOM and NIfTI, windowed in the page), whose
// rows may be stretched (`aspect`) so that non-square pixels keep their true proportions.
//
// Zoom is shown as a percentage of the original's pixels (100 % = one image pixel per screen
// pixel; `actualSize` goes there). A photo is shown from its screen rendition; zooming past that
// rendition's own pixels loads the full-resolution picture (photo-detail.js) and swaps it in
// without moving what is on screen. Nothing of this runs on a key press that changes image.

const MIN_SCALE = 0.05;
const MAX_SCALE = 32;
// A photo's own size is asked for once it has stayed on screen this long (not per key press).
const SIZE_DELAY_MS = 400;

export class Viewer {
  // detail: the photos' sizes and full-resolution pictures (photo-detail.js), or null.
  constructor(stage, area, message, { detail = null } = {}) {
    this.stage = stage;
    this.area = area;
    this.message = message;
    this.detail = detail;
    this.source = null; // photos: {id, width, height, fullWidth, fullHeight} once known
    this.fullFor = null; // the photo id whose full-resolution picture is on screen or loading
    this.listeners = new Set(); // (viewer) => void after every change of zoom or pan
    this.zoomReadout = document.createElement("output");
    this.zoomReadout.className = "zoom-readout";
    this.zoomReadout.setAttribute("aria-live", "off");
    this.zoomReadout.title = "Zoom: 100 % is one image pixel per screen pixel (A)";
    stage.append(this.zoomReadout);
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
    if (img !== this.img) this.track(img);
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

  // A photo from the image store (its `data-photo-id`): its own size is asked for once it stays
  // on screen a moment, so stepping through images costs nothing; other elements are their own
  // pixels already.
  track(img) {
    clearTimeout(this.sizeTimer);
    this.source = null;
    this.fullFor = null;
    const id = img instanceof HTMLImageElement ? img.dataset.photoId : undefined;
    if (!id || !this.detail) return;
    const known = this.detail.known(Number(id));
    if (known) {
      this.source = sourceOf(Number(id), known);
      return;
    }
    this.sizeTimer = setTimeout(() => {
      if (this.img !== img) return;
      this.detail.size(Number(id)).then(
        (size) => {
          if (this.img?.dataset.photoId !== id) return;
          this.source = sourceOf(Number(id), size);
          this.apply({ silent: true });
        },
        () => {}, // the percentage stays "–"; the image itself is on screen and fine
      );
    }, SIZE_DELAY_MS);
  }

  // Photos' sizes and full pictures come from `detail` (photo-detail.js) from now on.
  setDetail(detail) {
    this.detail = detail;
    if (this.img) {
      this.track(this.img);
      this.apply({ silent: true });
    }
  }

  // Screen-rendition pixels per original pixel (1 for full-resolution and medical images).
  ratio() {
    if (!this.img || !this.source) return 1;
    return (this.img.naturalWidth || this.source.width) / this.source.width;
  }

  // The zoom as a percentage of the original's pixels, in device pixels.
  percent() {
    return this.scale * this.ratio() * (window.devicePixelRatio || 1) * 100;
  }

  // 1:1: one original pixel per screen pixel, about the centre of the stage.
  actualSize() {
    if (!this.img) return;
    const target = 1 / (this.ratio() * (window.devicePixelRatio || 1));
    this.zoomBy(target / this.scale);
    this.snap();
  }

  // Whole device pixels for the image's corner at 100 %, so 1:1 is pixel-exact, not resampled.
  snap() {
    const dpr = window.devicePixelRatio || 1;
    this.x = Math.round(this.x * dpr) / dpr;
    this.y = Math.round(this.y * dpr) / dpr;
    this.apply();
  }

  // Past the screen rendition's own pixels a photo's full-resolution picture is loaded (once per
  // image shown) and swapped in where the rendition was.
  wantDetail() {
    const src = this.source;
    const img = this.img;
    if (!src || !this.detail || this.fullFor === src.id || !(img instanceof HTMLImageElement)) return;
    if (src.fullWidth <= img.naturalWidth) return; // the rendition is the full picture already
    if (this.scale * (window.devicePixelRatio || 1) <= 1.0001) return; // rendition pixels not magnified yet
    this.fullFor = src.id;
    this.detail.full(src.id).then(
      (full) => {
        if (this.img !== img || this.source?.id !== src.id) return;
        full.dataset.photoId = String(src.id);
        full.dataset.full = "1";
        const alt = img.alt;
        const factor = img.naturalWidth / full.naturalWidth;
        this.scale *= factor;
        this.img = full;
        full.className = "stage-image";
        full.draggable = false;
        full.alt = alt;
        img.replaceWith(full);
        if (Math.abs(this.percent() - 100) < 0.01) this.snap();
        else this.apply();
      },
      () => {
        // Not loaded (the server said why in its log); the rendition stays, asked again on the next image.
      },
    );
  }

  onChange(listener) {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  // Another viewer's zoom and pan, in original pixels (compare.js keeps two in step).
  setView({ percent, cx, cy }) {
    if (!this.img) return;
    const { w, h } = this.size();
    const box = this.stage.getBoundingClientRect();
    this.scale = percent / (100 * this.ratio() * (window.devicePixelRatio || 1));
    this.x = box.width / 2 - cx * w * this.scale;
    this.y = box.height / 2 - cy * h * this.scale;
    this.fitted = false;
    this.apply({ silent: true });
  }

  // Zoom and the image point at the stage centre, as fractions of the image (for `setView`).
  view() {
    const { w, h } = this.size();
    const box = this.stage.getBoundingClientRect();
    return {
      percent: this.percent(),
      cx: (box.width / 2 - this.x) / (w * this.scale),
      cy: (box.height / 2 - this.y) / (h * this.scale),
    };
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
    this.source = null;
    this.fullFor = null;
    this.zoomReadout.hidden = true;
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

  apply({ silent = false } = {}) {
    if (this.img) {
      this.img.style.transform = `translate(${this.x}px, ${this.y}px) scale(${this.scale}, ${this.scale * this.aspect})`;
      // A photo's percentage waits for its own size (the rendition's would be wrong).
      const unknown = this.img.dataset?.photoId && !this.source;
      this.zoomReadout.textContent = unknown ? "– %" : `${formatPercent(this.percent())} %`;
      this.zoomReadout.hidden = false;
      this.wantDetail();
    } else this.zoomReadout.hidden = true;
    // The region layer follows every zoom, pan and new picture, silent or not.
    for (const overlay of this.overlays) overlay.sync(this);
    if (!silent) for (const listener of this.listeners) listener(this);
  }

  onWheel(event) {
    event.preventDefault();
    if (this.wheelHandler?.(event)) return;
    const box = this.stage.getBoundingClientRect();
    this.zoomBy(Math.exp(-event.deltaY * 0.0015), event.clientX - box.left, event.clientY - box.top);
  }

  onDown(event) {
    // A control over the image (the geometry panel's button) keeps its own click.
    if (event.target instanceof Element && event.target.closest("button, a, input, select")) return;
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

function formatPercent(value) {
  if (value >= 10) return String(Math.round(value));
  return value.toFixed(1);
}

function sourceOf(id, size) {
  return { id, width: size.width, height: size.height, fullWidth: size.full_width, fullHeight: size.full_height };
}
