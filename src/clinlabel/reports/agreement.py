"""Agreement between readers as text (the terminal, the summary report's section) and as the
`clinlabel-agreement/1` JSON document. Pure renderers over `stats.agreement_study`."""

from __future__ import annotations

import textwrap
from typing import Any

from clinlabel.reports.tables import render_fields, render_table, safe_text
from clinlabel.stats.agreement import BOOTSTRAP_REPLICATES, Estimate
from clinlabel.stats.agreement_study import AgreementStudy

FORMAT = "clinlabel-agreement/1"
SECTION_TITLE = "Appendix A. Agreement between readers"
INTRA_NOTE = (
    "Intra-rater (test-retest) agreement needs images shown twice to the same reader: "
    "none has a repeat read yet (`clinlabel study assign --repeats F` schedules them)."
)
_RULE = "=" * 78


# ---- JSON -------------------------------------------------------------------------------------


def _percent(estimate: Estimate) -> float | None:
    return None if estimate.value is None else 100.0 * estimate.value


def _ci(estimate: Estimate) -> list[float] | None:
    return None if estimate.ci is None else [estimate.ci[0], estimate.ci[1]]


def _coefficient(estimate: Estimate, name: str, *, ci: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {name: estimate.value, "n": estimate.n}
    if ci:
        out["ci"] = _ci(estimate)
    out["band"] = estimate.band
    if estimate.value is None:
        out["note"] = estimate.note
    return out


def agreement_document(study: AgreementStudy) -> dict[str, Any]:
    """The `--json` document: the issue's keys, plus bands, notes and the breakdowns.

    Percentages are 0-100; an undefined coefficient is null with a `note` saying why.
    """
    pairs = []
    for pair in study.pairs:
        entry = {
            "a": pair.a,
            "b": pair.b,
            "n": pair.kappa.n,
            "kappa": pair.kappa.value,
            "ci": _ci(pair.kappa),
            "se": pair.kappa.se,
            "percent": _percent(pair.percent),
            "matrix": pair.matrix.tolist(),
            "band": pair.kappa.band,
        }
        if pair.kappa.value is None:
            entry["note"] = pair.kappa.note
        pairs.append(entry)
    krippendorff = _coefficient(study.krippendorff, "alpha", ci=True)
    krippendorff["bootstrap"] = {
        "method": "percentile, images resampled with replacement",
        "replicates": BOOTSTRAP_REPLICATES,
        "seed": study.seed,
    }
    return {
        "format": FORMAT,
        "readers": list(study.readers),
        "labels": list(study.labels),
        "images": study.images,
        "pairs": pairs,
        "fleiss": _coefficient(study.fleiss, "kappa"),
        "krippendorff": krippendorff,
        "percent": {"value": _percent(study.percent), "n": study.percent.n},
        "per_label": [
            {"label": item.label, "reads": item.reads, **_coefficient(item.kappa, "kappa")}
            for item in study.per_label
        ],
        "per_case": [
            {
                "case": item.case,
                "images": item.images,
                "unanimous": item.unanimous,
                "percent": _percent(item.percent),
                **_coefficient(item.alpha, "alpha"),
            }
            for item in study.per_case
        ],
        "majority": [
            {
                "reader": item.reader,
                "ties": item.ties,
                "percent": _percent(item.percent),
                **_coefficient(item.kappa, "kappa", ci=True),
            }
            for item in study.majority
        ],
        "intra": [
            {
                "reader": item.reader,
                "n": item.kappa.n,
                "kappa": item.kappa.value,
                "ci": _ci(item.kappa),
                "percent": _percent(item.percent),
                "matrix": item.matrix.tolist(),
                "band": item.kappa.band,
                **({"note": item.kappa.note} if item.kappa.value is None else {}),
            }
            for item in study.intra
        ],
    }


# ---- text -------------------------------------------------------------------------------------


def _value(estimate: Estimate) -> str:
    if estimate.value is None:
        return "undefined"
    return f"{estimate.value:.3f}"


def _interval(estimate: Estimate) -> str:
    if estimate.ci is None:
        return ""
    return f"{estimate.ci[0]:.3f} to {estimate.ci[1]:.3f}"


def _pct(estimate: Estimate) -> str:
    return "n/a" if estimate.value is None else f"{100.0 * estimate.value:.1f} %"


def _band(estimate: Estimate) -> str:
    return estimate.band or "-"


def _all(readers: tuple[str, ...]) -> str:
    return "both readers" if len(readers) == 2 else f"all {len(readers)} readers"


def _notes(estimates: list[tuple[str, Estimate]]) -> list[str]:
    return [f"  {what}: {e.note}." for what, e in estimates if e.value is None and e.note]


def render_agreement(study: AgreementStudy) -> list[str]:
    """The agreement figures as aligned plain-text lines (no title)."""
    out = render_fields(
        [
            ("Readers", ", ".join(safe_text(r) for r in study.readers)),
            ("Labels", ", ".join(safe_text(label) for label in study.labels)),
            ("Images read", f"{study.images:,}"),
            ("Percent agreement", f"{_pct(study.percent)} of pairs of reads "
             f"({study.percent.n:,} images read twice or more)"),
            ("Fleiss' kappa", f"{_value(study.fleiss)}  {_band(study.fleiss)}  "
             f"({study.fleiss.n:,} images read by {_all(study.readers)})"),
            ("Krippendorff's alpha", f"{_value(study.krippendorff)}  "
             f"{_band(study.krippendorff)}  95 % CI {_interval(study.krippendorff) or 'n/a'}"),
            ("", f"(nominal, missing reads allowed; {study.krippendorff.n:,} images)"),
        ]
    )  # fmt: skip
    out += _notes([("Fleiss' kappa", study.fleiss), ("Krippendorff's alpha", study.krippendorff)])
    out += ["", "  Cohen's kappa per pair of readers (95 % CI: asymptotic standard error)"]
    out += render_table(
        ["Reader A", "Reader B", "Images", "Kappa", "95 % CI", "Agreement", "Landis & Koch"],
        [
            [safe_text(p.a), safe_text(p.b), f"{p.kappa.n:,}", _value(p.kappa),
             _interval(p.kappa), _pct(p.percent), _band(p.kappa)]
            for p in study.pairs
        ],
        right=[False, False, True, True, False, True, False],
    )  # fmt: skip
    out += _notes([(f"{p.a} / {p.b}", p.kappa) for p in study.pairs])
    for pair in study.pairs:
        out += ["", f"  Confusion matrix: rows {safe_text(pair.a)}, columns {safe_text(pair.b)}"]
        out += render_table(
            ["", *(safe_text(label) for label in study.labels)],
            [
                [safe_text(label), *(f"{int(v):,}" for v in row)]
                for label, row in zip(study.labels, pair.matrix, strict=True)
            ],
            right=[False, *([True] * len(study.labels))],
        )
    out += ["", "  Per label (Fleiss' kappa of the label against all others)"]
    out += render_table(
        ["Label", "Reads", "Images", "Kappa", "Landis & Koch"],
        [
            [safe_text(i.label), f"{i.reads:,}", f"{i.kappa.n:,}", _value(i.kappa),
             _band(i.kappa)]
            for i in study.per_label
        ],
        right=[False, True, True, True, False],
    )  # fmt: skip
    out += _notes([(i.label, i.kappa) for i in study.per_label])
    out += ["", "  Each reader against the majority of the other readers (ties left out)"]
    out += render_table(
        ["Reader", "Images", "Kappa", "95 % CI", "Agreement", "Ties", "Landis & Koch"],
        [
            [safe_text(m.reader), f"{m.kappa.n:,}", _value(m.kappa), _interval(m.kappa),
             _pct(m.percent), f"{m.ties:,}", _band(m.kappa)]
            for m in study.majority
        ],
        right=[False, True, True, False, True, True, False],
    )  # fmt: skip
    out += _notes([(m.reader, m.kappa) for m in study.majority])
    out += ["", "  Per case (Krippendorff's alpha over the case's images)"]
    out += render_table(
        ["Case", "Images", "Unanimous", "Agreement", "Alpha", "Landis & Koch"],
        [
            [safe_text(c.case), f"{c.images:,}", f"{c.unanimous:,}", _pct(c.percent),
             _value(c.alpha), _band(c.alpha)]
            for c in study.per_case
        ],
        right=[False, True, True, True, True, False],
    )  # fmt: skip
    out += [""]
    if study.intra:
        out += [
            "  Intra-rater (test-retest): each reader's first read against their blinded repeat"
        ]
        out += render_table(
            ["Reader", "Images", "Kappa", "95 % CI", "Agreement", "Landis & Koch"],
            [
                [safe_text(i.reader), f"{i.kappa.n:,}", _value(i.kappa), _interval(i.kappa),
                 _pct(i.percent), _band(i.kappa)]
                for i in study.intra
            ],
            right=[False, True, True, False, True, False],
        )  # fmt: skip
        out += _notes([(i.reader, i.kappa) for i in study.intra])
    else:
        out += textwrap.wrap(INTRA_NOTE, width=78, initial_indent="  ", subsequent_indent="  ")
    out += [""]
    out += textwrap.wrap(
        "Bands: Landis & Koch (1977). Undefined: no variation to measure chance agreement "
        "against, or no image to rest on. Alpha's interval: percentile bootstrap over images, "
        f"{BOOTSTRAP_REPLICATES:,} replicates, seed {study.seed}.",
        width=78, initial_indent="  ", subsequent_indent="  ",
    )  # fmt: skip
    return out


def render_agreement_text(study: AgreementStudy) -> str:
    """What `clinlabel agreement` prints on a terminal."""
    title = "Agreement between readers"
    return "\n".join([title, "=" * len(title), *render_agreement(study), ""])


def team_csv_note(adjudicated: int, agreed: int, unresolved: int) -> list[str]:
    """What a team project's labels CSV holds, said in the report (issue 13)."""
    text = (
        "The labels CSV of this team project has one row per image with its adjudicated "
        f"label: {adjudicated:,} images adjudicated (the reviewer's label and reason), "
        f"{agreed:,} on which every reader who read it agreed (that label), and "
        f"{unresolved:,} on which the readers disagree and no one has adjudicated yet (the "
        "label is empty; the comment names each reader's label). `clinlabel export --readers` "
        "writes every reader's label side by side; `--detailed`, one row per read."
    )
    return textwrap.wrap(text, width=78, initial_indent="  ", subsequent_indent="  ")


def insert_report_section(
    report_text: str, study: AgreementStudy, *, team_csv: tuple[int, int, int] | None = None
) -> str:
    """The summary report's text with the agreement section placed before its closing rule;
    `team_csv` (adjudicated, agreed, unresolved images) says what the team's CSV holds."""
    section = ["", "", SECTION_TITLE.upper(), "-" * len(SECTION_TITLE)]
    if team_csv is not None:
        section += [*team_csv_note(*team_csv), ""]
    section += [*render_agreement(study), ""]
    closing = f"\n{_RULE}\nEnd of report."
    head, found, tail = report_text.rpartition(closing)
    if not found:
        return report_text.rstrip("\n") + "\n" + "\n".join(section) + "\n"
    return head + "\n".join(section) + found + tail
