"""The labels' two indexes that others begin with, dropped.

`ix_labels_annotator` (annotator) and `ix_labels_annotator_label` (annotator, frame, label) are
the leading columns of `ix_labels_annotator_label_case_key` (annotator, frame, label, case key;
migration 0014), which answers every look-up and count they answered, in the same order. Each
index is written by every label added: an import of 100,000 labels wrote eight index entries a
row where six do the same work (issue 12's bulk import).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # IF EXISTS: what matters is that they are gone (both databases accept it).
    op.execute("DROP INDEX IF EXISTS ix_labels_annotator")
    op.execute("DROP INDEX IF EXISTS ix_labels_annotator_label")


def downgrade() -> None:
    raise NotImplementedError("clinlabel never downgrades a project: the audit trail would break")
