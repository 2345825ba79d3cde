// Entry point: the start page if no project is open yet, then the labelling screen.

import { get } from "./api.js";
import { askToStart } from "./start.js";
import { Labeller } from "./labelling.js";
import { wireKeys } from "./keys.js";
import { showHelp, wireHelp } from "./help.js";
import { wireOutputs } from "./outputs.js";

async function boot() {
  // ?prefetch=0 turns look-ahead off (for the latency benchmark's baseline).
  const prefetch = new URLSearchParams(location.search).get("prefetch") !== "0";
  let session = await get("/api/session");
  if (!session.started) session = await askToStart(session);
  document.getElementById("workspace").hidden = false;
  const app = new Labeller(session, { prefetch });
  window.clinlabel = app;
  wireKeys(app);
  wireHelp();
  wireOutputs();
  const on = (id, fn) => document.getElementById(id).addEventListener("click", fn);
  on("btn-prev", () => app.act(() => app.move(-1, null)));
  on("btn-next", () => app.act(() => app.move(1, null)));
  on("btn-next-unlabelled", () => app.act(() => app.nextUnlabelled()));
  on("btn-clear", () => app.act(() => app.clear()));
  on("btn-zoom-in", () => app.viewer.zoomBy(1.25));
  on("btn-zoom-out", () => app.viewer.zoomBy(0.8));
  on("btn-fit", () => app.viewer.fit());
  on("btn-fullscreen", () => app.viewer.toggleFullscreen());
  on("btn-save-progress", () => app.saveOutputs(false));
  on("btn-finish", () => app.saveOutputs(true));
  on("btn-review", () => app.openReview());
  on("btn-help", () => showHelp(app.labels));
  window.addEventListener("beforeunload", (event) => {
    // Changes not yet acknowledged would be lost with the page: ask first.
    if (app.queue.countOf("label")) event.preventDefault();
  });
  document.getElementById("stage").focus();
}

boot().catch((error) => {
  const banner = document.getElementById("error-banner");
  document.getElementById("error-text").textContent = `clinlabel cannot start: ${error.message}`;
  banner.hidden = false;
});
