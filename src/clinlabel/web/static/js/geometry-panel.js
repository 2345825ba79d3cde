// XA/RF acquisition geometry of the frame on screen: positioner angles (LAO/RAO, CRA/CAU), SID,
// SOD, table, kVp and frame time. Fetched once per frame and remembered; during cine only the
// newest request is shown. It can be collapsed to its title (its button, or E) so it never hides
// the part of a run the annotator is reading; that choice holds for the next files too.

import { get } from "./api.js";

const FIELDS = [
  ["positioner_primary_angle", "Primary angle", (v) => `${angle(v, "LAO", "RAO")}`],
  ["positioner_secondary_angle", "Secondary angle", (v) => `${angle(v, "CRA", "CAU")}`],
  ["distance_source_to_detector", "SID", (v) => `${v} mm`],
  ["distance_source_to_patient", "SOD", (v) => `${v} mm`],
  ["table_height", "Table height", (v) => `${v} mm`],
  ["table_top_vertical_position", "Table vertical", (v) => `${v} mm`],
  ["table_top_longitudinal_position", "Table longitudinal", (v) => `${v} mm`],
  ["table_top_lateral_position", "Table lateral", (v) => `${v} mm`],
  ["kvp", "kVp", (v) => `${v}`],
  ["xray_tube_current", "Tube current", (v) => `${v} mA`],
  ["frame_time", "Frame time", (v) => `${v} ms`],
];

function angle(value, positive, negative) {
  return `${Math.abs(value)}° ${value >= 0 ? positive : negative}`;
}

export class GeometryPanel {
  // box: the overlay (main.js); onError: a failed fetch, for the status bar.
  constructor(box, { onError }) {
    this.box = box;
    this.onError = onError;
    this.failedFor = null; // the file whose geometry could not be fetched (said once, not per frame)
    this.known = new Map();
    this.wanted = null;
    this.collapsed = false;
  }

  toggle() {
    this.collapsed = !this.collapsed;
    this.applyCollapsed();
  }

  applyCollapsed() {
    this.box.classList.toggle("is-collapsed", this.collapsed);
    const button = this.box.querySelector(".geometry-toggle");
    if (button) {
      button.textContent = this.collapsed ? "Show" : "Hide";
      button.setAttribute("aria-expanded", String(!this.collapsed));
    }
    for (const el of this.box.querySelectorAll("dt, dd")) el.hidden = this.collapsed;
  }

  get available() {
    return !this.box.hidden;
  }

  hide() {
    this.wanted = null;
    this.box.hidden = true;
  }

  async update(view, frame) {
    if (view.kind !== "dicom") return this.hide();
    const key = `${view.id}/${frame}`;
    this.wanted = key;
    let values = this.known.get(key);
    if (!values) {
      try {
        values = (await get(`/api/images/${view.id}/metadata/geometry?frame=${frame}`)).values;
      } catch (e) {
        // Not remembered: the next frame (or this one again) asks once more.
        if (this.wanted === key && this.failedFor !== view.id) {
          this.failedFor = view.id;
          this.onError(`Cannot show the acquisition geometry of ${view.file}: ${e.message}`);
        }
        if (this.wanted === key) this.hide();
        return;
      }
      this.known.set(key, values);
      if (this.known.size > 2000) this.known.clear();
    }
    if (this.wanted !== key) return;
    const rows = FIELDS.filter(([name]) => typeof values[name] === "number");
    const isXray = ["XA", "RF"].includes(values.modality) || rows.some(([n]) => n.startsWith("positioner"));
    if (!isXray || !rows.length) return this.hide();
    const parts = [];
    const title = document.createElement("div");
    title.className = "geometry-title";
    title.textContent = `Acquisition, frame ${frame} `;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "geometry-toggle";
    button.setAttribute("aria-keyshortcuts", "E");
    button.title = "Show or hide the acquisition geometry (E)";
    button.addEventListener("click", () => this.toggle());
    title.append(button);
    parts.push(title);
    for (const [name, label, format] of rows) {
      const dt = document.createElement("dt");
      dt.textContent = label;
      const dd = document.createElement("dd");
      dd.textContent = format(values[name]);
      dd.dataset.field = name;
      parts.push(dt, dd);
    }
    this.box.replaceChildren(...parts);
    this.applyCollapsed();
    this.box.hidden = false;
  }
}
