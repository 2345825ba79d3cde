"""Study design: which reader reads which image, in what order, and which images come back.

`plan_study` is pure (images and readers in, worklists out) so its balance and order rules are
tested without a database; `assign_study` is the use case `clinlabel study assign` calls: it
reads the batch's images, plans, and records the worklists with one `study_assigned` event
that carries the study's seed and each reader's own seed (the order of their cases).
"""

from __future__ import annotations

import hashlib
import math
import random
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy.engine import Connection

from clinlabel.audit.events import EventKind, NewEvent
from clinlabel.audit.log import append_event, utc_now
from clinlabel.errors import ValidationError
from clinlabel.labelling.project import Project, system_user
from clinlabel.labelling.service import clean_annotator_name
from clinlabel.store import assignments as assignment_rows
from clinlabel.store import people
from clinlabel.store import users as user_rows

DESIGNS = ("per-image", "by-case", "sample")
ORDERS = ("random", "batch")


@dataclass(frozen=True, slots=True)
class StudyDesign:
    """How the images are shared out (one of three designs) and shown."""

    design: str
    """"per-image": every image read by `per_image` readers; "by-case": whole cases, each to
    one reader, `overlap` of them to every reader; "sample": `sample` images drawn at random,
    `overlap` of them to every reader, the rest to one reader each."""
    per_image: int | None = None
    sample: int | None = None
    overlap: float = 0.0
    repeats: float = 0.0
    """Fraction of each reader's images shown to them a second time, later, blinded."""
    order: str = "random"
    """"random": each reader's own stable random order of cases; "batch": the batch's order."""
    locked: bool = False
    """The next case opens only when every image of the current one is labelled."""

    def __post_init__(self) -> None:
        if self.design not in DESIGNS:
            raise ValidationError(f"Unknown study design {self.design!r}.")
        if self.order not in ORDERS:
            raise ValidationError(
                f"Unknown order {self.order!r}.", hint="Use --order random or --order batch."
            )
        for name, value in (("--overlap", self.overlap), ("--repeats", self.repeats)):
            if not (0.0 <= value <= 1.0) or math.isnan(value):
                raise ValidationError(f"{name} is a fraction from 0 to 1, not {value}.")
        if self.design == "per-image" and (self.per_image is None or self.per_image < 1):
            raise ValidationError("--per-image needs a number of readers of at least 1.")
        if self.design == "sample" and (self.sample is None or self.sample < 1):
            raise ValidationError("--sample needs a number of images of at least 1.")
        if self.design == "per-image" and self.overlap:
            raise ValidationError(
                "--overlap goes with --by-case or --sample; with --per-image K every image "
                "is already read by K readers."
            )


@dataclass(frozen=True, slots=True)
class Item:
    image_id: int
    case: str
    repeat: bool = False


@dataclass(slots=True)
class ReaderPlan:
    reader: str
    seed: int
    items: list[Item] = field(default_factory=list)

    @property
    def first_reads(self) -> int:
        return sum(1 for item in self.items if not item.repeat)

    @property
    def repeats(self) -> int:
        return sum(1 for item in self.items if item.repeat)


def reader_seed(study_seed: int, reader: str) -> int:
    """A reader's own seed, derived from the study's: stable for the same study and name, and
    unrelated between readers (so no reader's order tells anything of another's)."""
    digest = hashlib.sha256(f"clinlabel-study:{study_seed}:{reader}".encode()).digest()
    return int.from_bytes(digest[:6], "big")


def _least_loaded(load: dict[str, int], readers: Sequence[str], rng: random.Random) -> str:
    lowest = min(load[r] for r in readers)
    return rng.choice([r for r in readers if load[r] == lowest])


def _share(
    images: Sequence[tuple[int, str]], readers: Sequence[str], design: StudyDesign, seed: int
) -> dict[str, list[int]]:
    """Which image ids each reader reads (balanced: loads differ by one image at most, or by
    one case for whole cases)."""
    rng = random.Random(seed)
    load = {r: 0 for r in readers}
    chosen: dict[str, list[int]] = {r: [] for r in readers}
    if design.design == "per-image":
        k = design.per_image or 0
        if k > len(readers):
            raise ValidationError(
                f"--per-image {k} asks for more readers than the {len(readers)} given."
            )
        for image_id, _ in images:
            lowest = sorted(readers, key=lambda r: (load[r], rng.random()))[:k]
            for r in lowest:
                chosen[r].append(image_id)
                load[r] += 1
        return chosen
    if design.design == "by-case":
        cases: dict[str, list[int]] = {}
        for image_id, case in images:
            cases.setdefault(case, []).append(image_id)
        names = list(cases)
        shared = set(rng.sample(names, round(design.overlap * len(names))))
        for name in names:
            if name in shared:
                for r in readers:
                    chosen[r].extend(cases[name])
                    load[r] += len(cases[name])
        # Largest cases first to the least loaded reader: the loads end within one case.
        for name in sorted((n for n in names if n not in shared), key=lambda n: -len(cases[n])):
            r = _least_loaded(load, readers, rng)
            chosen[r].extend(cases[name])
            load[r] += len(cases[name])
        return chosen
    wanted = design.sample or 0
    if wanted > len(images):
        raise ValidationError(f"--sample {wanted} is more than the {len(images)} images present.")
    drawn = sorted(rng.sample(range(len(images)), wanted))
    shared_idx = set(rng.sample(drawn, round(design.overlap * wanted)))
    for index in drawn:
        image_id = images[index][0]
        if index in shared_idx:
            for r in readers:
                chosen[r].append(image_id)
                load[r] += 1
        else:
            r = _least_loaded(load, readers, rng)
            chosen[r].append(image_id)
            load[r] += 1
    return chosen


def _ordered(
    ids: Sequence[int], case_of: dict[int, str], rank: dict[int, int], order: str, seed: int
) -> list[Item]:
    """A reader's first reads, case by case: the cases in batch order or shuffled by the
    reader's own seed; within a case, the batch's order (visits stay in time order)."""
    cases: dict[str, list[int]] = {}
    for image_id in sorted(ids, key=lambda i: rank[i]):
        cases.setdefault(case_of[image_id], []).append(image_id)
    names = list(cases)
    if order == "random":
        random.Random(seed).shuffle(names)
    return [Item(image_id, name) for name in names for image_id in cases[name]]


def _with_repeats(items: list[Item], fraction: float, seed: int) -> list[Item]:
    """Insert second showings of `fraction` of the images, each between two later cases (never
    inside one, so a case's images stay together), at least one case after the first read
    where the worklist allows, so the reader meets the image again only after others."""
    count = round(fraction * len(items))
    if count == 0:
        return items
    rng = random.Random(seed ^ 0x5EED)
    # Case blocks: boundaries are the positions where a new case starts, plus the end.
    starts = [i for i in range(len(items)) if i == 0 or items[i].case != items[i - 1].case]
    boundaries = [*starts[1:], len(items)]
    block_of = {}
    for b, start in enumerate(starts):
        end = boundaries[b]
        for i in range(start, end):
            block_of[i] = b
    inserts: dict[int, list[Item]] = {}
    for index in sorted(rng.sample(range(len(items)), count)):
        block = block_of[index]
        later = boundaries[block + 1 :] or boundaries[-1:]
        slot = rng.choice(later)
        inserts.setdefault(slot, []).append(Item(items[index].image_id, items[index].case, True))
    out: list[Item] = []
    for i in range(len(items) + 1):
        for repeat in inserts.get(i, []):
            out.append(repeat)
        if i < len(items):
            out.append(items[i])
    # Repeats at one slot were appended in first-read order; shuffle them so their order does
    # not mirror the first reads'.
    return _shuffle_runs(out, rng)


def _shuffle_runs(items: list[Item], rng: random.Random) -> list[Item]:
    out: list[Item] = []
    run: list[Item] = []
    for item in items:
        if item.repeat:
            run.append(item)
            continue
        rng.shuffle(run)
        out.extend(run)
        run = []
        out.append(item)
    rng.shuffle(run)
    out.extend(run)
    return out


def plan_study(
    images: Sequence[tuple[int, str]],
    readers: Sequence[str],
    design: StudyDesign,
    *,
    seed: int,
) -> list[ReaderPlan]:
    """Each reader's worklist. `images` are (image id, case) in the batch's order."""
    if not readers:
        raise ValidationError("A study needs at least one reader.", hint="--readers A,B,C")
    if len(set(readers)) != len(readers):
        raise ValidationError("A reader is named twice in --readers.")
    if not images:
        raise ValidationError("The project has no images present to assign.")
    case_of = {image_id: case for image_id, case in images}
    rank = {image_id: i for i, (image_id, _) in enumerate(images)}
    shared = _share(images, readers, design, seed)
    plans = []
    for reader in readers:
        own = reader_seed(seed, reader)
        items = _ordered(shared[reader], case_of, rank, design.order, own)
        plans.append(ReaderPlan(reader, own, _with_repeats(items, design.repeats, own)))
    return plans


@dataclass(frozen=True, slots=True)
class AssignReport:
    seed: int
    plans: list[ReaderPlan]
    event_id: int


def parse_readers(text: str) -> list[str]:
    names = [clean_annotator_name(part) for part in text.split(",") if part.strip()]
    if not names:
        raise ValidationError("--readers names no reader.", hint="Example: --readers A,B,C")
    return names


def _check_readers_are_users(conn: Connection, readers: Sequence[str]) -> None:
    """On a team project (it has user accounts) every reader is an active user: a worklist
    under a mistyped name binds nobody, and the real user would be bound by none."""
    users = {row.name: row for row in user_rows.list_users(conn)}
    if not users:
        return
    unknown = [name for name in readers if name not in users or users[name].disabled]
    if unknown:
        raise ValidationError(
            f"Not an active user of this project: {', '.join(map(repr, unknown))}.",
            hint="Readers are named as their accounts are (clinlabel users list); "
            "add or enable the user first.",
        )


def assign_study(
    project: Project,
    readers: Sequence[str],
    design: StudyDesign,
    *,
    seed: int | None = None,
    actor: str | None = None,
) -> AssignReport:
    """Record each reader's worklist (refused once a study is assigned: its reads would lose
    the design they were made under)."""
    study_seed = secrets.randbits(48) if seed is None else seed
    with project.store.write() as conn:
        if assignment_rows.study_settings(conn) is not None:
            raise ValidationError(
                f"{project.dir} already has a study assigned; its worklists are kept.",
                hint="Start a new project for another design.",
            )
        _check_readers_are_users(conn, readers)
        images = assignment_rows.present_cases(conn)
        plans = plan_study(images, readers, design, seed=study_seed)
        idle = [plan.reader for plan in plans if not plan.items]
        if idle:
            # A reader with an empty worklist is bound by no assignment at all: refused, rather
            # than a study in which they may label anything.
            raise ValidationError(
                f"{len(idle)} reader(s) would get no image ({', '.join(idle)}): there are "
                f"fewer {'cases' if design.design == 'by-case' else 'images'} to share out "
                "than readers.",
                hint="Name fewer readers, or give every reader the overlap (--overlap).",
            )
        now = utc_now()
        event_id = append_event(
            conn,
            NewEvent(
                EventKind.STUDY_ASSIGNED,
                actor or system_user(),
                {
                    "design": design.design,
                    "per_image": design.per_image,
                    "sample": design.sample,
                    "overlap": design.overlap,
                    "repeats": design.repeats,
                    "order": design.order,
                    "locked": design.locked,
                    "seed": study_seed,
                    "readers": [
                        {
                            "reader": plan.reader,
                            "seed": plan.seed,
                            "images": plan.first_reads,
                            "repeats": plan.repeats,
                        }
                        for plan in plans
                    ],
                },
                ts_utc=now,
            ),
        )
        assignment_rows.save_study(
            conn,
            assignment_rows.StudySettings(
                design=design.design,
                per_image=design.per_image,
                sample=design.sample,
                overlap=design.overlap,
                repeats=design.repeats,
                order=design.order,
                locked=design.locked,
                seed=study_seed,
                assigned_at=now,
            ),
            event_id=event_id,
        )
        for plan in plans:
            annotator_id = people.annotator_id(conn, plan.reader, now=now)
            assignment_rows.save_worklist(
                conn,
                annotator_id=annotator_id,
                seed=plan.seed,
                items=[(item.image_id, item.repeat) for item in plan.items],
            )
    return AssignReport(study_seed, plans, event_id)
