// The labelling screen's controller: what is on screen, labels, moves, and the ordered queue of
// changes sent to the server. A label shows as saved only after the server said it is durable.

import { ImageStore } from "./images.js";
import { SaveQueue } from "./save-queue.js";
import { PendingStore, changeKey } from "./pending-store.js";
import { Viewer } from "./viewer.js";
import { LabelPanel } from "./label-panel.js";
import { CommentDialog } from "./comment-dialog.js";
import { Sidebar } from "./sidebar.js";
import { ReviewTable } from "./review.js";
import { ENDED, FinishBar, OutputsDialog } from "./outputs.js";
import { get } from "./api.js";
import { HelpDialog } from "./help.js";
import { StatusBar } from "./status-bar.js";
import { MedicalView, isMedical } from "./dicom-viewer.js";
import { RegionLayer } from "./regions-layer.js";
import { MetadataPanel } from "./metadata-panel.js";
import { GeometryPanel } from "./geometry-panel.js";
import { FrameLabels } from "./frame-labels.js";

const TOUCH_EVERY_MS = 20000;

export class Labeller {
  // `page`: the page's elements, grouped by the module that uses them (main.js).
  // `kept`: where label changes wait for the server across a reload (pending-store.js).
  constructor(session, { prefetch, instrument = false, kept = new PendingStore(null, "") }, page) {
    this.labels = session.labels;
    this.total = session.shown.progress.total;
    this.images = new ImageStore({ total: this.total, maxSide: session.max_side, prefetch });
    this.status = new StatusBar(page.status);
    this.kept = kept;
    this.kept.onChange = () => this.showSaveState(); // "kept in this browser" once it is
    this.queueState = { error: null, retryInMs: null };
    this.queue = new SaveQueue({
      onChange: (state) => {
        this.queueState = state;
        this.showSaveState();
      },
    });
    this.viewer = new Viewer(page.viewer.stage, page.viewer.area, page.viewer.message);
    this.imageMeta = page.imageMeta;
    this.geometry = new GeometryPanel(page.geometry, { onError: (text) => this.status.error(text) });
    this.medical = new MedicalView({
      viewer: this.viewer,
      elements: page.medical,
      instrument,
      onFrame: (view, frame, count) => this.frameShown(view, frame, count),
      onFrameChosen: (view, frame, count) => this.frameChosen(view, frame, count),
    });
    this.metadata = new MetadataPanel(page.metadata, { onError: (text) => this.status.error(text) });
    this.frameLabels = new FrameLabels(page.frameLabels);
    this.images.medicalPrefetch = (view) => this.medical.prefetchFirst(view);
    this.panel = new LabelPanel(page.labels, this.labels, (def) => this.act(() => this.label(def, performance.now())));
    this.comment = new CommentDialog(page.comment);
    this.sidebar = new Sidebar(page.caseList, {
      onJump: (position) => this.go(position),
      // After Finish the session is gone: a refresh still due then has nothing to say.
      onError: (e) => this.ended || this.status.error(`Cannot refresh the case list: ${e.message}`),
    });
    this.review = new ReviewTable(page.review, {
      labels: this.labels,
      onOpen: (position) => this.go(position),
      regions: (session.region_classes ?? []).length > 0,
    });
    this.help = new HelpDialog(page.help, this.labels, session.region_classes ?? []);
    this.outputs = new OutputsDialog(page.outputs);
    // Drawing regions (issue 11), only when the schema declares region classes.
    this.regions = new RegionLayer({
      viewer: this.viewer,
      queue: this.queue,
      status: this.status,
      elements: page.regions,
      classes: session.region_classes ?? [],
      medical: this.medical,
      kept,
    });
    this.regions.onGoToFrame = (frame, plane) => this.medical.goTo(frame, plane);
    this.finishBar = new FinishBar(page.review.dialog, {
      onNextUnlabelled: () => this.act(() => this.nextUnlabelled()),
      onExport: (formats) => this.exportFinal(formats),
    });
    this.workspace = page.workspace;
    this.ended = false; // Finish ended the session: the page does nothing more
    this.pending = new Map(); // image id -> the change on its way to the server
    this.view = null;
    this.navigating = null; // set while the record of the next image is being fetched
    this.buffered = []; // keys pressed meanwhile, replayed in order
    this.lastTouch = performance.now();
    // Key press -> next image painted, in ms: instrumentation for the latency benchmark and the
    // tests, null unless the page was opened by one (main.js).
    this.metrics = instrument ? [] : null;
    // Instrumentation only: the last key presses and what the page was doing at each (a test
    // that fails on a busy machine prints them).
    this.keyLog = instrument ? [] : null;
    this.status.progress(session.shown.progress);
    this.queue.changed();
    this.images.remember(session.shown.image);
    this.display(session.shown.image, null, { tellServer: false });
    this.sidebar.refresh().catch((e) => this.status.error(`Cannot load the case list: ${e.message}`));
  }

  // The save line: changes waiting (queued, or keys waiting for their image) and refused ones.
  showSaveState() {
    const failed = [...this.pending.values()].filter((change) => change.failed).length + this.frameLabels.failedCount();
    const labels = this.queue.countOf("label") + this.buffered.length;
    const regions = this.queue.countOf("region");
    const kept = this.kept.stored ? "stored" : this.kept.available ? "storing" : "page";
    this.status.queueChanged(this.queueState, { labels, regions, failed, kept });
  }

  // Changes kept in this browser by an earlier page (reloaded, closed, or left open while the
  // server restarted) and never answered (`kept.all()`): sent first, to the same image ids.
  // The server's save of an identical label makes no second event, so one that did arrive
  // before the reload is harmless.
  resend(records) {
    if (!records.length) return;
    const regions = records.filter((record) => record.kind === "region").length;
    const what = [records.length - regions && `${records.length - regions} label change(s)`, regions && `${regions} region change(s)`].filter(Boolean).join(" and ");
    this.status.notice(`${what} made before this page was reloaded were waiting in this browser; sending them now.`);
    for (const record of records) {
      if (record.kind === "region") {
        this.resendRegion(record);
        continue;
      }
      const view = { id: record.imageId, file: record.file };
      const change = { label: record.body?.label ?? null, comment: record.body?.comment ?? "" };
      if (record.frame > 0) {
        this.frameLabels.pending(record.imageId, record.frame, change);
        this.sendFrame(view, record.frame, record.body, record);
      } else {
        this.send(view, change, record.method, record.body, record);
      }
    }
  }

  // A region change kept by an earlier page: sent as it was (by its uid, so at most once).
  resendRegion(record) {
    this.queue.enqueue(record.method, record.url, record.body, { kind: "region" }).then(
      () => {
        this.kept.release(record);
        if (this.view?.id === record.imageId) this.regions.load(this.view, this.regions.frame, this.regions.plane);
      },
      (e) => {
        const why = this.notSaved(e, record);
        this.status.error(`A region change on ${record.file} was not saved: ${why}`);
      },
    );
  }

  // A refused label change: forgotten, unless the session is gone (Finish in another tab, or
  // a server restarted onto its start page). That change was never judged: it stays in this
  // browser and is sent again once the page is reloaded and the project reopened. Says why.
  // A study assigned while the page was open: the change was not judged either; it is kept and
  // sent after the reload, then saved if the image is in the reader's worklist, else refused
  // with the reason.
  notSaved(e, kept) {
    if (e.kind === "study_assigned") {
      const where = this.kept.available ? " This change is kept in this browser and sent again after the reload." : "";
      return `${e.message}${where}`;
    }
    if (e.kind !== "not_started") {
      this.kept.release(kept);
      return e.message;
    }
    const where = this.kept.available ? "it is kept in this browser and sent then" : "press the label again then";
    return `the labelling session has ended (Finish in another tab, or the server was restarted); reload the page and start again: ${where}.`;
  }

  // Keeps a label change in the browser until the server answers (`then_show` is not kept: a
  // later page shows its own image).
  keep(view, frame, method, url, body) {
    const { then_show: _, ...kept } = body ?? {};
    return this.kept.keep({ imageId: view.id, frame, method, url, body: body === undefined ? undefined : kept, file: view.file });
  }

  // Runs an action now, or after the image being navigated to is known (keys never go astray).
  act(action) {
    if (this.ended) {
      this.status.notice(ENDED);
      return;
    }
    if (!this.navigating) {
      action();
      return;
    }
    this.buffered.push(action);
    this.queue.changed(); // a key waiting for its image counts as "saving", never as "saved"
  }

  // Keys pressed while the next image was loading, in order; a dialog that opens (a comment)
  // stops the replay, so no key meant for the next image lands on this one behind the dialog.
  replay() {
    this.navigating = null;
    const actions = this.buffered.splice(0);
    while (actions.length && !this.navigating) {
      if (this.comment.isOpen) {
        this.status.notice(`${actions.length} key press(es) made while the comment box opened were ignored.`);
        this.queue.changed();
        return;
      }
      actions.shift()();
    }
    this.buffered.unshift(...actions);
    this.queue.changed();
  }

  go(position, t0 = null, options = {}) {
    if (position < 1 || position > this.total) return;
    const known = this.images.viewAt(position);
    if (known) {
      this.display(known, t0, options);
      return;
    }
    this.viewer.showMessage("Loading…");
    this.navigating = this.images
      .view(position)
      .then((view) => view && this.display(view, t0, options))
      .catch((e) => this.status.error(`Cannot load image ${position}: ${e.message}`))
      .finally(() => this.replay());
  }

  display(view, t0, { tellServer = true } = {}) {
    const previous = this.view;
    this.view = view;
    this.keyLog?.push(`shown ${view.position}`);
    this.imageMeta.textContent = `${view.case} / ${view.visit} / ${view.file}`;
    this.status.position(view.position, this.total);
    this.status.caseBanner(previous, view);
    this.sidebar.markCurrent(view.case);
    this.renderLabel();
    this.metadata.follow(view);
    this.frameLabels.reset();
    this.geometry.hide();
    if (tellServer) {
      this.queue
        .enqueue("POST", "/api/session/show", { position: view.position }, { kind: "show" })
        .then((shown) => this.status.progress(shown.progress))
        .catch((e) => this.status.error(e.message));
    }
    const alt = `Image ${view.position}: ${view.case}, ${view.visit}, ${view.file}`;
    if (isMedical(view)) {
      this.showMedical(view, alt, t0);
      this.images.prefetchAround(view.position);
      return;
    }
    this.medical.hide();
    this.regions.load(view, 0, null);
    this.showRendition(view, alt, t0);
    this.images.prefetchAround(view.position);
  }

  // Grey DICOM and NIfTI: full-depth values windowed in the page; colour DICOM: the 8-bit
  // rendition of each frame, on the same canvas and frame controls.
  showMedical(view, alt, t0) {
    if (!this.medical.view || this.medical.view.id !== view.id) this.viewer.showMessage("Loading…");
    this.medical.show(view, alt).then(
      (onCanvas) => {
        // false: show() was called again meanwhile (another image, or this one again under a
        // fresher record from the queue), and that call paints; the 8-bit rendition must not
        // replace the windowed canvas.
        if (this.view?.id !== view.id || !onCanvas) return;
        if (t0 !== null) requestAnimationFrame(() => this.measure(view, t0));
      },
      (error) => {
        if (this.view?.id !== view.id) return;
        this.medical.hide();
        this.viewer.showMessage(`This image cannot be shown: ${error.message}. You can still label it.`);
        if (t0 !== null) this.measure(view, t0, { failed: true });
      },
    );
  }

  // A frame or slice was chosen (its pixels may still be on their way): a frame label pressed
  // now goes to the frame the readout names, never to the one it replaces.
  frameChosen(view, frame, count) {
    if (this.view?.id === view.id) this.frameLabels.frameShown(frame, count);
  }

  // A frame or slice is on screen: the frame-label toggle and the XA geometry follow it.
  frameShown(view, frame, count) {
    if (this.view?.id !== view.id) return;
    this.frameLabels.frameShown(frame, count);
    this.geometry.update(view, frame);
    if (this.regions.view?.id !== view.id) this.regions.load(view, frame, this.medical.plane);
    else this.regions.setFrame(frame, this.medical.plane);
  }

  showRendition(view, alt, t0) {
    const ready = this.images.ready(view);
    if (ready) this.painted(ready, alt, view, t0);
    else {
      this.viewer.showMessage("Loading…");
      this.images.element(view, { urgent: true }).then(
        (img) => this.view?.id === view.id && this.painted(img, alt, view, t0),
        () => this.view?.id === view.id && this.cannotShow(view, t0),
      );
    }
  }

  // The decoder's reason comes from the server (a 422 with a message), so the annotator can put
  // it in an NA comment; the image can still be labelled.
  async cannotShow(view, t0) {
    let reason = "";
    try {
      const response = await fetch(this.images.url(view), { credentials: "same-origin" });
      if (!response.ok) reason = (await response.json()).message ?? "";
    } catch {
      reason = "the server cannot be reached";
    }
    if (this.view?.id === view.id) {
      this.viewer.showMessage(`This image cannot be shown: ${reason || view.file}. You can still label it.`);
      if (t0 !== null) this.measure(view, t0, { failed: true });
    }
  }

  painted(img, alt, view, t0) {
    this.viewer.setImage(img, alt);
    if (t0 !== null) requestAnimationFrame(() => this.measure(view, t0));
  }

  // Instrumentation only (see `metrics`): how long from the key press to this image on screen.
  measure(view, t0, { failed = false } = {}) {
    if (!this.metrics) return;
    const entry = { position: view.position, ms: performance.now() - t0 };
    this.metrics.push(failed ? { ...entry, failed } : entry);
  }

  effective(view) {
    const change = this.pending.get(view.id);
    // Only at its own position: in a reading study the same image comes back later as a
    // blinded repeat, which must not show the first read still on its way.
    // (A change from the review table or one resent after a reload names no position.)
    if (change && (change.position === undefined || change.position === view.position)) {
      return { ...change, saved: false, changed: false };
    }
    return { label: view.label, comment: view.comment, saved: true, changed: view.changed, sealed: view.sealed };
  }

  renderLabel() {
    if (!this.view) return;
    this.panel.render(this.effective(this.view));
    this.frameLabels.render(this.view);
  }

  label(def, t0) {
    const view = this.view;
    if (!view) return;
    // "Label this frame" on: the label goes to the frame on screen at the key press.
    const frame = this.frameLabels.target();
    if (def.requires_comment) {
      // The label goes to this image, whatever is on screen when the comment is saved.
      const shown = frame ? { ...view, label: null, comment: "", file: `${view.file}, frame ${frame}` } : { ...view, ...this.effective(view) };
      this.comment.open(def.name, shown, (text) => this.commit(view, def.name, text, performance.now(), frame));
      return;
    }
    this.commit(view, def.name, null, t0, frame);
  }

  // A frame label keeps the annotator on this file (the next frame is usually next to label).
  commitFrame(view, frame, name, comment) {
    const body = { label: name, comment, frame, change_key: changeKey() };
    this.frameLabels.pending(view.id, frame, { label: name, comment: comment ?? "" });
    this.sendFrame(view, frame, body);
  }

  sendFrame(view, frame, body, record = null) {
    const url = `/api/images/${view.id}/label`;
    const kept = record ?? this.keep(view, frame, "PUT", url, body);
    const name = body.label;
    this.renderLabel();
    this.queue
      .enqueue("PUT", url, body, { kind: "label" })
      .then((saved) => {
        this.kept.release(kept);
        this.frameLabels.settled(view.id, frame);
        this.images.update(saved.image);
        if (this.view?.id === saved.image.id) this.view = saved.image;
        this.status.notice(`Frame ${frame} of ${view.file} labelled ${name}.`);
      })
      .catch((e) => {
        const why = this.notSaved(e, kept);
        this.frameLabels.settled(view.id, frame, why);
        this.status.error(`Not saved: ${view.file} frame ${frame}: ${why}`);
      })
      .finally(() => {
        this.renderLabel();
        this.showSaveState();
      });
  }

  commit(view, name, comment, t0, frame = 0) {
    if (frame > 0) return this.commitFrame(view, frame, name, comment);
    const change = { label: name, comment: comment ?? "", position: view.position };
    const onScreen = this.view?.id === view.id;
    const advance = onScreen && view.position < this.total;
    // Moving on after a label: the same request records the next image as shown.
    // The position says which read this is: in a study, a repeat of an image is its own read,
    // whatever another tab of this reader shows by the time the server gets it. The change's
    // key goes with it each time it is sent, after a reload too (pending-store.js).
    const body = { label: name, comment, position: view.position, change_key: changeKey() };
    if (advance) body.then_show = view.position + 1;
    this.send(view, change, "PUT", body);
    if (advance) this.go(view.position + 1, t0, { tellServer: false });
    else if (onScreen) this.status.notice("That was the last image. N finds an unlabelled one; R opens the review table.");
  }

  clear() {
    const view = this.view;
    if (!view) return;
    if (!this.effective(view).label) {
      this.status.notice(`${view.file} has no label to clear.`);
      return;
    }
    this.send(view, { label: null, comment: "", position: view.position }, "DELETE");
    this.status.notice("Label cleared — Ctrl+Z to undo");
  }

  // Ctrl+Z: the server undoes this session's last label or clear (queued behind every change
  // sent before it, so it is the one the annotator sees as last) and the page shows that image.
  undo() {
    this.queue
      .enqueue("POST", "/api/session/undo", {}, { kind: "label" })
      .then((undone) => {
        const image = undone.image;
        this.images.update(image);
        this.status.progress(undone.progress);
        this.sidebar.refreshSoon();
        const what = undone.frame ? `${image.file}, frame ${undone.frame}` : image.file;
        const now = undone.label ? `labelled ${undone.label} again` : "unlabelled again";
        this.status.notice(`Undone: ${what} is ${now}. Ctrl+Z again undoes the change before.`);
        if (this.view?.id === image.id) {
          this.view = image;
          this.renderLabel();
        } else {
          this.go(image.position);
        }
      })
      .catch((e) => {
        if (e.status === 422) this.status.notice(e.message);
        else this.status.error(`Not undone: ${e.message}`);
      });
  }

  send(view, change, method, body, record = null) {
    const where = method === "DELETE" && view.position ? `?position=${view.position}` : "";
    const url = record?.url ?? `/api/images/${view.id}/label${where}`;
    const kept = record ?? this.keep(view, 0, method, url, body);
    this.pending.set(view.id, change);
    this.renderLabel();
    this.queue
      .enqueue(method, url, body, { kind: "label" })
      .then((saved) => {
        this.kept.release(kept);
        if (this.pending.get(view.id) === change) this.pending.delete(view.id);
        this.images.update(saved.image);
        // The image on screen may be this one: show the server's record, not the old copy
        // (the same position too: a study's repeat of the image is another record).
        if (this.view?.id === saved.image.id && this.view.position === saved.image.position) this.view = saved.image;
        this.status.progress(saved.progress);
        this.sidebar.refreshSoon();
        // A reading study may now ask for the case's diagnosis (main.js, case-diagnosis.js).
        if (change.label) this.onLabelSaved?.(saved.image);
      })
      .catch((e) => {
        const why = this.notSaved(e, kept);
        if (e.kind === "stale" && e.current) {
          // Another tab of this reader saved first: what stands is the stored label, shown as
          // such (not this page's refused change), so pressing a key again replaces it knowingly.
          if (this.pending.get(view.id) === change) this.pending.delete(view.id);
          const stored = { ...(this.images.viewAt(view.position) ?? view), label: e.current.label, comment: e.current.comment };
          if (stored.id === view.id) this.images.update(stored);
          if (this.view?.id === view.id) this.view = { ...this.view, label: e.current.label, comment: e.current.comment };
        } else if (this.pending.get(view.id) === change) this.pending.set(view.id, { ...change, failed: why });
        this.status.error(`Not saved: ${view.file}: ${why}`);
      })
      .finally(() => {
        this.renderLabel();
        this.showSaveState();
      });
  }

  move(step, t0) {
    if (this.view) this.go(this.view.position + step, t0);
  }

  nextUnlabelled() {
    this.navigating = this.queue
      .enqueue("POST", "/api/session/next-unlabelled", {}, { kind: "show" })
      .then((shown) => {
        this.images.update(shown.image);
        this.status.progress(shown.progress);
        if (shown.progress.remaining === 0) this.status.notice("Every image is labelled.");
        this.display(shown.image, null, { tellServer: false });
      })
      .catch((e) => this.status.error(e.message))
      .finally(() => this.replay());
  }

  // Queued behind every label pressed so far, so the files hold all of them. The final export
  // goes through `finish`: the review table and the count of unlabelled images first.
  async saveOutputs(final) {
    if (final) return this.finish();
    if (this.ended) return this.status.notice(ENDED);
    this.status.notice("Saving progress…");
    try {
      const result = await this.queue.enqueue("POST", "/api/outputs/progress", {}, { kind: "output" });
      this.status.notice(`Progress saved: labels in ${result.csv}, summary in ${result.report}`);
    } catch (e) {
      this.status.error(`Nothing written: ${e.message}`);
    }
  }

  // "Finish and export": the review table, with a bar saying how many images are unlabelled
  // and offering "Next unlabelled" or "Export anyway" (FinishBar).
  async finish() {
    if (this.ended) return this.status.notice(ENDED);
    const saved = this.queue.idle(); // the table and the count include every label pressed
    const opened = this.review.open(saved).catch((e) => this.status.error(`Cannot load the review table: ${e.message}`));
    try {
      await saved;
      const progress = await get("/api/progress");
      if (this.review.dialog.open) this.finishBar.show(progress);
    } catch (e) {
      this.status.error(`Cannot count the unlabelled images: ${e.message}`);
    }
    await opened;
  }

  // The export itself, then the end of the session (its close in the audit trail): the page
  // says what to do next and takes no more keys.
  // `formats`: the region exports ticked in the finish bar (outputs.js), written first.
  async exportFinal(formats = []) {
    this.status.notice("Exporting…");
    let result;
    try {
      const body = formats.length ? { formats } : {};
      result = await this.queue.enqueue("POST", "/api/outputs/final", body, { kind: "output" });
    } catch (e) {
      this.status.error(`Nothing written: ${e.message}`);
      return;
    }
    try {
      await this.queue.enqueue("POST", "/api/session/end", {}, { kind: "output" });
    } catch (e) {
      this.status.error(`Exported, but the session could not be ended: ${e.message}`);
      this.outputs.show(result);
      return;
    }
    this.ended = true;
    this.workspace.inert = true;
    this.status.notice(`Exported: ${result.csv} and ${result.report}. ${ENDED}`);
    this.outputs.show(result, { ended: true });
  }

  openReview() {
    if (this.ended) return this.status.notice(ENDED);
    // Labels still on their way would be missing from the table: it waits for them.
    this.review.open(this.queue.idle()).catch((e) => this.status.error(`Cannot load the review table: ${e.message}`));
  }

  activity() {
    if (this.ended) return;
    const now = performance.now();
    if (now - this.lastTouch < TOUCH_EVERY_MS) return;
    this.lastTouch = now;
    // A touch only keeps the session's active time: while the server cannot be reached the save
    // queue retries it and says so in the status bar; a refusal leaves nothing for the annotator
    // to do, and the next label or move reports the same problem where it matters.
    this.queue.enqueue("POST", "/api/session/touch", {}, { kind: "touch" }).catch(() => {});
  }

  toggleFullscreen() {
    this.viewer.toggleFullscreen().catch((e) => this.status.notice(`Full screen is not available: ${e.message}`));
  }
}
