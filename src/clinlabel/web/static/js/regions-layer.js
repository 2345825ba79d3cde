// Regions (issue 11): boxes, polygons, brush masks and points drawn over the image, on the
// image's own pixel grid whatever the zoom. The layer lies over the viewer's image with the same
// transform, so zoom, pan and window/level keep working while a tool is active: wheel zooms,
// right-drag sets the window, middle-drag (or Space + drag) pans; the left button draws.
//
// Every change goes through the page's ordered, retried save queue and is an audit event on the
// server; undo (Ctrl+Z) and redo (Ctrl+Shift+Z) send the earlier state again, as new events.
// Masks: one per class and frame (or slice) for this annotator, as in Slicer's segment layers —
// the brush adds to the class's mask, the eraser takes from it.

const SVG = "http://www.w3.org/2000/svg";
const TOOL_KEYS = { b: "box", g: "polygon", d: "brush", e: "eraser", k: "point" };
const MASK_TOOLS = new Set(["brush", "assist:frangi", "interpolated"]);
const CLOSE_PX = 8; // a click this near the first vertex (on screen) closes a polygon

export function newUid() {
  return crypto.randomUUID();
}

// Row-major run lengths starting with unpainted pixels (domain/regions.py), both ways.
export function encodeMask(bits, width, height) {
  const runs = [];
  let value = 0;
  let run = 0;
  for (let i = 0; i < width * height; i++) {
    if (bits[i] !== value) {
      runs.push(run);
      run = 0;
      value = bits[i];
    }
    run++;
  }
  runs.push(run);
  return { width, height, rle: runs };
}

export function decodeMask({ width, height, rle }) {
  const bits = new Uint8Array(width * height);
  let at = 0;
  rle.forEach((run, i) => {
    if (i % 2 === 1) bits.fill(1, at, at + run);
    at += run;
  });
  return bits;
}

function rgb(hex) {
  const n = Number.parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

function toolName(tool) {
  return { interpolated: "interpolated mask", "assist:frangi": "assisted mask", brush: "mask" }[tool] ?? tool;
}

export class RegionLayer {
  // kept: the browser's store of changes not yet answered (pending-store.js), so a reload or a
  // server restart loses no region either.
  constructor({ viewer, queue, status, elements, classes, medical = null, kept = null }) {
    this.viewer = viewer;
    this.kept = kept;
    this.medical = medical; // the grey frame on screen and its window (smart brush)
    this.queue = queue;
    this.status = status;
    this.el = elements;
    this.classes = classes;
    this.enabled = classes.length > 0;
    this.view = null;
    this.frame = 0;
    this.plane = null;
    this.grid = null;
    this.regions = new Map(); // uid -> region (this image, all frames)
    this.tool = null;
    this.classIndex = 0;
    this.brush = 12; // radius in image pixels
    this.hiddenAll = false;
    this.opacity = 0.45;
    this.selected = null;
    this.drawing = null;
    this.undoStack = [];
    this.redoStack = [];
    this.loadToken = 0;
    this.spaceHeld = false;
    this.svg = document.createElementNS(SVG, "svg");
    this.svg.classList.add("region-layer");
    this.svg.setAttribute("preserveAspectRatio", "none");
    this.svg.setAttribute("aria-hidden", "true");
    this.canvas = document.createElement("canvas");
    this.canvas.className = "region-masks";
    this.canvas.setAttribute("aria-hidden", "true");
    this.maskBits = new Map(); // class name -> Uint8Array of this frame's mask
    // Vessel assist: the server's vesselness map of this frame, the threshold, the proposal.
    this.assist = null; // {values: Uint8Array, params, frame, imageId}
    this.threshold = 80;
    this.smart = false;
    this.assistCanvas = document.createElement("canvas");
    this.assistCanvas.className = "region-assist";
    this.assistCanvas.setAttribute("aria-hidden", "true");
    if (!this.enabled) return;
    this.el.panel.hidden = false;
    this.fillClasses();
    this.wire();
    viewer.overlays.push(this);
  }

  // ---- the viewer's transform ---------------------------------------------------------

  // Called by the viewer after every zoom, pan or new image: the layer follows the image.
  sync(viewer) {
    const img = viewer.img;
    // The three-plane view has canvases of its own: regions are drawn in the single view.
    const tri = viewer.stage.querySelector(".tri-view:not([hidden])");
    if (!img || !this.grid || this.hiddenAll || tri) {
      for (const el of [this.svg, this.canvas, this.assistCanvas]) el.style.display = "none";
      return;
    }
    const w = img.naturalWidth ?? img.width;
    const h = img.naturalHeight ?? img.height;
    // Masks under shapes: the canvas first, the proposal, the outlines over both.
    for (const el of [this.canvas, this.assistCanvas, this.svg]) {
      if (el.parentNode !== viewer.stage) viewer.stage.append(el);
      el.style.display = "";
      el.style.width = `${w}px`;
      el.style.height = `${h}px`;
      el.style.transform = img.style.transform;
    }
    this.canvas.style.opacity = String(this.opacity);
    this.assistCanvas.style.display = this.assist ? "" : "none";
  }

  // Screen point -> image pixel coordinates (continuous), through the layer's own box.
  toImage(event) {
    const box = this.svg.getBoundingClientRect();
    const x = ((event.clientX - box.left) / box.width) * this.grid.width;
    const y = ((event.clientY - box.top) / box.height) * this.grid.height;
    return { x: Math.min(Math.max(x, 0), this.grid.width), y: Math.min(Math.max(y, 0), this.grid.height) };
  }

  screenPerPixel() {
    return this.svg.getBoundingClientRect().width / this.grid.width || 1;
  }

  // ---- the image on screen -------------------------------------------------------------

  // A new image (or plane): fetch its regions and grid. Frame 0 for photos; frames from 1.
  async load(view, frame, plane) {
    if (!this.enabled) return;
    const token = ++this.loadToken;
    this.finishDrawing(false);
    this.view = view;
    this.frame = frame;
    this.plane = plane;
    this.selected = null;
    this.undoStack = [];
    this.redoStack = [];
    this.grid = null;
    this.crossings = {};
    this.closeAssist();
    this.regions.clear();
    this.render({ masks: false });
    const query = plane ? `?plane=${plane}` : "";
    let answer;
    try {
      const response = await fetch(`/api/images/${view.id}/regions${query}`, { credentials: "same-origin" });
      if (!response.ok) throw new Error((await response.json().catch(() => ({}))).message || `HTTP ${response.status}`);
      answer = await response.json();
    } catch (error) {
      if (token === this.loadToken) this.status.notice(`Regions of this image cannot be loaded: ${error.message}`);
      return;
    }
    if (token !== this.loadToken) return; // the annotator moved on meanwhile
    this.grid = answer.grid;
    this.crossings = answer.crossings ?? {};
    for (const region of answer.regions) this.regions.set(region.uid, region);
    this.sync(this.viewer);
    this.render({ masks: true });
  }

  setFrame(frame, plane) {
    if (!this.enabled || !this.view) return;
    if (plane !== this.plane) return this.load(this.view, frame, plane);
    this.finishDrawing(false);
    this.frame = frame;
    this.selected = null;
    this.closeAssist();
    this.render({ masks: true });
  }

  onThisFrame(region) {
    return region.frame === this.frame && (region.plane ?? null) === (this.plane ?? null);
  }

  classOf(name) {
    return this.classes.find((c) => c.name === name) ?? { name, colour: "#ffffff", tools: [] };
  }

  get currentClass() {
    return this.classes[this.classIndex];
  }

  // ---- drawing on screen ---------------------------------------------------------------

  // Shapes are redrawn on every change (cheap SVG); masks only when `masks` is set: a mask
  // canvas is the image's full size, and a polygon's rubber band must not repaint it.
  render({ masks = false } = {}) {
    if (!this.enabled) return;
    const svg = this.svg;
    svg.replaceChildren();
    this.renderList();
    if (!this.grid) return;
    svg.setAttribute("viewBox", `0 0 ${this.grid.width} ${this.grid.height}`);
    if (masks) this.renderMasks();
    // Measured once: asking the layout per shape, after the last one was added, forces a
    // layout each time (500 regions took 300 ms to open).
    const perPixel = this.screenPerPixel();
    const stroke = 2 / perPixel;
    const shapes = document.createDocumentFragment();
    for (const region of this.regions.values()) {
      if (!this.onThisFrame(region) || MASK_TOOLS.has(region.tool)) continue;
      const colour = this.classOf(region.class).colour;
      const g = region.geometry;
      let shape;
      if (region.tool === "box") {
        shape = document.createElementNS(SVG, "rect");
        shape.setAttribute("x", g.x);
        shape.setAttribute("y", g.y);
        shape.setAttribute("width", g.w);
        shape.setAttribute("height", g.h);
      } else if (region.tool === "polygon") {
        shape = document.createElementNS(SVG, "polygon");
        shape.setAttribute("points", g.points.map((p) => p.join(",")).join(" "));
      } else {
        shape = document.createElementNS(SVG, "circle");
        shape.setAttribute("cx", g.x);
        shape.setAttribute("cy", g.y);
        shape.setAttribute("r", 5 / perPixel);
      }
      shape.classList.add("region-shape");
      if (region.uid === this.selected) shape.classList.add("is-selected");
      shape.dataset.uid = region.uid;
      shape.style.setProperty("--region-colour", colour);
      shape.setAttribute("stroke-width", String(region.uid === this.selected ? stroke * 2 : stroke));
      shapes.append(shape);
    }
    this.renderCrossings(shapes);
    svg.append(shapes);
    if (this.selected) this.renderHandles(stroke, perPixel);
    this.renderDrawing(stroke);
  }

  // Regions drawn on another plane of this volume, where they cross the slice on screen: a
  // line of pixels (one column or row) in the class colour, so a sagittal outline shows on
  // the axial slices it passes through.
  renderCrossings(into) {
    for (const [uid, lines] of Object.entries(this.crossings ?? {})) {
      const region = this.regions.get(uid);
      const line = lines.find((l) => l.frame === this.frame);
      if (!region || !line) continue;
      const colour = this.classOf(region.class).colour;
      for (const [start, end] of line.runs) {
        const rect = document.createElementNS(SVG, "rect");
        const down = line.along === "rows";
        rect.setAttribute("x", down ? line.at : start);
        rect.setAttribute("y", down ? start : line.at);
        rect.setAttribute("width", down ? 1 : end - start);
        rect.setAttribute("height", down ? end - start : 1);
        rect.classList.add("region-crossing");
        rect.style.setProperty("--region-colour", colour);
        rect.dataset.crossing = uid;
        into.append(rect);
      }
    }
  }

  renderMasks() {
    const { width, height } = this.grid;
    if (this.canvas.width !== width || this.canvas.height !== height) {
      this.canvas.width = width;
      this.canvas.height = height;
    }
    this.maskBits.clear();
    const ctx = this.canvas.getContext("2d");
    ctx.clearRect(0, 0, width, height);
    for (const region of this.regions.values()) {
      if (!this.onThisFrame(region) || !MASK_TOOLS.has(region.tool)) continue;
      const bits = decodeMask(region.geometry);
      this.maskBits.set(region.class, bits);
      this.paintMask(ctx, bits, this.classOf(region.class).colour);
    }
  }

  paintMask(ctx, bits, colour) {
    const [r, g, b] = rgb(colour);
    const image = ctx.getImageData(0, 0, this.grid.width, this.grid.height);
    const out = image.data;
    for (let i = 0; i < bits.length; i++) {
      if (!bits[i]) continue;
      const o = i * 4;
      out[o] = r;
      out[o + 1] = g;
      out[o + 2] = b;
      out[o + 3] = 255;
    }
    ctx.putImageData(image, 0, 0);
  }

  renderHandles(stroke, perPixel) {
    const region = this.regions.get(this.selected);
    if (!region || !["polygon", "box"].includes(region.tool)) return;
    for (const [index, [x, y]] of this.vertices(region).entries()) {
      const handle = document.createElementNS(SVG, "circle");
      handle.classList.add("region-handle");
      handle.setAttribute("cx", x);
      handle.setAttribute("cy", y);
      handle.setAttribute("r", 5 / perPixel);
      handle.setAttribute("stroke-width", String(stroke));
      handle.dataset.vertex = String(index);
      this.svg.append(handle);
    }
  }

  vertices(region) {
    const g = region.geometry;
    if (region.tool === "polygon") return g.points;
    return [[g.x, g.y], [g.x + g.w, g.y + g.h]];
  }

  renderDrawing(stroke) {
    const d = this.drawing;
    if (!d || d.tool === "brush" || d.tool === "eraser") return;
    const colour = this.currentClass.colour;
    let shape;
    if (d.tool === "box" && d.end) {
      shape = document.createElementNS(SVG, "rect");
      shape.setAttribute("x", Math.min(d.start.x, d.end.x));
      shape.setAttribute("y", Math.min(d.start.y, d.end.y));
      shape.setAttribute("width", Math.abs(d.end.x - d.start.x));
      shape.setAttribute("height", Math.abs(d.end.y - d.start.y));
    } else if (d.tool === "polygon" && d.points.length) {
      shape = document.createElementNS(SVG, "polyline");
      const points = d.hover ? [...d.points, [d.hover.x, d.hover.y]] : d.points;
      shape.setAttribute("points", points.map((p) => p.join(",")).join(" "));
    }
    if (!shape) return;
    shape.classList.add("region-shape", "is-drawing");
    shape.style.setProperty("--region-colour", colour);
    shape.setAttribute("stroke-width", String(stroke));
    this.svg.append(shape);
  }

  // ---- pointer -------------------------------------------------------------------------

  // The viewer asks before panning: true when the layer takes this pointer.
  onDown(event) {
    if (!this.enabled || !this.grid || this.hiddenAll) return false;
    if (event.button !== 0 || this.spaceHeld) return false; // middle/right and Space+drag: the viewer's
    const target = event.target;
    if (!this.tool) {
      if (target.dataset?.vertex !== undefined && this.selected) {
        this.startDrag(event, { vertex: Number(target.dataset.vertex) });
        return true;
      }
      if (target.dataset?.uid) {
        // A click selects; dragging moves only a region already selected, so a large box
        // over the image does not stop the annotator from panning.
        if (target.dataset.uid !== this.selected) {
          this.select(target.dataset.uid);
          return false;
        }
        this.startDrag(event, { move: true });
        return true;
      }
      if (this.selected) this.select(null);
      return false;
    }
    const point = this.toImage(event);
    if (this.tool === "box") {
      this.drawing = { tool: "box", start: point, end: null, pointer: event.pointerId };
    } else if (this.tool === "polygon") {
      this.addVertex(point, event);
      return true;
    } else if (this.tool === "point") {
      this.commitNew("point", { x: point.x, y: point.y });
      return true;
    } else {
      this.startStroke(point, event.pointerId);
    }
    this.viewer.stage.setPointerCapture(event.pointerId);
    return true;
  }

  onMove(event) {
    if (!this.grid) return;
    const d = this.drawing;
    if (this.dragging && event.pointerId === this.dragging.pointer) return this.dragMove(event);
    if (!d) return;
    const point = this.toImage(event);
    if (d.tool === "box" && d.pointer === event.pointerId) {
      d.end = point;
      this.render();
    } else if (d.tool === "polygon") {
      d.hover = point;
      this.render();
    } else if ((d.tool === "brush" || d.tool === "eraser") && d.pointer === event.pointerId) {
      this.strokeTo(point);
    }
  }

  onUp(event) {
    if (this.dragging && event.pointerId === this.dragging.pointer) return this.dragEnd();
    const d = this.drawing;
    if (!d || d.pointer !== event.pointerId) return;
    if (d.tool === "box") {
      this.drawing = null;
      // Where the button was let go: a busy page may not have delivered the last move.
      const end = this.toImage(event);
      const x = Math.min(d.start.x, end.x);
      const y = Math.min(d.start.y, end.y);
      const w = Math.abs(end.x - d.start.x);
      const h = Math.abs(end.y - d.start.y);
      if (w * this.screenPerPixel() < 3 || h * this.screenPerPixel() < 3) return this.render(); // a click, not a box
      this.commitNew("box", { x, y, w, h });
    } else if (d.tool === "brush" || d.tool === "eraser") {
      this.endStroke();
    }
  }

  addVertex(point, event) {
    const d = this.drawing?.tool === "polygon" ? this.drawing : (this.drawing = { tool: "polygon", points: [] });
    if (d.points.length >= 3) {
      const [fx, fy] = d.points[0];
      const near = Math.hypot(fx - point.x, fy - point.y) * this.screenPerPixel() <= CLOSE_PX;
      if (near) return this.closePolygon();
    }
    d.points.push([point.x, point.y]);
    this.render();
  }

  closePolygon() {
    const d = this.drawing;
    if (!d || d.tool !== "polygon") return;
    if (d.points.length < 3) {
      this.status.notice("A polygon needs at least three vertices.");
      return;
    }
    this.drawing = null;
    this.commitNew("polygon", { points: d.points });
  }

  // ---- the brush -----------------------------------------------------------------------

  startStroke(point, pointer) {
    const name = this.currentClass.name;
    const bits = this.maskBits.get(name) ?? new Uint8Array(this.grid.width * this.grid.height);
    this.maskBits.set(name, bits);
    const gate = this.tool === "brush" && this.smart ? this.smartGate() : null;
    this.drawing = { tool: this.tool, pointer, last: point, bits, before: bits.slice(), name, gate };
    this.dab(point);
  }

  // The smart brush paints only vessel (the assist's map at the threshold) or, without a map,
  // only pixels inside the window shown (a contrast-filled vessel, not the background).
  smartGate() {
    const { width, height } = this.grid;
    if (this.assist) {
      const { values } = this.assist;
      const t = this.threshold;
      return (i) => values[i] >= t;
    }
    const data = this.medical?.current;
    const window = this.medical?.window;
    if (data?.values && window && data.header.columns === width && data.header.rows === height) {
      const { values, header } = data;
      const low = window.center - window.width / 2;
      const high = window.center + window.width / 2;
      return (i) => {
        const m = values[i] * header.slope + header.intercept;
        return m >= low && m <= high;
      };
    }
    this.status.notice("The smart brush needs a grey frame with a window, or the vessel assist (A).");
    return null;
  }

  strokeTo(point) {
    const d = this.drawing;
    const step = Math.max(1, this.brush / 3);
    const distance = Math.hypot(point.x - d.last.x, point.y - d.last.y);
    const steps = Math.ceil(distance / step);
    for (let i = 1; i <= steps; i++) {
      this.dab({ x: d.last.x + ((point.x - d.last.x) * i) / steps, y: d.last.y + ((point.y - d.last.y) * i) / steps });
    }
    d.last = point;
  }

  // One disc of the brush: into the mask's bits (what is saved) and onto the canvas (what is
  // seen), the same pixels, so a stroke paints at screen refresh without re-reading the mask.
  dab({ x, y }) {
    const d = this.drawing;
    const { width, height } = this.grid;
    const r = this.brush;
    const ctx = this.canvas.getContext("2d");
    const erase = d.tool === "eraser";
    const [cr, cg, cb] = rgb(this.currentClass.colour);
    ctx.fillStyle = `rgb(${cr},${cg},${cb})`;
    const x0 = Math.max(0, Math.floor(x - r));
    const x1 = Math.min(width - 1, Math.ceil(x + r));
    const y0 = Math.max(0, Math.floor(y - r));
    const y1 = Math.min(height - 1, Math.ceil(y + r));
    for (let py = y0; py <= y1; py++) {
      const dy = py + 0.5 - y;
      const half = Math.sqrt(Math.max(0, r * r - dy * dy));
      const a = Math.max(x0, Math.ceil(x - half - 0.5));
      const b = Math.min(x1, Math.floor(x + half - 0.5));
      if (b < a) continue;
      if (d.gate) {
        // Pixel by pixel: runs of admitted pixels become one fillRect each.
        let run = -1;
        for (let px = a; px <= b + 1; px++) {
          const ok = px <= b && d.gate(py * width + px);
          if (ok && run < 0) run = px;
          if (!ok && run >= 0) {
            d.bits.fill(1, py * width + run, py * width + px);
            ctx.fillRect(run, py, px - run, 1);
            run = -1;
          }
        }
        continue;
      }
      d.bits.fill(erase ? 0 : 1, py * width + a, py * width + b + 1);
      if (erase) ctx.clearRect(a, py, b - a + 1, 1);
      else ctx.fillRect(a, py, b - a + 1, 1);
    }
  }

  endStroke() {
    const d = this.drawing;
    this.drawing = null;
    const existing = [...this.regions.values()].find((r) => this.onThisFrame(r) && r.class === d.name && MASK_TOOLS.has(r.tool));
    const painted = d.bits.some((v) => v === 1);
    if (!painted) {
      if (existing) this.commitDelete(existing);
      return this.render({ masks: true });
    }
    const geometry = encodeMask(d.bits, this.grid.width, this.grid.height);
    if (existing) this.commitChange(existing, { tool: "brush", geometry });
    else this.commitNew("brush", geometry, d.name);
  }

  // ---- vessel assist (grey X-ray frames) -----------------------------------------------

  async openAssist() {
    if (!this.view || this.view.kind !== "dicom" || !this.grid || this.plane) {
      this.status.notice("The vessel assist works on grey DICOM frames (X-ray angiography).");
      return;
    }
    if (!this.currentClass.tools.includes("brush")) {
      this.status.notice(`${this.currentClass.name} is not drawn with the brush; choose a class that is.`);
      return;
    }
    const imageId = this.view.id;
    const frame = this.frame || 1;
    this.status.notice("Finding vessels…");
    let response;
    try {
      response = await fetch(`/api/images/${imageId}/vesselness?frame=${frame}`, { credentials: "same-origin" });
      if (!response.ok) throw new Error((await response.json().catch(() => ({}))).message || `HTTP ${response.status}`);
    } catch (error) {
      this.status.notice(`The vessel assist failed: ${error.message}`);
      return;
    }
    const params = JSON.parse(response.headers.get("X-Clinlabel-Assist") || "{}");
    const bitmap = await createImageBitmap(await response.blob());
    if (this.view?.id !== imageId || (this.frame || 1) !== frame) return; // moved on meanwhile
    const scratch = new OffscreenCanvas(bitmap.width, bitmap.height);
    const sctx = scratch.getContext("2d");
    sctx.drawImage(bitmap, 0, 0);
    const rgba = sctx.getImageData(0, 0, bitmap.width, bitmap.height).data;
    const values = new Uint8Array(bitmap.width * bitmap.height);
    for (let i = 0; i < values.length; i++) values[i] = rgba[i * 4];
    this.assist = { values, params, frame, imageId };
    this.el.assist.hidden = false;
    this.status.notice("Vessel proposal shown: set the threshold, Enter accepts it into the brush mask, Escape closes.");
    this.paintProposal();
    this.sync(this.viewer);
  }

  paintProposal() {
    if (!this.assist) return;
    const { width, height } = this.grid;
    const canvas = this.assistCanvas;
    if (canvas.width !== width || canvas.height !== height) {
      canvas.width = width;
      canvas.height = height;
    }
    const ctx = canvas.getContext("2d");
    const image = ctx.createImageData(width, height);
    const out = new Uint32Array(image.data.buffer);
    const [r, g, b] = rgb(this.currentClass.colour);
    const colour = (160 << 24) | (b << 16) | (g << 8) | r; // little-endian RGBA, 60 % alpha
    const { values } = this.assist;
    const t = this.threshold;
    for (let i = 0; i < values.length; i++) if (values[i] >= t) out[i] = colour;
    ctx.putImageData(image, 0, 0);
  }

  setThreshold(value) {
    this.threshold = Math.min(Math.max(Math.round(value), 1), 255);
    this.el.threshold.value = String(this.threshold);
    this.paintProposal();
  }

  acceptAssist() {
    if (!this.assist) return;
    const name = this.currentClass.name;
    const { width, height } = this.grid;
    const bits = (this.maskBits.get(name) ?? new Uint8Array(width * height)).slice();
    const { values, params } = this.assist;
    let added = 0;
    for (let i = 0; i < values.length; i++) {
      if (values[i] >= this.threshold && !bits[i]) {
        bits[i] = 1;
        added++;
      }
    }
    if (!added) {
      this.status.notice("Nothing above this threshold to add; lower it.");
      return;
    }
    const geometry = encodeMask(bits, width, height);
    const assist = { ...params, threshold: this.threshold };
    const existing = [...this.regions.values()].find((r) => this.onThisFrame(r) && r.class === name && MASK_TOOLS.has(r.tool));
    this.closeAssist();
    if (existing) this.commitChange(existing, { tool: "assist:frangi", geometry, assist });
    else {
      const region = { uid: newUid(), image_id: this.view.id, class: name, tool: "assist:frangi", geometry, comment: "", frame: this.frame, plane: this.plane, assist };
      this.apply(null, region, { record: true });
    }
    this.status.notice(`${added} pixels added to the ${name} mask; correct them with the brush (D) and eraser (E).`);
  }

  closeAssist() {
    this.assist = null;
    if (this.el?.assist) this.el.assist.hidden = true;
    this.assistCanvas.style.display = "none";
  }

  // ---- selecting, moving, editing ------------------------------------------------------

  select(uid) {
    this.selected = uid;
    this.render();
  }

  startDrag(event, what) {
    const region = this.regions.get(this.selected);
    if (!region || MASK_TOOLS.has(region.tool)) return;
    this.dragging = { pointer: event.pointerId, start: this.toImage(event), original: structuredClone(region.geometry), ...what };
    this.viewer.stage.setPointerCapture(event.pointerId);
  }

  dragMove(event) {
    const region = this.regions.get(this.selected);
    if (!region) return;
    const now = this.toImage(event);
    const dx = now.x - this.dragging.start.x;
    const dy = now.y - this.dragging.start.y;
    region.geometry = this.moved(region, this.dragging, dx, dy, now);
    this.dragging.changed = true;
    this.render();
  }

  moved(region, drag, dx, dy, now) {
    const g = drag.original;
    const { width, height } = this.grid;
    const clampX = (v) => Math.min(Math.max(v, 0), width);
    const clampY = (v) => Math.min(Math.max(v, 0), height);
    if (region.tool === "point") return { x: clampX(g.x + dx), y: clampY(g.y + dy) };
    if (region.tool === "box") {
      if (drag.move) {
        const x = Math.min(Math.max(g.x + dx, 0), width - g.w);
        const y = Math.min(Math.max(g.y + dy, 0), height - g.h);
        return { x, y, w: g.w, h: g.h };
      }
      const corners = [[g.x, g.y], [g.x + g.w, g.y + g.h]];
      corners[drag.vertex] = [now.x, now.y];
      const [[ax, ay], [bx, by]] = corners;
      return { x: Math.min(ax, bx), y: Math.min(ay, by), w: Math.abs(bx - ax), h: Math.abs(by - ay) };
    }
    if (drag.move) return { points: g.points.map(([x, y]) => [clampX(x + dx), clampY(y + dy)]) };
    const points = g.points.map((p) => [...p]);
    points[drag.vertex] = [now.x, now.y];
    return { points };
  }

  dragEnd() {
    const drag = this.dragging;
    this.dragging = null;
    const region = this.regions.get(this.selected);
    if (!region || !drag.changed) return;
    const geometry = region.geometry;
    region.geometry = drag.original;
    this.commitChange(region, { geometry });
  }

  // ---- saving: every change through the ordered queue, remembered for undo -------------

  body(region) {
    return {
      image_id: region.image_id,
      class: region.class,
      tool: region.tool,
      geometry: region.geometry,
      comment: region.comment || null,
      frame: region.frame,
      plane: region.plane ?? null,
      ...(region.tool === "assist:frangi" && region.assist ? { assist: region.assist } : {}),
    };
  }

  commitNew(tool, geometry, className = this.currentClass.name) {
    const region = {
      uid: newUid(),
      image_id: this.view.id,
      class: className,
      tool,
      geometry,
      comment: "",
      frame: this.frame,
      plane: this.plane,
    };
    this.apply(null, region, { record: true });
  }

  commitChange(region, changes) {
    this.apply(structuredClone(region), { ...structuredClone(region), ...changes }, { record: true });
  }

  commitDelete(region) {
    this.apply(structuredClone(region), null, { record: true });
    if (this.selected === region.uid) this.selected = null;
  }

  // Shows `after` at once and sends it; `before` is what undo restores.
  apply(before, after, { record, undo = false }) {
    const uid = (after ?? before).uid;
    const imageId = (after ?? before).image_id;
    if (after) this.regions.set(uid, after);
    else {
      this.regions.delete(uid);
      if (this.selected === uid) this.selected = null;
    }
    if (record) {
      this.undoStack.push({ before, after });
      this.redoStack = [];
    }
    const masks = MASK_TOOLS.has(after?.tool) || MASK_TOOLS.has(before?.tool);
    this.render({ masks });
    // PUT and DELETE by the page's own uid are idempotent: a change sent again after a reload
    // (it may have arrived just before) makes no second event.
    const method = after ? "PUT" : "DELETE";
    const url = after ? `/api/regions/${uid}` : `/api/regions/${uid}${undo ? "?undo=true" : ""}`;
    const body = after ? { ...this.body(after), undo } : undefined;
    const kept = this.kept?.keep({ slot: `region ${uid}`, kind: "region", imageId, frame: 0, method, url, body, file: this.view?.file ?? "" });
    const request = this.queue.enqueue(method, url, body, { kind: "region" });
    request.then(
      (saved) => {
        if (kept) this.kept.release(kept);
        // The server's own form (rounded coordinates, its hash) replaces the page's, if the
        // annotator is still on that image.
        if (after && saved?.uid && this.view?.id === imageId && this.regions.has(uid)) {
          this.regions.set(uid, saved);
          if (!MASK_TOOLS.has(saved.tool)) this.render();
        }
      },
      (error) => {
        // Refused (a broken rule): put back what the server has and say why. A session that
        // ended never judged the change: it stays in the browser for the next page.
        if (kept && error.kind !== "not_started") this.kept.release(kept);
        this.status.notice(`The region was not saved: ${error.message}`);
        if (this.view?.id !== imageId) return;
        if (before) this.regions.set(uid, before);
        else this.regions.delete(uid);
        this.render({ masks });
      },
    );
  }

  undo() {
    const step = this.undoStack.pop();
    if (!step) return this.status.notice("Nothing to undo on this image.");
    this.redoStack.push(step);
    this.apply(step.after, step.before, { record: false, undo: true });
  }

  redo() {
    const step = this.redoStack.pop();
    if (!step) return this.status.notice("Nothing to redo.");
    this.undoStack.push(step);
    this.apply(step.before, step.after, { record: false, undo: true });
  }

  // ---- tools and keys ------------------------------------------------------------------

  setTool(tool) {
    if (tool && !this.toolAllowed(tool)) {
      this.status.notice(`${this.currentClass.name} is not drawn with the ${tool} tool.`);
      return;
    }
    this.finishDrawing(false);
    this.tool = this.tool === tool ? null : tool;
    this.viewer.stage.classList.toggle("is-drawing", Boolean(this.tool));
    this.showBrushSize();
    this.renderToolbar();
  }

  toolAllowed(tool) {
    const tools = this.currentClass.tools;
    return tool === "eraser" ? tools.includes("brush") : tools.includes(tool);
  }

  finishDrawing(keep) {
    if (!this.drawing) return;
    if (keep && this.drawing.tool === "polygon") return this.closePolygon();
    const stroke = Boolean(this.drawing.bits);
    if (stroke) this.drawing.bits.set(this.drawing.before); // an unfinished stroke is taken back
    this.drawing = null;
    this.render({ masks: stroke });
  }

  cycleClass() {
    this.classIndex = (this.classIndex + 1) % this.classes.length;
    this.el.classPicker.value = String(this.classIndex);
    if (this.tool && !this.toolAllowed(this.tool)) this.setTool(null);
    this.renderToolbar();
  }

  // The key's action, or null when the key is not the layer's (labelling keys stay first).
  keyAction(event) {
    if (!this.enabled) return null;
    const key = event.key;
    if ((event.ctrlKey || event.metaKey) && key.toLowerCase() === "z" && (this.tool || this.selected)) {
      return event.shiftKey ? () => this.redo() : () => this.undo();
    }
    if ((event.ctrlKey || event.metaKey) && key.toLowerCase() === "i" && this.plane) {
      return () => this.interpolate();
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return null;
    const tool = TOOL_KEYS[key.toLowerCase()];
    if (tool) return () => this.setTool(tool);
    if (key === "a" || key === "A") return () => (this.assist ? this.closeAssist() : this.openAssist());
    if (key === "s" || key === "S") return () => this.toggleSmart();
    if (this.assist && key === "Enter") return () => this.acceptAssist();
    if (this.assist && (key === "," || key === ".")) return () => this.setThreshold(this.threshold + (key === "." ? 5 : -5));
    if (this.drawing?.tool === "polygon") {
      if (key === "Enter") return () => this.closePolygon();
      if (key === "Backspace") {
        return () => {
          this.drawing.points.pop();
          if (!this.drawing.points.length) this.drawing = null;
          this.render();
        };
      }
    }
    switch (key) {
      case "Escape":
        return this.tool || this.drawing || this.selected || this.assist
          ? () => {
              this.closeAssist();
              this.finishDrawing(false);
              if (this.tool) this.setTool(null);
              this.select(null);
            }
          : null;
      case "Tab":
        // Only while drawing: otherwise Tab moves the keyboard focus, as everywhere.
        return this.tool && this.classes.length > 1 && !event.shiftKey ? () => this.cycleClass() : null;
      case "h":
      case "H":
        return () => this.toggleHidden();
      case "[":
        return () => this.setBrush(this.brush / 1.25);
      case "]":
        return () => this.setBrush(this.brush * 1.25);
      case "Delete":
      case "Backspace": {
        // With a region selected these delete the region, not the image's label. A selection
        // whose region is gone (undone meanwhile) is no selection.
        const region = this.selected ? this.regions.get(this.selected) : undefined;
        return region ? () => this.commitDelete(region) : null;
      }
      default:
        return null;
    }
  }

  setBrush(radius) {
    this.brush = Math.min(Math.max(radius, 1), 200);
    this.el.brushSize.value = String(Math.round(this.brush));
    this.showBrushSize();
  }

  // The brush's cursor circle, in screen pixels at the current zoom.
  showBrushSize() {
    const perPixel = this.grid ? this.screenPerPixel() : 1;
    this.viewer.stage.style.setProperty("--brush-px", `${this.brush * 2 * perPixel}px`);
  }

  toggleSmart() {
    this.smart = !this.smart;
    this.el.smart.setAttribute("aria-pressed", String(this.smart));
    this.status.notice(this.smart ? "Smart brush on: it paints only vessel (assist) or pixels inside the window." : "Smart brush off.");
  }

  toggleHidden() {
    this.hiddenAll = !this.hiddenAll;
    this.el.hide.setAttribute("aria-pressed", String(this.hiddenAll));
    this.sync(this.viewer);
  }

  async interpolate() {
    const masks = [...this.regions.values()].filter((r) => r.plane === this.plane && r.class === this.currentClass.name && MASK_TOOLS.has(r.tool) && r.tool !== "interpolated");
    const below = masks.filter((r) => r.frame < this.frame).sort((a, b) => b.frame - a.frame)[0];
    const above = masks.filter((r) => r.frame > this.frame).sort((a, b) => a.frame - b.frame)[0];
    if (!below || !above) {
      this.status.notice(`Interpolation needs a ${this.currentClass.name} mask on a slice before and after this one.`);
      return;
    }
    try {
      const made = await this.queue.enqueue("POST", "/api/regions/interpolate", { first: below.uid, last: above.uid }, { kind: "region" });
      for (const region of made) this.regions.set(region.uid, region);
      this.render({ masks: true });
      this.status.notice(`${made.length} slice${made.length === 1 ? "" : "s"} filled between slices ${below.frame} and ${above.frame} (marked interpolated until edited).`);
    } catch (error) {
      this.status.notice(`Interpolation failed: ${error.message}`);
    }
  }

  // ---- the panel -----------------------------------------------------------------------

  fillClasses() {
    const picker = this.el.classPicker;
    picker.replaceChildren(
      ...this.classes.map((c, i) => {
        const option = document.createElement("option");
        option.value = String(i);
        option.textContent = c.name;
        return option;
      }),
    );
  }

  wire() {
    const el = this.el;
    for (const button of el.tools.querySelectorAll("button[data-tool]")) {
      button.addEventListener("click", () => this.setTool(button.dataset.tool));
    }
    el.classPicker.addEventListener("change", () => {
      this.classIndex = Number(el.classPicker.value);
      if (this.tool && !this.toolAllowed(this.tool)) this.setTool(null);
      this.renderToolbar();
    });
    el.brushSize.addEventListener("input", () => this.setBrush(Number(el.brushSize.value)));
    el.opacity.addEventListener("input", () => {
      this.opacity = Number(el.opacity.value) / 100;
      this.sync(this.viewer);
    });
    el.hide.addEventListener("click", () => this.toggleHidden());
    el.assistButton.addEventListener("click", () => (this.assist ? this.closeAssist() : this.openAssist()));
    el.threshold.addEventListener("input", () => this.setThreshold(Number(el.threshold.value)));
    // The page's keys skip form fields: Enter on the slider accepts here, Escape closes.
    el.threshold.addEventListener("keydown", (event) => {
      if (event.key === "Enter") this.acceptAssist();
      else if (event.key === "Escape") this.closeAssist();
      else return;
      event.preventDefault();
      this.viewer.stage.focus();
    });
    el.accept.addEventListener("click", () => this.acceptAssist());
    el.smart.addEventListener("click", () => this.toggleSmart());
    document.addEventListener("keydown", (e) => {
      if (e.key === " " && e.target === this.viewer.stage) this.spaceHeld = true;
    });
    document.addEventListener("keyup", (e) => {
      if (e.key === " ") this.spaceHeld = false;
    });
    this.renderToolbar();
  }

  renderToolbar() {
    for (const button of this.el.tools.querySelectorAll("button[data-tool]")) {
      const tool = button.dataset.tool;
      button.setAttribute("aria-pressed", String(this.tool === tool));
      button.disabled = !this.toolAllowed(tool);
    }
  }

  // One line per region: its class, tool and frame; the selected one also gets its class
  // picker and comment button (a picker on every line made 500 regions slow to open).
  renderList() {
    const list = this.el.list;
    const items = document.createDocumentFragment();
    for (const region of this.regions.values()) {
      const item = document.createElement("li");
      item.className = "region-item";
      const swatch = document.createElement("span");
      swatch.className = "region-swatch";
      swatch.style.background = this.classOf(region.class).colour;
      const where = region.plane ? `${region.plane} slice ${region.frame}` : region.frame ? `frame ${region.frame}` : "";
      const text = document.createElement("button");
      text.type = "button";
      text.className = "region-pick";
      text.textContent = [region.class, toolName(region.tool), where].filter(Boolean).join(" · ") + (region.comment ? ` — ${region.comment}` : "");
      text.addEventListener("click", () => this.goTo(region));
      const remove = document.createElement("button");
      remove.type = "button";
      remove.textContent = "Delete";
      remove.addEventListener("click", () => this.commitDelete(region));
      item.append(swatch, text);
      if (region.uid === this.selected) {
        item.classList.add("is-selected");
        text.setAttribute("aria-current", "true");
        item.append(...this.editControls(region));
      }
      item.append(remove);
      items.append(item);
    }
    list.replaceChildren(items);
    const n = this.regions.size;
    this.el.count.textContent = n ? `${n} region${n === 1 ? "" : "s"}` : "No regions";
  }

  editControls(region) {
    const picker = document.createElement("select");
    picker.setAttribute("aria-label", "Class of this region");
    for (const c of this.classes) {
      const option = document.createElement("option");
      option.textContent = c.name;
      option.selected = c.name === region.class;
      picker.append(option);
    }
    picker.addEventListener("change", () => this.commitChange(region, { class: picker.value }));
    const comment = document.createElement("button");
    comment.type = "button";
    comment.textContent = "Comment";
    comment.addEventListener("click", () => {
      const text = window.prompt(`Comment on this ${region.class} region`, region.comment || "");
      if (text !== null) this.commitChange(region, { comment: text });
    });
    return [picker, comment];
  }

  // A region on another frame or slice: ask the medical viewer to go there (main.js wires it).
  goTo(region) {
    if (!this.onThisFrame(region)) this.onGoToFrame?.(region.frame, region.plane);
    this.select(region.uid);
  }
}
