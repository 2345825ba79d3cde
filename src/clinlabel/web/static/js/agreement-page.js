// The agreement page: `clinlabel agreement --json`, asked of this server (same functions, same
// figures) and laid out as tables. An undefined coefficient shows a dash and the reason.
import { request } from "./api.js";

const $ = (id) => document.getElementById(id);

function fixed(value, digits = 3) {
  return value === null || value === undefined ? "–" : value.toFixed(digits);
}

function interval(ci) {
  return ci ? `${fixed(ci[0])} to ${fixed(ci[1])}` : "–";
}

function percent(value) {
  return value === null || value === undefined ? "–" : `${value.toFixed(1)} %`;
}

// A coefficient's value, or a dash with the reason it is undefined (e.g. one category only).
function valueOf(entry, key) {
  return entry[key] === null || entry[key] === undefined ? `– (${entry.note ?? "undefined"})` : fixed(entry[key]);
}

function fill(tbody, lines) {
  tbody.replaceChildren(
    ...lines.map((cells) => {
      const row = document.createElement("tr");
      for (const text of cells) {
        const cell = document.createElement("td");
        cell.textContent = String(text);
        row.append(cell);
      }
      return row;
    }),
  );
}

function matrix(pair, labels) {
  const table = document.createElement("table");
  table.className = "dash-table agr-matrix";
  const caption = document.createElement("caption");
  caption.textContent = `${pair.a} (rows) against ${pair.b} (columns)`;
  const head = document.createElement("tr");
  head.append(document.createElement("th"), ...labels.map((name) => Object.assign(document.createElement("th"), { scope: "col", textContent: name })));
  const body = pair.matrix.map((counts, i) => {
    const row = document.createElement("tr");
    row.append(Object.assign(document.createElement("th"), { scope: "row", textContent: labels[i] }));
    for (const count of counts) row.append(Object.assign(document.createElement("td"), { textContent: String(count) }));
    return row;
  });
  table.append(caption, head, ...body);
  return table;
}

function show(doc) {
  $("agr-summary").textContent = `${doc.readers.length} readers (${doc.readers.join(", ")}) · ${doc.images} images read by two or more`;
  const k = doc.krippendorff;
  fill($("agr-overall").tBodies[0], [
    ["Fleiss' kappa", valueOf(doc.fleiss, "kappa"), "–", doc.fleiss.n, doc.fleiss.band ?? "–"],
    ["Krippendorff's alpha (nominal)", valueOf(k, "alpha"), interval(k.ci), k.n, k.band ?? "–"],
    ["Percent agreement", percent(doc.percent.value), "–", doc.percent.n, "–"],
  ]);
  fill($("agr-pairs").tBodies[0], doc.pairs.map((p) => [`${p.a} – ${p.b}`, p.n, valueOf(p, "kappa"), interval(p.ci), percent(p.percent), p.band ?? "–"]));
  $("agr-matrices").replaceChildren(...doc.pairs.map((p) => matrix(p, doc.labels)));
  fill($("agr-majority").tBodies[0], doc.majority.map((m) => [m.reader, m.n, valueOf(m, "kappa"), interval(m.ci), percent(m.percent), m.ties]));
  const intra = doc.intra.length ? doc.intra.map((r) => [r.reader, r.n, valueOf(r, "kappa"), interval(r.ci), percent(r.percent), r.band ?? "–"]) : [["No repeat reads yet (clinlabel study assign --repeats F schedules them)", "", "", "", "", ""]];
  fill($("agr-intra").tBodies[0], intra);
  fill($("agr-labels").tBodies[0], doc.per_label.map((l) => [l.label, l.reads, valueOf(l, "kappa")]));
  fill($("agr-cases").tBodies[0], doc.per_case.map((c) => [c.case, c.images, c.unanimous, percent(c.percent), valueOf(c, "alpha")]));
}

async function load() {
  try {
    const labels = new URLSearchParams(location.search).get("labels");
    show(await request("GET", `/api/agreement${labels ? `?labels=${encodeURIComponent(labels)}` : ""}`));
  } catch (error) {
    // A refusal (one reader only; a reader whose first reads are sealed) is one line, not a
    // page of empty tables.
    $("agr-summary").textContent = "No figures";
    $("agr-error").textContent = error.message;
    $("agr-error").hidden = false;
    $("agr-main").hidden = true;
  }
}

load();
