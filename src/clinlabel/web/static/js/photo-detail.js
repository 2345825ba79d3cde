// Photos at full detail: each photo's own size (for the zoom percentage) and its full-resolution
// picture (for zooming past the screen rendition), both from the server's viewing service,
// which keys them by the file's identity. Sizes are remembered; one full picture is kept (a
// 12 MP photo is 48 MB decoded), so going back to the same photo does not load it twice.

import { get } from "./api.js";

const KEEP_SIZES = 2000;

export class PhotoDetail {
  constructor() {
    this.sizes = new Map(); // id -> {width, height, full_width, full_height, reduction}
    this.asking = new Map(); // id -> promise
    this.kept = null; // {id, promise}
  }

  known(id) {
    return this.sizes.get(id) ?? null;
  }

  size(id) {
    const known = this.sizes.get(id);
    if (known) return Promise.resolve(known);
    if (!this.asking.has(id)) {
      const promise = get(`/api/images/${id}/size`)
        .then((size) => {
          if (this.sizes.size >= KEEP_SIZES) this.sizes.clear();
          this.sizes.set(id, size);
          return size;
        })
        .finally(() => this.asking.delete(id));
      this.asking.set(id, promise);
    }
    return this.asking.get(id);
  }

  url(id) {
    return `/api/images/${id}/full`;
  }

  // A decoded <img> of the photo at its own pixels; a new element each time it is put on a stage
  // (an element lives in one place), decoded from the browser's copy after the first.
  full(id) {
    if (this.kept?.id !== id) {
      const img = new Image();
      img.decoding = "async";
      img.src = this.url(id);
      const promise = img.decode().then(() => img);
      promise.catch(() => {
        if (this.kept?.promise === promise) this.kept = null;
      });
      this.kept = { id, promise };
      return promise;
    }
    const kept = this.kept;
    return kept.promise.then((img) => {
      if (!img.isConnected) return img;
      const copy = new Image();
      copy.src = img.src;
      return copy.decode().then(() => copy);
    });
  }
}
