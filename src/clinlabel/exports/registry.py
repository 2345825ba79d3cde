"""Exporters by name, so a new format (jsonl, coco) is one module and one line here."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from clinlabel.errors import ValidationError
from clinlabel.exports.csv import write_labels_csv


class Exporter(Protocol):
    """Write label rows (`LabelRow` field order) to `path`; return the number of rows written."""

    def __call__(
        self, rows: Iterable[Sequence[object]], path: Path, *, detailed: bool = False
    ) -> int: ...


EXPORTERS: dict[str, Exporter] = {"csv": write_labels_csv}


def get_exporter(name: str) -> Exporter:
    """The exporter called `name`, or a ValidationError that lists the known ones."""
    try:
        return EXPORTERS[name]
    except KeyError:
        raise ValidationError(
            f"Unknown export format {name!r}.", hint=f"Known formats: {', '.join(EXPORTERS)}."
        ) from None
