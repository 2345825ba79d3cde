"""A project with regions on a photo, a multi-frame DICOM file and a volume (synthetic data)."""

from __future__ import annotations

import itertools
from pathlib import Path

import nibabel as nib
import numpy as np
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    ExplicitVRLittleEndian,
    MultiFrameGrayscaleWordSecondaryCaptureImageStorage,
    SecondaryCaptureImageStorage,
    generate_uid,
)
from sqlalchemy import select

from clinlabel.domain.images import ImageKind
from clinlabel.domain.regions import Extent
from clinlabel.imaging.drawing_grid import drawing_grid
from clinlabel.labelling.project import Project
from clinlabel.labelling.regions import RegionEdit, RegionEditor
from clinlabel.labelling.service import LabellingSession
from clinlabel.store.schema import images

SCHEMA = """
[[labels]]
name = "Suspicious"
key = "1"
[[labels]]
name = "Non-Suspicious"
key = "2"

[[regions]]
name = "Lesion"
colour = "#e4572e"

[[regions]]
name = "Vessel"
tools = ["brush", "polygon", "box"]
category = { code = "91723000", scheme = "SCT", meaning = "Anatomical Structure" }
type = { code = "59820001", scheme = "SCT", meaning = "Blood vessel" }
"""

_UIDS = itertools.count(1)

PHOTO = "Case_A/Visit_1/XC/photo.png"
DICOM = "Case_B/Visit_1/XC/run.dcm"
VOLUME = "Case_C/Visit_1/XC/ct.nii.gz"
SINGLE = "Case_D/Visit_1/XC/single.dcm"
#: The volume's affine: its first axis runs towards the patient's left and its third is
#: stretched, so its array order is not RAS+ (the export must turn it back).
VOLUME_AFFINE = np.array(
    [[-1.5, 0, 0, 10], [0, 1.0, 0, -5], [0, 0, 2.5, 3], [0, 0, 0, 1]], dtype=np.float64
)


def write_dicom(path: Path, frames: int = 3, rows: int = 32, columns: int = 24) -> Path:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    # A multi-frame file has a multi-frame SOP class: its SEG may then name frames.
    sop_class = (
        MultiFrameGrayscaleWordSecondaryCaptureImageStorage
        if frames > 1
        else SecondaryCaptureImageStorage
    )
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = generate_uid(entropy_srcs=["clinlabel-export-test", str(path)])
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID = generate_uid(entropy_srcs=["study", str(path)])
    ds.SeriesInstanceUID = generate_uid(entropy_srcs=["series", str(path)])
    ds.PatientName = "TEST^SYNTHETIC"
    ds.PatientID = "SYN-1"
    ds.Modality = "OT"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = rows, columns
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.BitsAllocated = 16
    ds.BitsStored = 12
    ds.HighBit = 11
    ds.PixelRepresentation = 0
    pixels = (np.arange(frames * rows * columns) % 4096).astype(np.uint16)
    ds.PixelData = pixels.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True, implicit_vr=False, little_endian=True)
    return path


def make_region_batch(root: Path, *, photo_cases: int = 0, single: bool = False) -> Path:
    """The three kinds of image, plus `photo_cases` more cases with one photo each (and a
    single-frame DICOM file in a fourth case when `single`)."""
    (root / PHOTO).parent.mkdir(parents=True)
    Image.new("RGB", (40, 30), (90, 60, 30)).save(root / PHOTO)
    write_dicom(root / DICOM)
    (root / VOLUME).parent.mkdir(parents=True)
    volume = np.arange(6 * 5 * 4, dtype=np.int16).reshape(6, 5, 4)
    nib.save(nib.Nifti1Image(volume, VOLUME_AFFINE), root / VOLUME)
    if single:
        write_dicom(root / SINGLE, frames=1, rows=20, columns=16)
    for n in range(photo_cases):
        folder = root / f"Case_P{n:02d}" / "Visit_1" / "XC"
        folder.mkdir(parents=True)
        Image.new("RGB", (20, 16), (n * 9 % 255, 40, 90)).save(folder / "img.png")
    return root


def image_ids(project: Project) -> dict[str, int]:
    with project.store.read() as conn:
        return {str(r): int(i) for r, i in conn.execute(select(images.c.relpath, images.c.id))}


class Drawer:
    """One annotator drawing through RegionEditor, as the page's routes do."""

    def __init__(self, project: Project, annotator: str = "Dr A") -> None:
        self.project = project
        self.session = LabellingSession(project, annotator=annotator)
        self.session.start()
        self.editor = RegionEditor(self.session)
        self.ids = image_ids(project)

    def grid(self, relpath: str, plane: str | None = None) -> tuple[Extent, int]:
        kind = {"png": ImageKind.RASTER, "dcm": ImageKind.DICOM}.get(
            relpath.rsplit(".", 1)[-1], ImageKind.NIFTI
        )
        return drawing_grid(self.project.image_path(relpath), kind, plane=plane)

    def draw(
        self,
        relpath: str,
        region_class: str,
        tool: str,
        geometry: object,
        *,
        frame: int = 0,
        plane: str | None = None,
        uid: str | None = None,
    ) -> str:
        uid = uid or f"r{next(_UIDS)}"
        extent, frames = self.grid(relpath, plane)
        self.editor.save(
            RegionEdit(
                uid,
                self.ids[relpath],
                region_class,
                tool,
                geometry,
                frame=frame,
                plane=plane,
            ),
            extent=extent,
            frames=frames,
        )
        return uid

    def close(self) -> None:
        self.session.close()


def write_placed_dicom(
    path: Path, *, per_frame_groups: bool, frames: int = 4, rows: int = 32, columns: int = 24
) -> Path:
    """A multi-frame file with a frame of reference but no shared functional groups: with
    `per_frame_groups`, each frame's plane position, orientation and pixel spacing in its own
    per-frame item (as some converters write an enhanced file); without, a classic multi-frame
    file holding the frame of reference and nothing that places its frames."""
    from pydicom import dcmread
    from pydicom.sequence import Sequence

    write_dicom(path, frames=frames, rows=rows, columns=columns)
    ds = dcmread(path)
    ds.FrameOfReferenceUID = generate_uid(entropy_srcs=["frame-of-reference", str(path)])
    ds.PositionReferenceIndicator = ""
    if per_frame_groups:
        items = []
        for n in range(frames):
            position = Dataset()
            position.ImagePositionPatient = [-12.0, -16.0, 2.5 * n]
            orientation = Dataset()
            orientation.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
            measures = Dataset()
            measures.PixelSpacing = [0.5, 0.5]
            measures.SliceThickness = 2.5
            item = Dataset()
            item.PlanePositionSequence = Sequence([position])
            item.PlaneOrientationSequence = Sequence([orientation])
            item.PixelMeasuresSequence = Sequence([measures])
            items.append(item)
        ds.PerFrameFunctionalGroupsSequence = Sequence(items)
    ds.save_as(path, enforce_file_format=True)
    return path
