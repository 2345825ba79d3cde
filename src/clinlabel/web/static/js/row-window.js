// The arithmetic of a virtualised list of rows of one fixed height: which rows to build for a
// scroll position, how tall the spacers above and below them are, and where to scroll so that a
// row shows whole. Pure: no DOM.
//
// Browsers cap an element's height (Firefox near 17.9 million px, Chromium near 33.5 million),
// so past MAX_HEIGHT the scroll range is compressed: it maps onto the rows in proportion, while
// the rows themselves are still drawn at full height. Below it (250,000 rows of 32 px) one pixel
// of scroll is one pixel of rows.

export const MAX_HEIGHT = 8_000_000;

export class RowWindow {
  // total rows; rowHeight in px; viewport: px of the scroll area that rows can fill (its height
  // less a sticky header).
  constructor({ total, rowHeight, viewport, maxHeight = MAX_HEIGHT }) {
    this.total = total;
    this.rowHeight = rowHeight;
    this.viewport = Math.max(viewport, rowHeight);
    this.rowsShown = this.viewport / rowHeight;
    this.height = Math.min(total * rowHeight, maxHeight);
    const scrollRange = this.height - this.viewport;
    this.lastTop = Math.max(0, total - this.rowsShown); // the top row when scrolled to the end
    this.rowsPerPx = scrollRange > 0 ? this.lastTop / scrollRange : 0;
  }

  // The row (fractional) at the top of the viewport when scrolled to `scrollTop`.
  topAt(scrollTop) {
    return Math.min(Math.max(scrollTop * this.rowsPerPx, 0), this.lastTop);
  }

  scrollTopFor(top) {
    return this.rowsPerPx > 0 ? top / this.rowsPerPx : 0;
  }

  // The scrollTop that shows row `index` whole, moving as little as possible from `scrollTop`.
  // Rounded outwards: the browser keeps whole (or device) pixels, never half a row too few.
  reveal(index, scrollTop) {
    const top = this.topAt(scrollTop);
    if (index < top) return Math.floor(this.scrollTopFor(index));
    if (index + 1 > top + this.rowsShown) return Math.ceil(this.scrollTopFor(index + 1 - this.rowsShown));
    return scrollTop;
  }

  // Rows start..end-1 to build (the visible ones and `buffer` more either side) and the heights
  // of the spacers above and below them, which keep the scroll height at `height`.
  slice(scrollTop, buffer) {
    const at = this.topAt(scrollTop);
    const start = Math.max(0, Math.floor(at) - buffer);
    const end = Math.min(this.total, Math.ceil(at + this.rowsShown) + buffer);
    // Row `at` sits at the top of the viewport: start*rowHeight when not compressed.
    const above = Math.max(0, Math.min(scrollTop, this.height) - (at - start) * this.rowHeight);
    const below = Math.max(0, this.height - above - (end - start) * this.rowHeight);
    return { start, end, above, below };
  }
}
