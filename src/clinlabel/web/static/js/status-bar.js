// The top bar and banners: who labels into which project, position, progress (also in the tab's
// title), save state, errors, notices, the case and visit banner.

export class StatusBar {
  // elements: {saveStatus, errorBanner, errorText, errorDismiss, notice, caseBanner, position,
  // progressText, progressBar, who} (main.js)
  constructor(elements) {
    this.saveStatus = elements.saveStatus;
    this.errorBanner = elements.errorBanner;
    this.errorText = elements.errorText;
    this.noticeLine = elements.notice;
    this.banner = elements.caseBanner;
    this.positionText = elements.position;
    this.progressText = elements.progressText;
    this.progressBar = elements.progressBar;
    this.who = elements.who;
    this.batchName = "";
    this.lastProgress = null;
    this.retrying = false;
    elements.errorDismiss.addEventListener("click", () => {
      this.errorBanner.hidden = true;
    });
  }

  position(position, total) {
    this.positionText.textContent = `Image ${position} of ${total}`;
  }

  // The session's annotator and project (the start page or the command line chose them): in the
  // header, so a shared laptop never labels under the wrong name or into the wrong folder unseen.
  identify({ annotator, project_dir: projectDir, batch }) {
    const name = document.createElement("strong");
    name.textContent = annotator ?? "";
    const project = document.createElement("span");
    project.className = "who-project";
    project.textContent = lastPart(projectDir ?? "");
    project.title = projectDir ?? ""; // the whole path on hover
    this.who.replaceChildren("Labelling as ", name, " into ", project);
    this.who.title = `Annotator: ${annotator}\nProject folder: ${projectDir}\nBatch: ${batch}`;
    this.batchName = lastPart(batch ?? "");
    this.showTitle();
  }

  progress(p) {
    this.progressText.textContent = `${p.labelled} of ${p.total} labelled (${p.percent.toFixed(1)}%)`;
    this.progressBar.value = p.percent;
    this.lastProgress = p;
    this.showTitle();
  }

  // The tab's title carries the progress, so it shows among other tabs and in the task bar.
  showTitle() {
    const p = this.lastProgress;
    const counted = p ? `${p.labelled}/${p.total} · ` : "";
    document.title = `${counted}clinlabel${this.batchName ? ` — ${this.batchName}` : ""}`;
  }

  // Called for each image shown (`previous`: the image shown before, or null). Only a step
  // forward into another case or visit raises the banner; going back hides it, since the
  // annotator is returning to images already seen. It lies over the image's path line, so the
  // label buttons never move under the pointer when it appears.
  caseBanner(previous, current) {
    if (!previous || previous.position === current.position) return;
    const forward = current.position > previous.position;
    let text = null;
    if (forward && previous.case !== current.case) {
      text = `New case: ${current.case}, ${current.visit} (previous image was ${previous.case})`;
    } else if (forward && previous.visit !== current.visit) {
      text = `New visit: ${current.visit} of ${current.case}`;
    }
    this.banner.hidden = text === null;
    if (text !== null) this.banner.textContent = text;
  }

  // The save line never says "saved" while a change is queued, being retried or was refused.
  // `labels`: label changes not yet answered (with keys waiting for their image); `failed`:
  // changes the server refused; `kept`: whether waiting changes survive a reload (IndexedDB).
  // `kept`: where the waiting changes are: "stored" in this browser, "storing" (being written
  // there), or held by the "page" only (no IndexedDB, or the browser refused to store them).
  queueChanged({ error, retryInMs }, { labels, regions = 0, failed, kept }) {
    const where = {
      stored: "kept in this browser until the server has them",
      storing: "being written to this browser's storage",
      page: "held by this page only: keep it open",
    }[kept];
    // Regions are changes too: a region waiting is not "No label waiting".
    const waiting = [(labels || !regions) && `${labels} label change(s)`, regions && `${regions} region change(s)`].filter(Boolean).join(" and ");
    if (error) {
      this.retrying = true;
      const retry = `Retrying in ${Math.round(retryInMs / 100) / 10} s`;
      const text =
        error.kind === "token"
          ? `Not saved yet: ${error.message} Open the link printed in the terminal in this browser. ${waiting} waiting, ${where}.`
          : `Not saved yet: ${error.message} ${retry}; ${waiting} waiting, ${where}.`;
      // A move or a touch may be what is retried, with no change waiting.
      this.saveStatus.textContent =
        labels || regions
          ? `Not saved yet: ${waiting} waiting`
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
    if (regions) parts.push(`Saving ${regions} region change(s)…`);
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

// The last part of a path, whether the server runs on POSIX or Windows.
function lastPart(path) {
  const parts = path.split(/[\\/]+/).filter(Boolean);
  return parts.length ? parts[parts.length - 1] : path;
}
