// The top bar and banners: position, progress, save state, errors, notices, the case banner.

export class StatusBar {
  // elements: {saveStatus, errorBanner, errorText, errorDismiss, notice, caseBanner, position,
  // progressText, progressBar} (main.js)
  constructor(elements) {
    this.saveStatus = elements.saveStatus;
    this.errorBanner = elements.errorBanner;
    this.errorText = elements.errorText;
    this.noticeLine = elements.notice;
    this.banner = elements.caseBanner;
    this.positionText = elements.position;
    this.progressText = elements.progressText;
    this.progressBar = elements.progressBar;
    this.retrying = false;
    elements.errorDismiss.addEventListener("click", () => {
      this.errorBanner.hidden = true;
    });
  }

  position(position, total) {
    this.positionText.textContent = `Image ${position} of ${total}`;
  }

  progress(p) {
    this.progressText.textContent = `${p.labelled} of ${p.total} labelled (${p.percent.toFixed(1)}%)`;
    this.progressBar.value = p.percent;
  }

  caseBanner(previousCase, currentCase) {
    if (previousCase && previousCase !== currentCase) {
      this.banner.textContent = `New case: ${currentCase} (previous image was ${previousCase})`;
      this.banner.hidden = false;
    } else if (previousCase) {
      this.banner.hidden = true;
    }
  }

  // The save line never says "saved" while a change is queued, being retried or was refused.
  // `labels`: label changes not yet answered (with keys waiting for their image); `failed`:
  // changes the server refused; `kept`: whether waiting changes survive a reload (IndexedDB).
  queueChanged({ error, retryInMs }, { labels, failed, kept }) {
    const where = kept ? "kept in this browser until the server has them" : "held by this page only: keep it open";
    if (error) {
      this.retrying = true;
      const retry = `Retrying in ${Math.round(retryInMs / 100) / 10} s`;
      const text =
        error.kind === "token"
          ? `Not saved yet: ${error.message} Open the link printed in the terminal in this browser. ${labels} label change(s) waiting, ${where}.`
          : `Not saved yet: ${error.message} ${retry}; ${labels} label change(s) waiting, ${where}.`;
      // A move or a touch may be what is retried, with no label waiting.
      this.saveStatus.textContent = labels
        ? `Not saved yet: ${labels} label change(s) waiting`
        : `No label waiting${failed ? `, ${failed} NOT saved` : ""}; reconnecting to the server…`;
      this.saveStatus.classList.add("is-error");
      this.error(text);
      return;
    }
    if (this.retrying) {
      this.retrying = false;
      this.errorBanner.hidden = true;
    }
    const parts = [];
    if (labels) parts.push(`Saving ${labels} label change(s)…`);
    if (failed) parts.push(`${failed} label(s) NOT saved`);
    this.saveStatus.classList.toggle("is-error", failed > 0);
    this.saveStatus.textContent = parts.length ? parts.join("; ") : "All labels saved";
  }

  error(text) {
    this.errorText.textContent = text;
    this.errorBanner.hidden = false;
  }

  notice(text) {
    this.noticeLine.textContent = text;
    this.noticeLine.hidden = false;
  }
}
