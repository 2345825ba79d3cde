// "Save progress" and "Finish and export": the page says where the files went.

export function showExport(result) {
  const dialog = document.getElementById("outputs-dialog");
  const csv = document.getElementById("outputs-csv");
  const report = document.getElementById("outputs-report");
  csv.textContent = result.csv;
  csv.href = result.csv_url;
  report.textContent = result.report;
  report.href = result.report_url;
  document.getElementById("outputs-summary").textContent = result.report_text;
  dialog.showModal();
  document.getElementById("outputs-close").focus();
}

export function wireOutputs() {
  const dialog = document.getElementById("outputs-dialog");
  document.getElementById("outputs-close").addEventListener("click", () => dialog.close());
}
