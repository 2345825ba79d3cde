// The start page of the seed's workflow: batch, output folder, annotator name, start.

import { post } from "./api.js";

// elements: {section, form, error, dir, name, batch} (main.js)
export function askToStart(session, { section, form, error, dir, name, batch }) {
  return new Promise((resolve) => {
    batch.textContent = session.batch;
    dir.value = session.project_dir ?? session.suggested_project_dir;
    name.value = session.annotator ?? "";
    section.hidden = false;
    (name.value ? dir : name).focus();
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      error.hidden = true;
      if (!dir.value.trim() || !name.value.trim()) {
        error.textContent = "Fill in both the output folder and the annotator name.";
        error.hidden = false;
        return;
      }
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      try {
        const opened = await post("/api/session", { project_dir: dir.value.trim(), annotator: name.value.trim() });
        section.hidden = true;
        resolve(opened);
      } catch (e) {
        error.textContent = e.message;
        error.hidden = false;
      } finally {
        button.disabled = false;
      }
    });
  });
}
