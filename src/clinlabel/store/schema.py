"""The project database as SQLAlchemy Core tables: the only description of its shape.

Migrations in `migrations/versions/` create exactly these tables; `tests/unit/store` checks that
the migrated database and this metadata agree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

meta = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

annotators = Table(
    "annotators",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("created_at", String(40), nullable=False),
)

images = Table(
    "images",
    metadata,
    Column("id", Integer, primary_key=True),
    # Identity of an image: POSIX path relative to the batch root (never the bare file name).
    Column("relpath", Text, nullable=False, unique=True),
    Column("case_name", Text, nullable=False),
    Column("visit", Text, nullable=False),
    Column("folder", Text, nullable=False),
    Column("file", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    # Recorded at the latest when the image is first labelled, so a label points at exact bytes.
    Column("sha256", String(64)),
    # Queue position, 1..N over present images; NULL once the file has gone from the batch.
    Column("seq", Integer),
    Column("present", Boolean, nullable=False, default=True),
    # The bytes differ from those hashed when the image was labelled.
    Column("changed", Boolean, nullable=False, default=False),
    Column("first_seen_at", String(40), nullable=False),
    # Natural-order keys of the case, visit and file names (store.sort_keys), so the review
    # table's sorts read an index in order instead of sorting the table (migration 0006). Each
    # index ends with seq: ties follow the queue, and a window is one range of the index.
    Column("case_key", LargeBinary),
    Column("visit_key", LargeBinary),
    Column("file_key", LargeBinary),
    Index("ix_images_seq", "seq"),
    # With seq: one case's images in queue order, for the review table's case filter (0006).
    Index("ix_images_case", "case_name", "seq"),
    Index("ix_images_case_key", "case_key", "seq"),
    Index("ix_images_visit_key", "visit_key", "seq"),
    Index("ix_images_file_key", "file_key", "seq"),
)

sessions = Table(
    "sessions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("annotator_id", Integer, ForeignKey("annotators.id"), nullable=False),
    Column("started_at", String(40), nullable=False),
    Column("ended_at", String(40)),
    Column("tz_offset_min", Integer, nullable=False),
    Column("app_version", String(40), nullable=False),
    Column("interface", String(40), nullable=False),
)

labels = Table(
    "labels",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("image_id", Integer, ForeignKey("images.id"), nullable=False),
    Column("annotator_id", Integer, ForeignKey("annotators.id"), nullable=False),
    # 0 = the whole file; frames and slices count from 1, as DICOM numbers frames.
    Column("frame", Integer, nullable=False, default=0),
    Column("label", Text, nullable=False),
    Column("comment", Text, nullable=False, default=""),
    Column("labelled_at", String(40), nullable=False),
    Column("sha256", String(64)),
    Column("event_id", Integer, nullable=False),
    # JSON: the acquisition geometry of the labelled frame (DICOM XA/RF), for exports.
    Column("geometry", Text),
    # The comment's natural-order key (store.sort_keys), NULL when there is no comment: the
    # review table's comment order is a range of the index below (migration 0010).
    Column("comment_key", LargeBinary),
    UniqueConstraint("image_id", "annotator_id", "frame", name="uq_labels_image_annotator_frame"),
    Index("ix_labels_annotator", "annotator_id"),
    # The review table's label filter and its counts per label (migration 0006).
    Index("ix_labels_annotator_label", "annotator_id", "frame", "label"),
    Index("ix_labels_annotator_comment", "annotator_id", "frame", "comment_key", "image_id"),
)

# How many images each annotator has labelled (whole-file labels of present images): kept in the
# same transaction as every label change and recounted by every rescan, so that the progress a
# save answers with costs one look-up, not a count over the project (migration 0005).
annotator_progress = Table(
    "annotator_progress",
    metadata,
    Column("annotator_id", Integer, ForeignKey("annotators.id"), primary_key=True),
    Column("labelled", Integer, nullable=False),
)

# Every geometry ever drawn, by the SHA-256 its region events record; append-only (triggers in
# migration 0007), so history and undo always find the shape (`regions` keeps only the current).
region_geometries = Table(
    "region_geometries",
    metadata,
    Column("sha256", String(64), primary_key=True),
    Column("geometry", Text, nullable=False),
)

# The current regions (a convenience copy of the trail, like `labels`): `uid` is made by the page
# when the shape is drawn, so a retried save never makes a second region.
regions = Table(
    "regions",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("uid", String(64), nullable=False),
    Column("image_id", Integer, ForeignKey("images.id"), nullable=False),
    Column("annotator_id", Integer, ForeignKey("annotators.id"), nullable=False),
    # 0 = the whole file (a photo); frames and slices count from 1.
    Column("frame", Integer, nullable=False),
    # For volumes: the plane the shape was drawn in (its coordinates are that plane's voxels).
    Column("plane", String(16)),
    Column("region_class", Text, nullable=False),
    Column("tool", String(32), nullable=False),
    Column("geometry_sha256", String(64), ForeignKey("region_geometries.sha256"), nullable=False),
    Column("comment", Text, nullable=False),
    Column("updated_at", String(40), nullable=False),
    Column("event_id", Integer, nullable=False),
    UniqueConstraint("uid", name="uq_regions_uid"),
    Index("ix_regions_image", "image_id", "annotator_id"),
)

# Append-only and hash-chained: the database refuses UPDATE and DELETE (triggers in the
# migration). Columns that statistics aggregate (image, active time) are real columns so that
# reports never parse JSON for a million rows; everything else is in `data`.
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ts_utc", String(40), nullable=False),
    Column("tz_offset_min", Integer, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("session_id", Integer),
    Column("kind", String(40), nullable=False),
    Column("image_id", Integer),
    Column("image", Text),
    Column("frame", Integer),
    Column("active_ms", BigInteger),
    Column("idle_ms", BigInteger),
    Column("data", Text, nullable=False),
    Column("app_version", String(40), nullable=False),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    # Covers "active time per image and annotator" (queue views, the report) without the table.
    Index("ix_events_image_actor", "image_id", "actor", "active_ms"),
)

# Staging for a scan: the walk streams rows here, then set-based SQL works out what is new,
# removed or changed, so a million-image rescan needs no Python dict of the old state.
scan_staging = Table(
    "scan_staging",
    metadata,
    # seq (queue order) is the key: an integer key makes bulk inserts cheap in SQLite.
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("relpath", Text, nullable=False),
    Column("case_name", Text, nullable=False),
    Column("visit", Text, nullable=False),
    Column("folder", Text, nullable=False),
    Column("file", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    Column("case_key", LargeBinary),
    Column("visit_key", LargeBinary),
    Column("file_key", LargeBinary),
    # Every rescan statement finds images by path in here (joins and anti-joins): without it
    # SQLite scanned the whole table once per image (migration 0004).
    Index("ix_scan_staging_relpath", "relpath", unique=True),
)


# --- issue 14 (scale): the sidebar's counts, kept instead of counted per request
# (store.case_counts, migration 0010).
# Each visit of the queue: rebuilt by every scan (the queue changes only then).
queue_visits = Table(
    "queue_visits",
    metadata,
    Column("case_name", Text, primary_key=True),
    Column("visit", Text, primary_key=True),
    Column("first_seq", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Index("ix_queue_visits_first_seq", "first_seq"),
)

# Present images of each case each annotator labelled (whole file): kept with every label
# change, like annotator_progress, and recounted by every rescan.
case_labelled = Table(
    "case_labelled",
    metadata,
    Column("annotator_id", Integer, ForeignKey("annotators.id"), primary_key=True),
    Column("case_name", Text, primary_key=True),
    Column("labelled", Integer, nullable=False),
)
