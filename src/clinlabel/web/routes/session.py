"""The annotator's session: open it (start page), what is shown, activity."""

from __future__ import annotations

from fastapi import APIRouter

from clinlabel.labelling.project_folder import check_project_folder
from clinlabel.labelling.remembered import ProjectMemory
from clinlabel.web.deps import BenchDep
from clinlabel.web.errors import OtherProjectError
from clinlabel.web.region_schemas import class_out
from clinlabel.web.schemas import (
    LabelDefOut,
    OpenSessionIn,
    ProgressOut,
    RememberedOut,
    SessionOut,
    ShowIn,
    ShownOut,
    UndoneOut,
)

router = APIRouter(prefix="/api/session", tags=["session"])


def _labels(bench: BenchDep) -> list[LabelDefOut]:
    if bench.project is None:
        return []
    return [
        LabelDefOut(name=d.name, key=d.key, requires_comment=d.requires_comment)
        for d in bench.project.schema.labels
    ]


def _describe(bench: BenchDep, shown: ShownOut | None) -> SessionOut:
    settings = bench.settings
    return SessionOut(
        started=bench.started,
        batch=str(settings.batch),
        project_dir=str(bench.project.dir) if bench.project is not None else None,
        suggested_project_dir=str(settings.project_dir or settings.suggested_project_dir()),
        annotator=bench.annotator or settings.annotator,
        labels=_labels(bench),
        region_classes=[]
        if bench.project is None
        else [class_out(c) for c in bench.project.schema.regions],
        max_side=settings.max_side,
        shown=shown,
        remembered=None if bench.started else _remembered(bench),
    )


def _remembered(bench: BenchDep) -> RememberedOut | None:
    found = ProjectMemory().recall(bench.settings.batch)
    if found is None:
        return None
    return RememberedOut(
        project_dir=str(found.project_dir), chosen_on=found.chosen_on, exists=found.exists
    )


@router.get("")
async def get_session(bench: BenchDep) -> SessionOut:
    if not bench.started:
        return _describe(bench, None)
    session = bench.session
    shown = await bench.read(session.current)
    return _describe(bench, bench.shown_out(shown))


@router.post("")
async def open_session(body: OpenSessionIn, bench: BenchDep) -> SessionOut:
    """The start page's "Start": output folder and annotator chosen by the user."""

    memory = ProjectMemory()

    def start() -> ShownOut:
        # Before anything is created: not inside a batch, not among someone's own files.
        project_dir = check_project_folder(body.project_dir)
        earlier = memory.recall(bench.settings.batch)
        if (
            earlier is not None
            and earlier.exists
            and earlier.project_dir != project_dir
            and not body.other_project
        ):
            # Accepting a new folder by mistake would start a second, empty project and leave
            # the labels so far in the other one: the page asks first, naming it.
            raise OtherProjectError(
                f"This batch was labelled into the project {earlier.project_dir} "
                f"(chosen on {earlier.chosen_on}). Start a separate project in {project_dir} "
                "instead?"
            )
        shown = bench.shown_out(bench.open(project_dir, body.annotator))
        memory.remember(bench.settings.batch, project_dir)
        return shown

    return _describe(bench, await bench.call(start))


@router.post("/show")
async def show(body: ShowIn, bench: BenchDep) -> ShownOut:
    """The page now shows the image at this queue position (timing starts; banner decided)."""
    session = bench.session
    return await bench.call(lambda: bench.shown_out(session.show(body.position)))


@router.post("/next-unlabelled")
async def next_unlabelled(bench: BenchDep) -> ShownOut:
    session = bench.session
    return await bench.call(lambda: bench.shown_out(session.next_unlabelled()))


@router.post("/end", status_code=204)
async def end_session(bench: BenchDep) -> None:
    """Finish: the annotator is done. The session's end goes into the audit trail and the
    project is released; the server keeps serving the files just written until Ctrl+C."""
    bench.session  # noqa: B018  (raises NotStartedError when no session is open)
    await bench.call(bench.close)


@router.post("/touch", status_code=204)
async def touch(bench: BenchDep) -> None:
    """The annotator is active (mouse or keys); lets the core tell thinking from being away."""
    session = bench.session
    await bench.call(session.touch)


@router.post("/undo")
async def undo(bench: BenchDep) -> UndoneOut:
    """Ctrl+Z: undo this session's last label or clear (a new event; nothing is deleted)."""
    session = bench.session

    def run() -> UndoneOut:
        undone = session.undo()
        return UndoneOut(
            image=bench.image_out(undone.view),
            frame=undone.frame,
            label=undone.label,
            comment=undone.comment,
            progress=ProgressOut.of(undone.progress),
        )

    return await bench.call(run)
