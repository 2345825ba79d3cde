// The case diagnosis of a reading study (the schema's [[case_labels]]): asked once every image
// of a case has this reader's label. The server decides (`/api/study/cases/CASE`); the page asks
// after each label it saves, only in a project whose schema has case labels.
import { request } from "./api.js";

export class CaseDiagnosis {
  // elements: {dialog, title, buttons, comment, error, later} (main.js)
  constructor({ dialog, title, buttons, comment, error, later }, status) {
    this.dialog = dialog;
    this.title = title;
    this.buttons = buttons;
    this.comment = comment;
    this.error = error;
    this.status = status;
    this.labels = [];
    this.case = null;
    this.asked = new Set(); // cases put off with "Later" this session: asked again on a new label
    later.addEventListener("click", () => this.dialog.close());
    this.dialog.addEventListener("keydown", (event) => {
      if (event.target === this.comment || event.ctrlKey || event.metaKey || event.altKey) return;
      const label = this.labels.find((l) => l.key === event.key);
      if (label) {
        event.preventDefault();
        this.give(label);
      }
    });
  }

  async start() {
    const study = await request("GET", "/api/study");
    this.labels = study.case_labels;
    this.buttons.replaceChildren(
      ...this.labels.map((label) => {
        const button = document.createElement("button");
        button.type = "button";
        button.append(document.createTextNode(`${label.name} `));
        const key = document.createElement("kbd");
        key.textContent = label.key;
        button.append(key);
        button.addEventListener("click", () => this.give(label));
        return button;
      }),
    );
  }

  // After a label of `view` was saved: ask for its case's diagnosis if it is now due.
  async check(view) {
    if (!this.labels.length || this.dialog.open) return;
    try {
      const state = await request("GET", `/api/study/cases/${encodeURIComponent(view.case)}`);
      if (!state.asks_diagnosis || this.dialog.open) return;
      this.case = state.case;
      this.title.textContent = `Diagnosis of ${state.case} (all ${state.images} images labelled)`;
      this.comment.value = "";
      this.error.hidden = true;
      this.dialog.showModal();
    } catch (error) {
      this.status.error(`Cannot ask for the case diagnosis: ${error.message}`);
    }
  }

  async give(label) {
    try {
      await request("PUT", `/api/study/cases/${encodeURIComponent(this.case)}/diagnosis`, {
        label: label.name,
        comment: this.comment.value,
      });
      this.dialog.close();
      this.status.notice(`${this.case}: diagnosis ${label.name} saved.`);
    } catch (error) {
      this.error.textContent = error.message;
      this.error.hidden = false;
    }
  }
}
