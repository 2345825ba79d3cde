// "Save progress" and "Finish and export": the page says where the files went.

export class OutputsDialog {
  // elements: {dialog, csv, report, summary, broken, close} (main.js)
  constructor(elements) {
    this.el = elements;
    elements.close.addEventListener("click", () => elements.dialog.close());
  }

  show(result) {
    const { dialog, csv, report, summary, broken, close } = this.el;
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
    dialog.showModal();
    close.focus();
  }
}
