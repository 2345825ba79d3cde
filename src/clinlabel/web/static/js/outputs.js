// "Save progress" and "Finish and export": the page says where the files went. Finishing shows
// the review table first, with a bar that says how many images are still unlabelled and offers
// "Next unlabelled" or "Export anyway"; after the export the session ends and the page says
// what to do next.

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
    next.hidden = !ended;
    next.textContent = ended ? ENDED : "";
    dialog.showModal();
    close.focus();
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
      this.dialog.close();
      onExport();
    });
    this.exportButton.classList.add("primary");
    this.bar.append(this.text, this.nextButton, this.exportButton);
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
  }
}

function button(text, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.addEventListener("click", onClick);
  return b;
}
