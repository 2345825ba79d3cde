"""The keys of the project settings kept in the database (`store.meta`), apart from it: the
quick CSV export (`labelling.csv_export`) reads them without importing SQLAlchemy."""

from __future__ import annotations

BATCH_ROOT = "batch_root"
LABEL_SCHEMA = "label_schema"
CREATED_AT = "created_at"
LAST_SCAN = "last_scan"
VERIFIED_HEAD = "verified_head"
"""The newest event found intact by the last check of the chain (`audit.verifier`)."""
VERIFIED_LABELS = "verified_labels"
"""The digest of the current labels as the check up to the verified head found them
(`audit.label_digest`)."""
