// Entry point: the start page if no project is open yet, then the labelling screen.
//
// This is the one module that knows index.html's element ids: it looks every element up once and
// hands each module the elements it works on, so a renamed id breaks here, in one place, and the
// other modules can be given any elements (a second viewer, a test page).

import { get, setReader } from "./api.js";
import { askToStart } from "./start.js";
import { Labeller } from "./labelling.js";
import { PendingStore } from "./pending-store.js";
import { wireKeys } from "./keys.js";
import { wireViewerTools } from "./viewer-tools.js";
import { PhotoDetail } from "./photo-detail.js";
import { watchRescan } from "./rescan-status.js";
import { CaseDiagnosis } from "./case-diagnosis.js";

function byId(id) {
  const element = document.getElementById(id);
  if (!element) throw new Error(`the page has no element #${id}`);
  return element;
}

// The elements of index.html, grouped by the module that uses them.
function pageElements() {
  return {
    start: {
      section: byId("start"),
      form: byId("start-form"),
      error: byId("start-error"),
      note: byId("start-note"),
      dir: byId("project-dir"),
      name: byId("annotator"),
      batch: byId("start-batch"),
    },
    workspace: byId("workspace"),
    status: {
      saveStatus: byId("save-status"),
      errorBanner: byId("error-banner"),
      errorText: byId("error-text"),
      errorDismiss: byId("error-dismiss"),
      notice: byId("notice"),
      caseBanner: byId("case-banner"),
      position: byId("position-text"),
      progressText: byId("progress-text"),
      progressBar: byId("progress-bar"),
      who: byId("who"),
    },
    viewer: { stage: byId("stage"), area: byId("viewer-area"), message: byId("stage-message") },
    imageMeta: byId("image-meta"),
    geometry: byId("geometry-panel"),
    medical: {
      tools: byId("medical-tools"),
      wlTools: byId("wl-tools"),
      readout: byId("wl-readout"),
      presetMenu: byId("wl-preset"),
      wlTool: byId("btn-wl-tool"),
      invert: byId("btn-invert"),
      frameTools: byId("frame-tools"),
      slider: byId("frame-slider"),
      frameReadout: byId("frame-readout"),
      cine: byId("btn-cine"),
      planeTools: byId("plane-tools"),
      planes: { axial: byId("btn-plane-axial"), coronal: byId("btn-plane-coronal"), sagittal: byId("btn-plane-sagittal") },
      tri: byId("btn-tri"),
      triView: byId("tri-view"),
    },
    metadata: {
      panel: byId("metadata-panel"),
      body: byId("metadata-body"),
      search: byId("metadata-search"),
      count: byId("metadata-count"),
      unmask: byId("btn-unmask"),
      toggle: byId("btn-metadata"),
      close: byId("metadata-close"),
    },
    frameLabels: {
      box: byId("frame-label-box"),
      toggle: byId("frame-toggle"),
      number: byId("frame-toggle-n"),
      list: byId("frame-label-list"),
    },
    labels: { box: byId("labels"), status: byId("current-label") },
    caseDiagnosis: {
      dialog: byId("case-dialog"),
      title: byId("case-title"),
      buttons: byId("case-buttons"),
      comment: byId("case-comment"),
      error: byId("case-error"),
      later: byId("case-later"),
    },
    regions: {
      panel: byId("region-panel"),
      tools: byId("region-tools"),
      classPicker: byId("region-class"),
      brushSize: byId("region-brush"),
      opacity: byId("region-opacity"),
      hide: byId("btn-region-hide"),
      list: byId("region-list"),
      count: byId("region-count"),
      assistButton: byId("btn-region-assist"),
      assist: byId("region-assist"),
      threshold: byId("region-threshold"),
      accept: byId("btn-region-accept"),
      smart: byId("btn-region-smart"),
    },
    comment: {
      dialog: byId("comment-dialog"),
      form: byId("comment-form"),
      text: byId("comment-text"),
      error: byId("comment-error"),
      title: byId("comment-title"),
      imageLine: byId("comment-image"),
      cancel: byId("comment-cancel"),
    },
    viewerTools: {
      actualSize: byId("btn-actual-size"),
      compareButton: byId("btn-compare"),
      adjust: {
        tools: byId("photo-tools"),
        brightness: byId("adj-brightness"),
        contrast: byId("adj-contrast"),
        gamma: byId("adj-gamma"),
        readouts: { brightness: byId("adj-brightness-value"), contrast: byId("adj-contrast-value"), gamma: byId("adj-gamma-value") },
        reset: byId("adj-reset"),
        pin: byId("adj-pin"),
      },
      strip: { strip: byId("visit-strip"), list: byId("visit-strip-list") },
      compare: {
        dialog: byId("compare-dialog"),
        title: byId("compare-title"),
        close: byId("compare-close"),
        sides: [
          { select: byId("compare-left-select"), stage: byId("compare-left-stage"), message: byId("compare-left-message") },
          { select: byId("compare-right-select"), stage: byId("compare-right-stage"), message: byId("compare-right-message") },
        ],
      },
    },
    caseList: byId("case-list"),
    review: {
      dialog: byId("review-dialog"),
      table: byId("review-table"),
      wrap: byId("review-scroll"),
      body: byId("review-body"),
      header: byId("review-header"),
      above: byId("review-above"),
      below: byId("review-below"),
      labelFilter: byId("filter-label"),
      caseFilter: byId("filter-case"),
      regionFilter: byId("filter-regions"),
      regionFilterLabel: byId("filter-regions-label"),
      count: byId("review-count"),
      close: byId("review-close"),
    },
    help: { dialog: byId("help-dialog"), body: byId("help-keys"), close: byId("help-close") },
    outputs: {
      dialog: byId("outputs-dialog"),
      csv: byId("outputs-csv"),
      report: byId("outputs-report"),
      summary: byId("outputs-summary"),
      broken: byId("outputs-broken"),
      next: byId("outputs-next"),
      close: byId("outputs-close"),
    },
    buttons: {
      prev: byId("btn-prev"),
      next: byId("btn-next"),
      nextUnlabelled: byId("btn-next-unlabelled"),
      clear: byId("btn-clear"),
      zoomIn: byId("btn-zoom-in"),
      zoomOut: byId("btn-zoom-out"),
      fit: byId("btn-fit"),
      fullscreen: byId("btn-fullscreen"),
      saveProgress: byId("btn-save-progress"),
      finish: byId("btn-finish"),
      review: byId("btn-review"),
      help: byId("btn-help"),
    },
  };
}

async function boot() {
  const page = pageElements();
  const options = new URLSearchParams(location.search);
  // ?prefetch=0 turns look-ahead off (for the latency benchmark's baseline).
  const prefetch = options.get("prefetch") !== "0";
  // Timings and paint counts for tests and benchmarks only: off unless the page is opened by
  // one, which sets this flag in an init script before the page loads (tests/e2e/conftest.py).
  const instrument = window.__clinlabelInstrument === true;
  let session = await get("/api/session");
  if (!session.started) session = await askToStart(session, page.start);
  // From here on every request says whose page this is (the team server refuses it once
  // someone else has logged in in this browser): the changes kept below are this reader's.
  setReader(session.annotator);
  page.workspace.hidden = false;
  // Label changes not yet acknowledged wait in this browser, per project and annotator.
  const kept = await PendingStore.open(`${session.project_dir}\n${session.annotator}`);
  const waiting = await kept.all();
  const app = new Labeller(session, { prefetch, instrument, kept }, page);
  window.clinlabel = app;
  app.status.identify(session);
  // The review table relabels through the labeller's own save path (the ordered queue, the copy
  // kept in this browser, progress and sidebar), then reads the rows back from the server.
  app.review.connect({
    current: () => app.view?.position ?? null,
    thumbnail: (row) => app.images.url(row),
    comment: app.comment,
    save: (row, label, comment) => {
      // The row's position is its first read's: never the repeat another tab may show.
      const at = row.position ? { position: row.position } : {};
      if (label) app.send(row, { label, comment: comment ?? "" }, "PUT", { label, comment, ...at });
      else app.send(row, { label: null, comment: "" }, "DELETE");
      return app.queue.idle();
    },
  });
  // Before any key is wired: what an earlier page left goes first, so a new change to the same
  // image is sent after it and wins.
  app.resend(waiting);
  wireKeys(app);
  const detail = new PhotoDetail();
  app.viewer.setDetail(detail);
  app.tools = wireViewerTools(app, page.viewerTools, { detail, maxSide: session.max_side });
  watchRescan(page.status.saveStatus, app);
  // A reading study's case diagnosis, asked once every image of a case is labelled.
  const diagnosis = new CaseDiagnosis(page.caseDiagnosis, app.status);
  diagnosis
    .start()
    .then(() => {
      app.onLabelSaved = (image) => diagnosis.check(image);
    })
    .catch((e) => app.status.error(`Cannot read the study's settings: ${e.message}`));
  const on = (button, fn) => button.addEventListener("click", fn);
  const b = page.buttons;
  on(b.prev, () => app.act(() => app.move(-1, null)));
  on(b.next, () => app.act(() => app.move(1, null)));
  on(b.nextUnlabelled, () => app.act(() => app.nextUnlabelled()));
  on(b.clear, () => app.act(() => app.clear()));
  on(b.zoomIn, () => app.viewer.zoomBy(1.25));
  on(b.zoomOut, () => app.viewer.zoomBy(0.8));
  on(b.fit, () => app.viewer.fit());
  on(b.fullscreen, () => app.toggleFullscreen());
  on(b.saveProgress, () => app.saveOutputs(false));
  on(b.finish, () => app.saveOutputs(true));
  on(b.review, () => app.openReview());
  on(b.help, () => app.help.show());
  window.addEventListener("beforeunload", (event) => {
    // Changes not yet acknowledged are kept in this browser (pending-store.js) and sent by the
    // next page, but that needs the next page: ask first, so leaving is a choice.
    if (app.queue.countOf("label") || app.queue.countOf("region")) event.preventDefault();
  });
  page.viewer.stage.focus();
}

boot().catch((error) => {
  // The status bar may not exist yet (the page itself is wrong): the banner, found directly.
  const banner = document.getElementById("error-banner");
  document.getElementById("error-text").textContent = `clinlabel cannot start: ${error.message}`;
  banner.hidden = false;
});
