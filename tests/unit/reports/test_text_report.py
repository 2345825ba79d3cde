"""The summary report an ethics board reads: every section, the right figures, no crash on empty."""

from __future__ import annotations

import dataclasses
import json
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from clinlabel.reports import (
    AuditStatus,
    CaseStats,
    CommentEntry,
    ReportData,
    SessionSpan,
    render_json_report,
    render_text_report,
    write_json_report,
    write_text_report,
)
from clinlabel.reports.data import LabelDefinition, LeftOut, Unmasking
from clinlabel.reports.tables import display_width

T0 = datetime(2026, 11, 22, 10, 0, 0, tzinfo=UTC)
HEAD = "3f" * 32


def small_project() -> ReportData:
    """Ten images, four labelled; every figure below is worked out by hand in the tests."""
    return ReportData(
        batch_path="/data/Batch_01",
        project_path="/data/projects/batch01",
        generated_at=T0 + timedelta(hours=3),
        app_version="0.1.0",
        annotators=["dr.rao", "डॉ. शर्मा"],
        sessions=[
            SessionSpan("dr.rao", T0, T0 + timedelta(hours=1), 330),
            SessionSpan("डॉ. शर्मा", T0 + timedelta(hours=2), None, -180),  # open: runs to 13:00
        ],
        total_images=10,
        labelled_images=4,
        label_names=["Suspicious", "Non-Suspicious", "NA"],
        comment_required=["NA"],
        per_label={"Suspicious": 2, "Non-Suspicious": 1, "NA": 1},
        cases=[
            CaseStats("Case_001", 6, 3, {"Suspicious": 2, "NA": 1}, 100.0),
            CaseStats("病例_002", 4, 1, {"Non-Suspicious": 1}, 20.0),
        ],
        image_seconds=[30.0, 10.0, 60.0, 20.0],
        idle_seconds=400.0,
        comments=[
            CommentEntry(
                "Case_001", "Visit_1", "XC_CLINICAL/img2.png", "NA", "blurred,\nretake", "dr.rao"
            ),
            CommentEntry("病例_002", "Visit_1", "XC/a.jpg", "Non-Suspicious", "check 🔬", "dr.rao"),
        ],
        problems=1,
        changed_images=2,
        audit=AuditStatus(ok=True, events=12, head_hash=HEAD),
        label_definitions=[
            LabelDefinition("Suspicious", "1", False),
            LabelDefinition("Non-Suspicious", "2", False),
            LabelDefinition("NA", "3", True),
        ],
        problem_files=[LeftOut("Case_001/Visit_1/XC/notes.png",
                               "not an image: extension says PNG but the content is text")],
        skipped_folders=[LeftOut("Case_001/Visit_1/Dermoscopy", "not an XC or CLINICAL folder", 3)],
        skipped=1,
        labels_changed=3,
        labels_cleared=1,
        unmaskings=[Unmasking(T0 + timedelta(minutes=5), "dr.rao", "Case_001/Visit_1/XC/ct.dcm",
                              ("PatientID", "PatientName"))],
    )  # fmt: skip


def value(report: str, key: str) -> str:
    """The value printed after `key` on a `key   value` line."""
    match = re.search(rf"^ *{re.escape(key)}  +(.*)$", report, flags=re.MULTILINE)
    assert match, f"no line for {key!r}"
    return match.group(1)


def section(report: str, title: str) -> str:
    """The text of one numbered section, up to the next heading."""
    start = report.index(title.upper())
    following = re.search(r"^\d+\. [A-Z]", report[start + len(title) :], flags=re.MULTILINE)
    end = start + len(title) + following.start() if following else len(report)
    return report[start:end]


def test_every_section_the_seed_lists_is_present() -> None:
    report = render_text_report(small_project())
    for heading in [
        "1. ANNOTATORS",
        "2. SESSIONS",
        "3. PROGRESS",
        "4. LABEL DEFINITIONS",
        "5. LABEL DISTRIBUTION",
        "6. PER-CASE STATISTICS",
        "7. TIME PER IMAGE",
        "8. PRODUCTIVITY",
        "9. ESTIMATED TIME REMAINING",
        "10. COMMENTS",
        "11. LABEL CHANGES",
        "12. LEFT OUT OF THE QUEUE",
        "13. IDENTIFYING METADATA REVEALED",
        "14. DATA INTEGRITY AND AUDIT TRAIL",
        "15. DATA SAFETY",
        "16. SIGN-OFF",
    ]:
        assert f"\n{heading}\n" in report


def test_annotators_and_sessions_in_utc_and_local_time() -> None:
    report = render_text_report(small_project())
    annotators = section(report, "1. Annotators")
    assert "dr.rao" in annotators and "डॉ. शर्मा" in annotators
    sessions = section(report, "2. Sessions")
    assert "2026-11-22 10:00:00 UTC   (local 2026-11-22 15:30:00 UTC+05:30)" in sessions
    assert "2026-11-22 11:00:00 UTC   (local 2026-11-22 16:30:00 UTC+05:30)" in sessions
    assert "2026-11-22 12:00:00 UTC   (local 2026-11-22 09:00:00 UTC-03:00)" in sessions
    assert "still open" in sessions
    assert value(report, "Total session time") == "2 h 00 min 00 s"
    assert value(report, "Active labelling time") == "2 min 00 s"
    assert value(report, "Time away (excluded)") == "6 min 40 s"


def test_progress_and_label_distribution() -> None:
    report = render_text_report(small_project())
    assert value(report, "Images in the batch") == "10"
    assert value(report, "Images labelled") == "4"
    assert value(report, "Images remaining") == "6"
    assert value(report, "Completion") == "40.0 %"
    labels = section(report, "5. Label distribution")
    assert re.search(r"Suspicious +2 +50\.0 %", labels)
    assert re.search(r"Non-Suspicious +1 +25\.0 %", labels)
    assert re.search(r"NA +1 +25\.0 %", labels)


def test_per_case_table_is_aligned_with_wide_characters() -> None:
    table = section(report := render_text_report(small_project()), "6. Per-case statistics")
    lines = [line for line in table.splitlines() if line.startswith("  ")]
    header, _rule, first, second = lines
    assert "Suspicious" in header and "Active time" in header
    assert re.search(r"Case_001 +6 +3 +50\.0 % +2 +0 +1 +1 min 40 s", first)
    assert re.search(r"病例_002 +4 +1 +25\.0 % +0 +1 +0 +20\.0 s", second)
    assert {display_width(line) for line in lines} == {display_width(header)}
    assert report.count("病例_002") == 2  # the table and its comment


def test_time_per_image_uses_the_true_median() -> None:
    report = render_text_report(small_project())
    assert value(report, "Images with measured time") == "4 of 4"
    assert value(report, "Average") == "30.0 s"
    assert value(report, "Median") == "25.0 s"  # (20 + 30) / 2
    assert value(report, "Fastest") == "10.0 s"
    assert value(report, "Slowest") == "1 min 00 s"


def test_productivity_and_time_remaining() -> None:
    report = render_text_report(small_project())
    assert value(report, "Images per hour (active time)") == "120.0"  # 4 images in 120 s
    assert value(report, "Images per hour (session time)") == "2.0"  # 4 images in 2 h
    assert value(report, "Efficiency") == "1.7 % of session time active"  # 120 s / 7200 s
    assert value(report, "At the average time per image") == "3 min 00 s"  # 6 x 30 s
    assert value(report, "At the session pace") == "3 h 00 min 00 s"  # 6 x 1800 s


def test_comments_are_traceable_to_case_visit_and_file() -> None:
    comments = section(render_text_report(small_project()), "10. Comments")
    required, other = comments.split("Other comments")
    assert "Labels that require a comment (NA): 1" in required
    assert "Case_001 / Visit_1 / XC_CLINICAL/img2.png   [NA, dr.rao]" in required
    assert "        blurred,\n        retake" in required
    assert "病例_002 / Visit_1 / XC/a.jpg   [Non-Suspicious, dr.rao]" in other
    assert "check 🔬" in other


def test_audit_ok_shows_event_count_and_head_hash() -> None:
    report = render_text_report(small_project())
    assert value(report, "Audit trail") == "OK, 12 events verified"  # the headline
    trail = section(report, "14. Data integrity and audit trail")
    assert value(trail, "Audit trail") == "OK: the hash chain of 12 events verifies"
    assert value(report, "Newest event hash") == HEAD
    assert value(report, "Images changed after labelling") == "2"
    assert value(report, "Problem files (not images)") == "1"
    assert value(trail, "clinlabel audit verify") == "passes"


def test_label_definitions_come_from_the_schema() -> None:
    definitions = section(render_text_report(small_project()), "4. Label definitions")
    lines = [line.split() for line in definitions.splitlines()]
    assert ["Suspicious", "1", "optional"] in lines
    assert ["NA", "3", "required"] in lines


def test_label_changes_and_clears_are_counted() -> None:
    changes = section(render_text_report(small_project()), "11. Label changes")
    assert value(changes, "Labels changed (relabelled)") == "3"
    assert value(changes, "Labels cleared") == "1"


def test_skipped_folders_and_problem_files_are_listed_with_reasons() -> None:
    left = section(render_text_report(small_project()), "12. Left out of the queue")
    assert "Skipped folders: 1" in left
    dermoscopy = "Case_001/Visit_1/Dermoscopy (3 image files)"
    assert f"{dermoscopy}\n        not an XC or CLINICAL folder" in left
    assert "Problem files (named like images, not images): 1" in left
    assert "Case_001/Visit_1/XC/notes.png\n        not an image: extension says PNG" in left
    # The scan keeps the first 10,000 of each: the report says how many more there are.
    more = dataclasses.replace(small_project(), problems=10_001)
    assert "... and 10,000 more" in section(render_text_report(more), "12. Left out")
    nothing = dataclasses.replace(small_project(), problem_files=[], problems=0)
    assert "(none)" in section(render_text_report(nothing), "12. Left out")


def test_every_unmasking_is_listed_with_who_when_which_image_and_what() -> None:
    revealed = section(render_text_report(small_project()), "13. Identifying metadata revealed")
    assert "Times identifying metadata was revealed: 1" in revealed
    assert "2026-11-22 10:05:00 UTC   dr.rao   Case_001/Visit_1/XC/ct.dcm" in revealed
    assert "PatientID, PatientName" in revealed
    none = dataclasses.replace(small_project(), unmaskings=[])
    assert "stayed masked" in section(render_text_report(none), "13. Identifying metadata")


def test_sign_off_block_for_each_annotator() -> None:
    report = render_text_report(small_project())
    sign_off = section(report, "16. Sign-off")
    blocks = [block for block in sign_off.split("\n\n") if "Annotator" in block]
    assert [value(block, "Annotator") for block in blocks] == [
        "dr.rao",
        "डॉ. शर्मा",
    ]
    assert sign_off.count("Signature") == 2 and sign_off.count("Date") == 2
    assert value(sign_off, "Signature").startswith("____")
    assert report.rstrip().endswith("End of report.")


def test_broken_audit_is_shown_at_the_top_and_in_its_section() -> None:
    broken = AuditStatus(ok=False, events=12, head_hash=HEAD, first_broken_event=7,
                         reason="hash of event 6 does not match")  # fmt: skip
    report = render_text_report(dataclasses.replace(small_project(), audit=broken))
    top = report.split("1. ANNOTATORS")[0]
    assert "BROKEN at event 7" in top
    trail = section(report, "14. Data integrity and audit trail")
    assert "BROKEN at event 7: hash of event 6 does not match" in trail
    assert "OK:" not in trail and "OK," not in report
    assert value(trail, "clinlabel audit verify") == "FAILS at event 7"
    assert "see section 14" in top


def test_data_safety_names_the_batch_and_project_folders() -> None:
    safety = section(render_text_report(small_project()), "15. Data safety")
    assert "never modified" in safety
    assert "/data/Batch_01" in safety and "/data/projects/batch01" in safety


def test_project_with_nothing_labelled_renders_with_n_a() -> None:
    empty = ReportData(
        batch_path="/b", project_path="/p", generated_at=T0, app_version="0.1.0", annotators=[],
        sessions=[], total_images=0, labelled_images=0, label_names=["Suspicious", "NA"],
        comment_required=["NA"], per_label={}, cases=[], image_seconds=[], idle_seconds=0.0,
        comments=[], problems=0, changed_images=0, audit=AuditStatus(True, 0, ""),
    )  # fmt: skip
    report = render_text_report(empty)
    assert value(report, "Completion") == "n/a"
    assert value(report, "Median") == "n/a"
    assert value(report, "Images per hour (active time)") == "n/a"
    assert value(report, "Newest event hash") == "(no events)"
    assert "No session has been recorded." in report


def test_images_left_but_no_time_measured_gives_n_a_estimate() -> None:
    data = dataclasses.replace(small_project(), image_seconds=[], sessions=[])
    report = render_text_report(data)
    assert value(report, "At the average time per image") == "n/a"
    assert value(report, "Efficiency") == "n/a of session time active"


def test_control_characters_in_names_and_comments_cannot_reach_a_terminal() -> None:
    sneaky = CommentEntry("Case\x1b[2J", "V", "a\u202egpj.exe", "NA", "ok\x07\r\nnext", "x")
    report = render_text_report(dataclasses.replace(small_project(), comments=[sneaky]))
    assert "\x1b" not in report and "\x07" not in report and "\u202e" not in report
    assert "Case\\u001b[2J / V / a\\u202egpj.exe" in report
    assert "        ok\\u0007\n        next" in report


def test_files_are_written_whole(tmp_path: Path) -> None:
    data = small_project()
    write_text_report(data, tmp_path / "clinical_labels_summary.txt")
    write_json_report(data, tmp_path / "summary.json")
    text = (tmp_path / "clinical_labels_summary.txt").read_text(encoding="utf-8")
    assert text == render_text_report(data)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "clinical_labels_summary.txt",
        "summary.json",
    ]


def test_json_report_carries_the_same_figures() -> None:
    document = json.loads(render_json_report(small_project()))
    assert document["progress"] == {
        "total_images": 10, "labelled_images": 4, "remaining_images": 6, "completion": 0.4,
    }  # fmt: skip
    assert document["time_per_image"]["median_seconds"] == 25.0
    assert document["productivity"]["images_per_active_hour"] == 120.0
    assert document["estimated_remaining"]["active_seconds"] == 180.0
    assert document["sessions"][1]["ended_at"] is None
    assert document["sessions"][0]["started_at"] == "2026-11-22T10:00:00Z"
    assert [x["label"] for x in document["labels"]] == ["Suspicious", "Non-Suspicious", "NA"]
    assert document["audit"]["head_hash"] == HEAD
    assert document["comments"][1]["case"] == "病例_002"
    assert document["label_definitions"][2] == {"label": "NA", "key": "3", "requires_comment": True}
    assert document["label_changes"] == {"changed": 3, "cleared": 1}
    assert document["problem_files"][0]["path"] == "Case_001/Visit_1/XC/notes.png"
    assert document["skipped_folders"][0]["images"] == 3
    assert document["unmaskings"] == [
        {"at": "2026-11-22T10:05:00Z", "annotator": "dr.rao",
         "image": "Case_001/Visit_1/XC/ct.dcm", "attributes": ["PatientID", "PatientName"]}
    ]  # fmt: skip


@pytest.mark.slow
def test_a_million_labelled_images_render_whole() -> None:
    rng = random.Random(3)
    n = 1_000_000
    data = dataclasses.replace(
        small_project(),
        total_images=n,
        labelled_images=n,
        per_label={"Suspicious": 600_000, "Non-Suspicious": 300_000, "NA": 100_000},
        cases=[CaseStats(f"Case_{i:05d}", 100, 100, {"NA": 10}, 500.0) for i in range(10_000)],
        image_seconds=[rng.expovariate(0.2) for _ in range(n)],
        comments=[
            CommentEntry("C", "V", f"XC/{i}.jpg", "NA", "blurred", "a") for i in range(100_000)
        ],
    )
    # Its time is measured by benchmarks/bench_export_report.py; here, that it is whole.
    report = render_text_report(data)
    assert value(report, "Images labelled") == "1,000,000"
