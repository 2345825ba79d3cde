"""The image's name keys copied onto its labels, for the review's name orders with a label filter.

`labels.case_key`, `visit_key`, `file_key`: the natural-order keys of the labelled image's case,
visit and file names (store.sort_keys, as on `images`, migration 0006), indexed after
(annotator, frame, label). A jump into the case, visit or file order filtered by a label walked
the images' key index and probed each image's label (0.55 s at a million images for a jump to
the middle by file); the row's key is now found by OFFSET on that label's range of the new
index alone, and only that key's ties are read in queue order from `images` (store.review).
The keys of an image never change (its identity is its path, migration 0003), so the copies
stay right without the rescan: only the writes of a label set them. Queue positions are not
copied: a rescan renumbers them. Filled here from the images, one statement.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_KEYS = ("case_key", "visit_key", "file_key")


def upgrade() -> None:
    for name in _KEYS:
        op.add_column("labels", sa.Column(name, sa.LargeBinary))
    op.execute(
        "UPDATE labels SET "
        + ", ".join(
            f"{name} = (SELECT images.{name} FROM images WHERE images.id = labels.image_id)"
            for name in _KEYS
        )
    )
    for name in _KEYS:
        op.create_index(
            f"ix_labels_annotator_label_{name}", "labels", ["annotator_id", "frame", "label", name]
        )


def downgrade() -> None:
    raise NotImplementedError("clinlabel never downgrades a project: the audit trail would break")
