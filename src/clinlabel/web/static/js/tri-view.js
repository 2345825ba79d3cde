// The three-plane view of a NIfTI volume with a linked crosshair. The 3-D point is the slice
// number in each plane (the medical view's `index`): clicking or dragging in a pane moves the
// point within that pane's slice, the other two panes jump to the slices through it, and every
// pane draws the other two planes' lines through the point, each in its plane's colour (the
// colour under that pane's caption). With a pane focused (Tab, or a click), the arrow keys move
// the point on screen (Shift: 10 voxels) and Escape gives the arrows back to image navigation.
//
// Where a plane's slices lie on another plane's pixels comes from the server (`axes` in the
// pixels header, read off the engine's own orientation), so the radiological orientation and
// the voxel spacing (each pane keeps its true aspect) are respected without a copy here.

export const PLANES = ["axial", "coronal", "sagittal"];
// Okabe & Ito's colour-blind-safe palette, in 3D Slicer's roles (axial red, coronal green,
// sagittal yellow): vermillion, bluish green, yellow. The same values are in app.css.
export const PLANE_COLOURS = { axial: "#d55e00", coronal: "#009e73", sagittal: "#f0e442" };
const GAP_PX = 6; // screen pixels left open around the point, so the voxel itself stays visible
const SVG = "http://www.w3.org/2000/svg";

// Column or row `pixel` (from 0) of a pane lies in this slice of `axis.plane`, and back.
function sliceAt(axis, pixel, slices) {
  return axis.reversed ? slices[axis.plane] - pixel : pixel + 1;
}

function pixelOf(axis, slice, slices) {
  return axis.reversed ? slices[axis.plane] - slice : slice - 1;
}

function cap(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export class TriView {
  // root: the panes' container; button: the "3 planes" toggle (main.js, through the medical view)
  constructor(medical, { root, button }) {
    this.medical = medical;
    this.root = root;
    this.button = button;
    this.cells = PLANES.map((plane) => this.makeCell(plane));
    this.on = false;
    this.data = null; // plane -> {header, values, range} on screen
    this.asked = 0; // slices asked for, in order: a late answer never replaces a newer one
    this.shown = 0;
    this.pendingPoint = false;
    // The stage's size changes after the view opens (the frame controls appear under it) and
    // whenever the window or a side panel does: the panes are fitted again, and the crosshair's
    // gap, which is in screen pixels, drawn again. Without it a pane kept the size of the first
    // layout, taller than its cell, and the panes moved under the pointer a moment after opening.
    this.resized = new ResizeObserver(() => this.fit());
    this.resized.observe(root);
  }

  makeCell(plane) {
    const cell = document.createElement("figure");
    cell.className = "tri-cell";
    cell.dataset.plane = plane;
    cell.tabIndex = 0;
    cell.style.setProperty("--plane-colour", PLANE_COLOURS[plane]);
    cell.setAttribute("aria-keyshortcuts", "ArrowLeft ArrowRight ArrowUp ArrowDown PageUp PageDown Escape");
    const frame = document.createElement("div");
    frame.className = "tri-image";
    const canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    const overlay = document.createElementNS(SVG, "svg");
    overlay.setAttribute("class", "tri-crosshair");
    overlay.setAttribute("preserveAspectRatio", "none");
    overlay.setAttribute("aria-hidden", "true");
    const caption = document.createElement("figcaption");
    caption.textContent = cap(plane);
    frame.append(canvas, overlay);
    cell.append(frame, caption);
    const found = { plane, cell, frame, canvas, overlay, caption, ctx: canvas.getContext("2d") };
    cell.addEventListener("pointerdown", (e) => this.onPointerDown(found, e));
    // The wheel steps the pane under the mouse (the stage's wheel handler steps the active one).
    cell.addEventListener("wheel", () => this.medical.setPlane(plane), { passive: true });
    cell.addEventListener("focus", () => this.medical.setPlane(plane));
    this.root.append(cell);
    return found;
  }

  enter() {
    this.on = true;
    this.root.hidden = false;
    this.button.setAttribute("aria-pressed", "true");
    return this.paint();
  }

  leave() {
    if (!this.on) return;
    const focused = this.root.contains(document.activeElement);
    this.on = false;
    this.root.hidden = true;
    this.data = null;
    this.button.setAttribute("aria-pressed", "false");
    if (focused) this.medical.viewer.stage.focus(); // the keys keep working after a hidden pane
  }

  // Fetches the slices through the point (cached ones answer at once) and paints all three
  // panes; `refetch: false` repaints what is there (a window change).
  async paint({ refetch = true } = {}) {
    const m = this.medical;
    const view = m.view;
    if (!this.on || !view) return; // left (another image, or one plane) before this frame
    if (refetch) {
      const asked = ++this.asked;
      const all = await Promise.all(PLANES.map((p) => m.frames.get(view.id, m.index[p], p)));
      if (m.view !== view || !this.on || asked < this.shown) return;
      this.shown = asked;
      this.data = Object.fromEntries(PLANES.map((p, i) => [p, all[i]]));
      m.current = null;
    }
    if (!this.data) return;
    const t0 = performance.now();
    for (const cell of this.cells) this.paintCell(cell);
    m.recordPaint(t0);
    this.drawCrosshairs();
    m.count = this.data[m.plane].header.slices[m.plane];
    m.updateFrameUi();
    m.updateReadout();
    // The frame-label toggle follows the active pane's slice, as it follows the one plane shown.
    if (refetch) m.onFrame?.(view, m.frame, m.count);
  }

  paintCell(cell) {
    const m = this.medical;
    const data = this.data[cell.plane];
    const { header } = data;
    if (cell.canvas.width !== header.columns || cell.canvas.height !== header.rows) {
      cell.canvas.width = header.columns;
      cell.canvas.height = header.rows;
    }
    const image = cell.ctx.createImageData(header.columns, header.rows);
    m.paintInto(new Uint32Array(image.data.buffer), data);
    cell.ctx.putImageData(image, 0, 0);
    cell.overlay.setAttribute("viewBox", `0 0 ${header.columns} ${header.rows}`);
    cell.caption.textContent = `${cap(cell.plane)} ${header.frame} / ${header.slices[cell.plane]}`;
    this.fitCell(cell);
    // Named for screen readers as the caption reads ("Axial slice 12 of 40"); the crosshair's
    // slices are added when it is drawn.
    if (!cell.canvas.getAttribute("aria-label")?.startsWith(paneName(cell.plane, header))) {
      cell.canvas.setAttribute("aria-label", `${paneName(cell.plane, header)}; ${this.medical.alt}`);
    }
    cell.cell.classList.toggle("is-active", cell.plane === m.plane);
  }

  // Every pane fitted to its cell again, and the lines drawn for the new sizes.
  fit() {
    if (!this.on || !this.data) return;
    for (const cell of this.cells) this.fitCell(cell);
    this.drawCrosshairs();
  }

  // Fits the pane to its cell keeping the voxel spacing's aspect; the overlay takes the same
  // box. The cell's size is the grid's share of the stage (app.css: the rows are
  // minmax(0, 1fr)), never the pane's own, so a pane fitted once does not hold its cell open.
  fitCell(cell) {
    const { header } = this.data[cell.plane];
    const box = cell.cell.getBoundingClientRect();
    const caption = cell.caption.getBoundingClientRect().height;
    const w = header.columns * header.column_spacing;
    const h = header.rows * header.row_spacing;
    // Less the cell's border (2 px each side) and the caption under the pane.
    const scale = Math.max(0, Math.min((box.width - 4) / w, (box.height - 4 - caption) / h));
    for (const el of [cell.frame, cell.canvas]) {
      el.style.width = `${Math.max(1, w * scale)}px`;
      el.style.height = `${Math.max(1, h * scale)}px`;
    }
  }

  // ---- the point ---------------------------------------------------------------------------

  // Where the point falls on a pane, in its pixels (column, row from 0), from the slice numbers
  // of the planes its columns and rows run through.
  pointOn(plane) {
    const { header } = this.data[plane];
    const { columns, rows } = header.axes;
    const index = this.medical.index;
    return {
      column: pixelOf(columns, index[columns.plane], header.slices),
      row: pixelOf(rows, index[rows.plane], header.slices),
    };
  }

  // Puts the point at pixel (column, row) of `plane`'s pane: the two planes that pixel lies on
  // change slice; `plane`'s own slice stays.
  setPointOn(plane, column, row) {
    const { header } = this.data[plane];
    const { columns, rows } = header.axes;
    const c = Math.min(header.columns - 1, Math.max(0, column));
    const r = Math.min(header.rows - 1, Math.max(0, row));
    const index = this.medical.index;
    const before = `${index[columns.plane]},${index[rows.plane]}`;
    index[columns.plane] = sliceAt(columns, c, header.slices);
    index[rows.plane] = sliceAt(rows, r, header.slices);
    if (`${index[columns.plane]},${index[rows.plane]}` === before) return;
    this.drawCrosshairs(); // at once on this pane; the other panes when their slices arrive
    if (this.pendingPoint) return;
    this.pendingPoint = true; // one fetch per screen refresh, however fast the pointer moves
    requestAnimationFrame(() => {
      this.pendingPoint = false;
      this.paint();
    });
  }

  drawCrosshairs() {
    if (!this.data) return;
    for (const cell of this.cells) {
      const { header } = this.data[cell.plane];
      const { column, row } = this.pointOn(cell.plane);
      const x = column + 0.5;
      const y = row + 0.5;
      // The gap is in screen pixels; the overlay's units are the pane's pixels.
      const rect = cell.canvas.getBoundingClientRect();
      const gapX = rect.width ? (GAP_PX * header.columns) / rect.width : 0;
      const gapY = rect.height ? (GAP_PX * header.rows) / rect.height : 0;
      const { columns, rows } = header.axes;
      // The line of constant column is where `columns.plane`'s slice cuts this pane, and so on.
      const lines = [
        [columns.plane, [x, 0, x, y - gapY], [x, y + gapY, x, header.rows]],
        [rows.plane, [0, y, x - gapX, y], [x + gapX, y, header.columns, y]],
      ];
      cell.overlay.replaceChildren(
        ...lines.flatMap(([plane, ...segments]) =>
          segments.map(([x1, y1, x2, y2]) => {
            const line = document.createElementNS(SVG, "line");
            for (const [k, v] of Object.entries({ x1, y1, x2, y2 })) line.setAttribute(k, String(v));
            line.setAttribute("stroke", PLANE_COLOURS[plane]);
            line.dataset.plane = plane;
            return line;
          }),
        ),
      );
      const where = `crosshair on ${columns.plane} slice ${this.medical.index[columns.plane]} and ${rows.plane} slice ${this.medical.index[rows.plane]}`;
      cell.canvas.setAttribute("aria-label", `${paneName(cell.plane, header)}, ${where}; ${this.medical.alt}`);
    }
  }

  // ---- pointer and keys ----------------------------------------------------------------------

  // The left button sets the point and drags it; the right button (or the left one with the W/L
  // tool on) stays window/level, handled by the stage.
  onPointerDown(cell, event) {
    const m = this.medical;
    m.setPlane(cell.plane);
    if (event.button !== 0 || m.tool || !this.data || !cell.frame.contains(event.target)) return;
    const move = (e) => {
      const rect = cell.canvas.getBoundingClientRect();
      const { header } = this.data[cell.plane];
      this.setPointOn(
        cell.plane,
        Math.floor(((e.clientX - rect.left) / rect.width) * header.columns),
        Math.floor(((e.clientY - rect.top) / rect.height) * header.rows),
      );
    };
    move(event);
    const id = event.pointerId;
    cell.frame.setPointerCapture(id);
    const onMove = (e) => e.pointerId === id && move(e);
    const up = (e) => {
      if (e.pointerId !== id) return;
      cell.frame.removeEventListener("pointermove", onMove);
      cell.frame.removeEventListener("pointerup", up);
      cell.frame.removeEventListener("pointercancel", up);
    };
    cell.frame.addEventListener("pointermove", onMove);
    cell.frame.addEventListener("pointerup", up);
    cell.frame.addEventListener("pointercancel", up);
  }

  // The active plane changed (V, the plane buttons): a focused pane hands the focus on, so the
  // arrows and Page Up/Down keep acting on the same pane.
  activate(plane) {
    const focused = this.focusedCell();
    if (focused && focused.plane !== plane) this.cells.find((c) => c.plane === plane).cell.focus();
  }

  focusedCell() {
    return this.on ? this.cells.find((c) => c.cell === document.activeElement) : undefined;
  }

  // Keys of a focused pane (label keys were matched before these); null leaves the key to the
  // rest of the key map, so arrows navigate images whenever no pane has the focus.
  keyAction(event) {
    const cell = this.focusedCell();
    if (!cell) return null;
    const step = event.shiftKey ? 10 : 1;
    const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
    if (event.key in moves) {
      const [dc, dr] = moves[event.key];
      return () => {
        if (!this.data) return; // slices still on their way: the arrow is not an image move
        const { column, row } = this.pointOn(cell.plane);
        this.setPointOn(cell.plane, column + dc, row + dr);
      };
    }
    if (event.key === "Escape") return () => this.medical.viewer.stage.focus();
    return null;
  }
}

function paneName(plane, header) {
  return `${cap(plane)} slice ${header.frame} of ${header.slices[plane]}`;
}
