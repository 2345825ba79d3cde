"""Initial schema: images, annotators, sessions, labels, append-only hash-chained events.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_SQLITE_TRIGGERS = [
    """CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN
       SELECT RAISE(ABORT, 'the audit trail is append-only: events cannot be changed'); END""",
    """CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN
       SELECT RAISE(ABORT, 'the audit trail is append-only: events cannot be deleted'); END""",
]

_POSTGRES_TRIGGERS = [
    """CREATE FUNCTION clinlabel_events_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'the audit trail is append-only: events cannot be changed or deleted';
       END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events
       FOR EACH ROW EXECUTE FUNCTION clinlabel_events_append_only()""",
    """CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
       FOR EACH STATEMENT EXECUTE FUNCTION clinlabel_events_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "meta",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.Text, nullable=False),
    )
    op.create_table(
        "annotators",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False, unique=True),
        sa.Column("created_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "images",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("relpath", sa.Text, nullable=False, unique=True),
        sa.Column("case_name", sa.Text, nullable=False),
        sa.Column("visit", sa.Text, nullable=False),
        sa.Column("folder", sa.Text, nullable=False),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64)),
        sa.Column("seq", sa.Integer),
        sa.Column("present", sa.Boolean, nullable=False),
        sa.Column("changed", sa.Boolean, nullable=False),
        sa.Column("first_seen_at", sa.String(40), nullable=False),
    )
    op.create_index("ix_images_seq", "images", ["seq"])
    op.create_index("ix_images_case", "images", ["case_name"])
    op.create_table(
        "sessions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("annotator_id", sa.Integer, sa.ForeignKey("annotators.id"), nullable=False),
        sa.Column("started_at", sa.String(40), nullable=False),
        sa.Column("ended_at", sa.String(40)),
        sa.Column("tz_offset_min", sa.Integer, nullable=False),
        sa.Column("app_version", sa.String(40), nullable=False),
        sa.Column("interface", sa.String(40), nullable=False),
    )
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id"), nullable=False),
        sa.Column("annotator_id", sa.Integer, sa.ForeignKey("annotators.id"), nullable=False),
        sa.Column("frame", sa.Integer, nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("labelled_at", sa.String(40), nullable=False),
        sa.Column("sha256", sa.String(64)),
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.UniqueConstraint(
            "image_id", "annotator_id", "frame", name="uq_labels_image_annotator_frame"
        ),
    )
    op.create_index("ix_labels_annotator", "labels", ["annotator_id"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("ts_utc", sa.String(40), nullable=False),
        sa.Column("tz_offset_min", sa.Integer, nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("session_id", sa.Integer),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("image_id", sa.Integer),
        sa.Column("image", sa.Text),
        sa.Column("frame", sa.Integer),
        sa.Column("active_ms", sa.BigInteger),
        sa.Column("idle_ms", sa.BigInteger),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("app_version", sa.String(40), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_events_image_actor", "events", ["image_id", "actor", "active_ms"])
    op.create_table(
        "scan_staging",
        sa.Column("seq", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("relpath", sa.Text, nullable=False),
        sa.Column("case_name", sa.Text, nullable=False),
        sa.Column("visit", sa.Text, nullable=False),
        sa.Column("folder", sa.Text, nullable=False),
        sa.Column("file", sa.Text, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
    )
    dialect = op.get_bind().dialect.name
    for statement in _POSTGRES_TRIGGERS if dialect == "postgresql" else _SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    raise NotImplementedError("clinlabel never downgrades a project: the audit trail would break")
