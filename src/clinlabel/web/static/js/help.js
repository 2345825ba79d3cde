// The help overlay (?): every key the page answers to.

export function showHelp(labels) {
  const body = document.getElementById("help-keys");
  const rows = [
    ...labels.map((l) => [l.key, `Label "${l.name}"${l.requires_comment ? " (asks for a comment)" : ""}, then next image`]),
    ["→", "Next image"],
    ["←", "Previous image"],
    ["N", "Next unlabelled image"],
    ["Home / End", "First / last image"],
    ["Delete", "Clear the label of this image"],
    ["+ / −", "Zoom in / out (or the mouse wheel); drag to pan"],
    ["0", "Fit the image to the window"],
    ["F", "Full screen"],
    ["R", "Review table (choose a row to open that image)"],
    ["Ctrl+S", "Save progress (partial CSV and summary)"],
    ["Ctrl+Enter", "In the comment box: save the comment"],
    ["Escape", "Close a dialog; in the comment box, cancel without labelling"],
    ["?", "This help"],
  ];
  body.replaceChildren(
    ...rows.map(([key, what]) => {
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
    }),
  );
  const dialog = document.getElementById("help-dialog");
  dialog.showModal();
  document.getElementById("help-close").focus();
}

export function wireHelp() {
  const dialog = document.getElementById("help-dialog");
  document.getElementById("help-close").addEventListener("click", () => dialog.close());
}
