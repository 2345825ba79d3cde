// Corner overlays of the radiology viewer, as reading stations show them: what is on screen
// (modality, frame or slice) top left with the window under it (the top right is the XA
// geometry panel's), the stored and modality value under
// the mouse bottom left (the zoom is the viewer's own readout, bottom right), and on volumes the
// patient direction at each edge of the slice (R/L, A/P, S/I, from the server's orientation of
// the slice as drawn). Text only, never in the way of the pointer.

const CORNERS = ["top-left", "window", "bottom-left"];
const EDGES = ["top", "bottom", "left", "right"];

export class CornerOverlays {
  constructor(stage) {
    this.root = document.createElement("div");
    this.root.className = "corner-overlays";
    this.root.hidden = true;
    this.corners = {};
    for (const name of CORNERS) {
      const el = document.createElement("div");
      el.className = `corner corner-${name}`;
      el.dataset.corner = name;
      this.corners[name] = el;
      this.root.append(el);
    }
    // The value under the mouse is read out on request only (it changes with every move).
    this.corners["bottom-left"].setAttribute("aria-live", "off");
    this.edges = {};
    for (const name of EDGES) {
      const el = document.createElement("div");
      el.className = `edge edge-${name}`;
      el.dataset.edge = name;
      el.hidden = true;
      this.edges[name] = el;
      this.root.append(el);
    }
    this.shown = true; // the annotator's choice (Shift+E), kept from image to image
    this.active = false;
    stage.append(this.root);
  }

  toggle() {
    this.shown = !this.shown;
    this.render();
    return this.shown;
  }

  show(on) {
    this.active = on;
    this.render();
  }

  render() {
    this.root.hidden = !(this.active && this.shown);
  }

  set(corner, text) {
    const el = this.corners[corner];
    if (el.textContent !== text) el.textContent = text;
  }

  // {top, bottom, left, right} letters, or null for images without a known orientation.
  orientation(letters) {
    for (const name of EDGES) {
      const el = this.edges[name];
      el.hidden = !letters;
      el.textContent = letters?.[name] ?? "";
    }
  }
}

// The stored value at (column, row) of a grey frame and its modality value: rescale slope and
// intercept (PS3.3 C.11.1; the server already applied a Modality LUT Sequence when there is one).
export function valueAt(data, column, row) {
  const { header, values } = data;
  if (column < 0 || row < 0 || column >= header.columns || row >= header.rows) return null;
  const stored = values[row * header.columns + column];
  const slope = header.slope ?? 1;
  const intercept = header.intercept ?? 0;
  return { stored, modality: stored * slope + intercept, rescaled: slope !== 1 || intercept !== 0 };
}

export function formatValue(value, modality) {
  const unit = modality === "CT" ? " HU" : "";
  const n = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(Math.abs(v) >= 100 ? 1 : 3));
  if (!value.rescaled && !unit) return `value ${n(value.stored)}`;
  return `stored ${n(value.stored)} → ${n(value.modality)}${unit || " (rescaled)"}`;
}
