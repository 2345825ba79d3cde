// The study dashboard: tables and charts drawn as SVG by hand (no library, no network), asked
// for again every few seconds while the tab is visible, so the lead sees people work.
import { request } from "./api.js";

const SVG = "http://www.w3.org/2000/svg";
const POLL_MS = 5000;
const $ = (id) => document.getElementById(id);
let timer = null;

function svgNode(name, attributes, text) {
  const node = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

function number(value, digits = 0) {
  if (value === null || value === undefined) return "–";
  return value.toLocaleString("en", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

function duration(seconds) {
  const minutes = Math.round(seconds / 60);
  const hours = Math.floor(minutes / 60);
  return hours ? `${hours} h ${minutes % 60} min` : `${minutes} min`;
}

function rows(tbody, lines) {
  tbody.replaceChildren(
    ...lines.map((cells) => {
      const row = document.createElement("tr");
      for (const text of cells) {
        const cell = document.createElement("td");
        cell.textContent = text;
        row.append(cell);
      }
      return row;
    }),
  );
}

// Horizontal bars, one per item: `value` (and, lighter behind it, an optional `target`).
function barChart(svg, items, { label, value, target = null, suffix = "" }) {
  const rowHeight = 22;
  const left = 160;
  const width = 640;
  const height = Math.max(1, items.length) * rowHeight + 10;
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  const top = (item) => Math.max(value(item), target ? target(item) : 0);
  const max = Math.max(1, ...items.map(top));
  const span = width - left - 80;
  const nodes = [];
  items.forEach((item, i) => {
    const y = 5 + i * rowHeight;
    nodes.push(svgNode("text", { x: left - 6, y: y + 14, "text-anchor": "end" }, label(item)));
    if (target) {
      nodes.push(svgNode("rect", { x: left, y, width: (span * target(item)) / max, height: rowHeight - 6, class: "bar", opacity: 0.3 }));
    }
    nodes.push(svgNode("rect", { x: left, y, width: (span * value(item)) / max, height: rowHeight - 6, class: "bar-done", "data-name": label(item) }));
    nodes.push(svgNode("text", { x: left + (span * top(item)) / max + 6, y: y + 14 }, `${number(value(item))}${suffix}`));
  });
  svg.replaceChildren(...nodes);
}

// Vertical bars per UTC day, stacked by reader (in the readers' order), the day's total above.
function dayChart(svg, days, readers) {
  const byDay = new Map();
  for (const d of days) {
    if (!byDay.has(d.day)) byDay.set(d.day, new Map());
    byDay.get(d.day).set(d.reader, d.labels);
  }
  const width = 640;
  const height = 180;
  const bottom = height - 24;
  const list = [...byDay.keys()];
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("width", width);
  svg.setAttribute("height", height);
  const totals = list.map((day) => [...byDay.get(day).values()].reduce((a, b) => a + b, 0));
  const max = Math.max(1, ...totals);
  const step = Math.min(60, (width - 40) / Math.max(1, list.length));
  const nodes = [svgNode("line", { x1: 30, y1: bottom, x2: width - 5, y2: bottom, class: "axis" })];
  list.forEach((day, i) => {
    let y = bottom;
    const x = 34 + i * step;
    const order = [...readers, ...[...byDay.get(day).keys()].filter((r) => !readers.includes(r))];
    order.forEach((reader, r) => {
      const count = byDay.get(day).get(reader) || 0;
      if (!count) return;
      const h = ((bottom - 20) * count) / max;
      y -= h;
      nodes.push(svgNode("rect", { x, y, width: step - 6, height: h, class: "bar", opacity: 1 - (r % 4) * 0.2, "data-day": day }));
    });
    nodes.push(svgNode("text", { x: x + (step - 6) / 2, y: y - 4, "text-anchor": "middle" }, number(totals[i])));
    nodes.push(svgNode("text", { x: x + (step - 6) / 2, y: height - 8, "text-anchor": "middle" }, day.slice(5)));
  });
  if (!list.length) nodes.push(svgNode("text", { x: 40, y: 60 }, "No label given yet."));
  svg.replaceChildren(...nodes);
}

function render(data) {
  $("dash-na-head").textContent = `NA rate (${data.na_labels.join(", ") || "none"})`;
  rows(
    $("dash-readers").tBodies[0],
    data.readers.map((r) => [
      r.reader,
      r.assigned === null ? number(r.done) : `${number(r.done)} of ${number(r.assigned)}`,
      number(r.per_hour, 1),
      number(r.median_seconds, 1),
      r.na_rate === null ? "–" : `${number(100 * r.na_rate, 1)} %`,
      r.consensus_percent === null ? "–" : `${number(r.consensus_percent, 1)} % of ${number(r.consensus_n)}`,
      duration(r.active_seconds),
      // Repeats apart: the columns before are of first reads only.
      r.repeats_assigned === null ? "–" : `${number(r.repeats_done)} of ${number(r.repeats_assigned)}`,
    ]),
  );
  barChart($("dash-readers-chart"), data.readers, {
    label: (r) => r.reader,
    value: (r) => r.done,
    target: data.study ? (r) => r.assigned : null,
  });
  dayChart($("dash-days-chart"), data.days, data.readers.map((r) => r.reader));
  barChart($("dash-cases-chart"), data.cases, { label: (c) => c.case, value: (c) => c.percent, suffix: " %" });
  rows(
    $("dash-cases").tBodies[0],
    data.cases.map((c) => [c.case, number(c.images), number(c.done), number(c.expected), `${number(c.percent, 1)} %`]),
  );
  $("dash-updated").textContent = `Updated ${new Date(data.generated_at).toLocaleTimeString()}`;
}

async function refresh() {
  clearTimeout(timer);
  try {
    render(await request("GET", "/api/dashboard"));
    $("dash-error").hidden = true;
  } catch (error) {
    $("dash-error").textContent = `${error.message} (trying again)`;
    $("dash-error").hidden = false;
  } finally {
    clearTimeout(timer);
    if (!document.hidden) timer = setTimeout(refresh, POLL_MS);
  }
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden) refresh();
});
refresh();
