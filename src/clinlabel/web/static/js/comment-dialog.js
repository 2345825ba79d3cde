// The comment dialog of labels that need one (the seed's NA): the label goes to the image that
// was on screen when the key was pressed, whatever happens meanwhile.

export class CommentDialog {
  // elements: {dialog, form, text, error, title, imageLine, cancel} (main.js)
  constructor({ dialog, form, text, error, title, imageLine, cancel }) {
    this.dialog = dialog;
    this.form = form;
    this.text = text;
    this.error = error;
    this.title = title;
    this.imageLine = imageLine;
    this.onSave = null;
    this.form.addEventListener("submit", (event) => {
      event.preventDefault();
      this.save();
    });
    this.text.addEventListener("keydown", (event) => {
      // Ctrl+Enter (Cmd+Enter on a Mac) saves; Enter alone stays a new line in the textarea.
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        this.save();
      }
    });
    // No "close" listener clears `onSave`: that event is queued, and after Escape and a quick
    // second key press it would arrive after the next `open` and silently drop that save.
    cancel.addEventListener("click", () => this.dialog.close());
  }

  get isOpen() {
    return this.dialog.open;
  }

  open(labelName, view, onSave) {
    this.onSave = onSave;
    this.title.textContent = `Label as ${labelName}`;
    this.imageLine.textContent = `${view.case} / ${view.visit} / ${view.file}`;
    this.text.value = view.label === labelName ? view.comment : "";
    this.error.hidden = true;
    this.text.removeAttribute("aria-invalid");
    this.dialog.showModal();
    this.text.focus();
  }

  save() {
    const comment = this.text.value.trim();
    if (!comment) {
      this.error.textContent = "Type a comment: this label needs one.";
      this.error.hidden = false;
      this.text.setAttribute("aria-invalid", "true");
      this.text.focus();
      return;
    }
    const onSave = this.onSave;
    this.onSave = null;
    this.dialog.close();
    onSave?.(comment);
  }
}
