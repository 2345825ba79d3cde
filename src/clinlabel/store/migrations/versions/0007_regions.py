"""Regions (issue 11): the shapes annotators draw, and every geometry ever drawn.

`regions` holds each region's current state, like `labels` a convenience copy of the trail.
`region_geometries` holds every geometry by its SHA-256 (the hash the region's events record):
append-only like the events, so undoing a delete or reading the history always finds the
shape, and a mask is stored once however often it is undone and redone.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_SQLITE_TRIGGERS = [
    """CREATE TRIGGER region_geometries_no_update BEFORE UPDATE ON region_geometries BEGIN
       SELECT RAISE(ABORT, 'drawn geometries are append-only: they cannot be changed'); END""",
    """CREATE TRIGGER region_geometries_no_delete BEFORE DELETE ON region_geometries BEGIN
       SELECT RAISE(ABORT, 'drawn geometries are append-only: they cannot be deleted'); END""",
]

_POSTGRES_TRIGGERS = [
    """CREATE TRIGGER region_geometries_no_change BEFORE UPDATE OR DELETE ON region_geometries
       FOR EACH ROW EXECUTE FUNCTION clinlabel_events_append_only()""",
    """CREATE TRIGGER region_geometries_no_truncate BEFORE TRUNCATE ON region_geometries
       FOR EACH STATEMENT EXECUTE FUNCTION clinlabel_events_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "region_geometries",
        sa.Column("sha256", sa.String(64), primary_key=True),
        sa.Column("geometry", sa.Text, nullable=False),
    )
    op.create_table(
        "regions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("uid", sa.String(64), nullable=False),
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id"), nullable=False),
        sa.Column("annotator_id", sa.Integer, sa.ForeignKey("annotators.id"), nullable=False),
        sa.Column("frame", sa.Integer, nullable=False),
        sa.Column("plane", sa.String(16)),
        sa.Column("region_class", sa.Text, nullable=False),
        sa.Column("tool", sa.String(32), nullable=False),
        sa.Column(
            "geometry_sha256",
            sa.String(64),
            sa.ForeignKey("region_geometries.sha256"),
            nullable=False,
        ),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("updated_at", sa.String(40), nullable=False),
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.UniqueConstraint("uid", name="uq_regions_uid"),
    )
    op.create_index("ix_regions_image", "regions", ["image_id", "annotator_id"])
    dialect = op.get_bind().dialect.name
    for statement in _POSTGRES_TRIGGERS if dialect == "postgresql" else _SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("clinlabel never downgrades a project: the audit trail would break")
