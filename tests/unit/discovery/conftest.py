"""Build batch folders in tmp_path from a few lines of code (helpers reach tests as a fixture)."""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import pytest
from PIL import Image

from clinlabel.discovery import scan_batch
from clinlabel.domain import ImageRef, ScanResult

Tree = Mapping[str, bytes | str]


class Kit:
    """Tree builder, scan shortcut and file contents for the discovery tests."""

    # 128-byte preamble, DICM, then the start of a group 0002 element (DICOM PS3.10 7.1).
    DICOM = bytes(128) + b"DICM" + b"\x02\x00\x00\x00UL\x04\x00\xc8\x00\x00\x00"

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.root = tmp_path / "Batch"

    def batch(self, tree: Tree) -> Path:
        """Write `relpath -> content` under the batch; a relpath ending in / is an empty folder."""
        self.root.mkdir(exist_ok=True)
        for relpath, content in tree.items():
            path = self.root / relpath
            if relpath.endswith("/"):
                path.mkdir(parents=True, exist_ok=True)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, str):
                path.write_text(content)
            else:
                path.write_bytes(content)
        return self.root

    @staticmethod
    def scan(root: Path, *, verify: bool = False) -> tuple[list[ImageRef], ScanResult]:
        result = ScanResult()
        return list(scan_batch(root, result, verify=verify)), result

    @staticmethod
    def image(fmt: str = "JPEG", size: tuple[int, int] = (16, 12), mode: str = "RGB") -> bytes:
        buffer = io.BytesIO()
        Image.new(mode, size, 100).save(buffer, fmt)
        return buffer.getvalue()


@pytest.fixture
def kit(tmp_path: Path) -> Kit:
    return Kit(tmp_path)
