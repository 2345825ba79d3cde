// The review table: every image with case, visit, file, label, comment, annotator and time;
// sortable, filterable by label and case; choosing a row opens that image.

import { get } from "./api.js";

const COLUMNS = [
  ["position", "#", "num"],
  ["case", "Case"],
  ["visit", "Visit"],
  ["file", "File"],
  ["label", "Label"],
  ["comment", "Comment"],
  ["frames", "Frame labels"],
  ["annotator", "Annotator"],
  ["seconds", "Time (s)", "num"],
];
const PAGE = 5000;

export class ReviewTable {
  constructor({ labels, onOpen }) {
    this.dialog = document.getElementById("review-dialog");
    this.body = document.getElementById("review-body");
    this.header = document.getElementById("review-header");
    this.labelFilter = document.getElementById("filter-label");
    this.caseFilter = document.getElementById("filter-case");
    this.count = document.getElementById("review-count");
    this.onOpen = onOpen;
    this.rows = [];
    this.sort = { key: "position", dir: 1 };
    fillSelect(this.labelFilter, [["", "All labels"], ["\u0000none", "Unlabelled"], ...labels.map((l) => [l.name, l.name])]);
    this.labelFilter.addEventListener("change", () => this.render());
    this.caseFilter.addEventListener("change", () => this.render());
    document.getElementById("review-close").addEventListener("click", () => this.dialog.close());
    this.buildHeader();
  }

  buildHeader() {
    this.header.replaceChildren(
      ...COLUMNS.map(([key, title]) => {
        const th = document.createElement("th");
        th.scope = "col";
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = title;
        button.addEventListener("click", () => {
          this.sort = { key, dir: this.sort.key === key ? -this.sort.dir : 1 };
          this.render();
        });
        th.append(button);
        th.dataset.key = key;
        return th;
      }),
    );
  }

  async open(total) {
    this.count.textContent = "Loading…";
    this.dialog.showModal();
    const rows = [];
    for (let start = 1; start <= total; start += PAGE) rows.push(...(await get(`/api/queue?start=${start}&count=${PAGE}`)));
    // Labels given to single frames, e.g. "7: NA; 12: Suspicious" (sortable as text).
    this.rows = rows.map((r) => ({ ...r, frames: (r.frame_labels ?? []).map((f) => `${f.frame}: ${f.label}`).join("; ") }));
    const cases = [...new Set(rows.map((r) => r.case))];
    const chosen = this.caseFilter.value;
    fillSelect(this.caseFilter, [["", "All cases"], ...cases.map((c) => [c, c])]);
    this.caseFilter.value = cases.includes(chosen) ? chosen : "";
    this.render();
    this.labelFilter.focus();
  }

  render() {
    const label = this.labelFilter.value;
    const caseName = this.caseFilter.value;
    const { key, dir } = this.sort;
    const shown = this.rows
      .filter((r) => (label === "" ? true : label === "\u0000none" ? !r.label : r.label === label))
      .filter((r) => caseName === "" || r.case === caseName)
      .sort((a, b) => dir * compare(a[key], b[key]) || a.position - b.position);
    for (const th of this.header.children) {
      th.setAttribute("aria-sort", th.dataset.key === key ? (dir > 0 ? "ascending" : "descending") : "none");
    }
    this.body.replaceChildren(...shown.map((r) => this.row(r)));
    this.count.textContent = `${shown.length} of ${this.rows.length} images`;
  }

  row(r) {
    const tr = document.createElement("tr");
    tr.tabIndex = 0;
    tr.dataset.position = r.position;
    const cells = [r.position, r.case, r.visit, r.file, r.label ?? "—", r.comment, r.frames, r.annotator ?? "", r.seconds == null ? "" : r.seconds.toFixed(1)];
    for (const [i, value] of cells.entries()) {
      const td = document.createElement("td");
      td.textContent = value;
      if (COLUMNS[i][2]) td.className = "num";
      tr.append(td);
    }
    const open = () => {
      this.dialog.close();
      this.onOpen(r.position);
    };
    tr.addEventListener("click", open);
    tr.addEventListener("keydown", (e) => {
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault();
        open();
      }
    });
    return tr;
  }
}

function compare(a, b) {
  if (a == null && b == null) return 0;
  if (a == null) return 1;
  if (b == null) return -1;
  if (typeof a === "number") return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: "base" });
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
