"""DICOM SEG: one Segmentation instance per DICOM file drawn on (per annotator when several),
made by highdicom (`highdicom.seg.Segmentation`), BINARY.

Segments
    One per region class drawn on that file, numbered from 1 in the schema's order, labelled
    with the class's name; all its regions on a frame are one segment frame. The segmented
    property category and type are the class's `category`/`type` codes from the schema, or by
    default SNOMED CT "Morphologically Altered Structure" and a code of clinlabel's own scheme
    (`99CLINLABEL`) carrying the class's name (`domain.regions.DEFAULT_CATEGORY`).
    Algorithm type MANUAL (drawn by a person), except a class whose regions on that file include
    an accepted vessel-assist proposal: SEMIAUTOMATIC, with the filter named.
References
    The source's SOP instance (and, for a multi-frame file, each segment frame its source frame
    number), patient and study; the annotator as content creator; clinlabel as manufacturer,
    model and software version.
Multi-frame files whose frames are not placed in space
    (Most XA/RF cine, multi-frame secondary captures, classic multi-frame files that hold a frame
    of reference but no plane positions.) highdicom 0.28 refuses them: without a position for
    each frame it segments one source frame only (its issue 200). DICOM allows them: the SEG has
    no plane positions either (the source's frame of reference, if any, kept), and each segment
    frame names its source frame in its Derivation Image Sequence, exactly as highdicom writes
    for a multi-frame source with them.
    So highdicom builds the SEG of a single-frame stand-in of the source (one frame per
    segment), and `_by_source_frame` turns it into one frame per (source frame, segment) with
    something drawn, pointing each at its source frame, with the source's own SOP class in every
    reference. Empty frames are omitted, as highdicom does. The dimension stays the segment
    number: frames sharing it are ordered by frame number, which the standard allows
    (PS3.3 C.7.6.17). highdicom reads it back by source frame; dciodvfy finds no error.
Multi-frame files placed frame by frame only
    A frame of reference and a plane position in every per-frame item but no shared functional
    groups (some converters' enhanced files): highdicom reads orientation and pixel spacing from
    the shared item only (and fails without one), so it is given a copy of the header with them
    moved there when every frame has the same (`_placed`); else the SEG is made frame by frame.
Left out (counted)
    Photos and volumes (no DICOM source).
"""

from __future__ import annotations

import copy
import hashlib
import io
from collections import defaultdict
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from clinlabel import __version__
from clinlabel.atomic import atomic_binary_writer
from clinlabel.domain.regions import DEFAULT_CATEGORY, Code, RegionClass
from clinlabel.errors import OutputError
from clinlabel.exports.region_data import DrawnRegion, RegionExport, fitted_name, rasterise

#: Patient and study attributes of type 2 (present, may be empty) that highdicom copies from the
#: source; a de-identified or synthetic file may lack them.
_TYPE_2 = (
    "PatientName",
    "PatientID",
    "PatientBirthDate",
    "PatientSex",
    "StudyDate",
    "StudyTime",
    "ReferringPhysicianName",
    "StudyID",
    "AccessionNumber",
)


def seg_name(relpath: str) -> PurePosixPath:
    """`Case/Visit/run.dcm` -> `Case/Visit/run.dcm.seg.dcm`."""
    return fitted_name(PurePosixPath(relpath), ".seg.dcm")


def _concept(code: Code) -> Any:
    from highdicom.sr import CodedConcept

    return CodedConcept(code.code, code.scheme, code.meaning)


def _description(number: int, region_class: RegionClass, regions: list[DrawnRegion]) -> Any:
    from highdicom.seg import SegmentAlgorithmTypeValues, SegmentDescription

    assisted = any(r.tool == "assist:frangi" for r in regions)
    extra: dict[str, Any] = {}
    if assisted:
        extra["algorithm_identification"] = _frangi()
    return SegmentDescription(
        segment_number=number,
        segment_label=region_class.name[:64],
        segmented_property_category=_concept(region_class.category or DEFAULT_CATEGORY),
        segmented_property_type=_concept(region_class.type or region_class.default_type()),
        algorithm_type=(
            SegmentAlgorithmTypeValues.SEMIAUTOMATIC
            if assisted
            else SegmentAlgorithmTypeValues.MANUAL
        ),
        **extra,
    )


def _frangi() -> Any:
    from highdicom import AlgorithmIdentificationSequence
    from highdicom.sr import CodedConcept

    return AlgorithmIdentificationSequence(
        name="clinlabel vessel assist (Frangi)",
        family=CodedConcept("123110", "DCM", "Artificial Intelligence"),
        version=__version__,
    )


def _source(path: Path, relpath: str) -> Any:
    import pydicom

    try:
        source = pydicom.dcmread(path, stop_before_pixels=True)
    except Exception as exc:  # pydicom raises many types for damaged files
        raise OutputError(f"{relpath} cannot be read as DICOM ({exc}).") from exc
    for keyword in _TYPE_2:
        if keyword not in source:
            setattr(source, keyword, "")
    return source


def write_dicom_seg(export: RegionExport, folder: Path) -> tuple[list[Path], int]:
    """Write a SEG per DICOM file with regions; the files and the regions left out."""
    assert export.batch is not None, "a SEG references its source file: the batch is needed"
    by_file: dict[str, list[DrawnRegion]] = defaultdict(list)
    left_out = 0
    for region in export.regions:
        if region.image.kind != "dicom":
            left_out += 1
        else:
            by_file[region.image.relpath].append(region)
    classes = {c.name: c for c in export.region_classes}
    written: list[Path] = []
    for relpath in sorted(by_file):
        regions = by_file[relpath]
        source = _source(export.batch.joinpath(*PurePosixPath(relpath).parts), relpath)
        data = _segmentation(export, source, regions, classes)
        path = folder.joinpath(*seg_name(relpath).parts)
        with atomic_binary_writer(path) as handle:
            handle.write(data)
        written.append(path)
    return written, left_out


def _segmentation(
    export: RegionExport,
    source: Any,
    regions: list[DrawnRegion],
    classes: dict[str, RegionClass],
) -> bytes:
    from highdicom.seg import Segmentation, SegmentationTypeValues
    from pydicom.uid import generate_uid

    frames = int(getattr(source, "NumberOfFrames", 1) or 1)
    placed = source if frames == 1 else _placed(source, frames)
    by_source_frame = placed is None
    rows, columns = int(source.Rows), int(source.Columns)
    present = [name for name in export.classes if any(r.region_class == name for r in regions)]
    pixels = np.zeros((frames, rows, columns, len(present)), dtype=bool)
    for region in regions:
        # Frame 0 (the whole file) of a single-frame file is its one frame.
        index = max(region.image.frame, 1) - 1
        if index >= frames or (region.image.height, region.image.width) != (rows, columns):
            continue
        pixels[index, :, :, present.index(region.region_class)] |= rasterise(region)
    descriptions = [
        _description(n, classes[name], [r for r in regions if r.region_class == name])
        for n, name in enumerate(present, start=1)
    ]
    annotator = regions[0].annotator
    # The same source, annotator and masks give the same UIDs; any change gives new ones.
    digest = hashlib.sha256(pixels.tobytes() + annotator.encode() + str(present).encode())
    entropy = [str(source.SOPInstanceUID), digest.hexdigest()]
    template = _stand_in(source) if placed is None else placed
    try:
        seg = Segmentation(
            source_images=[template],
            # The stand-in's SEG: one full frame per segment, replaced by `_by_source_frame`.
            pixel_array=np.ones((1, rows, columns, len(present)), dtype=bool)
            if by_source_frame
            else pixels,
            omit_empty_frames=not by_source_frame,
            segmentation_type=SegmentationTypeValues.BINARY,
            segment_descriptions=descriptions,
            series_instance_uid=generate_uid(entropy_srcs=[*entropy, "series"]),
            series_number=9901,
            sop_instance_uid=generate_uid(entropy_srcs=[*entropy, "instance"]),
            instance_number=1,
            manufacturer="clinlabel",
            manufacturer_model_name="clinlabel",
            software_versions=__version__,
            device_serial_number="clinlabel",
            content_creator_name=_person_name(annotator),
            content_label="CLINLABEL",
            content_description="Regions drawn in clinlabel",
            series_description="clinlabel regions",
        )
    except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
        # highdicom reads the source's header: one it cannot place is named, not a traceback.
        raise OutputError(
            f"DICOM SEG cannot be made for {regions[0].image.relpath}: {exc}"
        ) from exc
    if by_source_frame:
        _by_source_frame(seg, source, pixels)
    shared = seg.SharedFunctionalGroupsSequence[0]
    if "PlaneOrientationSequence" not in shared and "PatientOrientation" not in seg:
        # General Image module, type 2C: required when the image is not placed in the patient's
        # space (no frame of reference, or one without plane positions: found by dciodvfy);
        # the source's, else present and empty.
        seg.PatientOrientation = getattr(source, "PatientOrientation", "")
    with io.BytesIO() as buffer:
        seg.save_as(buffer)
        return buffer.getvalue()


#: The functional groups highdicom reads from a multi-frame source's shared item to place the
#: SEG's frames in the patient's space.
_SHARED_GROUPS = ("PlaneOrientationSequence", "PixelMeasuresSequence")


def _placed(source: Any, frames: int) -> Any | None:
    """The source as highdicom places a multi-frame file's frames in space: a frame of
    reference, a plane position for every frame, one orientation and pixel spacing shared by all
    (in the shared functional groups, where highdicom looks for them: a copy gets them there
    when every per-frame item holds the same). None when the source has no such placement
    (classic multi-frame, most cine): its SEG is made frame by frame (`_by_source_frame`)."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    if "FrameOfReferenceUID" not in source:
        return None
    shared_items = source.get("SharedFunctionalGroupsSequence") or [Dataset()]
    shared = shared_items[0]
    per_frame = list(source.get("PerFrameFunctionalGroupsSequence") or [])
    if len(per_frame) != frames:
        per_frame = [Dataset()] * frames
    if "PlanePositionSequence" not in shared and not all(
        "PlanePositionSequence" in item for item in per_frame
    ):
        return None
    moved = copy.deepcopy(shared)
    for keyword in _SHARED_GROUPS:
        if keyword in moved:
            continue
        values = [item.get(keyword) for item in per_frame]
        if values[0] is None or any(value != values[0] for value in values):
            return None
        moved[keyword] = copy.deepcopy(source.PerFrameFunctionalGroupsSequence[0][keyword])
    if moved == shared and "SharedFunctionalGroupsSequence" in source:
        return source
    placed = copy.copy(source)  # a shallow copy: only the shared groups are replaced
    placed.SharedFunctionalGroupsSequence = Sequence([moved])
    return placed


def _person_name(annotator: str) -> str:
    """The annotator as a DICOM person name (PS3.5 6.2.1): a name without `^` is one component,
    written with the trailing caret the standard asks for (without it, it reads as the retired
    free-text form: dciodvfy flags it, highdicom prints a warning on every export); a backslash,
    which would make it two names, becomes a slash; 64 characters at most."""
    name = annotator.replace("\\", "/")
    if "^" not in name:
        name = name[:63] + "^"
    return name[:64]


#: Cine attributes of the source that a single-frame stand-in must not carry.
_MULTI_FRAME_ONLY = (
    "NumberOfFrames",
    "FrameIncrementPointer",
    "FrameTime",
    "FrameTimeVector",
    "FrameDimensionPointer",
)


def _stand_in(source: Any) -> Any:
    """The source as a single-frame image without a frame of reference, which highdicom
    segments: a Secondary Capture (a single-frame IOD) with the source's identity otherwise."""
    from pydicom.uid import SecondaryCaptureImageStorage

    stand_in = copy.deepcopy(source)  # read without its pixels: a header only
    stand_in.SOPClassUID = SecondaryCaptureImageStorage
    for keyword in _MULTI_FRAME_ONLY:
        if keyword in stand_in:
            delattr(stand_in, keyword)
    return stand_in


def _by_source_frame(seg: Any, source: Any, pixels: np.ndarray) -> None:
    """Turn the stand-in's SEG (one frame per segment) into the source's: one frame per source
    frame and segment with something drawn, each referencing its source frame (see the module).
    """
    from pydicom.pixels.utils import pack_bits
    from pydicom.sequence import Sequence

    sop_class = source.SOPClassUID
    per_segment = list(seg.PerFrameFunctionalGroupsSequence)
    items: list[Any] = []
    planes: list[np.ndarray] = []
    for index in range(pixels.shape[0]):
        for segment in range(pixels.shape[3]):
            plane = pixels[index, :, :, segment]
            if not plane.any():
                continue
            item = copy.deepcopy(per_segment[segment])
            reference = item.DerivationImageSequence[0].SourceImageSequence[0]
            reference.ReferencedSOPClassUID = sop_class
            reference.ReferencedFrameNumber = index + 1
            items.append(item)
            planes.append(plane)
    if not items:
        # Nothing painted (boxes and polygons too thin to hold a pixel centre): one empty frame
        # of the first segment, as highdicom writes when every frame is empty.
        item = copy.deepcopy(per_segment[0])
        reference = item.DerivationImageSequence[0].SourceImageSequence[0]
        reference.ReferencedSOPClassUID = sop_class
        reference.ReferencedFrameNumber = 1
        items.append(item)
        planes.append(pixels[0, :, :, 0])
    seg.PerFrameFunctionalGroupsSequence = Sequence(items)
    seg.NumberOfFrames = len(items)
    seg.PixelData = pack_bits(np.stack(planes).ravel())
    for series in seg.ReferencedSeriesSequence:
        for instance in series.ReferencedInstanceSequence:
            instance.ReferencedSOPClassUID = sop_class
    for reference in seg.get("SourceImageSequence", []):
        reference.ReferencedSOPClassUID = sop_class
