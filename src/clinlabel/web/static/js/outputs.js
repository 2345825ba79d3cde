// "Save progress" and "Finish and export": the page says where the files went. Finishing shows
// the review table first, with a bar that says how many images are still unlabelled and offers
// "Next unlabelled" or "Export anyway"; after the export the session ends and the page says
// what to do next. When the project's schema declares region classes, the bar also offers the
// region exports that make sense for it (GET /api/outputs/formats: COCO, PNG masks, NIfTI only
// with volumes, DICOM SEG only with DICOM files...), none ticked: the CSV flow stays as it was.

import { get } from "./api.js";

export class OutputsDialog {
  // elements: {dialog, csv, report, summary, broken, next, close} (main.js)
  constructor(elements) {
    this.el = elements;
    elements.close.addEventListener("click", () => elements.dialog.close());
  }

  // `ended`: the session was ended after this export (Finish); the page says what to do next.
  show(result, { ended = false } = {}) {
    const { dialog, csv, report, summary, broken, next, close } = this.el;
    // A broken trail is said first and plainly, as the CLI's export exits 1 with it: these files
    // were written, but nothing in them can be relied on until `clinlabel audit verify` passes.
    broken.hidden = result.trail_ok;
    broken.textContent = result.trail_ok
      ? ""
      : `The audit trail is BROKEN (${result.trail_problem}). These files were written, but do not rely on them until "clinlabel audit verify" passes.`;
    csv.textContent = result.csv;
    csv.href = result.csv_url;
    report.textContent = result.report;
    report.href = result.report_url;
    summary.textContent = result.report_text;
    this.showRegionExports(result.region_exports ?? []);
    next.hidden = !ended;
    next.textContent = ended ? ENDED : "";
    dialog.showModal();
    close.focus();
  }

  // One line per region export Finish wrote, below the CSV and the report: what, how many, where.
  showRegionExports(exports) {
    const list = this.el.csv.closest("ul");
    for (const old of list.querySelectorAll("li.region-export")) old.remove();
    for (const e of exports) {
      const item = document.createElement("li");
      item.className = "region-export";
      item.dataset.format = e.name;
      const where = document.createElement("code");
      where.textContent = e.folder;
      const leftOut = e.left_out ? `; ${e.left_out} left out (${e.title} has no place for them)` : "";
      item.append(`${e.title}: ${e.regions} region(s) in ${e.files} file(s), in `, where, leftOut);
      list.append(item);
    }
  }
}

export const ENDED = "Your labelling session has ended and everything is saved. Close this tab, then press Ctrl+C in the terminal to stop clinlabel.";

// The bar shown above the review table while finishing. It lives in the review dialog only
// while that is open for finishing, so the review table itself stays as it is.
export class FinishBar {
  constructor(reviewDialog, { onNextUnlabelled, onExport }) {
    this.dialog = reviewDialog;
    this.bar = document.createElement("div");
    this.bar.className = "finish-bar";
    this.bar.setAttribute("role", "group");
    this.bar.setAttribute("aria-label", "Finish and export");
    this.text = document.createElement("p");
    this.text.setAttribute("role", "status");
    this.nextButton = button("Next unlabelled", () => {
      this.dialog.close();
      onNextUnlabelled();
    });
    this.exportButton = button("Export", () => {
      const formats = this.chosenFormats();
      this.dialog.close();
      onExport(formats);
    });
    this.exportButton.classList.add("primary");
    // The region exports on offer, filled in once (the project's schema does not change).
    this.formats = document.createElement("fieldset");
    this.formats.className = "finish-formats";
    this.formats.hidden = true;
    this.offered = null;
    this.bar.append(this.text, this.nextButton, this.exportButton, this.formats);
    // Closed any way (Escape, Close, a row chosen): not finishing any more.
    this.dialog.addEventListener("close", () => this.bar.remove());
  }

  // `progress`: {total, labelled, remaining} of this annotator.
  show(progress) {
    const left = progress.remaining;
    this.nextButton.hidden = left === 0;
    if (left) {
      this.text.textContent = `${left} of ${progress.total} image(s) are not labelled yet. Check the table, then go on labelling or export anyway.`;
      this.exportButton.textContent = "Export anyway";
    } else {
      this.text.textContent = `All ${progress.total} images are labelled. Check the table, then export.`;
      this.exportButton.textContent = "Export";
    }
    this.dialog.prepend(this.bar);
    // The safe choice has the focus: Enter never exports an unfinished batch by accident.
    (left ? this.nextButton : this.exportButton).focus();
    this.loadFormats();
  }

  // Asked once; when it cannot be asked, the bar offers the labels CSV only (as before).
  loadFormats() {
    if (this.offered) return this.offered;
    this.offered = get("/api/outputs/formats")
      .then((formats) => this.fillFormats(formats))
      .catch(() => {
        this.offered = null;
      });
    return this.offered;
  }

  fillFormats(formats) {
    if (!formats.length) return;
    const legend = document.createElement("legend");
    legend.textContent = "Also export the regions as";
    this.formats.replaceChildren(legend);
    for (const f of formats) {
      const label = document.createElement("label");
      label.title = `${f.description}. Written into ${f.folder}`;
      const box = document.createElement("input");
      box.type = "checkbox";
      box.value = f.name;
      label.append(box, ` ${f.title}`);
      this.formats.append(label);
    }
    const where = document.createElement("p");
    where.className = "finish-formats-where";
    const parent = formats[0].folder.replace(/[\\/][^\\/]*$/, "");
    where.textContent = `Written into ${parent}, one folder per format.`;
    this.formats.append(where);
    this.formats.hidden = false;
  }

  chosenFormats() {
    return [...this.formats.querySelectorAll("input:checked")].map((box) => box.value);
  }
}

function button(text, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.addEventListener("click", onClick);
  return b;
}
