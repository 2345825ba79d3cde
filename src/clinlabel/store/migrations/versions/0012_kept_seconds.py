"""Each annotator's active time per image, kept (issue 14).

`image_seconds` (actor, image, ms): the sum of `active_ms` over the actor's events on the image,
added to with every such event (store.seconds), indexed (actor, ms, image): the review table's
seconds order becomes a range of that index instead of an aggregate over every image's events
(1.1 s at 100,000 images). Filled here from the trail, one grouped statement on the events'
(image, actor, active_ms) index. `case_timed` (actor, case, timed): the present images of each
case with a kept time, so that the images without time are found by case, not by a walk.

Revision ID: 0012
Revises: 0010 (0011 is another branch's; the merge chains 0012 after it)
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "image_seconds",
        sa.Column("actor", sa.String(200), primary_key=True),
        sa.Column("image_id", sa.Integer, sa.ForeignKey("images.id"), primary_key=True),
        sa.Column("active_ms", sa.BigInteger, nullable=False),
    )
    op.execute(
        "INSERT INTO image_seconds (actor, image_id, active_ms) "
        "SELECT actor, image_id, sum(active_ms) FROM events "
        "WHERE image_id IS NOT NULL AND active_ms IS NOT NULL GROUP BY actor, image_id"
    )
    op.create_index("ix_image_seconds_order", "image_seconds", ["actor", "active_ms", "image_id"])
    op.create_table(
        "case_timed",
        sa.Column("actor", sa.String(200), primary_key=True),
        sa.Column("case_name", sa.Text, primary_key=True),
        sa.Column("timed", sa.Integer, nullable=False),
    )
    op.execute(
        "INSERT INTO case_timed (actor, case_name, timed) "
        "SELECT image_seconds.actor, images.case_name, count(*) FROM image_seconds "
        "JOIN images ON images.id = image_seconds.image_id WHERE images.seq IS NOT NULL "
        "GROUP BY image_seconds.actor, images.case_name"
    )


def downgrade() -> None:
    raise NotImplementedError("clinlabel never downgrades a project: the audit trail would break")
