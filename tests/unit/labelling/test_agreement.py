"""Agreement of a project's readers from the store (SQLite and PostgreSQL): whole-image labels
only, per reader, `--labels` restricting, the summary report's section."""

from __future__ import annotations

import re

import numpy as np
import pytest
from statsmodels.stats.inter_rater import cohens_kappa

from clinlabel.errors import ValidationError
from clinlabel.labelling.agreement import add_agreement_section, load_readings, project_agreement
from clinlabel.labelling.outputs import report_text
from clinlabel.labelling.project import Project
from clinlabel.labelling.service import LabellingSession
from clinlabel.reports.agreement import SECTION_TITLE
from clinlabel.stats.agreement import MISSING

# Queue order of the conftest batch: Case_1 (4 images), then Case_2 (2 images).
READS = {
    "Dr A": ["Suspicious", "Suspicious", "Non-Suspicious", "NA", "Suspicious", "Non-Suspicious"],
    "Dr B": ["Suspicious", "Non-Suspicious", "Non-Suspicious", "NA", "Suspicious", None],
}


def _label(project: Project, reader: str, labels: list[str | None]) -> list[int]:
    session = LabellingSession(project, annotator=reader)
    view = session.start().view
    ids = []
    for position, label in enumerate(labels, start=1):
        view = session.show(position).view
        ids.append(view.id)
        if label is not None:
            session.save_label(view.id, label, "unreadable" if label == "NA" else None)
    session.close()
    return ids


def test_each_readers_whole_image_label_per_image(project: Project) -> None:
    for reader, labels in READS.items():
        ids = _label(project, reader, labels)
    # A frame label is not a whole-image read: it must not enter agreement, nor make a reader.
    for reader in ("Dr C", "Dr A"):
        session = LabellingSession(project, annotator=reader)
        session.start()
        session.save_label(ids[0], "NA", "frame 2 blurred", frame=2, geometry=None)
        session.close()
    readings = load_readings(project)
    assert readings.readers == ("Dr A", "Dr B")
    assert readings.labels == ("Suspicious", "Non-Suspicious", "NA")
    assert len(readings.images) == 6 and readings.images[0].startswith("Case_1/")
    assert readings.cases == ("Case_1",) * 4 + ("Case_2",) * 2
    expected = [
        [readings.labels.index(a) if a else MISSING, readings.labels.index(b) if b else MISSING]
        for a, b in zip(READS["Dr A"], READS["Dr B"], strict=True)
    ]
    assert readings.codes.tolist() == expected
    assert len(ids) == 6


def test_project_agreement_is_statsmodels_kappa_of_the_two_readers(project: Project) -> None:
    for reader, labels in READS.items():
        _label(project, reader, labels)
    study = project_agreement(project, seed=3)
    table = np.zeros((3, 3), dtype=np.int64)
    names = ["Suspicious", "Non-Suspicious", "NA"]
    for a, b in zip(READS["Dr A"], READS["Dr B"], strict=True):
        if a and b:
            table[names.index(a), names.index(b)] += 1
    pair = study.pairs[0]
    assert pair.matrix.tolist() == table.tolist()
    assert pair.kappa.n == 5
    assert pair.kappa.value == pytest.approx(cohens_kappa(table).kappa, abs=1e-9)
    assert study.fleiss.n == 5
    assert study.krippendorff.n == 5 and study.krippendorff.ci is not None


def test_labels_option_keeps_only_those_labels(project: Project) -> None:
    for reader, labels in READS.items():
        _label(project, reader, labels)
    readings = load_readings(project, labels=["Non-Suspicious", "Suspicious"])
    assert readings.labels == ("Suspicious", "Non-Suspicious")
    # The NA reads are gone: image 4 (both NA) has no read left at all.
    assert len(readings.images) == 5
    assert int((readings.codes == MISSING).sum()) == 1  # Dr B never read image 6
    with pytest.raises(ValidationError, match=r"Unknown label.*Benign"):
        load_readings(project, labels=["Benign"])


def test_one_reader_is_refused_with_the_way_to_add_readers(project: Project) -> None:
    _label(project, "Dr A", READS["Dr A"])
    with pytest.raises(ValidationError) as caught:
        project_agreement(project)
    assert "one reader (Dr A)" in str(caught.value)
    assert "clinlabel import" in str(caught.value)


def test_summary_report_gains_the_agreement_section_with_two_readers(project: Project) -> None:
    _label(project, "Dr A", READS["Dr A"])
    alone = report_text(project)
    assert SECTION_TITLE.upper() not in add_agreement_section(project, alone)
    _label(project, "Dr B", READS["Dr B"])
    text = report_text(project)
    assert SECTION_TITLE.upper() in text
    section = text[text.index(SECTION_TITLE.upper()) :]
    assert "Cohen's kappa per pair" in section and "Dr A      Dr B" in section
    assert text.rstrip().endswith("End of report.")
    assert not re.search(r"\bnan\b", section, flags=re.IGNORECASE)
    # Case_2's two images: Dr B read only one, so alpha has no pair to rest on there.
    assert re.search(r"Case_2 +2 +1 +100.0 % +undefined", section)
