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

  queueChanged({ error, retryInMs }, queue, keysWaiting = 0) {
    const labels = queue.countOf("label") + keysWaiting;
    if (error) {
      this.retrying = true;
      const text = `Not saved yet: ${error.message} Retrying in ${Math.round(retryInMs / 100) / 10} s; ${labels} label change(s) waiting. Keep this page open.`;
      this.saveStatus.textContent = "Not saved yet, retrying…";
      this.saveStatus.classList.add("is-error");
      this.error(text);
      return;
    }
    if (this.retrying) {
      this.retrying = false;
      this.errorBanner.hidden = true;
    }
    this.saveStatus.classList.remove("is-error");
    this.saveStatus.textContent = labels ? `Saving ${labels} label change(s)…` : "All labels saved";
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
