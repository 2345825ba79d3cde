"""Names from the disk or the database as one terminal line.

A file, folder or annotator name may hold a newline or an escape sequence: printed raw it would
forge a line of the output (another file, another event) or move the terminal's cursor.
"""

from __future__ import annotations


def shown(text: object) -> str:
    """`text` with its control characters escaped (`\\n`, `\\x1b`); printable text unchanged."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else repr(c)[1:-1] for c in text)
