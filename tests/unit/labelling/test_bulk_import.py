"""The import's quick checks and its one-pass event building (issue 12, bulk import) decide and
record exactly what the schema and the audit chain would: the same stored comment, the same
refusal with the same reason, the same event data text, a chain `audit verify` accepts."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from clinlabel.audit.chain import encode_data
from clinlabel.audit.log import verify_store
from clinlabel.errors import ValidationError
from clinlabel.labelling.importer import import_labels
from clinlabel.labelling.project import Project

from .conftest import LAYOUT

IMAGES = [f"{folder}/{name}".split("/", 2) for folder, names in LAYOUT.items() for name in names]

#: (label, comment) pairs that take the quick path, and ones that take the schema's own check.
PAIRS = [
    ("Suspicious", ""),
    ("NA", "  padded reason  "),
    ("NA", "   "),  # needs a comment: only spaces
    ("NA", "\u200b"),  # needs a comment: an invisible one
    ("Non-Suspicious", "tab\tinside"),
    ("Suspicious", "ünïcode  "),
    ("Suspicious", "bell\x07"),  # a control character
    ("Maybe", ""),  # not a label of the schema
    ("NA", "=SUM(A1)"),
]


def _expected(project: Project, label: str, comment: str) -> tuple[str, str] | str:
    try:
        return project.schema.validate(label, comment)
    except ValidationError as exc:
        return exc.message


@pytest.mark.parametrize("label, comment", PAIRS)
def test_each_row_is_judged_as_the_schema_judges_it(
    project: Project, tmp_path: Path, label: str, comment: str
) -> None:
    case, visit, file = IMAGES[0]
    path = tmp_path / "in.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([["case", "visit", "file", "label", "comment"],
                                      [case, visit, file, label, comment]])  # fmt: skip
    report = import_labels(project, path, annotator="Dr C", skip_unmatched=True)
    expected = _expected(project, label, comment)
    with project.store.read() as conn:
        stored = conn.exec_driver_sql("SELECT label, comment FROM labels").all()
    if isinstance(expected, str):
        assert [why for _, why in report.invalid] == [expected] and stored == []
    else:
        assert report.invalid == [] and [tuple(r) for r in stored] == [expected]


def test_every_imported_row_is_one_event_with_canonical_data_and_the_chain_verifies(
    project: Project, tmp_path: Path
) -> None:
    path = tmp_path / "in.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["case", "visit", "file", "label", "comment"])
        for k, (case, visit, file) in enumerate(IMAGES):
            writer.writerow([case, visit, file, "NA", f"reason {k} — ü"])
    report = import_labels(project, path, annotator="Dr C")
    assert report.imported == len(IMAGES)
    with project.store.read() as conn:
        rows = conn.exec_driver_sql(
            "SELECT data FROM events WHERE kind = 'label_saved' ORDER BY id"
        ).all()
    assert len(rows) == len(IMAGES)
    for (text,) in rows:
        data = json.loads(text)
        assert text == json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert data["new"]["comment"].startswith("reason ") and data["sha256"]
    assert verify_store(project.store).ok


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"b": 1, "a": [1, 2.5, None, True], "c": {"z": "ü", "y": '\u2028"q"\\'}},
        {"old": None, "new": {"label": "NA", "comment": "x"}, "source": {"line": 3}},
        {"n": float("inf"), "big": 10**30, "neg": -0.0},
    ],
)
def test_event_data_is_encoded_as_json_dumps_encodes_it(data: dict[str, Any]) -> None:
    assert encode_data(data) == json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def test_event_data_json_cannot_hold_fails_as_json_dumps_fails() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        encode_data({"path": Path("x")})
    looped: dict[str, Any] = {}
    looped["self"] = looped
    with pytest.raises(ValueError, match="Circular reference"):
        encode_data(looped)
    assert encode_data({"a": [1]}) == '{"a":[1]}'  # nothing left over from the failures


def test_an_image_or_a_frame_named_again_is_found_whichever_way_it_is_kept(
    project: Project, tmp_path: Path
) -> None:
    """Whole-file rows are remembered a bit per image, frame rows in a set: both find a row
    named again, and only for the same image and frame."""
    (case, visit, first), (_, _, second) = IMAGES[0], IMAGES[1]
    path = tmp_path / "in.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows(
            [
                ["case", "visit", "file", "label", "comment", "frame"],
                [case, visit, first, "Suspicious", "", ""],  # line 2
                [case, visit, first, "NA", "why", "2"],  # line 3: a frame of the same image
                [case, visit, second, "Suspicious", "", ""],  # line 4
                [case, visit, first, "Non-Suspicious", "", ""],  # line 5: line 2 again
                [case, visit, first, "NA", "why not", "2"],  # line 6: line 3 again
            ]
        )
    report = import_labels(project, path, annotator="Dr C", skip_unmatched=True)
    found = sorted(
        (d.frame, d.kept.line, [r.line for r in d.superseded]) for d in report.match.duplicates
    )
    assert found == [(0, 5, [2]), (2, 6, [3])]
