"""Database URLs as they may be shown: never with their password."""

from __future__ import annotations

# SQLAlchemy is imported inside each function: the command line imports this module to read
# its options, and `clinlabel export --csv` of an SQLite project never loads SQLAlchemy.


def masked_url(url: str) -> str:
    """`url` with its password (in the address, or as a `password=` parameter) as ***."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        # Not a URL SQLAlchemy can read: its parts, and so where a password would be, unknown.
        return "(a database URL that cannot be read)"
    if "password" in parsed.query:
        parsed = parsed.update_query_dict({"password": "***"})
    return parsed.render_as_string(hide_password=True)


def url_has_password(url: str) -> bool:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        return False
    return bool(parsed.password) or "password" in parsed.query
