// The review table: every image with a thumbnail, case, visit, file, label, comment, annotator
// and time, sorted and filtered by the server; choosing a row opens that image, and a label key
// (or the row's label menu) relabels it through the labeller's own save path.
//
// A batch may hold hundreds of thousands of images, so the page holds only the rows near the
// visible part of the table: spacers above and below them give the scrollbar the height of all
// the rows (row-window.js), and rows come from the server a block at a time (review-pages.js).
// Rows have one fixed height (--review-row-height in app.css) so that the arithmetic holds.

import { get } from "./api.js";
import { ReviewPages } from "./review-pages.js";
import { RowWindow } from "./row-window.js";

// [sort key (null: not sortable), heading, width, numeric]; the comment takes the width left
// over. The widths add up to less than a 1280 px screen's dialog, so nothing scrolls sideways.
const COLUMNS = [
  ["position", "#", "4rem", true],
  [null, "Image", "5.5rem"],
  ["case", "Case", "8rem"],
  ["visit", "Visit", "6rem"],
  ["file", "File", "12rem"],
  ["label", "Label", "11rem"],
  ["comment", "Comment", ""],
  ["frames", "Frames, regions", "7.5rem"],
  ["annotator", "Annotator", "7rem"],
  ["seconds", "Time (s)", "4.5rem", true],
];
const THUMB = 1; // the column of the thumbnail
const LABEL = 5; // the column of the label menu
// Label colours when the schema gives none: the Okabe–Ito palette (told apart with the common
// colour-vision deficiencies), less its blue and black; each with dark text at >= 4.5:1. The
// label's name is always written too: colour is never the only sign.
const PALETTE = ["#E69F00", "#56B4E9", "#CC79A7", "#F0E442", "#009E73", "#D55E00"];
// A thumbnail is asked for once its row has been in view this long: a scroll through thousands
// of rows fetches none of the rows it passes.
const THUMB_SETTLE_MS = 150;
const UNLABELLED = "\u0000none"; // the label filter's "Unlabelled": no label name holds a NUL
const BUFFER = 8; // rows built beyond each edge of the viewport
const PREFETCH = 100; // rows asked for beyond each edge, so that a steady scroll rarely waits
const FETCH_EVERY_MS = 100; // a dragged scrollbar passes many blocks: ask at most this often

export class ReviewTable {
  // elements: {dialog, table, wrap, body, header, above, below, labelFilter, caseFilter, count,
  // close} (main.js)
  constructor(elements, { labels, onOpen, regions = false }) {
    this.labels = labels;
    this.link = null; // the labeller's side (connect)
    this.data = new WeakMap(); // <tr> -> its row from the server
    this.thumbTimers = new Map(); // <img> -> the timer that will load it
    this.thumbs = null; // the IntersectionObserver of thumbnails (thumbObserver)
    this.thumbsUnder = -1; // the header height it leaves out
    this.dialog = elements.dialog;
    this.table = elements.table;
    this.wrap = elements.wrap;
    this.body = elements.body;
    this.header = elements.header;
    this.above = elements.above;
    this.below = elements.below;
    this.labelFilter = elements.labelFilter;
    this.caseFilter = elements.caseFilter;
    // Images with or without regions, in a project whose schema declares region classes.
    this.regionFilter = elements.regionFilter;
    elements.regionFilterLabel.hidden = !regions;
    this.regionFilter.hidden = !regions;
    this.count = elements.count;
    this.onOpen = onOpen;
    this.sort = { key: "position", dir: "asc" };
    this.rows = new Map(); // index in the current order -> its <tr>, for the rows built
    this.start = 0; // rows start..end-1 are built
    this.end = 0;
    this.fetchTimer = null;
    this.wanted = null; // the rows the last render asked for, sent when the timer allows
    this.pages = new ReviewPages({
      onLoad: () => this.render(),
      onError: (e) => this.failed(e),
      // Rows moved since they were read (another tab, a teammate): those built are read again.
      onMoved: () => {
        for (const tr of this.rows.values()) tr.dataset.stale = "true";
        this.render();
      },
    });
    fillSelect(this.labelFilter, [["", "All labels"], [UNLABELLED, "Unlabelled"], ...labels.map((l) => [l.name, l.name])]);
    fillSelect(this.regionFilter, [["", "With or without regions"], ["with", "With regions"], ["without", "Without regions"]]);
    for (const select of [this.labelFilter, this.caseFilter, this.regionFilter]) {
      select.addEventListener("change", () => this.reload().catch((e) => this.failed(e)));
    }
    elements.close.addEventListener("click", () => this.dialog.close());
    this.wrap.addEventListener("scroll", () => this.render(), { passive: true });
    new ResizeObserver(() => this.render()).observe(this.wrap);
    this.body.addEventListener("click", (event) => {
      if (event.target.closest("select")) return; // the label menu, not the row
      const tr = event.target.closest("tr.row");
      if (tr) this.choose(tr);
    });
    this.body.addEventListener("change", (event) => {
      const select = event.target.closest("select.label-select");
      const tr = select?.closest("tr.row");
      if (tr) this.relabel(tr, select.value || null).catch((e) => this.failed(e));
    });
    this.body.addEventListener("keydown", (event) => this.key(event));
    // Tab or a click may focus a row that the sticky header hides.
    this.body.addEventListener("focusin", (event) => {
      const tr = event.target.closest("tr.row");
      if (tr && this.pages.total != null) this.wrap.scrollTop = this.window().reveal(Number(tr.dataset.index), this.wrap.scrollTop);
    });
    this.buildHeader();
    // The keys of the rows, where the user looks (help has them too).
    const hint = document.createElement("p");
    hint.className = "hint review-keys";
    hint.textContent = `↑ ↓ move · Enter opens the image · ${labels.map((l) => l.key).join(" ")} relabel · Delete clears`;
    this.count.after(hint);
  }

  buildHeader() {
    this.header.setAttribute("aria-rowindex", "1");
    this.header.replaceChildren(
      ...COLUMNS.map(([key, title, width]) => {
        const th = document.createElement("th");
        th.scope = "col";
        if (width) th.style.width = width;
        if (!key) {
          th.textContent = title;
          return th;
        }
        th.dataset.key = key;
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
      // Keyboard focus goes to the rows (the image on screen, when the order shows it), unless
      // the user has moved it meanwhile.
      if (document.activeElement === this.labelFilter && this.pages.total) this.focusRow(this.firstFocus());
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
    for (const tr of this.rows.values()) this.forgetThumb(tr);
    this.body.replaceChildren();
    this.rows.clear();
    this.start = this.end = 0;
    setSpacer(this.above, 0);
    setSpacer(this.below, 0);
    this.table.setAttribute("aria-rowcount", "-1"); // unknown until the server answers
    this.wrap.scrollTop = 0;
    for (const th of this.header.children) {
      if (!th.dataset.key) continue;
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
    if (this.regionFilter.value) params.set("regions", this.regionFilter.value);
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
      this.forgetThumb(tr);
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
      if (!tr.dataset.position || tr.dataset.stale) {
        const row = this.pages.row(index);
        if (row) this.fillRow(tr, row);
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
    if (event.target.closest("select")) return; // the menu's own keys
    const def = event.ctrlKey ? null : this.labels.find((l) => l.key.toLowerCase() === event.key.toLowerCase());
    if (def || event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      if (!event.repeat) this.relabel(tr, def ? def.name : null).catch((e) => this.failed(e));
      return;
    }
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

  // The row to focus when the table opens: the image on screen if the order is by position and
  // nothing is filtered out, else the first row.
  firstFocus() {
    const position = this.link?.current() ?? null;
    const unfiltered = !this.labelFilter.value && !this.caseFilter.value && !this.regionFilter.value && this.sort.key === "position";
    if (position === null || !unfiltered || position > this.pages.total) return 0;
    return this.sort.dir === "asc" ? position - 1 : this.pages.total - position;
  }

  // The labeller's side (main.js): `current()` the position on screen, `thumbnail(row)` the URL of
  // a row's rendition, `comment` the comment dialog, `save(row, label, comment)` saves through
  // the labeller's queue and resolves when the queue has been answered.
  connect(link) {
    this.link = link;
  }

  // A label key, Delete or the row's menu: the label goes through the labeller's save path, then
  // the rows on screen are read again from the server (what it stored, or the old label if it
  // refused: the status bar says why).
  async relabel(tr, label) {
    const row = this.data.get(tr);
    if (!row || !this.link) return;
    const def = this.labels.find((l) => l.name === label);
    let comment = null;
    if (def?.requires_comment) {
      comment = await askComment(this.link.comment, def.name, row);
      if (comment === null) {
        this.showLabel(tr, row.label); // cancelled: nothing changes
        return;
      }
    } else if ((row.label ?? null) === label) {
      return;
    }
    // What this row holds from now on, until the server's rows come back: a second key on the
    // row compares with it, not with the label before the first.
    this.data.set(tr, { ...row, label, comment: comment ?? "" });
    this.showLabel(tr, label, { saving: true });
    try {
      await this.link.save(row, label, comment);
    } finally {
      this.refreshRows();
    }
  }

  // The rows built are read again (same order, filters and scroll); focus stays where it is.
  refreshRows() {
    if (!this.dialog.open) return;
    this.pages.reset(this.query());
    for (const tr of this.rows.values()) tr.dataset.stale = "true";
    this.pages.want(this.start, Math.max(this.end, this.start + 1));
  }

  fillRow(tr, r) {
    this.data.set(tr, r);
    tr.dataset.position = r.position;
    delete tr.dataset.stale;
    tr.classList.remove("loading");
    // Labels given to single frames, e.g. "7: NA; 12: Suspicious".
    // and how many regions the annotator drew on the image, e.g. "7: NA · 3 regions".
    const labelled = (r.frame_labels ?? []).map((f) => `${f.frame}: ${f.label}`).join("; ");
    const drawn = r.regions ? `${r.regions} region${r.regions === 1 ? "" : "s"}` : "";
    const frames = [labelled, drawn].filter(Boolean).join(" · ");
    const seconds = r.seconds == null ? "" : r.seconds.toFixed(1);
    // A reviewer's table in a reading study: the annotator column names each reader of the
    // image with their label ("—": not read yet), and says so in its header.
    const readers = (r.readers ?? []).map((x) => `${x.reader}: ${x.label ?? "—"}`).join(" · ");
    if (readers) this.header.querySelector("th[data-key='annotator'] button").textContent = "Readers";
    const values = [r.position, null, r.case, r.visit, r.file, null, r.comment, frames, readers || (r.annotator ?? ""), seconds];
    for (const [i, value] of values.entries()) {
      if (value === null) continue;
      const td = tr.children[i];
      td.textContent = value;
      // Cells are one line high and cut long text: the whole of it shows on hover.
      if (!COLUMNS[i][3] && value) td.title = value;
      else td.removeAttribute("title");
    }
    if (r.sealed) this.showSealed(tr);
    else this.showLabel(tr, r.label);
    this.showThumb(tr, r);
  }

  // A study's first read whose repeat is still to come: read, the label not shown (blinded).
  showSealed(tr) {
    const td = tr.children[LABEL];
    const text = document.createElement("span");
    text.className = "sealed-read";
    text.textContent = "Read · hidden";
    td.replaceChildren(text);
    td.title = "Your label stays hidden until you have read this image's repeat";
  }

  // The label as a menu in the label's colour, its name written in it.
  showLabel(tr, label, { saving = false } = {}) {
    const td = tr.children[LABEL];
    let select = td.querySelector("select");
    if (!select) {
      select = document.createElement("select");
      select.className = "label-select";
      select.tabIndex = -1; // keyboard users press the label key on the row
      td.replaceChildren(select);
    }
    // Named by the image's position (the row says the rest), not with "Label" or a case name,
    // which the table's filters are named by.
    select.setAttribute("aria-label", `Classify image ${tr.dataset.position}`);
    const names = this.labels.map((l) => l.name);
    if (label && !names.includes(label)) names.push(label); // a label from outside the schema (import)
    fillSelect(select, [["", "—"], ...names.map((n) => [n, n])]);
    select.value = label ?? "";
    const colour = this.colourOf(label);
    select.classList.toggle("has-label", Boolean(colour));
    if (colour) select.style.setProperty("--label-colour", colour);
    else select.style.removeProperty("--label-colour");
    tr.classList.toggle("saving", saving);
    tr.setAttribute("aria-busy", String(saving));
    td.title = saving ? `${label ?? "Cleared"}: saving…` : label ?? "Not labelled";
  }

  colourOf(label) {
    if (!label) return null;
    const index = this.labels.findIndex((l) => l.name === label);
    const def = this.labels[index];
    if (def?.colour) return def.colour; // a schema that names its colours
    return index >= 0 ? PALETTE[index % PALETTE.length] : "#b9bfc8";
  }

  // The thumbnail's address is set now; its image is fetched only once the row has stayed in
  // view (thumbsSeen).
  showThumb(tr, r) {
    const td = tr.children[THUMB];
    const url = this.link?.thumbnail(r);
    if (!url) return;
    let img = td.querySelector("img");
    if (img && img.dataset.src === url) return;
    if (!img) {
      img = document.createElement("img");
      img.className = "thumb";
      img.alt = ""; // the row names the file
      img.decoding = "async";
      img.addEventListener("error", () => td.classList.add("no-thumb"));
      td.replaceChildren(img);
    }
    td.classList.remove("no-thumb");
    const observer = this.thumbObserver();
    observer.unobserve(img);
    img.removeAttribute("src");
    img.dataset.src = url;
    observer.observe(img);
  }

  // Rows count as in view below the sticky header only (rows pass under it); a header of
  // another height (a resized window wraps its headings) gets a new observer.
  thumbObserver() {
    const under = this.table.tHead.offsetHeight;
    if (this.thumbs && under === this.thumbsUnder) return this.thumbs;
    this.thumbs?.disconnect();
    this.thumbsUnder = under;
    this.thumbs = new IntersectionObserver((entries) => this.thumbsSeen(entries), { root: this.wrap, rootMargin: `-${under}px 0px 0px 0px` });
    for (const img of this.body.querySelectorAll("img.thumb")) this.thumbs.observe(img);
    return this.thumbs;
  }

  thumbsSeen(entries) {
    for (const { target: img, isIntersecting } of entries) {
      clearTimeout(this.thumbTimers.get(img));
      this.thumbTimers.delete(img);
      if (!isIntersecting || img.getAttribute("src") === img.dataset.src) continue;
      const timer = setTimeout(() => {
        this.thumbTimers.delete(img);
        if (img.isConnected) img.src = img.dataset.src;
      }, THUMB_SETTLE_MS);
      this.thumbTimers.set(img, timer);
    }
  }

  forgetThumb(tr) {
    const img = tr.querySelector("img.thumb");
    if (!img) return;
    this.thumbs?.unobserve(img);
    clearTimeout(this.thumbTimers.get(img));
    this.thumbTimers.delete(img);
    img.removeAttribute("src"); // a fetch still running for a row scrolled away is dropped
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

// The comment a label needs, from the comment dialog over the table: the text, or null if it
// was cancelled. The dialog calls back before its close event, which settles the answer.
function askComment(dialog, name, row) {
  return new Promise((resolve) => {
    let given = null;
    dialog.open(name, row, (text) => (given = text));
    dialog.dialog.addEventListener("close", () => resolve(given), { once: true });
  });
}
