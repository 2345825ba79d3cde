// The background rescan's status line: "Checking the batch for new and missing files… 12,000 of
// 100,000", then "Batch checked: 3 new, 1 missing." or "Batch checked: no changes."
//
// `clinlabel label` on an existing project serves the page at once and checks the batch
// meanwhile (GET /api/rescan, see web/routes/rescan.py). If the check changed the queue (new
// images inserted, missing ones taken out), positions moved under this page: it reloads its view
// of the queue once no label change is on its way and no dialog is open (a change still waiting
// is kept in this browser across the reload), and the server shows the same image at its new
// place. A page opened after the check finished just shows the result.

import { get } from "./api.js";

const POLL_MS = 1000;
const RUNNING = new Set(["waiting", "running", "applying"]);

// `after`: the element the status line is placed after (the save status in the top bar).
// `labeller`: the page's Labeller, asked whether label changes are still on their way.
export function watchRescan(after, labeller) {
  const line = document.createElement("p");
  line.id = "rescan-status";
  line.className = "rescan-status";
  line.setAttribute("role", "status");
  line.setAttribute("aria-live", "polite");
  line.hidden = true;
  after.after(line);
  let sawRunning = false;

  const poll = async () => {
    let status;
    try {
      status = await get("/api/rescan");
    } catch {
      setTimeout(poll, POLL_MS * 5); // the server is away for a moment: the save line says so
      return;
    }
    if (status.state === "none") return;
    line.hidden = false;
    line.dataset.state = status.state;
    line.textContent = status.message;
    if (RUNNING.has(status.state)) {
      sawRunning = true;
      setTimeout(poll, POLL_MS);
      return;
    }
    if (status.applied && sawRunning) {
      line.textContent = `${status.message} Updating the queue…`;
      reloadWhenIdle(labeller);
    }
  };
  poll();
  return line;
}

function reloadWhenIdle(labeller) {
  const busy = labeller.queue.countOf("label") > 0 || document.querySelector("dialog[open]") !== null;
  if (busy) {
    setTimeout(() => reloadWhenIdle(labeller), POLL_MS);
    return;
  }
  location.reload();
}
