"""Agreement between the readers of a project: the use case `clinlabel agreement` and the
summary report call (readings from the store, coefficients from `stats`)."""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from clinlabel.errors import ValidationError
from clinlabel.labelling.adjudication import team_counts
from clinlabel.labelling.project import Project
from clinlabel.reports.agreement import insert_report_section
from clinlabel.stats.agreement import MISSING
from clinlabel.stats.agreement_study import AgreementStudy, Readings, analyse, intra_rater
from clinlabel.store import assignments as assignment_rows
from clinlabel.store import readings as reading_rows

DEFAULT_SEED = 1
"""The bootstrap's seed when none is given: the same project gives the same interval."""

IMPORT_HINT = "Import each reader's CSV with: clinlabel import PROJECT --csv FILE --annotator NAME"


def _label_order(project: Project, used: Sequence[str], only: Sequence[str] | None) -> list[str]:
    known = list(project.schema.names) + [name for name in used if name not in project.schema.names]
    if only is None:
        return known
    unknown = [name for name in only if name not in known]
    if unknown:
        raise ValidationError(
            f"Unknown label(s) for --labels: {', '.join(unknown)}.",
            hint=f"This project's labels: {', '.join(known)}.",
        )
    return [name for name in known if name in only]


def load_readings(project: Project, *, labels: Sequence[str] | None = None) -> Readings:
    """Each reader's whole-image label of each image, as a matrix (see `Readings`)."""
    only = None if labels is None else set(labels)
    with project.store.read() as conn:
        names = _label_order(project, reading_rows.used_labels(conn), labels)
        readers = reading_rows.reader_names(conn, only=only)
        label_index = {name: i for i, name in enumerate(names)}
        reader_index = {name: i for i, name in enumerate(readers)}
        images: list[str] = []
        cases: list[str] = []
        # One flat machine-integer array (8 bytes a read), not a Python list per image: a
        # million-image study stays a few tens of megabytes.
        flat = array("q")
        blank = array("q", [MISSING] * len(readers))
        current = -1
        width = len(readers)
        for image_id, relpath, case, reader, label in reading_rows.reading_rows(conn, only=only):
            if image_id != current:
                current = image_id
                images.append(relpath)
                cases.append(case)
                flat.extend(blank)
            flat[len(flat) - width + reader_index[reader]] = label_index[label]
    codes = np.frombuffer(flat, dtype=np.int64).reshape(len(images), len(readers)).copy()
    return Readings(
        readers=tuple(readers),
        labels=tuple(names),
        images=tuple(images),
        cases=tuple(cases),
        codes=codes,
    )


def project_agreement(
    project: Project, *, labels: Sequence[str] | None = None, seed: int = DEFAULT_SEED
) -> AgreementStudy:
    """Every agreement figure of the project's readers; at least two readers are needed."""
    readings = load_readings(project, labels=labels)
    if len(readings.readers) < 2:
        who = f" ({readings.readers[0]})" if readings.readers else ""
        restricted = " with these labels" if labels is not None else ""
        count = "one reader" if readings.readers else "no reader"
        raise ValidationError(
            f"{project.dir} has {count}{who}{restricted}: agreement needs two readers or more.",
            hint=IMPORT_HINT.replace("PROJECT", str(project.dir)) + ".",
        )
    return _with_intra(project, analyse(readings, seed=seed))


def _with_intra(project: Project, study: AgreementStudy) -> AgreementStudy:
    """The study with each reader's test-retest kappa over their repeat reads."""
    with project.store.read() as conn:
        pairs = assignment_rows.retest_pairs(conn)
    return replace(study, intra=intra_rater(pairs, study.readers, study.labels))


def add_agreement_section(project: Project, report_text: str) -> str:
    """The summary report with its agreement section when the project has two readers or more
    (unchanged otherwise: a single-reader project's report reads as it always has)."""
    # Readers are counted first (one indexed look-up per annotator), so a single-reader
    # project, the usual one, never streams its labels for a section it will not show.
    with project.store.read() as conn:
        if len(reading_rows.reader_names(conn)) < 2:
            return report_text
    readings = load_readings(project)
    study = _with_intra(project, analyse(readings, seed=DEFAULT_SEED))
    counts = team_counts(project)
    team_csv = None if counts is None else (counts.adjudicated, counts.agreed, counts.unresolved)
    return insert_report_section(report_text, study, team_csv=team_csv)
