"""The rescan's staging table is indexed by path, so every set operation of a rescan is a join.

Without it, `NOT EXISTS (SELECT ... FROM scan_staging WHERE relpath = images.relpath)` scanned the
whole staging table once per image: 283 s for a rescan of 100,000 images (issue 14).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_scan_staging_relpath", "scan_staging", ["relpath"], unique=True)


def downgrade() -> None:
    raise NotImplementedError("clinlabel never downgrades a project: the audit trail would break")
