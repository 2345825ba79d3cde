// What the page knows about the queue: image records by position, fetched in windows, and the
// image elements themselves, loaded and decoded ahead of the annotator (the next few in queue
// order and the previous one) so that the next image is on screen at the key press.

import { get } from "./api.js";

const VIEW_CHUNK = 50;
const AHEAD = 4; // images decoded ahead
const KEEP_BEHIND = 3;
const KEEP_AHEAD = 8;
const MAX_LOADING = 3; // leaves browser connections free for label saves

export class ImageStore {
  constructor({ total, maxSide, prefetch }) {
    this.total = total;
    this.maxSide = maxSide;
    this.prefetch = prefetch;
    this.views = new Map(); // position -> image record
    this.viewFetches = new Map(); // chunk start -> promise
    this.elements = new Map(); // position -> { id, promise, img }
    this.waiting = []; // load jobs not started yet, most urgent first
    this.loading = 0;
  }

  viewAt(position) {
    return this.views.get(position);
  }

  async view(position) {
    const known = this.views.get(position);
    if (known) {
      this.fetchViewsAround(position);
      return known;
    }
    await this.fetchChunk(chunkStart(position));
    return this.views.get(position);
  }

  // Keeps records well ahead, so a fast annotator never waits for one.
  fetchViewsAround(position) {
    const ahead = Math.min(this.total, position + VIEW_CHUNK / 2);
    if (!this.views.has(ahead)) this.fetchChunk(chunkStart(ahead));
    if (position > 1 && !this.views.has(position - 1)) this.fetchChunk(chunkStart(position - 1));
  }

  fetchChunk(start) {
    if (!this.viewFetches.has(start)) {
      const promise = get(`/api/queue?start=${start}&count=${VIEW_CHUNK}`)
        .then((views) => views.forEach((v) => this.remember(v)))
        .finally(() => this.viewFetches.delete(start));
      this.viewFetches.set(start, promise);
    }
    return this.viewFetches.get(start);
  }

  remember(view) {
    this.views.set(view.position, view);
  }

  url(view) {
    return `/api/images/${view.id}/rendition?max_side=${this.maxSide}`;
  }

  // A decoded <img> for the position; the current image jumps the queue of prefetches.
  element(view, { urgent = false } = {}) {
    const known = this.elements.get(view.position);
    if (known && known.id === view.id && !(urgent && known.failed)) {
      if (urgent) this.promote(view.position);
      return known.promise;
    }
    const entry = { id: view.id, img: new Image(), started: false };
    // The viewer finds a photo's own size and full-resolution picture by this (viewer.js).
    if (view.kind === "raster") entry.img.dataset.photoId = String(view.id);
    entry.promise = new Promise((resolve, reject) => {
      entry.start = () => {
        entry.started = true;
        this.loading += 1;
        entry.img.decoding = "async";
        entry.img.src = this.url(view);
        entry.img
          .decode()
          .then(
            () => {
              entry.ready = true;
              resolve(entry.img);
            },
            () => reject(new Error("decode")),
          )
          .finally(() => {
            this.loading -= 1;
            this.pump();
          });
      };
    });
    // A failed image stays failed for prefetching (no request storm for an undecodable file);
    // showing it asks once more, in case the failure was passing.
    entry.promise.catch(() => {
      entry.failed = true;
    });
    this.elements.set(view.position, entry);
    if (urgent) this.waiting.unshift(entry);
    else this.waiting.push(entry);
    this.pump();
    return entry.promise;
  }

  // The decoded element for this image if it is ready now (so it can be shown in this frame).
  ready(view) {
    const entry = this.elements.get(view.position);
    return entry && entry.id === view.id && entry.ready ? entry.img : null;
  }

  promote(position) {
    const entry = this.elements.get(position);
    const at = this.waiting.indexOf(entry);
    if (at > 0) {
      this.waiting.splice(at, 1);
      this.waiting.unshift(entry);
    }
  }

  pump() {
    while (this.loading < MAX_LOADING && this.waiting.length) this.waiting.shift().start();
  }

  async prefetchAround(position) {
    this.forgetFar(position);
    if (!this.prefetch) return;
    const wanted = [];
    for (let p = position + 1; p <= Math.min(this.total, position + AHEAD); p++) wanted.push(p);
    if (position > 1) wanted.push(position - 1);
    // Look-ahead only: a record or an image that fails here is asked for again when that image
    // is shown, and that failure is the one the annotator sees (labelling.js), with its reason.
    for (const p of wanted) {
      const view = this.views.get(p) ?? (await this.view(p).catch(() => null));
      if (!view) continue;
      // Grey DICOM and NIfTI are shown from full-depth values, so those are what is prefetched.
      if ((view.kind === "dicom" || view.kind === "nifti") && this.medicalPrefetch) this.medicalPrefetch(view).catch(() => {});
      else this.element(view).catch(() => {});
    }
  }

  forgetFar(position) {
    for (const [p, entry] of this.elements) {
      if (p < position - KEEP_BEHIND || p > position + KEEP_AHEAD) {
        if (!entry.started) this.waiting.splice(this.waiting.indexOf(entry), 1);
        else entry.img.src = "";
        this.elements.delete(p);
      }
    }
  }

  // A record changed on the server (label saved): keep the newest copy. The same image at
  // another position (in a reading study, its repeat or its first read, which stays hidden
  // until the repeat is read) may have changed with it: those are read again when shown.
  update(view) {
    for (const [position, known] of this.views) {
      if (known.id === view.id && position !== view.position) this.views.delete(position);
    }
    this.views.set(view.position, view);
  }
}

function chunkStart(position) {
  return Math.floor((position - 1) / VIEW_CHUNK) * VIEW_CHUNK + 1;
}
