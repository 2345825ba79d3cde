// The start page of the seed's workflow: batch, output folder, annotator name, start.

import { post } from "./api.js";

// What the page says about the project this batch was labelled into last time (if any).
function rememberedNote(remembered, chosen) {
  if (!remembered) return "";
  if (!remembered.exists) {
    return `The project ${remembered.project_dir} chosen for this batch on ${remembered.chosen_on} is no longer there; choose where to keep a new one.`;
  }
  if (chosen === remembered.project_dir) {
    return `This is the project this batch was labelled into (chosen on ${remembered.chosen_on}); Start carries on where you stopped.`;
  }
  return "";
}

// elements: {section, form, error, note, dir, name, batch} (main.js)
export function askToStart(session, { section, form, error, note, dir, name, batch }) {
  return new Promise((resolve) => {
    batch.textContent = session.batch;
    dir.value = session.project_dir ?? session.suggested_project_dir;
    name.value = session.annotator ?? "";
    note.textContent = rememberedNote(session.remembered, dir.value);
    note.hidden = !note.textContent;
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
      const body = { project_dir: dir.value.trim(), annotator: name.value.trim() };
      try {
        let opened;
        try {
          opened = await post("/api/session", body);
        } catch (e) {
          // The batch has a project elsewhere: a second, empty one only if the annotator says so.
          if (e.kind !== "other_project") throw e;
          if (!window.confirm(e.message)) {
            if (session.remembered?.exists) dir.value = session.remembered.project_dir;
            error.textContent = "Not started. The output folder is the earlier project again: Start carries on with it.";
            error.hidden = false;
            return;
          }
          opened = await post("/api/session", { ...body, other_project: true });
        }
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
