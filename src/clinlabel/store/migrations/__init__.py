"""The schema's migrations (Alembic scripts in `versions/`).

`head_revision()` names the newest of them without importing any, so that opening a project
already at head reads one row and loads no migration script (Alembic's script directory imports
every one of them, a noticeable part of a short command such as `clinlabel export`).
"""

from __future__ import annotations

import functools
import os


@functools.cache
def head_revision() -> str:
    """The revision of the newest migration, read from the names in `versions/`.

    Migrations are numbered in the order they apply and each file starts with its revision
    (`0010_review_and_sidebar_at_scale.py` is revision 0010, revising 0009), so the head is the
    highest number there: a new migration counts without anyone updating a constant.
    `tests/unit/store/test_bulk_open.py` checks that this is Alembic's own head. "" when the
    scripts cannot be listed: every open then asks Alembic.
    """
    # A plain listing (importlib.resources costs more to import than the listing takes); a
    # package that is not a folder on disk (a zip) lists nothing, so Alembic is asked.
    try:
        names = os.listdir(os.path.join(os.path.dirname(__file__), "versions"))
    except OSError:
        return ""
    numbers = [name.split("_", 1)[0] for name in names if name.endswith(".py")]
    return max((n for n in numbers if n.isdigit()), default="")
