# ruff: noqa: E501
"""The store's queries that `clinlabel export --csv` of an SQLite project runs, compiled for
SQLite as text (`store.csv_export` runs them with the standard library's sqlite3, so that
command never imports SQLAlchemy). Written by `tests/unit/store/test_exportfast_sql.py` from
`store.events` and `store.exports`, which stay the queries' one definition: that test fails
when either changes and this text was not written again. Do not edit by hand."""

from __future__ import annotations

from typing import NamedTuple


class Query(NamedTuple):
    sql: str
    params: tuple[object, ...]
    slots: tuple[str, ...] = ()
    """For each of `params`, the name of the value given at run time in its place ('': none)."""

    def given(self, **values: object) -> tuple[object, ...]:
        """The parameters with the values given at run time (an event id, a range of ids)."""
        if not self.slots:
            return self.params
        return tuple(values[s] if s else p for s, p in zip(self.slots, self.params, strict=True))


NEWEST_SCAN = Query(
    "SELECT events.id, json_extract(events.data, '$.images') AS json_extract_1 \nFROM events \nWHERE events.kind = 'batch_scanned' ORDER BY events.id DESC\n LIMIT 1 OFFSET 0",
    (),
)

QUEUE = Query(
    "SELECT count(*) AS count_1, coalesce(max(images.seq), 0) AS coalesce_1 \nFROM images \nWHERE images.present = 1",
    (),
)

NAMED_LABEL = Query(
    "SELECT labels.event_id \nFROM labels LEFT OUTER JOIN annotators ON annotators.id = labels.annotator_id LEFT OUTER JOIN images ON images.id = labels.image_id LEFT OUTER JOIN events ON events.id = labels.event_id \nWHERE events.id IS NULL OR (events.kind NOT IN ('label_saved', 'label_changed')) OR events.image_id IS NOT labels.image_id OR events.image IS NULL OR events.image IS NOT images.relpath OR (images.case_name || ? || images.visit || ? || images.file) IS NOT images.relpath OR substr(images.file, ?, length(images.folder) + ?) IS NOT (images.folder || ?) OR events.actor IS NOT annotators.name OR coalesce(events.frame, ?) IS NOT labels.frame OR json_extract(events.data, ?) IS NOT labels.label OR coalesce(json_extract(events.data, ?), ?) IS NOT labels.comment OR events.ts_utc IS NOT labels.labelled_at OR coalesce(json_extract(events.data, ?), ?) IS NOT coalesce(labels.sha256, ?) ORDER BY labels.event_id\n LIMIT 1 OFFSET 0",
    ("/", "/", 1, 1, "/", 0, "$.new.label", "$.new.comment", "", "$.sha256", "", ""),
)

STALE_LABEL = Query(
    "SELECT anon_1.id \nFROM (SELECT events.image_id AS image_id, events.actor AS actor, coalesce(events.frame, 0) AS frame, max(events.id) AS id \nFROM events \nWHERE events.kind IN ('label_saved', 'label_changed', 'label_cleared') GROUP BY events.image_id, events.actor, coalesce(events.frame, 0)) AS anon_1 JOIN events AS newest ON newest.id = anon_1.id LEFT OUTER JOIN annotators ON annotators.name = anon_1.actor LEFT OUTER JOIN labels ON labels.image_id = anon_1.image_id AND labels.annotator_id = annotators.id AND labels.frame = anon_1.frame \nWHERE newest.kind = 'label_cleared' AND labels.id IS NOT NULL OR newest.kind != 'label_cleared' AND (labels.id IS NULL OR labels.event_id IS NOT anon_1.id) ORDER BY anon_1.id\n LIMIT 1 OFFSET 0",
    (),
)

NAMED_LABEL_AFTER = Query(
    "SELECT labels.event_id \nFROM labels LEFT OUTER JOIN annotators ON annotators.id = labels.annotator_id LEFT OUTER JOIN images ON images.id = labels.image_id LEFT OUTER JOIN events ON events.id = labels.event_id \nWHERE labels.event_id > ? AND (events.id IS NULL OR (events.kind NOT IN (?, ?)) OR events.image_id IS NOT labels.image_id OR events.image IS NULL OR events.image IS NOT images.relpath OR (images.case_name || ? || images.visit || ? || images.file) IS NOT images.relpath OR substr(images.file, ?, length(images.folder) + ?) IS NOT (images.folder || ?) OR events.actor IS NOT annotators.name OR coalesce(events.frame, ?) IS NOT labels.frame OR json_extract(events.data, ?) IS NOT labels.label OR coalesce(json_extract(events.data, ?), ?) IS NOT labels.comment OR events.ts_utc IS NOT labels.labelled_at OR coalesce(json_extract(events.data, ?), ?) IS NOT coalesce(labels.sha256, ?)) ORDER BY labels.event_id\n LIMIT ? OFFSET ?",
    (
        0,
        "label_saved",
        "label_changed",
        "/",
        "/",
        1,
        1,
        "/",
        0,
        "$.new.label",
        "$.new.comment",
        "",
        "$.sha256",
        "",
        "",
        1,
        0,
    ),
    ("after", "", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""),
)

STALE_LABEL_AFTER = Query(
    "SELECT anon_1.id \nFROM (SELECT events.image_id AS image_id, events.actor AS actor, coalesce(events.frame, ?) AS frame, max(events.id) AS id \nFROM events \nWHERE events.kind IN (?, ?, ?) AND events.id > ? GROUP BY events.image_id, events.actor, coalesce(events.frame, ?)) AS anon_1 JOIN events AS newest ON newest.id = anon_1.id LEFT OUTER JOIN annotators ON annotators.name = anon_1.actor LEFT OUTER JOIN labels ON labels.image_id = anon_1.image_id AND labels.annotator_id = annotators.id AND labels.frame = anon_1.frame \nWHERE newest.kind = ? AND labels.id IS NOT NULL OR newest.kind != ? AND (labels.id IS NULL OR labels.event_id IS NOT anon_1.id) ORDER BY anon_1.id\n LIMIT ? OFFSET ?",
    (
        0,
        "label_saved",
        "label_changed",
        "label_cleared",
        0,
        0,
        "label_cleared",
        "label_cleared",
        1,
        0,
    ),
    ("", "", "", "", "after", "", "", "", "", ""),
)

LABELS_TEXT = Query(
    "SELECT group_concat(anon_1.text, ?) AS group_concat_1 \nFROM (SELECT json_array(labels.image_id, labels.annotator_id, annotators.name, labels.frame, labels.label, labels.comment, labels.labelled_at, coalesce(labels.sha256, ?), labels.event_id, images.relpath, images.case_name, images.visit, images.file, images.folder) AS text \nFROM labels LEFT OUTER JOIN annotators ON annotators.id = labels.annotator_id LEFT OUTER JOIN images ON images.id = labels.image_id \nWHERE labels.id >= ? AND labels.id <= ? ORDER BY labels.id) AS anon_1",
    ("\n", "", 0, 0),
    ("", "", "first", "last"),
)

OLDER_LABELS_TEXT = Query(
    'SELECT group_concat(anon_1.text, ?) AS group_concat_1 \nFROM (SELECT CASE WHEN (labels.event_id IS NULL OR labels.event_id <= ?) THEN json_array(labels.image_id, labels.annotator_id, annotators.name, labels.frame, labels.label, labels.comment, labels.labelled_at, coalesce(labels.sha256, ?), labels.event_id, images.relpath, images.case_name, images.visit, images.file, images.folder) ELSE (SELECT json_array(labels.image_id, labels.annotator_id, annotators.name, labels.frame, json_extract("before".data, ?), coalesce(json_extract("before".data, ?), ?), "before".ts_utc, coalesce(json_extract("before".data, ?), ?), "before".id, images.relpath, images.case_name, images.visit, images.file, images.folder) AS json_array_1 \nFROM events AS "before" \nWHERE "before".id = (SELECT max(earlier.id) AS max_1 \nFROM events AS earlier \nWHERE earlier.image_id = labels.image_id AND earlier.actor = annotators.name AND coalesce(earlier.frame, ?) = labels.frame AND earlier.kind IN (?, ?, ?) AND earlier.id <= ?) AND "before".kind IN (?, ?)) END AS text \nFROM labels LEFT OUTER JOIN annotators ON annotators.id = labels.annotator_id LEFT OUTER JOIN images ON images.id = labels.image_id \nWHERE labels.id >= ? AND labels.id <= ? ORDER BY labels.id) AS anon_1',
    (
        "\n",
        0,
        "",
        "$.new.label",
        "$.new.comment",
        "",
        "$.sha256",
        "",
        0,
        "label_saved",
        "label_changed",
        "label_cleared",
        0,
        "label_saved",
        "label_changed",
        0,
        0,
    ),
    ("", "after", "", "", "", "", "", "", "", "", "", "", "after", "", "", "first", "last"),
)

NEXT_LABEL_ID = Query(
    "SELECT min(labels.id) AS min_1 \nFROM labels \nWHERE labels.id >= ?",
    (0,),
    ("start",),
)

LABEL_COUNTS = Query(
    "SELECT count(*) AS count_1, count(*) FILTER (WHERE labels.event_id > ?) AS anon_1 \nFROM labels",
    (0,),
    ("after",),
)

PRESENT_LABELS = Query(
    "SELECT images.case_name, images.visit, images.file, labels.label, labels.comment \nFROM images JOIN labels ON labels.image_id = images.id \nWHERE labels.frame = 0 AND images.seq IS NOT NULL ORDER BY images.seq, labels.annotator_id, labels.frame",
    (),
)

GONE_LABELS = Query(
    "SELECT images.case_name, images.visit, images.file, labels.label, labels.comment \nFROM images JOIN labels ON labels.image_id = images.id \nWHERE labels.frame = 0 AND images.seq IS NULL ORDER BY images.relpath, labels.annotator_id, labels.frame",
    (),
)
