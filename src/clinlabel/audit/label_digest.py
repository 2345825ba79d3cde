"""The current labels as the last full check found them, kept beside the verified head, so that
the next check compares against the trail only what changed since (issue 12: `clinlabel export
--csv` again, within 3x of a bare process by CPU time too).

The labels table is a copy of the trail that an edit with sqlite3 changes without an event, so
it cannot be trusted from the head alone. When a check of every current label against the trail
up to event H passes, the SHA-256 of the checked content of every label (its key and values,
its annotator's name, its image's path and parts, in id order: `store.events.
label_digest_query`) is kept with H. A later check whose trail is intact past H (H itself
unchanged: same hash, same content, H events up to it) rebuilds that text from the labels as
they are now, a label naming a newer event put back as its key's newest label event up to H
left it (a change updates the row in place). The same digest means every label naming an event
up to H is exactly one that passed, against the same events (the trail up to an intact head is
trusted, as its own incremental check trusts it), so only the labels naming a newer event and
the keys with a newer label event are compared in full (`store.events.label_mismatch_queries(
after=H)`). Any difference (a label edited, deleted or inserted, an image row or annotator
changed, H edited, a BLOB in a column, a label cleared since H) means the full comparison, as
before, and a new digest.

The digest stays at H while the labels naming newer events are few (comparing those costs less
than hashing every label again), and is taken again at the newest head once they are a quarter
of all labels, or after the full comparison.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol

from clinlabel.audit.chain import VerifiedHead


@dataclass(frozen=True, slots=True)
class KeptLabels:
    """The digest of the current labels as a full check up to `head` found them."""

    head: VerifiedHead
    digest: str

    @classmethod
    def from_kept_text(cls, text: str | None) -> KeptLabels | None:
        """The digest a process kept (in `meta`); None when there is none or it is not ours to
        trust (garbage, edited by hand): then every label is checked."""
        try:
            found = json.loads(text) if text else None
            if not found:
                return None
            head = VerifiedHead.from_kept_text(json.dumps(found["head"]))
            digest = found["digest"]
        except (ValueError, TypeError, KeyError):
            return None
        if head is None or not isinstance(digest, str) or len(digest) != 64:
            return None
        return cls(head, digest)

    def kept_text(self) -> str:
        """The text `from_kept_text` reads back."""
        head = {"event_id": self.head.event_id, "hash": self.head.hash}
        return json.dumps({"head": head, "digest": self.digest})


class LabelReads(Protocol):
    """What the rule reads, from SQLAlchemy (`audit.verifier`) or sqlite3 (the quick export)."""

    def counts(self, after: int) -> tuple[int, int]:
        """(all current labels, those naming an event after `after`)."""

    def digest(self, after: int | None) -> str | None:
        """The labels' digest (`after`: as they were at that event); None: unreadable."""

    def head_unchanged(self, head: VerifiedHead) -> bool:
        """The event is still there with its hash and content, `event_id` events up to it."""


REFRESH_SHARE = 4
"""The digest is taken again once the labels newer than its head are at least 1/4 of all."""


def unchanged_up_to(kept: KeptLabels | None, checked: int, reads: LabelReads) -> int | None:
    """The event id up to which the current labels need no comparison with the trail, in a
    check whose trail was found intact up to event `checked`: that of `kept`'s head, if it is at
    or before `checked`, unchanged, and the labels as they were at it still have the digest.
    None: compare every label."""
    if kept is None or kept.head.event_id > checked or not reads.head_unchanged(kept.head):
        return None
    if reads.digest(kept.head.event_id) != kept.digest:
        return None
    return kept.head.event_id


def digest_to_keep(
    head: VerifiedHead, kept: KeptLabels | None, unchanged_to: int | None, reads: LabelReads
) -> KeptLabels | None:
    """The digest to keep after a check up to `head` passed (all current labels name events
    up to it). `unchanged_to` is what `unchanged_up_to` said: the kept digest still stands
    there; it is kept as it is while few labels are newer, moved to `head` if none is, and
    taken again otherwise."""
    if unchanged_to is not None and kept is not None:
        every, newer = reads.counts(unchanged_to)
        if newer == 0:  # the same labels: the same text at `head`
            return KeptLabels(head, kept.digest)
        if newer * REFRESH_SHARE < every:
            return kept
    digest = reads.digest(None)
    return None if digest is None else KeptLabels(head, digest)
