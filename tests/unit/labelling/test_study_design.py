"""Study design: balanced worklists, each reader's own stable order of cases, blinded repeats
kept apart from first reads, locked progression and the case diagnosis."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from clinlabel.audit.log import verify_chain
from clinlabel.errors import StudyRuleError, ValidationError
from clinlabel.labelling.agreement import project_agreement
from clinlabel.labelling.assignments import StudyDesign, assign_study, plan_study
from clinlabel.labelling.case_rules import diagnose_case
from clinlabel.labelling.project import Project, init_project, open_project
from clinlabel.labelling.service import LabellingSession
from clinlabel.labelling.worklist import reader_worklist, save_repeat_read
from clinlabel.store import events as event_rows

from .conftest import make_batch

IMAGES = [(i, f"Case_{(i - 1) // 4 + 1}") for i in range(1, 41)]  # 10 cases of 4 images
READERS = ["Dr A", "Dr B", "Dr C"]


def _loads(plans: list) -> list[int]:
    return [plan.first_reads for plan in plans]


def test_per_image_every_image_has_k_readers_and_loads_are_balanced() -> None:
    plans = plan_study(IMAGES, READERS, StudyDesign("per-image", per_image=2), seed=5)
    reads = Counter(item.image_id for plan in plans for item in plan.items)
    assert set(reads.values()) == {2} and len(reads) == 40
    assert max(_loads(plans)) - min(_loads(plans)) <= 1
    for plan in plans:  # no reader reads an image twice as a first read
        firsts = [i.image_id for i in plan.items if not i.repeat]
        assert len(firsts) == len(set(firsts))


def test_by_case_keeps_cases_whole_and_the_overlap_goes_to_everyone() -> None:
    plans = plan_study(IMAGES, READERS, StudyDesign("by-case", overlap=0.2), seed=3)
    readers_of_case: dict[str, set[str]] = {}
    for plan in plans:
        for item in plan.items:
            readers_of_case.setdefault(item.case, set()).add(plan.reader)
    shared = [c for c, who in readers_of_case.items() if len(who) == 3]
    assert len(shared) == 2  # 20 % of 10 cases
    assert all(len(who) in (1, 3) for who in readers_of_case.values())
    assert max(_loads(plans)) - min(_loads(plans)) <= 4  # within one case
    for plan in plans:  # every case a reader has, they have whole
        got = Counter(item.case for item in plan.items)
        assert set(got.values()) == {4}


def test_sample_draws_n_images_with_the_overlap_read_by_all() -> None:
    plans = plan_study(IMAGES, READERS, StudyDesign("sample", sample=20, overlap=0.25), seed=9)
    reads = Counter(item.image_id for plan in plans for item in plan.items)
    assert len(reads) == 20
    assert Counter(reads.values()) == {3: 5, 1: 15}
    assert max(_loads(plans)) - min(_loads(plans)) <= 1


def test_each_reader_has_a_stable_order_of_cases_of_their_own() -> None:
    design = StudyDesign("per-image", per_image=3)
    one = plan_study(IMAGES, READERS, design, seed=11)
    again = plan_study(IMAGES, READERS, design, seed=11)
    assert [p.items for p in one] == [p.items for p in again]
    cases = [list(dict.fromkeys(i.case for i in p.items)) for p in one]
    assert len({tuple(c) for c in cases}) == 3  # three readers, three orders
    for plan in one:  # within a case, images stay in batch order
        for case in set(i.case for i in plan.items):
            ids = [i.image_id for i in plan.items if i.case == case]
            assert ids == sorted(ids)
    batch = plan_study(
        IMAGES, READERS, StudyDesign("per-image", per_image=3, order="batch"), seed=11
    )
    assert all([i.image_id for i in p.items] == list(range(1, 41)) for p in batch)


def test_repeats_come_later_than_the_first_read_and_between_cases() -> None:
    plans = plan_study(IMAGES, READERS, StudyDesign("per-image", per_image=1, repeats=0.25), seed=2)
    for plan in plans:
        firsts = {i.image_id: n for n, i in enumerate(plan.items) if not i.repeat}
        repeats = [(n, i) for n, i in enumerate(plan.items) if i.repeat]
        assert len(repeats) == round(0.25 * len(firsts))
        for n, item in repeats:
            assert n > firsts[item.image_id]
        # A case's first reads are never split by a repeat.
        seen: list[str] = []
        for item in plan.items:
            if not item.repeat and (not seen or seen[-1] != item.case):
                assert item.case not in seen
                seen.append(item.case)


@pytest.mark.parametrize(
    ("design", "message"),
    [
        (lambda: StudyDesign("per-image", per_image=4), "more readers"),
        (lambda: StudyDesign("per-image", per_image=1, overlap=0.5), "--overlap goes with"),
        (lambda: StudyDesign("sample", sample=2, repeats=1.5), "--repeats is a fraction"),
        (lambda: StudyDesign("sample", sample=99), "more than the 40 images"),
    ],
)
def test_impossible_designs_are_refused_clearly(design, message: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValidationError, match=message):
        plan_study(IMAGES, READERS, design(), seed=1)


# ---- recorded in a project ---------------------------------------------------------------------

LAYOUT = {f"Case_{c}/Visit_1/XC": [f"img{i}.png" for i in range(1, 4)] for c in range(1, 5)}


@pytest.fixture
def study_project(tmp_path: Path, database_url: str | None) -> Project:
    """The study's records on SQLite and on PostgreSQL (the `database_url` parameters)."""
    batch = make_batch(tmp_path / "Batch", LAYOUT)
    init_project(batch, tmp_path / "project", database_url=database_url)
    return open_project(tmp_path / "project")


def _label_all(project: Project, reader: str, label: str) -> None:
    session = LabellingSession(project, annotator=reader)
    session.start()
    for item in reader_worklist(project, reader).items:
        if not item.repeat:
            session.save_label(item.image_id, label)
    session.close()


def test_assignment_is_recorded_with_every_seed_in_the_trail(study_project: Project) -> None:
    report = assign_study(
        study_project, READERS, StudyDesign("per-image", per_image=2, repeats=0.5), seed=42
    )
    with study_project.store.read() as conn:
        assert verify_chain(conn).ok
        events = [e for e in event_rows.iter_events(conn) if e["kind"] == "study_assigned"]
    assert len(events) == 1 and events[0]["id"] == report.event_id
    worklist = reader_worklist(study_project, "Dr B")
    assert len(worklist.items) == report.plans[1].first_reads + report.plans[1].repeats
    with pytest.raises(ValidationError, match="already has a study"):
        assign_study(study_project, READERS, StudyDesign("by-case"), seed=1)
    study_project.close()


def test_a_repeat_read_is_its_own_record_and_gives_intra_rater_kappa(
    study_project: Project,
) -> None:
    assign_study(
        study_project, ["Dr A", "Dr B"], StudyDesign("per-image", per_image=2, repeats=0.5), seed=1
    )
    _label_all(study_project, "Dr A", "Suspicious")
    _label_all(study_project, "Dr B", "Suspicious")
    repeats = [i for i in reader_worklist(study_project, "Dr A").items if i.repeat]
    assert repeats and not any(i.done for i in repeats)
    for n, item in enumerate(repeats):
        save_repeat_read(
            study_project,
            reader="Dr A",
            assignment_id=item.assignment_id,
            label="Suspicious" if n % 2 == 0 else "Non-Suspicious",
            comment=None,
        )
    # The first reads are untouched: every label of Dr A is still Suspicious.
    session = LabellingSession(study_project, annotator="Dr A")
    session.start()
    items = reader_worklist(study_project, "Dr A").items
    views = session.queue(1, 100)
    assert {v.label for v, i in zip(views, items, strict=True) if not i.repeat} == {"Suspicious"}
    session.close()
    study = project_agreement(study_project)
    (intra,) = study.intra
    assert intra.reader == "Dr A" and intra.kappa.n == len(repeats)
    assert intra.matrix.sum() == len(repeats)
    # Another reader's item is refused like a missing one.
    with pytest.raises(ValidationError, match="no worklist item"):
        save_repeat_read(
            study_project, reader="Dr B", assignment_id=repeats[0].assignment_id,
            label="NA", comment="x",
        )  # fmt: skip
    study_project.close()


def test_locked_progression_refuses_the_next_case_until_this_one_is_done(
    study_project: Project,
) -> None:
    assign_study(
        study_project, ["Dr A"], StudyDesign("by-case", order="batch", locked=True), seed=1
    )
    items = reader_worklist(study_project, "Dr A").items
    assert [i.open for i in items] == [True] * 3 + [False] * 9
    session = LabellingSession(study_project, annotator="Dr A")
    session.start()
    with pytest.raises(StudyRuleError, match="Case_2 is not open yet"):
        session.save_label(items[3].image_id, "Suspicious")
    for item in items[:3]:
        session.save_label(item.image_id, "Suspicious")
    session.save_label(items[3].image_id, "Suspicious")  # Case_2 opened
    session.close()
    assert reader_worklist(study_project, "Dr A").done == 4
    study_project.close()


def test_the_case_diagnosis_waits_for_every_image_of_the_case(
    tmp_path: Path, database_url: str | None
) -> None:
    schema = tmp_path / "schema.toml"
    schema.write_text(
        '[[labels]]\nname = "Suspicious"\nkey = "1"\n[[labels]]\nname = "Benign"\nkey = "2"\n'
        '[[case_labels]]\nname = "Melanoma"\nkey = "m"\n'
        '[[case_labels]]\nname = "Naevus"\nkey = "n"\n'
    )
    batch = make_batch(tmp_path / "Batch", LAYOUT)
    init_project(batch, tmp_path / "project", schema_path=schema, database_url=database_url)
    project = open_project(tmp_path / "project")
    assign_study(project, ["Dr A"], StudyDesign("by-case", order="batch", locked=True), seed=1)
    session = LabellingSession(project, annotator="Dr A")
    session.start()
    items = reader_worklist(project, "Dr A").items
    session.save_label(items[0].image_id, "Suspicious")
    with pytest.raises(StudyRuleError, match="2 of its 3 images still unlabelled"):
        diagnose_case(project, reader="Dr A", case="Case_1", label="Melanoma")
    for item in items[1:3]:
        session.save_label(item.image_id, "Benign")
    # Every image labelled, but locked progression waits for the diagnosis too.
    with pytest.raises(StudyRuleError, match="not open yet"):
        session.save_label(items[3].image_id, "Benign")
    with pytest.raises(ValidationError, match="Unknown case diagnosis"):
        diagnose_case(project, reader="Dr A", case="Case_1", label="Suspicious")
    state = diagnose_case(project, reader="Dr A", case="Case_1", label="Melanoma")
    assert state.diagnosis == "Melanoma"
    session.save_label(items[3].image_id, "Benign")
    session.close()
    with project.store.read() as conn:
        kinds = [e["kind"] for e in event_rows.iter_events(conn)]
        assert verify_chain(conn).ok
    assert kinds.count("case_diagnosed") == 1
    project.close()


def test_the_page_queue_follows_the_readers_worklist_and_blinds_repeats(
    study_project: Project,
) -> None:
    report = assign_study(
        study_project, ["Dr A", "Dr B"], StudyDesign("per-image", per_image=1, repeats=1.0), seed=4
    )
    plan = report.plans[0]
    session = LabellingSession(study_project, annotator="Dr A")
    shown = session.start()
    assert shown.view.position == 1 and shown.view.id == plan.items[0].image_id
    views = session.queue(1, 100)
    assert [v.id for v in views] == [item.image_id for item in plan.items]
    assert [v.position for v in views] == list(range(1, len(plan.items) + 1))
    assert session.progress().total == len(plan.items)
    # Every first read labelled; then each repeat, shown without it, read differently.
    for position, item in enumerate(plan.items, start=1):
        if not item.repeat:
            session.show(position)
            session.save_label(item.image_id, "Suspicious")
    first_repeat = next(n for n, i in enumerate(plan.items, start=1) if i.repeat)
    repeat_view = session.show(first_repeat).view
    assert repeat_view.label is None  # blinded to the first read
    assert session.next_unlabelled().view.position == first_repeat
    with pytest.raises(ValidationError, match="repeat read is kept"):
        session.clear_label(repeat_view.id)
    saved = session.save_label(repeat_view.id, "Non-Suspicious")
    assert saved.label == "Non-Suspicious" and saved.position == first_repeat
    # The first read stands, at its own position.
    first_position = next(
        n for n, i in enumerate(plan.items, start=1)
        if i.image_id == repeat_view.id and not i.repeat
    )  # fmt: skip
    assert session.queue(first_position, 1)[0].label == "Suspicious"
    progress = session.progress()
    assert progress.labelled == plan.first_reads + 1
    sidebar = session.case_visits()
    assert sum(count for *_, count in sidebar) == plan.first_reads
    session.close()
    # Dr B's session is their own worklist, untouched by Dr A's reads.
    other = LabellingSession(study_project, annotator="Dr B")
    other.start()
    assert other.progress().labelled == 0
    assert other.progress().total == len(report.plans[1].items)
    other.close()
    study_project.close()


def test_the_review_table_opens_rows_at_their_worklist_place(study_project: Project) -> None:
    from clinlabel.store.review import ReviewQuery

    report = assign_study(
        study_project, ["Dr A", "Dr B"], StudyDesign("by-case", order="batch"), seed=2
    )
    mine = [item.image_id for item in report.plans[0].items]
    session = LabellingSession(study_project, annotator="Dr A")
    session.start()
    rows = session.review(ReviewQuery(offset=0, limit=100)).rows
    # The reader's worklist only: a row they could not open is not shown.
    assert sorted(row.image_id for row in rows) == sorted(mine)
    places = {row.image_id: row.position for row in rows}
    assert [places[image_id] for image_id in mine] == list(range(1, len(mine) + 1))
    session.close()
    study_project.close()
