"""A small synthetic project for the store's migration tests: images in cases and visits of a
fixed size, every other one labelled by one annotator."""

from __future__ import annotations

from pathlib import Path

from clinlabel.domain import ImageKind, ImageRef
from clinlabel.store import images as image_rows
from clinlabel.store import labels as label_rows
from clinlabel.store import people
from clinlabel.store.store import Store


def image_ref(index: int, *, per_case: int, per_visit: int, visits: int) -> ImageRef:
    """The `index`-th image: `per_case` to a case, `per_visit` to a visit, cycling through
    `visits` visit names, files `img0.jpg`.. in an `XC` folder."""
    case, visit = f"Case_{index // per_case}", f"Visit_{index // per_visit % visits}"
    name = f"img{index % per_visit}.jpg"
    return ImageRef(
        relpath=f"{case}/{visit}/XC/{name}",
        case=case,
        visit=visit,
        folder="XC",
        file=f"XC/{name}",
        kind=ImageKind.RASTER,
        size=9,
        mtime_ns=1,
    )


def hundred_a_case(index: int) -> ImageRef:
    """The `index`-th image of the plans and scale tests' queue: 100 to a case, 10 to a visit."""
    return image_ref(index, per_case=100, per_visit=10, visits=10)


def labelled_store(
    folder: Path, refs: list[ImageRef], *, annotator: str = "alice", comments: bool = False
) -> int:
    """Make the project in `folder` with `refs` scanned and every other image (ids 1, 3, ...)
    labelled by `annotator`: NA, or Suspicious for every third id; with `comments`, "blurred" on
    every fifth. Returns the annotator's id; the store is closed."""
    store = Store.open_dir(folder)
    with store.write() as conn:
        image_rows.sync_scan(
            conn, [[image_rows.scan_row(i + 1, ref) for i, ref in enumerate(refs)]], now="t0"
        )
        who = people.annotator_id(conn, annotator, now="t0")
        for image_id in range(1, len(refs), 2):
            label_rows.put_label(
                conn,
                image_id=image_id,
                annotator_id=who,
                frame=0,
                label="NA" if image_id % 3 else "Suspicious",
                comment="blurred" if comments and image_id % 5 == 0 else "",
                labelled_at="t0",
                sha256=None,
                event_id=image_id,
                exists=False,
            )
    store.close()
    return who
