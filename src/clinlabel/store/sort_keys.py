"""Natural order as bytes, so that an index can hold it: `Case_2` before `Case_10`.

`discovery.naming.natural_key` orders names as people read them, but as a Python tuple no
database can sort by it. Stored as bytes (BLOB in SQLite, bytea in PostgreSQL, both compared byte
by byte whatever the locale), the same order is an `ORDER BY` on an indexed column: a review
window of a million images reads 200 index entries instead of sorting the table (issue 14).

The encoding follows the tuple `natural_key(name)[0]`: case-folded text runs end with a 0 byte
(lower than any character), digit runs are written as their length plus one, then the digits
without leading zeros (so a longer number sorts after a shorter one, and equal lengths compare
digit by digit), and the key ends with a 0 byte (so a name that is a prefix of another comes
first, as a shorter tuple does). UTF-8 keeps code point order. The exact name is *not* part of the
key: names equal but for letter case or leading zeros (`Img1`, `img01`) tie, and ties follow
queue order, as the review table has always shown them.
"""

from __future__ import annotations

from functools import lru_cache

from clinlabel.discovery.naming import natural_key

_LONGEST = 254
"""Digit runs this long or longer (never in a file name, whose parts hold 255 bytes) compare by
their first digits only; the length byte would otherwise overflow."""


@lru_cache(maxsize=65_536)
def natural_sort_key(name: str) -> bytes:
    """Bytes that compare as `natural_key(name)[0]` compares (see the module docstring)."""
    out = bytearray()
    for part in natural_key(name)[0]:
        if isinstance(part, int):
            digits = str(part).encode("ascii") if part.bit_length() < 800 else b"9" * _LONGEST
            out.append(min(len(digits), _LONGEST) + 1)
            out += digits
        else:
            out += part.encode("utf-8", "surrogatepass")
            out.append(0)
    out.append(0)
    return bytes(out)
