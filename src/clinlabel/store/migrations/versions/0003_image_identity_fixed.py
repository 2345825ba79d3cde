"""The identity columns of an image (path, case, visit, folder, file, kind) cannot be updated.

Exports join labels to images by id: a row whose path was edited would carry its labels onto
another file. A rescan never changes these columns (an image that moves is a new image, the old
one is kept as gone), so the database refuses any UPDATE that would; `audit verify` still checks
them against the events, for a tamperer who drops the trigger.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_IDENTITY = ("relpath", "case_name", "visit", "folder", "file", "kind")
_MESSAGE = "the identity of an image (path, case, visit, folder, file, kind) cannot be changed"

_SQLITE = [
    f"""CREATE TRIGGER images_identity_fixed BEFORE UPDATE OF {", ".join(_IDENTITY)} ON images
       WHEN {" OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in _IDENTITY)}
       BEGIN SELECT RAISE(ABORT, '{_MESSAGE}'); END""",
]

_POSTGRES = [
    f"""CREATE FUNCTION clinlabel_images_identity_fixed() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION '{_MESSAGE}'; END; $$ LANGUAGE plpgsql""",
    f"""CREATE TRIGGER images_identity_fixed BEFORE UPDATE OF {", ".join(_IDENTITY)} ON images
       FOR EACH ROW
       WHEN ({" OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in _IDENTITY)})
       EXECUTE FUNCTION clinlabel_images_identity_fixed()""",
]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for statement in _POSTGRES if dialect == "postgresql" else _SQLITE:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("clinlabel never downgrades a project: the audit trail would break")
