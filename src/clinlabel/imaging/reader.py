"""Where the imaging engine gets headers, frames and volumes: read directly, or from a cache.

Every function that needs a file's DICOM header, a decoded frame or a NIfTI volume takes an
`ImageReader`. `DIRECT` reads the file each time (the CLI renders one file once); the open
project's `viewing.ViewingService` keeps what it read, keyed by the file's identity. No module
holds a cache of its own, so nothing outlives the project that owns it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from clinlabel.imaging.budget import DEFAULT_BYTES

if TYPE_CHECKING:
    import numpy as np

    from clinlabel.imaging.dicom_header import DicomHeader
    from clinlabel.imaging.nifti import Volume
    from clinlabel.imaging.windowing import Window


class ImageReader(Protocol):
    memory_budget: int
    """Bytes one volume, frame or photo may take decoded (`budget`): larger ones are refused."""

    def header(self, path: Path) -> DicomHeader:
        """The whole DICOM header (without pixel data)."""
        ...

    def render_header(self, path: Path) -> DicomHeader:
        """A header with at least the attributes rendering needs."""
        ...

    def frame(self, header: DicomHeader, frame: int) -> np.ndarray:
        """The stored values of `frame` (from 1) of the file `header` was read from."""
        ...

    def volume(self, path: Path) -> Volume:
        """A NIfTI volume in RAS+ order."""
        ...

    def volume_range(self, volume: Volume) -> Window:
        """The full range of a volume's finite values, as a window."""
        ...


class DirectReader:
    """Reads and decodes on every call; nothing is kept."""

    def __init__(self, *, memory_budget: int = DEFAULT_BYTES) -> None:
        self.memory_budget = memory_budget

    def header(self, path: Path) -> DicomHeader:
        from clinlabel.imaging.dicom_header import parse_header

        return parse_header(path, memory_budget=self.memory_budget)

    def render_header(self, path: Path) -> DicomHeader:
        from clinlabel.imaging.dicom_header import parse_render_header

        return parse_render_header(path, memory_budget=self.memory_budget)

    def frame(self, header: DicomHeader, frame: int) -> np.ndarray:
        from clinlabel.imaging.dicom_frames import decode_frame

        return decode_frame(header, frame, memory_budget=self.memory_budget)

    def volume(self, path: Path) -> Volume:
        from clinlabel.imaging.nifti import read_volume

        return read_volume(path, memory_budget=self.memory_budget)

    def volume_range(self, volume: Volume) -> Window:
        from clinlabel.imaging import rendering

        return rendering.full_range(volume.data, volume.transform)


DIRECT: ImageReader = DirectReader()
