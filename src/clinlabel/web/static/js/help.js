// The help overlay (?): every key the page answers to.

export class HelpDialog {
  // elements: {dialog, body, close} (main.js)
  constructor({ dialog, body, close }, labels) {
    this.dialog = dialog;
    this.body = body;
    this.closeButton = close;
    this.labels = labels;
    close.addEventListener("click", () => dialog.close());
  }

  show() {
    this.body.replaceChildren(...keyRows(this.labels));
    this.dialog.showModal();
    this.closeButton.focus();
  }
}

function keyRows(labels) {
  const rows = [
    ...labels.map((l) => [l.key, `Label "${l.name}"${l.requires_comment ? " (asks for a comment)" : ""}, then next image`]),
    ["→", "Next image"],
    ["←", "Previous image"],
    ["N", "Next unlabelled image"],
    ["Home / End", "First / last image"],
    ["Delete", "Clear the label of this image"],
    ["+ / −", "Zoom in / out (or the mouse wheel on single images); drag to pan"],
    ["0", "Fit the image to the window"],
    ["F", "Full screen"],
    ["R", "Review table: arrows, Page Up/Down, Home/End move between rows; Enter opens that image"],
    ["M", "Metadata panel (search; identifying values stay masked until you choose Unmask, which is recorded)"],
    ["Right-drag", "Grey DICOM/NIfTI: window/level (left–right width, up–down level); W makes the left button do it too"],
    ["Shift+1", "Window: the file's own (again: its next one)"],
    ["Shift+2", "Window: full range"],
    ["Shift+3 … Shift+0", "Window: CT brain, subdural, stroke, lung, mediastinum, abdomen, liver, bone"],
    ["I", "Invert grey (MONOCHROME1 and Presentation LUT INVERSE files start inverted already)"],
    ["Page Down / Page Up", "Next / previous frame or slice (also the mouse wheel; Ctrl+wheel zooms there)"],
    ["P", "Cine: play / pause at the file's frame time"],
    ["V", "Volume: next plane (axial, coronal, sagittal)"],
    ["T", "Volume: three planes side by side with a linked crosshair: click or drag in a pane to set the point, the other panes show the slices through it"],
    ["Arrow keys in a pane", "Three planes, a pane focused (click it or Tab to it): move the crosshair point (Shift: 10 voxels); Escape gives the arrows back to ← / →"],
    ["L", "Label this frame only (on/off); off again for each new file"],
    ["Ctrl+S", "Save progress (partial CSV and summary)"],
    ["Ctrl+Enter", "In the comment box: save the comment"],
    ["Escape", "Close a dialog; in the comment box, cancel without labelling"],
    ["?", "This help"],
  ];
  return rows.map(([key, what]) => {
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
  });
}
