"""A named pipe in place of an image blocks the writer (found by the attack on issue 9).

Replace an image of the batch with a FIFO (same name) while the server runs: the label save
opens it to hash it and waits for a writer forever. On the server every later save waits behind
it (the page's saves time out; progress and renditions still answer). When something is then
written into the pipe, the abandoned request completes and stores a label, with the SHA-256 of
whatever was written, for a file that was never an image. A user expects a 409 at once: the
file is not a regular file. (The rendition path already refuses it with 422.)
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from clinlabel.errors import ClinlabelError
from clinlabel.labelling.project import Project
from clinlabel.labelling.service import LabellingSession


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
def test_a_label_for_an_image_replaced_by_a_fifo_is_refused_at_once(
    project: Project, batch: Path
) -> None:
    session = LabellingSession(project, annotator="Dr A")
    view = session.start().view
    path = batch / view.relpath
    path.unlink()
    os.mkfifo(path)
    outcome: list[object] = []

    def save() -> None:
        try:
            outcome.append(session.save_label(view.id, "Suspicious"))
        except ClinlabelError as exc:
            outcome.append(exc)

    worker = threading.Thread(target=save, daemon=True)
    worker.start()
    worker.join(5)
    blocked = worker.is_alive()
    if blocked:  # let the blocked open finish so the test leaves nothing behind
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        os.write(fd, b"not an image")
        os.close(fd)
        worker.join(5)
    assert not blocked, "saving a label for a FIFO blocked until something wrote into it"
    assert outcome and isinstance(outcome[0], ClinlabelError), outcome
