// The viewer's tools around the labelling screen: the visit strip, compare, photo brightness /
// contrast / gamma, 1:1, and their keys. They follow the image on screen through the
// controller's `display` (wrapped here, so the labelling controller needs no hook of its own);
// what they do per image change is cheap (a mark moved, a filter reset), nothing is loaded
// then except the strip's list when the visit changes.

import { PhotoAdjust } from "./photo-adjust.js";
import { VisitStrip } from "./visit-strip.js";
import { CompareView } from "./compare.js";
import { CaseVisits } from "./visits.js";
import { isMedical } from "./dicom-viewer.js";
import { typingIn } from "./keys.js";

// The keys of these tools (help.js lists them; label keys win over them, as over all viewer keys,
// and so do the drawing keys of a project with regions: keys.js handles those first).
export const VIEWER_TOOL_KEYS = [
  ["Z", "Zoom to 100 % (1:1: one image pixel per screen pixel); photos load their full resolution past the screen size"],
  ["B / Shift+B", "Photo: brighter / darker (display only)"],
  ["C / Shift+C", "Photo: more / less contrast (display only)"],
  ["G / Shift+G", "Photo: gamma up (lighter mid-tones) / down (display only)"],
  ["X", "Photo: brightness, contrast and gamma back to normal"],
  ["K", "Photo: keep (pin) brightness, contrast and gamma for the next images; otherwise they reset"],
  ["O", "Compare: this image beside the same case's other visit, zoom and pan in step"],
  ["S", "Visit strip: focus the thumbnails of this visit (←/→ move, Enter opens)"],
  ["E", "XA/RF: hide / show the acquisition geometry panel"],
  ["Shift+E", "DICOM/NIfTI: hide / show the corner overlays (frame or slice, window, value under the mouse, orientation)"],
];

export function wireViewerTools(app, elements, { detail, maxSide }) {
  const visits = new CaseVisits();
  const adjust = new PhotoAdjust(elements.adjust, app.viewer.stage);
  const strip = new VisitStrip(elements.strip, visits, {
    onJump: (position) => app.act(() => app.go(position)),
    onError: (text) => app.status.error(text),
  });
  const compare = new CompareView(elements.compare, visits, {
    detail,
    maxSide,
    onError: (text) => app.status.error(text),
  });
  const tools = { adjust, strip, compare, visits };
  let lastId = null;
  const follow = (view) => {
    if (view.id !== lastId) adjust.nextImage();
    lastId = view.id;
    adjust.available(!isMedical(view));
    strip.follow(view);
  };
  const display = app.display.bind(app);
  app.display = (view, ...rest) => {
    const result = display(view, ...rest);
    follow(view);
    return result;
  };
  if (app.view) follow(app.view);
  elements.actualSize.addEventListener("click", () => app.viewer.actualSize());
  elements.compareButton.addEventListener("click", () => app.view && compare.open(app.view));
  document.addEventListener("keydown", (event) => {
    const action = keyAction(app, tools, event);
    if (action) {
      event.preventDefault();
      action();
    }
  });
  return tools;
}

function keyAction(app, { adjust, strip, compare }, event) {
  if (event.defaultPrevented) return null; // taken already (a drawing key, keys.js)
  if (document.querySelector("dialog[open]")) return null; // dialogs handle their own keys
  const target = event.target;
  if (typingIn(target)) return null;
  if (event.ctrlKey || event.metaKey || event.altKey) return null;
  if (app.labels.some((l) => l.key.toLowerCase() === event.key.toLowerCase())) return null;
  const photo = app.view && !isMedical(app.view);
  const up = !event.shiftKey;
  switch (event.key.toLowerCase()) {
    case "z":
      return () => app.viewer.actualSize();
    case "b":
      return photo ? () => adjust.nudge("brightness", up ? 1 : -1) : null;
    case "c":
      return photo ? () => adjust.nudge("contrast", up ? 1 : -1) : null;
    case "g":
      return photo ? () => adjust.nudge("gamma", up ? 1 : -1) : null;
    case "x":
      return photo ? () => adjust.reset() : null;
    case "k":
      return () => adjust.togglePin();
    case "o":
      return app.view ? () => compare.open(app.view) : null;
    case "s":
      return () => strip.focusCurrent();
    case "e":
      if (event.shiftKey) return app.medical.active ? () => app.medical.toggleOverlays() : null;
      return app.geometry.available ? () => app.geometry.toggle() : null;
    default:
      return null;
  }
}
