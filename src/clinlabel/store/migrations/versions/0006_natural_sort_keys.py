"""Natural-order keys on images and indexes on every review sort, so windows read an index.

The review table sorted by case, visit or file ranked names in Python and ordered the window by a
CASE over them: 70 ms at 100,000 images, growing with the project (issue 14). The keys
(`store.sort_keys.natural_sort_key`) are filled here for the images already known, in batches so
that a project of a million images never holds them all in memory.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from clinlabel.store.sort_keys import natural_sort_key

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_BATCH = 5000
_KEYED = (("case_key", "case_name"), ("visit_key", "visit"), ("file_key", "file"))


def upgrade() -> None:
    for table in ("images", "scan_staging"):
        for key, _ in _KEYED:
            op.add_column(table, sa.Column(key, sa.LargeBinary))
    bind = op.get_bind()
    fill = sa.text(
        "UPDATE images SET case_key = :case_key, visit_key = :visit_key, file_key = :file_key "
        "WHERE id = :id"
    )
    after = 0
    while True:
        # Keyset by id: each batch is one index range, whatever the size of the project.
        batch = bind.execute(
            sa.text(
                "SELECT id, case_name, visit, file FROM images WHERE id > :after "
                "ORDER BY id LIMIT :batch"
            ),
            {"after": after, "batch": _BATCH},
        ).all()
        if not batch:
            break
        bind.execute(
            fill,
            [
                {
                    "id": row[0],
                    "case_key": natural_sort_key(row[1]),
                    "visit_key": natural_sort_key(row[2]),
                    "file_key": natural_sort_key(row[3]),
                }
                for row in batch
            ],
        )
        after = batch[-1][0]
    for key, _ in _KEYED:
        op.create_index(f"ix_images_{key}", "images", [key, "seq"])
    op.drop_index("ix_images_case", "images")
    op.create_index("ix_images_case", "images", ["case_name", "seq"])
    op.create_index("ix_labels_annotator_label", "labels", ["annotator_id", "frame", "label"])


def downgrade() -> None:
    raise NotImplementedError("clinlabel never downgrades a project: the audit trail would break")
