"""Reading studies (issue 13, part 2): the study's design, each reader's seed and worklist,
repeat reads kept apart from first reads, case-level diagnoses and adjudications.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "study",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("design", sa.String(16), nullable=False),
        sa.Column("per_image", sa.Integer),
        sa.Column("sample", sa.Integer),
        sa.Column("overlap", sa.Text),
        sa.Column("repeats", sa.Text),
        sa.Column("case_order", sa.String(16), nullable=False),
        sa.Column("locked", sa.Boolean, nullable=False),
        sa.Column("seed", sa.BigInteger, nullable=False),
        sa.Column("assigned_at", sa.String(40), nullable=False),
        sa.Column("event_id", sa.Integer, nullable=False),
    )
    op.create_table(
        "study_readers",
        sa.Column("annotator_id", sa.Integer, sa.ForeignKey("annotators.id"), primary_key=True),
        sa.Column("seed", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("annotator_id", sa.Integer, sa.ForeignKey("annotators.id"), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id"), nullable=False),
        sa.Column("repeat_of", sa.Integer, sa.ForeignKey("assignments.id")),
        sa.UniqueConstraint("annotator_id", "position", name="uq_assignments_reader_position"),
    )
    op.create_index("ix_assignments_image", "assignments", ["image_id", "annotator_id"])
    op.create_table(
        "repeat_reads",
        sa.Column("assignment_id", sa.Integer, sa.ForeignKey("assignments.id"), primary_key=True),
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id"), nullable=False),
        sa.Column("annotator_id", sa.Integer, sa.ForeignKey("annotators.id"), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("labelled_at", sa.String(40), nullable=False),
        sa.Column("event_id", sa.Integer, nullable=False),
    )
    op.create_table(
        "case_diagnoses",
        sa.Column("case_name", sa.Text, primary_key=True),
        sa.Column("annotator_id", sa.Integer, sa.ForeignKey("annotators.id"), primary_key=True),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("labelled_at", sa.String(40), nullable=False),
        sa.Column("event_id", sa.Integer, nullable=False),
    )
    op.create_table(
        "adjudications",
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id"), primary_key=True),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("reviewer", sa.String(200), nullable=False),
        sa.Column("adjudicated_at", sa.String(40), nullable=False),
        sa.Column("event_id", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("clinlabel never downgrades a project: the audit trail would break")
