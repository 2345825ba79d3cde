"""Train/validation/test splits that never leak a patient: whole cases go to one split.

A case (the batch's top folder: one patient) is never divided, so no image of a patient seen in
training is ever scored in validation or test. Within that rule the split is stratified: cases
are grouped by their stratum (the label most of their images carry, see
`labelling.region_exports`), each group is shuffled with the seed and dealt out in proportion
to the fractions, with the rounding carried over from group to group so the totals stay as close
to the fractions as whole cases allow. The same cases, strata, fractions and seed always give the
same split.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from clinlabel.atomic import atomic_writer
from clinlabel.errors import ValidationError
from clinlabel.exports.formula_guard import guard_cell

SPLITS_CSV = "splits.csv"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")


@dataclass(frozen=True, slots=True)
class SplitSpec:
    """The splits asked for, in the order given, with fractions summing to 1."""

    names: tuple[str, ...]
    fractions: tuple[float, ...]
    seed: int = 0

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.names, self.fractions, strict=True))


def parse_split(text: str, *, seed: int = 0) -> SplitSpec:
    """`train=0.8,val=0.1,test=0.1` (fractions or percentages, summing to 1 or 100)."""
    names: list[str] = []
    values: list[float] = []
    for part in text.split(","):
        name, eq, value = part.strip().partition("=")
        name = name.strip()
        if not eq or not name:
            raise ValidationError(
                f"--split {text!r}: each part is NAME=FRACTION, e.g. train=0.8,val=0.1,test=0.1."
            )
        if not set(name) <= _NAME_CHARS:
            raise ValidationError(
                f"--split: the split name {name!r} may hold only letters, digits, '_' and '-'."
            )
        # Each split is a folder: 'Train' and 'train' are one folder on a case-blind disk
        # (macOS, Windows), where one split's files would land among the other's.
        if name.casefold() in (n.casefold() for n in names):
            raise ValidationError(f"--split: the split {name!r} is named twice.")
        try:
            fraction = float(value)
        except ValueError:
            raise ValidationError(f"--split: {value.strip()!r} is not a number.") from None
        if not 0 <= fraction < float("inf"):
            raise ValidationError(f"--split: the fraction of {name!r} must be 0 or more.")
        names.append(name)
        values.append(fraction)
    total = sum(values)
    if abs(total - 100) < 1e-6 and len(values) > 1:
        values = [v / 100 for v in values]
    elif abs(total - 1) > 1e-6:
        raise ValidationError(f"--split: the fractions add up to {total:g}, not 1 (or 100).")
    return SplitSpec(tuple(names), tuple(values), seed)


def assign_splits(strata: Mapping[str, str], spec: SplitSpec) -> dict[str, str]:
    """Each case's split. `strata` maps every case to its stratum (any text)."""
    rng = random.Random(spec.seed)
    groups: dict[str, list[str]] = {}
    for case in sorted(strata):
        groups.setdefault(strata[case], []).append(case)
    owed = [0.0] * len(spec.names)  # cases each split is still owed, carried between groups
    assigned: dict[str, str] = {}
    for stratum in sorted(groups):
        cases = groups[stratum]
        rng.shuffle(cases)
        wanted = [owed[i] + f * len(cases) for i, f in enumerate(spec.fractions)]
        counts = [max(0, int(w)) for w in wanted]
        while sum(counts) > len(cases):  # only when carried debts are negative
            over = min(
                (i for i in range(len(counts)) if counts[i]), key=lambda i: wanted[i] - counts[i]
            )
            counts[over] -= 1
        # Largest remainders first; ties go to the split named first.
        order = sorted(range(len(wanted)), key=lambda i: (-(wanted[i] - counts[i]), i))
        for i in order[: len(cases) - sum(counts)]:
            counts[i] += 1
        owed = [wanted[i] - counts[i] for i in range(len(wanted))]
        position = 0
        for name, count in zip(spec.names, counts, strict=True):
            for case in cases[position : position + count]:
                assigned[case] = name
            position += count
    return assigned


def write_splits_csv(
    path: Path, assigned: Mapping[str, str], strata: Mapping[str, str], images: Mapping[str, int]
) -> Path:
    """`case,split,stratum,images`, one row per case, sorted by case."""
    with atomic_writer(path, newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(("case", "split", "stratum", "images"))
        for case in sorted(assigned):
            # Case folders and label names are anyone's text: a case named "=HYPERLINK(...)"
            # must not become a live formula in a spreadsheet, as in the labels CSV.
            stratum = strata.get(case, "")
            writer.writerow(
                (guard_cell(case), assigned[case], guard_cell(stratum), images.get(case, 0))
            )
    return path
