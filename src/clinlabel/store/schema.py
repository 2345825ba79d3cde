"""The project database as SQLAlchemy Core tables: the only description of its shape.

Migrations in `migrations/versions/` create exactly these tables; `tests/unit/store` checks that
the migrated database and this metadata agree.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
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
    # Copies of the labelled image's name keys (never changed for an image), so a jump into the
    # case, visit or file order filtered by a label is an OFFSET on one label's range of the
    # indexes below (store.review, migration 0014). Set by every write of a new label.
    Column("case_key", LargeBinary),
    Column("visit_key", LargeBinary),
    Column("file_key", LargeBinary),
    UniqueConstraint("image_id", "annotator_id", "frame", name="uq_labels_image_annotator_frame"),
    Index("ix_labels_annotator_comment", "annotator_id", "frame", "comment_key", "image_id"),
    # Also the review table's label filter, its counts per label and every look-up of an
    # annotator's labels (its leading columns: the indexes on those alone went in 0015).
    Index("ix_labels_annotator_label_case_key", "annotator_id", "frame", "label", "case_key"),
    Index("ix_labels_annotator_label_visit_key", "annotator_id", "frame", "label", "visit_key"),
    Index("ix_labels_annotator_label_file_key", "annotator_id", "frame", "label", "file_key"),
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

# ---- Reading studies (issue 13, part 2: study design, adjudication; migration 0009) ---------

# The study's design, one row (id 1): how `clinlabel study assign` shared the images out, and the
# rules every face obeys (locked progression). Written with the `study_assigned` event.
study = Table(
    "study",
    metadata,
    Column("id", Integer, primary_key=True),
    # "per-image", "by-case" or "sample"
    Column("design", String(16), nullable=False),
    Column("per_image", Integer),
    Column("sample", Integer),
    Column("overlap", Text),
    Column("repeats", Text),
    # "random" (each reader's own stable order of cases) or "batch"
    Column("case_order", String(16), nullable=False),
    Column("locked", Boolean, nullable=False),
    Column("seed", BigInteger, nullable=False),
    Column("assigned_at", String(40), nullable=False),
    Column("event_id", Integer, nullable=False),
)

# Each reader's seed of their order of cases (also in the `study_assigned` event).
study_readers = Table(
    "study_readers",
    metadata,
    Column("annotator_id", Integer, ForeignKey("annotators.id"), primary_key=True),
    Column("seed", BigInteger, nullable=False),
)

# Each reader's worklist: position 1..n is the order the reader is shown them. A repeat is a
# second showing of an image to the same reader later on (`repeat_of` the first showing).
assignments = Table(
    "assignments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("annotator_id", Integer, ForeignKey("annotators.id"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("image_id", Integer, ForeignKey("images.id"), nullable=False),
    Column("repeat_of", Integer, ForeignKey("assignments.id")),
    UniqueConstraint("annotator_id", "position", name="uq_assignments_reader_position"),
    Index("ix_assignments_image", "image_id", "annotator_id"),
)

# A repeat read: its own record, never an overwrite of the reader's first read (which stays in
# `labels`), so test-retest agreement compares the two.
repeat_reads = Table(
    "repeat_reads",
    metadata,
    Column("assignment_id", Integer, ForeignKey("assignments.id"), primary_key=True),
    Column("image_id", Integer, ForeignKey("images.id"), nullable=False),
    Column("annotator_id", Integer, ForeignKey("annotators.id"), nullable=False),
    Column("label", Text, nullable=False),
    Column("comment", Text, nullable=False),
    Column("labelled_at", String(40), nullable=False),
    Column("event_id", Integer, nullable=False),
)

# The case-level diagnosis a reader gives once every image of the case is labelled (the
# schema's `[[case_labels]]`).
case_diagnoses = Table(
    "case_diagnoses",
    metadata,
    Column("case_name", Text, primary_key=True),
    Column("annotator_id", Integer, ForeignKey("annotators.id"), primary_key=True),
    Column("label", Text, nullable=False),
    Column("comment", Text, nullable=False),
    Column("labelled_at", String(40), nullable=False),
    Column("event_id", Integer, nullable=False),
)

# The final label of an image after a reviewer weighed the readers' labels, with the reason.
adjudications = Table(
    "adjudications",
    metadata,
    Column("image_id", Integer, ForeignKey("images.id"), primary_key=True),
    Column("label", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("reviewer", String(200), nullable=False),
    Column("adjudicated_at", String(40), nullable=False),
    Column("event_id", Integer, nullable=False),
)


# ---- serving a team (issue 13, migration 0008) ------------------------------------------------

# Who may log in to `clinlabel serve`, with which role. The name is also the reader's name in
# `annotators` (labels are per annotator). Passwords only as argon2id hashes.
users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("disabled", Boolean, nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("changed_at", String(40), nullable=False),
    UniqueConstraint("name", name="uq_users_name"),
)

# Logins of the multi-user server, shared by every server process of the project: only the
# SHA-256 of the session id is kept (a copy of the database logs nobody in). `seen_at` is Unix
# time, for the idle log-off.
web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_sha256", String(64), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("created_at", String(40), nullable=False),
    Column("seen_at", Float, nullable=False),
    Column("ended_at", String(40)),
    Column("address", String(64), nullable=False),
    Index("ix_web_sessions_user", "user_id"),
)

# Failed logins in a row, per account ("user:NAME") and per address ("addr:IP"); each failure
# doubles the wait before the next attempt is even checked.
login_failures = Table(
    "login_failures",
    metadata,
    Column("key", String(300), primary_key=True),
    Column("failures", Integer, nullable=False),
    Column("last_at", Float, nullable=False),
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

# Present images of each case each annotator labelled with each label (whole file), and how many
# of them carry a comment or have the annotator's kept time: kept with every change that moves
# them (store.label_counts, migration 0013), so that a jump into a label's images, the images
# without a comment or the unlabelled without time adds a row per case up instead of walking
# the queue to its offset (store.review).
case_label_counts = Table(
    "case_label_counts",
    metadata,
    Column("annotator_id", Integer, ForeignKey("annotators.id"), primary_key=True),
    Column("case_name", Text, primary_key=True),
    Column("label", Text, primary_key=True),
    Column("labelled", Integer, nullable=False),
    Column("commented", Integer, nullable=False),
    Column("timed", Integer, nullable=False),  # of those, with the annotator's kept time
)

# --- issue 14 (scale): each annotator's active time per image, the sum of `active_ms` over
# their events on it, kept with the events (store.seconds, migration 0012) so that the review
# table's seconds order is a range of an index, not an aggregate over every image's events.
image_seconds = Table(
    "image_seconds",
    metadata,
    Column("actor", String(200), primary_key=True),
    Column("image_id", Integer, ForeignKey("images.id"), primary_key=True),
    Column("active_ms", BigInteger, nullable=False),
    # With image_id: the rows of a range of times are found without reading the table.
    Index("ix_image_seconds_order", "actor", "active_ms", "image_id"),
)

# Present images of each case on which each actor has active time (a row in image_seconds):
# kept with image_seconds and moved by every rescan, like case_labelled, so that a jump into the
# images without time (first in the seconds order descending) adds a row per case up.
case_timed = Table(
    "case_timed",
    metadata,
    Column("actor", String(200), primary_key=True),
    Column("case_name", Text, primary_key=True),
    Column("timed", Integer, nullable=False),
)
