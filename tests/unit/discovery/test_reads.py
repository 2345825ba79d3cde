"""Without verify, the scan opens no image file: only extension-less files, to sniff for DICOM."""

from __future__ import annotations

import builtins
import io
import os
from pathlib import Path

import pytest

from clinlabel.discovery import scan_batch
from clinlabel.domain import ScanResult


def test_scan_reads_each_candidate_once_without_buffering(
    kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = kit.batch(
        {
            "C/V/XC/img1.jpg": kit.image(),
            "C/V/XC/img2.png": kit.image("PNG"),
            "C/V/XC/ct.dcm": kit.DICOM,
            "C/V/XC/IM0001": kit.DICOM,
            "C/V/XC/1.2.840.5": kit.DICOM,
            "C/V/XC/tiny": b"x",  # too small to be DICOM: not even opened
            "C/V/XC/notes.txt": "not sniffed: its name says it is no image",
            "C/V/Photos/IM0002": kit.DICOM,  # counted for the skipped folder, so sniffed
        }
    )
    opened: list[str] = []
    real_os_open = os.open

    def spy_os_open(path: str | os.PathLike[str], *args: object, **kwargs: object) -> int:
        opened.append(Path(path).name)
        return real_os_open(path, *args, **kwargs)  # type: ignore[arg-type]

    def refuse(*args: object, **kwargs: object) -> object:
        raise AssertionError(f"buffered open during a scan: {args}")

    monkeypatch.setattr(os, "open", spy_os_open)
    monkeypatch.setattr(builtins, "open", refuse)
    monkeypatch.setattr(io, "open", refuse)
    result = ScanResult()
    files = [ref.file for ref in scan_batch(root, result)]
    assert files == ["XC/1.2.840.5", "XC/ct.dcm", "XC/IM0001", "XC/img1.jpg", "XC/img2.png"]
    # Every file named like an image is opened once for its first bytes (what enters the queue
    # is decided from them: issue 10), an extension-less one once to see it is DICOM.
    assert sorted(opened) == ["1.2.840.5", "IM0001", "IM0002", "ct.dcm", "img1.jpg", "img2.png"]
