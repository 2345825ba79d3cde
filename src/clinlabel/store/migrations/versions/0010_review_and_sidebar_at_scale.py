"""Review and sidebar at a million images (issue 14).

- `labels.comment_key`: the comment's natural-order key (store.sort_keys), NULL without a
  comment, indexed after (annotator, frame): the review table's comment order becomes a range of
  an index (730 ms at 300,000 images by grouping every comment). Filled here in batches by id.
- The sidebar's counts kept, not counted per request: `queue_visits` (each visit of the queue
  with its first position and size, rebuilt by every scan) and `case_labelled` (each annotator's
  labelled images per case, kept with the labels, store.case_counts). `/api/cases` counted the
  whole queue on every call (68 ms at 100,000 images); it now reads a row per visit. Both are
  filled here from the project as it is.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clinlabel.store.sort_keys import natural_sort_key

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

_BATCH = 5000


def upgrade() -> None:
    op.add_column("labels", sa.Column("comment_key", sa.LargeBinary))
    bind = op.get_bind()
    fill = sa.text("UPDATE labels SET comment_key = :key WHERE id = :id")
    after = 0
    while True:
        # Keyset by id: each batch is one index range, whatever the size of the project.
        batch = bind.execute(
            sa.text(
                "SELECT id, comment FROM labels WHERE id > :after AND comment <> '' "
                "ORDER BY id LIMIT :batch"
            ),
            {"after": after, "batch": _BATCH},
        ).all()
        if not batch:
            break
        bind.execute(fill, [{"id": row[0], "key": natural_sort_key(row[1])} for row in batch])
        after = batch[-1][0]
    # With image_id: the rows of a comment range are found without reading the labels table.
    op.create_index(
        "ix_labels_annotator_comment",
        "labels",
        ["annotator_id", "frame", "comment_key", "image_id"],
    )
    op.create_table(
        "queue_visits",
        sa.Column("case_name", sa.Text, primary_key=True),
        sa.Column("visit", sa.Text, primary_key=True),
        sa.Column("first_seq", sa.Integer, nullable=False),
        sa.Column("total", sa.Integer, nullable=False),
    )
    op.create_index("ix_queue_visits_first_seq", "queue_visits", ["first_seq"])
    op.create_table(
        "case_labelled",
        sa.Column("annotator_id", sa.Integer, sa.ForeignKey("annotators.id"), primary_key=True),
        sa.Column("case_name", sa.Text, primary_key=True),
        sa.Column("labelled", sa.Integer, nullable=False),
    )
    op.execute(
        "INSERT INTO queue_visits (case_name, visit, first_seq, total) "
        "SELECT case_name, visit, min(seq), count(*) FROM images "
        "WHERE seq IS NOT NULL GROUP BY case_name, visit"
    )
    op.execute(
        "INSERT INTO case_labelled (annotator_id, case_name, labelled) "
        "SELECT labels.annotator_id, images.case_name, count(*) FROM labels "
        "JOIN images ON images.id = labels.image_id "
        "WHERE labels.frame = 0 AND images.seq IS NOT NULL "
        "GROUP BY labels.annotator_id, images.case_name"
    )


def downgrade() -> None:
    raise NotImplementedError("clinlabel never downgrades a project: the audit trail would break")
