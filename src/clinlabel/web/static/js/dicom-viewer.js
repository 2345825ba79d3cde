// Grey-scale DICOM and NIfTI in the page: full-depth values on a <canvas>, windowed here (see
// windowing.js) as the mouse drags, with presets, invert, frames and slices, the plane switch
// and a three-plane view with a linked crosshair (tri-view.js). No server round trip for
// window/level; frames come lazily.
// Colour DICOM has no window to set: each frame is the server's 8-bit rendition at the image's own
// size drawn on the same canvas, with the same slider, keys, wheel, cine, prefetch and frame labels.

import { PixelFrames } from "./pixel-frames.js";
import { ColourFrames } from "./colour-frames.js";
import { paint, defaultWindow, dragStep } from "./windowing.js";
import { Cine } from "./cine.js";
import { TriView, PLANES } from "./tri-view.js";
import { CornerOverlays, valueAt, formatValue } from "./overlays.js";
// Shift + this digit (event.code, so any keyboard layout) chooses the preset; the labels keep
// the plain digits. "own" cycles through the file's own windows.
export const PRESET_KEYS = ["own", "full", "brain", "subdural", "stroke", "lung", "mediastinum", "abdomen", "liver", "bone"];
const DIGIT_OF = (i) => String((i + 1) % 10);

export function isMedical(view) {
  return view.kind === "dicom" || view.kind === "nifti";
}

export class MedicalView {
  // elements: the window, frame and plane controls of index.html (main.js); instrument: keep
  // repaint times and a paint count for tests and benchmarks.
  constructor({ viewer, elements, instrument = false, onFrame, onFrameChosen }) {
    this.viewer = viewer;
    this.el = elements;
    this.onFrame = onFrame; // (view, frame, frames) after a frame is on screen
    // (view, frame, frames) as soon as a frame is chosen (key, slider, cine), before its pixels
    // arrive: the readout already names it, so a frame label pressed now goes to it.
    this.onFrameChosen = onFrameChosen;
    this.frames = new PixelFrames();
    this.colourFrames = new ColourFrames();
    this.cine = new Cine(this, elements.cine);
    this.canvas = document.createElement("canvas");
    this.canvas.className = "stage-image medical-canvas";
    this.ctx = this.canvas.getContext("2d");
    this.tri = new TriView(this, { root: elements.triView, button: elements.tri });
    this.tools = elements.tools;
    this.wlTools = elements.wlTools;
    this.readout = elements.readout;
    this.presetMenu = elements.presetMenu;
    this.slider = elements.slider;
    this.frameReadout = elements.frameReadout;
    this.reset();
    // Instrumentation, null unless a test or benchmark opened the page (main.js): ms per
    // repaint (bench_window_level) and how many frames were painted (tests wait on it).
    this.paintTimes = instrument ? [] : null;
    this.paints = instrument ? 0 : null;
    this.pendingPaint = false;
    viewer.dragHandler = (e) => this.onPointerDown(e);
    viewer.wheelHandler = (e) => this.onWheel(e);
    this.overlays = new CornerOverlays(viewer.stage);
    this.pointer = null; // the last mouse position over the stage, for the value under it
    viewer.stage.addEventListener("pointermove", (e) => this.onHover(e));
    viewer.onChange(() => this.updateHover()); // zoom and pan move the image under the mouse
    viewer.stage.addEventListener("pointerleave", () => {
      this.pointer = null;
      this.updateHover();
    });
    this.wire();
  }

  reset() {
    this.view = null;
    this.current = null; // {header, values, range} on screen
    this.colour = null; // colour DICOM: {header} of frame 1 (frames, frame time); no window
    this.window = null;
    this.invert = false;
    this.own = 0; // which of the file's windows "own" last chose
    this.plane = null; // NIfTI: the plane on screen (or active in the three-plane view)
    this.index = { frame: 1, axial: 1, coronal: 1, sagittal: 1 };
    this.count = 1;
    this.active = false;
    this.el.invert.setAttribute("aria-pressed", "false");
    this.overlays?.show(false);
  }

  get frame() {
    return this.index[this.plane ?? "frame"];
  }

  // The header cine reads its frame time from (grey: the frame on screen; colour: frame 1).
  get header() {
    return this.current?.header ?? this.colour?.header ?? null;
  }

  // The queue's look-ahead for an upcoming file: frame 1 as it will be shown (grey values, or
  // for colour DICOM the header and then frame 1's rendition).
  prefetchFirst(view) {
    const plane = view.kind === "nifti" ? "axial" : null;
    return this.frames.get(view.id, 1, plane, { urgent: false }).then((data) => {
      if (data.header.colour) return this.colourFrames.get(view.id, 1, null, { urgent: false });
      return data;
    });
  }

  // Shows a DICOM or NIfTI image; resolves true when it is on the canvas (false if another
  // image was asked for meanwhile), rejects with the decoder's reason.
  async show(view, alt) {
    this.cine.stop();
    this.leaveTri();
    this.reset();
    this.view = view;
    this.alt = alt;
    this.plane = view.kind === "nifti" ? "axial" : null;
    let data = await this.frames.get(view.id, 1, this.plane);
    if (this.view !== view) return false;
    if (data.header.colour) return this.showColour(view, data.header);
    if (this.plane) {
      // A volume opens at its middle slice in every plane (slice 1 is usually air).
      for (const p of PLANES) this.index[p] = Math.ceil(data.header.slices[p] / 2);
      data = await this.frames.get(view.id, this.index.axial, "axial");
      if (this.view !== view) return false;
    }
    this.active = true;
    this.window = defaultWindow(data.header);
    this.fillPresets(data.header);
    this.tools.hidden = false;
    this.wlTools.hidden = false;
    this.display(data, { first: true });
    return true;
  }

  // Colour DICOM: frame 1's rendition on the canvas; the window controls are hidden (8-bit
  // colour has no window), the frame controls stay.
  async showColour(view, header) {
    const bitmap = await this.colourFrames.get(view.id, 1);
    if (this.view !== view) return false;
    this.colour = { header };
    this.count = Math.max(1, header.frames);
    this.active = true;
    this.wlTools.hidden = true;
    this.tools.hidden = this.count <= 1;
    this.displayColour(bitmap, { first: true });
    return true;
  }

  hide() {
    this.cine.stop();
    this.leaveTri();
    this.reset();
    this.tools.hidden = true;
  }

  // ---- frames and slices -------------------------------------------------------------------

  async goFrame(n) {
    if (!this.active) return;
    const view = this.view;
    const plane = this.plane;
    const target = Math.min(Math.max(1, n), this.count);
    this.index[plane ?? "frame"] = target;
    this.updateFrameUi();
    if (this.tri.on) return this.tri.paint();
    const source = this.colour ? this.colourFrames : this.frames;
    const data = await source.get(view.id, target, plane);
    // Only the latest request paints: fast stepping never shows frames out of order.
    if (this.view !== view || this.plane !== plane || this.frame !== target) return;
    if (this.colour) this.displayColour(data);
    else this.display(data);
  }

  step(delta) {
    this.cine.stop();
    return this.goFrame(this.frame + delta);
  }

  setPlane(plane) {
    if (!this.plane || plane === this.plane) return;
    this.cine.stop();
    this.plane = plane;
    if (this.tri.on) {
      this.tri.activate(plane);
      this.updateFrameUi();
      this.tri.paint();
      return;
    }
    this.goFrame(this.frame);
  }

  cyclePlane() {
    if (this.plane) this.setPlane(PLANES[(PLANES.indexOf(this.plane) + 1) % 3]);
  }

  // A frame, or a slice of a plane (a region listed elsewhere in the file: regions-layer.js).
  goTo(frame, plane) {
    this.cine.stop();
    if (plane && this.plane && plane !== this.plane) {
      this.index[plane] = frame;
      this.setPlane(plane);
      return;
    }
    this.goFrame(frame);
  }

  display(data, { first = false } = {}) {
    const { header } = data;
    this.current = data;
    this.count = this.plane ? header.slices[this.plane] : header.frames;
    const sizeChanged = this.canvas.width !== header.columns || this.canvas.height !== header.rows;
    if (sizeChanged) {
      this.canvas.width = header.columns;
      this.canvas.height = header.rows;
      this.imageData = null;
    }
    this.paintNow();
    const aspect = header.row_spacing / header.column_spacing;
    const where = this.plane ? `${this.plane} slice ${this.frame} of ${this.count}` : `frame ${this.frame} of ${this.count}`;
    this.viewer.setImage(this.canvas, `${this.alt}, ${where}`, { aspect, keepView: !first && !sizeChanged });
    this.updateFrameUi();
    this.updateReadout();
    this.updateOverlays();
    if (this.count > 1) this.frames.prefetch(this.view.id, this.frame, this.count, this.plane, this.cine.playing ? 8 : 4);
    this.onFrame?.(this.view, this.frame, this.count);
  }

  displayColour({ bitmap }, { first = false } = {}) {
    const sizeChanged = this.canvas.width !== bitmap.width || this.canvas.height !== bitmap.height;
    if (sizeChanged) {
      this.canvas.width = bitmap.width;
      this.canvas.height = bitmap.height;
      this.imageData = null; // the grey path sizes its ImageData again
    }
    const t0 = performance.now();
    this.ctx.drawImage(bitmap, 0, 0);
    this.recordPaint(t0);
    const where = this.count > 1 ? `, frame ${this.frame} of ${this.count}` : "";
    this.viewer.setImage(this.canvas, `${this.alt}${where}`, { keepView: !first && !sizeChanged });
    this.updateFrameUi();
    this.updateOverlays();
    if (this.count > 1) this.colourFrames.prefetch(this.view.id, this.frame, this.count, null, this.cine.playing ? 8 : 4);
    this.onFrame?.(this.view, this.frame, this.count);
  }

  // ---- painting ----------------------------------------------------------------------------

  paintNow() {
    const data = this.current;
    if (!data) return;
    const t0 = performance.now();
    if (!this.imageData) {
      this.imageData = this.ctx.createImageData(data.header.columns, data.header.rows);
      this.out32 = new Uint32Array(this.imageData.data.buffer);
    }
    this.paintInto(this.out32, data);
    this.ctx.putImageData(this.imageData, 0, 0);
    this.recordPaint(t0);
  }

  // Instrumentation only (see `paintTimes`): a repaint that began at t0 is on the canvas.
  recordPaint(t0) {
    if (!this.paintTimes) return;
    this.paints += 1;
    this.paintTimes.push(performance.now() - t0);
    if (this.paintTimes.length > 500) this.paintTimes.splice(0, 250);
  }

  // A frame's values windowed into an RGBA buffer with the window and invert chosen now.
  paintInto(out32, data) {
    paint(out32, data.values, data.header, this.window, this.invert, data.range);
  }

  // Window changes repaint once per screen refresh, however many pointer events arrive.
  schedulePaint() {
    if (this.pendingPaint) return;
    this.pendingPaint = true;
    requestAnimationFrame(() => {
      this.pendingPaint = false;
      if (this.tri.on) this.tri.paint({ refetch: false });
      else this.paintNow();
    });
  }

  setWindow(window) {
    this.window = window;
    this.updateReadout();
    this.schedulePaint();
  }

  toggleInvert() {
    if (!this.active || this.colour) return;
    this.invert = !this.invert;
    this.el.invert.setAttribute("aria-pressed", String(this.invert));
    this.updateReadout();
    this.schedulePaint();
  }

  toggleTool() {
    this.tool = !this.tool;
    this.el.wlTool.setAttribute("aria-pressed", String(Boolean(this.tool)));
  }

  // ---- presets -----------------------------------------------------------------------------

  presets(header) {
    const own = header.windows.map((w, i) => [`own:${i}`, `File: ${w.explanation || `window ${i + 1}`} (W ${fmt(w.width)} L ${fmt(w.center)})`]);
    if (header.voi_lut) own.push(["voi", "File: VOI LUT"]);
    return [
      ...own,
      ["full", `Full range (W ${fmt(header.full_range.width)} L ${fmt(header.full_range.center)})`],
      ...header.presets.map((p) => [p.name, `${cap(p.name)} (W ${fmt(p.width)} L ${fmt(p.center)})`]),
    ];
  }

  fillPresets(header) {
    const options = this.presets(header).map(([value, text]) => {
      const option = document.createElement("option");
      option.value = value;
      const key = PRESET_KEYS.indexOf(value.startsWith("own") || value === "voi" ? "own" : value);
      option.textContent = key >= 0 ? `${text} — Shift+${DIGIT_OF(key)}` : text;
      return option;
    });
    const custom = document.createElement("option");
    custom.value = "custom";
    custom.textContent = "Custom (dragged)";
    custom.disabled = true;
    this.presetMenu.replaceChildren(...options, custom);
    this.presetMenu.value = header.windows.length ? "own:0" : header.voi_lut ? "voi" : "full";
  }

  choosePreset(name) {
    const data = this.current ?? this.tri.data?.[this.plane];
    if (!this.active || !data) return;
    const { header } = data;
    let window;
    let value = name;
    if (name === "own") {
      // Repeating the key cycles through the file's windows (CT files often carry two or three).
      const count = header.windows.length + (header.voi_lut ? 1 : 0);
      if (!count) return this.choosePreset("full");
      const onOwn = this.presetMenu.value.startsWith("own") || this.presetMenu.value === "voi";
      this.own = onOwn ? (this.own + 1) % count : 0;
      value = this.own < header.windows.length ? `own:${this.own}` : "voi";
    }
    if (value.startsWith("own:")) window = header.windows[Number(value.slice(4))];
    else if (value === "voi") window = null;
    else if (value === "full") window = header.full_range;
    else window = header.presets.find((p) => p.name === value);
    if (window === undefined) return;
    this.presetMenu.value = value;
    this.setWindow(window);
  }

  updateReadout() {
    const w = this.window;
    const text = w ? `W ${fmt(w.width)} L ${fmt(w.center)}${w.function && w.function !== "LINEAR" ? ` ${w.function}` : ""}` : "VOI LUT";
    this.readout.textContent = `${text}${this.invert ? " (inverted)" : ""}`;
    if (this.active && !this.colour) this.overlays.set("window", this.readout.textContent);
  }

  // ---- corner overlays (overlays.js) ---------------------------------------------------------

  // What is on screen, in the corners; the three-plane view has its own captions instead.
  updateOverlays() {
    const o = this.overlays;
    o.show(this.active && !this.tri.on);
    if (!this.active) return;
    const header = this.header;
    const modality = this.colour ? header?.modality ?? "" : this.current?.header.modality ?? "";
    const where = this.plane ? `${cap(this.plane)} slice ${this.frame} / ${this.count}` : this.count > 1 ? `Frame ${this.frame} / ${this.count}` : "";
    o.set("top-left", [modality, where].filter(Boolean).join(" · "));
    o.set("window", this.colour ? "" : this.readout.textContent);
    o.orientation(this.plane ? this.current?.header.orientation ?? null : null);
    this.updateHover();
  }

  toggleOverlays() {
    return this.overlays.toggle();
  }

  onHover(event) {
    const box = this.viewer.stage.getBoundingClientRect();
    this.pointer = { x: event.clientX - box.left, y: event.clientY - box.top };
    this.updateHover();
  }

  // The stored value (and modality value, HU on CT) of the pixel under the mouse: a division and
  // an array read per pointer move.
  updateHover() {
    const data = this.current;
    const v = this.viewer;
    if (!this.active || this.colour || this.tri.on || !data || !this.pointer || v.img !== this.canvas) {
      this.overlays.set("bottom-left", "");
      return;
    }
    const column = Math.floor((this.pointer.x - v.x) / v.scale);
    const row = Math.floor((this.pointer.y - v.y) / (v.scale * v.aspect));
    const value = valueAt(data, column, row);
    this.overlays.set("bottom-left", value ? `(${column + 1}, ${row + 1}) ${formatValue(value, data.header.modality)}` : "");
  }

  // ---- pointer, wheel, keys ----------------------------------------------------------------

  // Right button (or the left one with the W/L tool on): horizontal = width, vertical = level.
  onPointerDown(event) {
    if (!this.active || this.colour) return false; // colour: the left button pans as on photos
    if (!(event.button === 2 || (event.button === 0 && this.tool))) return false;
    event.preventDefault();
    const header = (this.current ?? this.tri.data?.[this.plane])?.header;
    if (!header) return false;
    const start = this.window ?? header.full_range;
    const origin = { x: event.clientX, y: event.clientY, id: event.pointerId };
    const step = dragStep(header);
    const minimum = start.function === "LINEAR" || !start.function ? 1 : 1e-6;
    const stage = this.viewer.stage;
    stage.setPointerCapture(event.pointerId);
    const move = (e) => {
      if (e.pointerId !== origin.id) return;
      this.presetMenu.value = "custom";
      this.setWindow({
        center: start.center + (e.clientY - origin.y) * step,
        width: Math.max(minimum, start.width + (e.clientX - origin.x) * step),
        function: start.function ?? "LINEAR",
        explanation: "custom",
      });
    };
    const up = (e) => {
      if (e.pointerId !== origin.id) return;
      stage.removeEventListener("pointermove", move);
      stage.removeEventListener("pointerup", up);
      stage.removeEventListener("pointercancel", up);
    };
    stage.addEventListener("pointermove", move);
    stage.addEventListener("pointerup", up);
    stage.addEventListener("pointercancel", up);
    return true;
  }

  // With frames or slices the wheel steps through them (as in radiology viewers) and Ctrl+wheel
  // zooms; single images keep the wheel for zoom.
  onWheel(event) {
    if (!this.active || this.count <= 1 || event.ctrlKey) return false;
    this.step(event.deltaY > 0 ? 1 : -1);
    return true;
  }

  // The viewer keys of a medical image (label keys were matched before these).
  keyAction(event) {
    if (!this.active) return null;
    const onPane = this.tri.keyAction(event); // arrows move the crosshair in a focused pane
    if (onPane) return onPane;
    if (this.colour && !["PageDown", "PageUp", "p", "P"].includes(event.key)) return null; // no window to set
    if (event.shiftKey && /^Digit\d$/.test(event.code)) {
      const digit = Number(event.code.slice(5));
      return () => this.choosePreset(PRESET_KEYS[(digit + 9) % 10]);
    }
    switch (event.key) {
      case "PageDown":
        return () => this.step(1);
      case "PageUp":
        return () => this.step(-1);
      case "i":
      case "I":
        return () => this.toggleInvert();
      case "w":
      case "W":
        return () => this.toggleTool();
      case "p":
      case "P":
        return this.count > 1 ? () => this.cine.toggle() : null;
      case "v":
      case "V":
        return this.plane ? () => this.cyclePlane() : null;
      case "t":
      case "T":
        return this.plane ? () => this.toggleTri() : null;
      default:
        return null;
    }
  }

  // ---- three planes (tri-view.js) ---------------------------------------------------------

  toggleTri() {
    if (!this.plane) return;
    if (this.tri.on) {
      this.leaveTri();
      this.goFrame(this.frame); // the active plane alone, at the point's slice
      return;
    }
    this.cine.stop();
    this.viewer.showMessage("");
    this.viewer.message.hidden = true;
    this.tri.enter();
    this.updateOverlays();
  }

  leaveTri() {
    this.tri.leave();
  }

  // ---- controls ----------------------------------------------------------------------------

  updateFrameUi() {
    const many = this.count > 1;
    this.el.frameTools.hidden = !many;
    this.el.planeTools.hidden = !this.plane;
    this.slider.max = String(this.count);
    this.slider.value = String(this.frame);
    const noun = this.plane ? `${cap(this.plane)} slice` : "Frame";
    this.frameReadout.textContent = `${noun} ${this.frame} / ${this.count}`;
    if (this.view) this.onFrameChosen?.(this.view, this.frame, this.count);
    // Volumes have slices, not frames, wherever the page names them.
    const sliderLabel = this.slider.labels?.[0];
    if (sliderLabel) sliderLabel.textContent = this.plane ? "Slice" : "Frame";
    for (const p of PLANES) this.el.planes[p].setAttribute("aria-pressed", String(p === this.plane));
  }

  wire() {
    const on = (element, type, fn) => element.addEventListener(type, fn);
    const el = this.el;
    on(el.presetMenu, "change", () => this.choosePreset(this.presetMenu.value));
    on(el.invert, "click", () => this.toggleInvert());
    on(el.wlTool, "click", () => this.toggleTool());
    on(el.cine, "click", () => this.cine.toggle());
    on(el.tri, "click", () => this.toggleTri());
    for (const p of PLANES) on(el.planes[p], "click", () => this.setPlane(p));
    on(el.slider, "input", () => {
      this.cine.stop();
      this.goFrame(Number(this.slider.value));
    });
  }
}

function fmt(value) {
  return Number.isInteger(value) ? String(value) : value.toFixed(Math.abs(value) < 10 ? 2 : 0);
}

function cap(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
