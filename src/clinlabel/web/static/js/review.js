// The review table: every image with case, visit, file, label, comment, annotator and time,
// sorted and filtered by the server; choosing a row opens that image.
//
// A batch may hold hundreds of thousands of images, so the page holds only the rows near the
// visible part of the table: spacers above and below them give the scrollbar the height of all
// the rows (row-window.js), and rows come from the server a block at a time (review-pages.js).
// Rows have one fixed height (--review-row-height in app.css) so that the arithmetic holds.

import { get } from "./api.js";
import { ReviewPages } from "./review-pages.js";
import { RowWindow } from "./row-window.js";

// [sort key, heading, width, numeric]; the comment takes the width left over.
const COLUMNS = [
  ["position", "#", "5rem", true],
  ["case", "Case", "9rem"],
  ["visit", "Visit", "7rem"],
  ["file", "File", "15rem"],
  ["label", "Label", "9rem"],
  ["comment", "Comment", ""],
  ["frames", "Frame labels", "11rem"],
  ["annotator", "Annotator", "9rem"],
  ["seconds", "Time (s)", "6rem", true],
];
const UNLABELLED = "\u0000none"; // the label filter's "Unlabelled": no label name holds a NUL
const BUFFER = 8; // rows built beyond each edge of the viewport
const PREFETCH = 100; // rows asked for beyond each edge, so that a steady scroll rarely waits
const FETCH_EVERY_MS = 100; // a dragged scrollbar passes many blocks: ask at most this often

export class ReviewTable {
  // elements: {dialog, table, wrap, body, header, above, below, labelFilter, caseFilter, count,
  // close} (main.js)
  constructor(elements, { labels, onOpen }) {
    this.dialog = elements.dialog;
    this.table = elements.table;
    this.wrap = elements.wrap;
    this.body = elements.body;
    this.header = elements.header;
    this.above = elements.above;
    this.below = elements.below;
    this.labelFilter = elements.labelFilter;
    this.caseFilter = elements.caseFilter;
    this.count = elements.count;
    this.onOpen = onOpen;
    this.sort = { key: "position", dir: "asc" };
    this.rows = new Map(); // index in the current order -> its <tr>, for the rows built
    this.start = 0; // rows start..end-1 are built
    this.end = 0;
    this.fetchTimer = null;
    this.wanted = null; // the rows the last render asked for, sent when the timer allows
    this.pages = new ReviewPages({ onLoad: () => this.render(), onError: (e) => this.failed(e) });
    fillSelect(this.labelFilter, [["", "All labels"], [UNLABELLED, "Unlabelled"], ...labels.map((l) => [l.name, l.name])]);
    for (const select of [this.labelFilter, this.caseFilter]) {
      select.addEventListener("change", () => this.reload().catch((e) => this.failed(e)));
    }
    elements.close.addEventListener("click", () => this.dialog.close());
    this.wrap.addEventListener("scroll", () => this.render(), { passive: true });
    new ResizeObserver(() => this.render()).observe(this.wrap);
    this.body.addEventListener("click", (event) => {
      const tr = event.target.closest("tr.row");
      if (tr) this.choose(tr);
    });
    this.body.addEventListener("keydown", (event) => this.key(event));
    // Tab or a click may focus a row that the sticky header hides.
    this.body.addEventListener("focusin", (event) => {
      const tr = event.target.closest("tr.row");
      if (tr && this.pages.total != null) this.wrap.scrollTop = this.window().reveal(Number(tr.dataset.index), this.wrap.scrollTop);
    });
    this.buildHeader();
  }

  buildHeader() {
    this.header.setAttribute("aria-rowindex", "1");
    this.header.replaceChildren(
      ...COLUMNS.map(([key, title, width]) => {
        const th = document.createElement("th");
        th.scope = "col";
        th.dataset.key = key;
        if (width) th.style.width = width;
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = title;
        button.addEventListener("click", () => {
          const dir = this.sort.key === key && this.sort.dir === "asc" ? "desc" : "asc";
          this.sort = { key, dir };
          this.reload().catch((e) => this.failed(e));
        });
        th.append(button);
        return th;
      }),
    );
  }

  // `saved`: resolves when the labels given so far have reached the server, so that the
  // table shows them (a label key then R at once must not show the image unlabelled).
  async open(saved = Promise.resolve()) {
    this.count.textContent = "Loading…";
    this.dialog.showModal();
    this.labelFilter.focus();
    try {
      const timer = setTimeout(() => (this.count.textContent = "Waiting for the last labels to be saved…"), 150);
      await saved;
      clearTimeout(timer);
      this.count.textContent = "Loading…";
      const cases = await get("/api/review/cases");
      const chosen = this.caseFilter.value;
      fillSelect(this.caseFilter, [["", "All cases"], ...cases.map((c) => [c, c])]);
      this.caseFilter.value = cases.includes(chosen) ? chosen : "";
      // Labels may have changed since the table was last open: nothing kept is reused.
      await this.reload();
    } catch (error) {
      this.failed(error);
      throw error;
    }
  }

  // A new order or filter: the rows kept so far are dropped and the first block is fetched.
  async reload() {
    this.pages.reset(this.query());
    this.wanted = null;
    if (this.body.contains(document.activeElement)) this.wrap.focus({ preventScroll: true });
    this.body.replaceChildren();
    this.rows.clear();
    this.start = this.end = 0;
    setSpacer(this.above, 0);
    setSpacer(this.below, 0);
    this.table.setAttribute("aria-rowcount", "-1"); // unknown until the server answers
    this.wrap.scrollTop = 0;
    for (const th of this.header.children) {
      const sorted = th.dataset.key === this.sort.key;
      th.setAttribute("aria-sort", sorted ? (this.sort.dir === "asc" ? "ascending" : "descending") : "none");
    }
    this.count.textContent = "Loading…";
    await this.pages.load(0); // renders when it arrives, unless another change came first
  }

  query() {
    const params = new URLSearchParams({ sort: this.sort.key, dir: this.sort.dir });
    const label = this.labelFilter.value;
    if (label === UNLABELLED) params.set("unlabelled", "true");
    else if (label) params.set("label", label);
    if (this.caseFilter.value) params.set("case", this.caseFilter.value);
    return params.toString();
  }

  window() {
    const style = getComputedStyle(this.table);
    const rowHeight = parseFloat(style.getPropertyValue("--review-row-height")) || 32;
    const viewport = this.wrap.clientHeight - this.table.tHead.offsetHeight;
    return new RowWindow({ total: this.pages.total, rowHeight, viewport });
  }

  // Builds the rows near the viewport, reusing those already built (a focused row keeps focus),
  // fills those whose data has come, and asks for the rest.
  render() {
    const total = this.pages.total;
    if (!this.dialog.open || total == null) return;
    this.count.textContent = `${total} of ${this.pages.all} images`;
    this.table.setAttribute("aria-rowcount", String(total + 1)); // the header is row 1
    const { start, end, above, below } = this.window().slice(this.wrap.scrollTop, BUFFER);
    setSpacer(this.above, above);
    setSpacer(this.below, below);
    for (const [index, tr] of this.rows) {
      if (index >= start && index < end) continue;
      // Keyboard focus stays in the table when its row scrolls far away.
      if (tr.contains(document.activeElement)) this.wrap.focus({ preventScroll: true });
      tr.remove();
      this.rows.delete(index);
    }
    // The rows kept are a run inside start..end-1: new ones go before or after it.
    const keptFrom = this.rows.size ? Math.max(start, this.start) : end;
    const before = [];
    const after = [];
    for (let index = start; index < end; index += 1) {
      let tr = this.rows.get(index);
      if (!tr) {
        tr = emptyRow(index);
        this.rows.set(index, tr);
        (index < keptFrom ? before : after).push(tr);
      }
      if (!tr.dataset.position) {
        const row = this.pages.row(index);
        if (row) fillRow(tr, row);
      }
    }
    this.body.prepend(...before);
    this.body.append(...after);
    this.start = start;
    this.end = end;
    this.fetchSoon(Math.max(0, start - PREFETCH), Math.min(total, end + PREFETCH));
  }

  // At most one round of requests per FETCH_EVERY_MS, the last range asked for winning.
  fetchSoon(from, to) {
    this.wanted = [from, to];
    if (this.fetchTimer) return;
    this.pages.want(from, to);
    this.wanted = null;
    this.fetchTimer = setTimeout(() => {
      this.fetchTimer = null;
      if (this.wanted && this.pages.total != null) this.pages.want(...this.wanted);
      this.wanted = null;
    }, FETCH_EVERY_MS);
  }

  key(event) {
    const tr = event.target.closest("tr.row");
    if (!tr || event.altKey || event.metaKey) return;
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      this.choose(tr);
      return;
    }
    const total = this.pages.total;
    if (total == null) return;
    const index = Number(tr.dataset.index);
    const page = Math.max(1, Math.floor(this.window().rowsShown) - 1);
    const target = { ArrowDown: index + 1, ArrowUp: index - 1, PageDown: index + page, PageUp: index - page, Home: 0, End: total - 1 }[event.key];
    if (target === undefined) return;
    event.preventDefault();
    this.focusRow(Math.min(Math.max(target, 0), total - 1));
  }

  focusRow(index) {
    this.wrap.scrollTop = this.window().reveal(index, this.wrap.scrollTop);
    this.render(); // now, not on the scroll event: the row must exist to take focus
    this.rows.get(index)?.focus({ preventScroll: true });
  }

  choose(tr) {
    if (!tr.dataset.position) return; // still loading
    this.dialog.close();
    this.onOpen(Number(tr.dataset.position));
  }

  failed(error) {
    this.count.textContent = `Cannot load the review table: ${error.message}`;
  }
}

// A row whose data has not come yet: focusable and counted already, filled in place later.
function emptyRow(index) {
  const tr = document.createElement("tr");
  tr.className = "row loading";
  tr.tabIndex = 0;
  tr.dataset.index = index;
  tr.setAttribute("aria-rowindex", String(index + 2));
  for (const [, , , numeric] of COLUMNS) {
    const td = document.createElement("td");
    if (numeric) td.className = "num";
    tr.append(td);
  }
  tr.firstChild.textContent = "…";
  return tr;
}

function fillRow(tr, r) {
  tr.dataset.position = r.position;
  tr.classList.remove("loading");
  // Labels given to single frames, e.g. "7: NA; 12: Suspicious".
  const frames = (r.frame_labels ?? []).map((f) => `${f.frame}: ${f.label}`).join("; ");
  const seconds = r.seconds == null ? "" : r.seconds.toFixed(1);
  const values = [r.position, r.case, r.visit, r.file, r.label ?? "—", r.comment, frames, r.annotator ?? "", seconds];
  for (const [i, value] of values.entries()) {
    const td = tr.children[i];
    td.textContent = value;
    // Cells are one line high and cut long text: the whole of it shows on hover.
    if (!COLUMNS[i][3] && value) td.title = value;
  }
}

function setSpacer(td, height) {
  td.style.height = `${height}px`;
  td.closest("tbody").hidden = height === 0;
}

function fillSelect(select, options) {
  select.replaceChildren(
    ...options.map(([value, text]) => {
      const option = document.createElement("option");
      option.value = value;
      option.textContent = text;
      return option;
    }),
  );
}
