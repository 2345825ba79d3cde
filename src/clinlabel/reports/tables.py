"""Aligned plain-text tables that stay aligned with Devanagari, Chinese and emoji, and text
made safe to show: a report is often read with `cat`, where control characters could act."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

# Terminal escapes (ESC [ ...) and other C0/C1 controls in a folder name or comment could move
# the cursor or recolour a terminal; bidirectional overrides could make a file name read
# differently from what it is ("Trojan Source", CVE-2021-42574). Show them as visible escapes.
_UNSAFE = [*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0), *range(0x202A, 0x202F)]
_UNSAFE += [*range(0x2066, 0x206A)]
_ESCAPES: dict[int, str] = {code: f"\\u{code:04x}" for code in _UNSAFE}
_ESCAPES_KEEP_NEWLINE: dict[int, str] = {k: v for k, v in _ESCAPES.items() if k != 0x0A}
_ZERO_WIDTH_CATEGORIES = frozenset(("Mn", "Me", "Cf"))


def safe_text(text: str) -> str:
    """One line of text with every control and direction-override character made visible."""
    return text.translate(_ESCAPES)


def safe_multiline(text: str) -> list[str]:
    """A comment that may span lines, as safe lines (`\\r\\n` and `\\r` end lines too)."""
    normalised = text.replace("\r\n", "\n").replace("\r", "\n")
    return normalised.translate(_ESCAPES_KEEP_NEWLINE).split("\n")


def display_width(text: str) -> int:
    """Columns `text` takes in a monospaced font (Unicode UAX #11 East Asian Width).

    Wide and full-width characters (CJK, most emoji) take two columns; combining marks and
    format characters (Devanagari vowel signs below/above, zero-width joiner) take none.
    """
    if text.isascii():
        return len(text)
    width = 0
    for char in text:
        if unicodedata.category(char) in _ZERO_WIDTH_CATEGORIES:
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def pad(text: str, width: int, *, right: bool = False) -> str:
    """`text` padded with spaces to `width` display columns (aligned right if asked)."""
    fill = " " * max(0, width - display_width(text))
    return fill + text if right else text + fill


def render_table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], *, right: Sequence[bool], indent: int = 2
) -> list[str]:
    """Lines of a table: header, a rule, then the rows; `right[i]` right-aligns column i."""
    widths = [display_width(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            cell_width = display_width(cell)
            if cell_width > widths[i]:
                widths[i] = cell_width
    margin = " " * indent

    def line(cells: Sequence[str]) -> str:
        padded = (pad(c, widths[i], right=right[i]) for i, c in enumerate(cells))
        return (margin + "  ".join(padded)).rstrip()

    rule = margin + "  ".join("-" * w for w in widths)
    return [line(headers), rule, *(line(row) for row in rows)]


def render_fields(pairs: Sequence[tuple[str, str]], *, indent: int = 2) -> list[str]:
    """`Key   value` lines with the values in one column."""
    width = max((display_width(key) for key, _ in pairs), default=0)
    margin = " " * indent
    return [f"{margin}{pad(key, width)}   {value}".rstrip() for key, value in pairs]
