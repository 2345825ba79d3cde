// The adjudication page: a reviewer's queue, each reader's label beside the image, the final
// label with a reason. Keyboard first, as labelling: a label's key gives the final label (and
// moves on), N the next image still to adjudicate, arrows move, R types the reason.
import { request } from "./api.js";

const $ = (id) => document.getElementById(id);
const state = { items: [], labels: [], index: 0, scope: "disagreements", saving: false };

function showError(message) {
  const banner = $("adj-error");
  banner.textContent = message;
  banner.hidden = !message;
}

async function load(keepImage) {
  const current = state.items[state.index]?.image_id;
  const data = await request("GET", `/api/adjudication?scope=${encodeURIComponent(state.scope)}`);
  state.items = data.items;
  state.labels = data.labels;
  $("adj-who").textContent = `Reviewer: ${data.reviewer}`;
  renderButtons();
  let index = keepImage ? state.items.findIndex((item) => item.image_id === current) : -1;
  if (index < 0) index = firstOpen(0);
  state.index = Math.max(0, index);
  render();
}

function firstOpen(from) {
  const n = state.items.length;
  for (let step = 0; step < n; step += 1) {
    const i = (from + step) % n;
    if (!state.items[i].final) return i;
  }
  return -1;
}

function renderButtons() {
  const box = $("adj-buttons");
  box.replaceChildren(
    ...state.labels.map((label) => {
      const button = document.createElement("button");
      button.type = "button";
      button.dataset.label = label.name;
      button.append(document.createTextNode(`${label.name} `));
      const key = document.createElement("kbd");
      key.textContent = label.key;
      button.append(key);
      button.addEventListener("click", () => decide(label.name));
      return button;
    }),
  );
}

function render() {
  const total = state.items.length;
  const done = state.items.filter((item) => item.final).length;
  $("adj-progress").textContent = `${done} of ${total} adjudicated`;
  $("adj-empty").hidden = total > 0;
  $("adj-main").hidden = total === 0;
  document.title = `${done}/${total} adjudicated – clinlabel`;
  if (!total) return;
  const item = state.items[state.index];
  $("adj-where").textContent = `${state.index + 1} of ${total} · ${item.case} / ${item.visit} / ${item.file}`;
  const img = $("adj-img");
  img.src = `/api/images/${item.image_id}/rendition`;
  img.alt = `${item.case} ${item.visit} ${item.file}`;
  $("adj-reads").replaceChildren(
    ...item.reads.map((read) => {
      const row = document.createElement("tr");
      for (const text of [read.reader, read.label, read.comment]) {
        const cell = document.createElement("td");
        cell.textContent = text;
        row.append(cell);
      }
      if (item.disagree && read.label !== item.consensus) row.classList.add("adj-differs");
      return row;
    }),
  );
  $("adj-consensus").textContent = item.consensus
    ? `Majority: ${item.consensus}${item.disagree ? " (readers disagree)" : " (readers agree)"}`
    : "No majority: the readers are split evenly.";
  const final = item.final;
  $("adj-final").textContent = final
    ? `${final.label} — by ${final.reviewer}${final.reason ? `: ${final.reason}` : ""}`
    : "Not adjudicated yet.";
  for (const button of $("adj-buttons").children) {
    button.setAttribute("aria-pressed", String(final?.label === button.dataset.label));
  }
  $("adj-reason").value = final ? final.reason : "";
}

async function decide(label) {
  if (state.saving || !state.items.length) return;
  const item = state.items[state.index];
  state.saving = true;
  try {
    const saved = await request("PUT", `/api/adjudication/${item.image_id}`, {
      label,
      reason: $("adj-reason").value,
    });
    state.items[state.index] = saved;
    showError("");
    const next = firstOpen(state.index + 1);
    if (next >= 0) state.index = next;
    render();
  } catch (error) {
    showError(error.message);
  } finally {
    state.saving = false;
  }
}

function move(delta) {
  const n = state.items.length;
  if (!n) return;
  state.index = Math.min(n - 1, Math.max(0, state.index + delta));
  render();
}

document.addEventListener("keydown", (event) => {
  const typing = event.target instanceof HTMLTextAreaElement || event.target instanceof HTMLSelectElement;
  if (typing) {
    if (event.key === "Escape" && event.target.id === "adj-reason") {
      event.preventDefault();
      event.target.blur();
    }
    return;
  }
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const label = state.labels.find((l) => l.key === event.key);
  if (label) {
    event.preventDefault();
    decide(label.name);
  } else if (event.key === "n" || event.key === "N") {
    event.preventDefault();
    const next = firstOpen(state.index + 1);
    if (next >= 0) {
      state.index = next;
      render();
    }
  } else if (event.key === "ArrowRight") {
    event.preventDefault();
    move(1);
  } else if (event.key === "ArrowLeft") {
    event.preventDefault();
    move(-1);
  } else if (event.key === "r" || event.key === "R") {
    event.preventDefault();
    $("adj-reason").focus();
  }
});

$("adj-scope").addEventListener("change", (event) => {
  state.scope = event.target.value;
  event.target.blur();
  load(false).catch((error) => showError(error.message));
});

load(false).catch((error) => showError(error.message));
