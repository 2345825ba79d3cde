// The visits of a case with their images (/api/images/{id}/visits), asked once per case: the
// visit strip and the compare view both read them.

import { get } from "./api.js";

export class CaseVisits {
  constructor() {
    this.byCase = new Map(); // case -> promise of {case, visits: [{visit, images}]}
  }

  of(view) {
    if (!this.byCase.has(view.case)) {
      const promise = get(`/api/images/${view.id}/visits`);
      promise.catch(() => this.byCase.delete(view.case)); // asked again next time
      if (this.byCase.size > 50) this.byCase.clear();
      this.byCase.set(view.case, promise);
    }
    return this.byCase.get(view.case);
  }

  // The images of the list changed on disk (a rescan): ask again.
  forget() {
    this.byCase.clear();
  }
}

export function thumbnailUrl(image) {
  return `/api/images/${image.id}/rendition?max_side=256`;
}
