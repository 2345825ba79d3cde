// "Save progress" and "Finish and export": the page says where the files went.

export class OutputsDialog {
  // elements: {dialog, csv, report, summary, close} (main.js)
  constructor(elements) {
    this.el = elements;
    elements.close.addEventListener("click", () => elements.dialog.close());
  }

  show(result) {
    const { dialog, csv, report, summary, close } = this.el;
    csv.textContent = result.csv;
    csv.href = result.csv_url;
    report.textContent = result.report;
    report.href = result.report_url;
    summary.textContent = result.report_text;
    dialog.showModal();
    close.focus();
  }
}
