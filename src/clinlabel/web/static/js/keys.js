// Keyboard first: every action has a key. Label keys come from the project's schema and win
// over the viewer's keys when they collide.

// Whether a key goes to a text box or a menu (typing there), not to the page. A box inside a
// dialog that was just closed does not count: the browser moves the focus out of it only at its
// next rendering step, and a key pressed at once (an arrow right after Ctrl+Enter saved a
// comment) would otherwise be lost.
export function typingIn(target) {
  const field = target instanceof HTMLInputElement || target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement;
  return field && !target.closest("dialog:not([open])");
}

export function wireKeys(app) {
  document.addEventListener("keydown", (event) => {
    app.activity();
    if (app.keyLog) {
      const target = event.target.id || event.target.tagName;
      const dialog = document.querySelector("dialog[open]")?.id ?? "";
      app.keyLog.push(`${event.key}${event.repeat ? " (repeat)" : ""} at ${app.view?.position} navigating=${Boolean(app.navigating)} target=${target} dialog=${dialog}`);
      if (app.keyLog.length > 40) app.keyLog.shift();
    }
    if (app.ended) return; // Finish ended the session (labelling.js): nothing more to do here
    if (document.querySelector("dialog[open]")) return; // dialogs handle their own keys
    const target = event.target;
    if (typingIn(target)) return;
    const t0 = event.timeStamp; // same clock as performance.now()
    // Drawing keys (issue 11) first: a schema with regions gives labels none of them, and with a
    // region selected Delete deletes the region, with a tool active Ctrl+Z undoes drawing.
    const drawing = app.regions?.keyAction(event);
    if (drawing) {
      event.preventDefault();
      drawing();
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "s") {
        event.preventDefault();
        app.saveOutputs(false);
      } else if ((event.ctrlKey || event.metaKey) && !event.shiftKey && !event.altKey && event.key.toLowerCase() === "z") {
        // Never while typing (returned above for text boxes and open dialogs): there Ctrl+Z
        // undoes the typing, as everywhere else.
        event.preventDefault();
        if (!event.repeat) app.act(() => app.undo());
      }
      return;
    }
    const def = app.labels.find((l) => l.key.toLowerCase() === event.key.toLowerCase());
    if (def) {
      event.preventDefault();
      // A held key must not label a run of images.
      if (!event.repeat) app.act(() => app.label(def, t0));
      return;
    }
    // Medical viewer keys (presets on Shift+digits, frames, invert, cine, planes), then the rest.
    const action = app.medical.keyAction(event) ?? viewerAndMoveKeys(app, event, t0);
    if (action) {
      event.preventDefault();
      action();
    }
  });
  for (const type of ["pointerdown", "wheel"]) document.addEventListener(type, () => app.activity(), { passive: true });
  let lastMove = 0;
  document.addEventListener("pointermove", () => {
    const now = performance.now();
    if (now - lastMove > 1000) {
      lastMove = now;
      app.activity();
    }
  });
}

function viewerAndMoveKeys(app, event, t0) {
  const { viewer } = app;
  switch (event.key) {
    case "ArrowRight":
      return () => app.act(() => app.move(1, t0));
    case "ArrowLeft":
      return () => app.act(() => app.move(-1, t0));
    case "Home":
      return () => app.act(() => app.go(1, t0));
    case "End":
      return () => app.act(() => app.go(app.total, t0));
    case "n":
    case "N":
      return () => app.act(() => app.nextUnlabelled());
    case "Delete":
    case "Backspace":
      return () => app.act(() => app.clear());
    case "+":
    case "=":
      return () => viewer.zoomBy(1.25);
    case "-":
    case "_":
      return () => viewer.zoomBy(0.8);
    case "0":
      return () => viewer.fit();
    case "f":
    case "F":
      return () => app.toggleFullscreen();
    case "r":
    case "R":
      return () => app.openReview();
    case "m":
    case "M":
      return () => app.metadata.toggle();
    case "l":
    case "L":
      return () => {
        app.frameLabels.toggle();
      };
    case "?":
      return () => app.help.show();
    default:
      return null;
  }
}
