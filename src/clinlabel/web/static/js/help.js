// The help overlay (?): every key the page answers to, in sections, the labelling keys first
// (the ones used on every image), then moving, the viewer, and the radiology tools.
//
// The keys themselves are wired in keys.js and dicom-viewer.js; this list says what they do and
// must follow them when a key is added.

import { VIEWER_TOOL_KEYS } from "./viewer-tools.js";

export class HelpDialog {
  // elements: {dialog, body, close} (main.js)
  constructor({ dialog, body, close }, labels, regionClasses = []) {
    this.dialog = dialog;
    this.body = body;
    this.closeButton = close;
    this.labels = labels;
    this.regionClasses = regionClasses;
    close.addEventListener("click", () => dialog.close());
  }

  show() {
    this.body.replaceChildren(...keySections(this.labels, this.regionClasses).map(section));
    this.dialog.showModal();
    // The Close button is at the top, so focusing it keeps the first section in view; the reset
    // covers a dialog scrolled down the last time it was open.
    this.closeButton.focus({ preventScroll: true });
    this.dialog.scrollTop = 0;
  }
}

// [heading, [[key, what it does], ...]] in the order shown.
export function keySections(labels, regionClasses = []) {
  return [
    [
      "Labelling",
      [
        ...labels.map((l) => [l.key, `Label "${l.name}"${l.requires_comment ? " (asks for a comment)" : ""}, then the next image`]),
        ["Delete / Backspace", "Clear the label of this image"],
        ["Ctrl+Z", "Undo the last label or clear (recorded in the audit trail like any change)"],
      ],
    ],
    ...(regionClasses.length ? [regionSection(regionClasses)] : []),
    [
      "Moving between images",
      [
        ["→", "Next image"],
        ["←", "Previous image"],
        ["N", "Next unlabelled image"],
        ["Home / End", "First / last image"],
        ["R", "Review table: ↑ / ↓, Page Up / Page Down, Home / End move between rows; Enter opens that image; a label key or Delete relabels the row"],
      ],
    ],
    [
      "Viewer",
      [
        ["+ / −", "Zoom in / out (or the mouse wheel on single images); drag to pan"],
        ["0", "Fit the image to the window"],
        ["F", "Full screen"],
        ["M", "Metadata panel (search; identifying values stay masked until you choose Unmask, which is recorded)"],
        ...viewerToolKeys(regionClasses),
      ],
    ],
    [
      "Radiology: DICOM and NIfTI",
      [
        ["Right-drag", "Grey images: window/level (left–right width, up–down level); W makes the left button do it too"],
        ["Shift+1", "Window: the file's own (again: its next one)"],
        ["Shift+2", "Window: full range"],
        ["Shift+3 … Shift+0", "Window: CT brain, subdural, stroke, lung, mediastinum, abdomen, liver, bone"],
        ["I", "Invert grey (MONOCHROME1 and Presentation LUT INVERSE files start inverted already)"],
        ["Page Down / Page Up", "Next / previous frame or slice (also the mouse wheel; Ctrl+wheel zooms there)"],
        ["P", "Cine: play / pause at the file's frame time"],
        ["L", "Label this frame only (on/off); off again for each new file"],
        ["V", "Volume: next plane (axial, coronal, sagittal)"],
        ["T", "Volume: three planes side by side with a linked crosshair: click or drag in a pane to set the point, the other panes show the slices through it"],
        ["Arrow keys in a pane", "Three planes, a pane focused (click it or Tab to it): move the crosshair point (Shift: 10 voxels); Escape gives the arrows back to ← / →"],
      ],
    ],
    [
      "Saving and dialogs",
      [
        ["Ctrl+S", "Save progress (partial CSV and summary)"],
        ["Ctrl+Enter", "In the comment box: save the comment"],
        ["Escape", "Close a dialog; in the comment box, cancel without labelling"],
        ["?", "This help"],
      ],
    ],
  ];
}

function section([heading, rows], index) {
  const element = document.createElement("section");
  const h3 = document.createElement("h3");
  h3.id = `help-section-${index}`;
  h3.textContent = heading;
  element.setAttribute("aria-labelledby", h3.id);
  const table = document.createElement("table");
  table.className = "keys";
  const body = document.createElement("tbody");
  body.append(...rows.map(keyRow));
  table.append(body);
  element.append(h3, table);
  return element;
}

function keyRow([key, what]) {
  const tr = document.createElement("tr");
  const th = document.createElement("th");
  th.scope = "row";
  const kbd = document.createElement("kbd");
  kbd.textContent = key;
  th.append(kbd);
  const td = document.createElement("td");
  td.textContent = what;
  tr.append(th, td);
  return tr;
}

// The viewer tools' keys (viewer-tools.js). In a project with regions the drawing keys come
// first, so the tools whose letters draw are reached by their buttons and sliders there.
const DRAWING_LETTERS = new Set(["A", "B", "D", "E", "G", "H", "K", "S"]);

function viewerToolKeys(regionClasses) {
  if (!regionClasses.length) return VIEWER_TOOL_KEYS;
  const free = VIEWER_TOOL_KEYS.filter(([key]) => !DRAWING_LETTERS.has(key[0]));
  return [...free, ["B, G, K, S, E", "Draw regions in this project: brightness, gamma, pin, strip and geometry panel are on their buttons and sliders"]];
}

// Drawing regions (regions-layer.js), listed only when the project's schema declares classes.
function regionSection(classes) {
  return [
    `Regions (${classes.map((c) => c.name).join(", ")})`,
    [
      ["B", "Box: drag"],
      ["G", "Polygon: click the vertices; Enter or a click on the first vertex closes it, Backspace removes the last"],
      ["D / E", "Brush / eraser on the class's mask; [ and ] change the brush size"],
      ["K", "Point: click"],
      ["S", "Smart brush: paints only vessel (with the assist) or pixels inside the window shown"],
      ["A", "Vessel assist on a grey X-ray frame: a proposal; , and . move the threshold; Enter accepts it into the mask"],
      ["Ctrl+I", "Volume: fill the slices between two masks of the class (marked interpolated until edited)"],
      ["Tab", "While drawing: next region class (also the Class menu)"],
      ["Escape", "Cancel the shape being drawn and leave the tool"],
      ["Ctrl+Z / Ctrl+Shift+Z", "While drawing or with a region selected: undo / redo a region change"],
      ["Click, drag", "No tool: click a region to select it; drag it or its corners and vertices to change it"],
      ["Delete", "With a region selected: delete the region (not the image's label)"],
      ["H", "Hide / show all regions"],
      ["Middle-drag, Space+drag", "Pan while a tool is active (the wheel zooms, right-drag sets the window)"],
    ],
  ];
}
