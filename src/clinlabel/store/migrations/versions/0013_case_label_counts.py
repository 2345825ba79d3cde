"""Each annotator's labelled, commented and timed images per case and label, kept (issue 14).

`case_label_counts` (annotator, case, label: labelled, commented, timed): the present images of
each case with each whole-file label of each annotator, and how many of those carry a comment or
have the annotator's kept active time. Kept with every label change and first time
(store.label_counts) and moved by the rescans, as `case_labelled` is: a jump into one label's
images (the label order, the label filter by position), into the images without a comment (the
comment order) or without time among the unlabelled (the seconds order, unlabelled filter) adds
a row per case up, then reads inside one case, instead of walking the queue to its offset
(hundreds of ms at a million images). Filled here from the labels, one grouped statement.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_label_counts",
        sa.Column("annotator_id", sa.Integer, sa.ForeignKey("annotators.id"), primary_key=True),
        sa.Column("case_name", sa.Text, primary_key=True),
        sa.Column("label", sa.Text, primary_key=True),
        sa.Column("labelled", sa.Integer, nullable=False),
        sa.Column("commented", sa.Integer, nullable=False),
        sa.Column("timed", sa.Integer, nullable=False),
    )
    op.execute(
        "INSERT INTO case_label_counts (annotator_id, case_name, label, labelled, commented, "
        "timed) SELECT labels.annotator_id, images.case_name, labels.label, count(*), "
        "count(labels.comment_key), count(image_seconds.image_id) FROM labels "
        "JOIN images ON images.id = labels.image_id "
        "LEFT JOIN image_seconds ON image_seconds.image_id = labels.image_id "
        "AND image_seconds.actor = (SELECT name FROM annotators "
        "WHERE annotators.id = labels.annotator_id) "
        "WHERE labels.frame = 0 AND images.seq IS NOT NULL "
        "GROUP BY labels.annotator_id, images.case_name, labels.label"
    )


def downgrade() -> None:
    raise NotImplementedError("clinlabel never downgrades a project: the audit trail would break")
