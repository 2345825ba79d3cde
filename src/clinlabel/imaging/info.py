"""What `clinlabel info` and the viewer's metadata panel show: geometry and every attribute.

Attributes that identify a person or place are flagged so that a face can mask them until the
user unmasks: those of PS3.15 Annex E Table E.1-1 (`deid.confidentiality`, the one list the page,
the CLI and de-identification share), private attributes, and everything inside a sequence
that is itself identifying (an Other Patient IDs Sequence item holds IDs and issuers alike).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

from clinlabel.deid.confidentiality import is_identifying
from clinlabel.domain.images import ImageKind
from clinlabel.errors import DecodeError
from clinlabel.imaging import budget

_PIXEL_TAGS = (0x7FE00010, 0x7FE00008, 0x7FE00009)  # Pixel Data, Float and Double Float
NO_PIXELS = "none: this DICOM file holds no image, only the attributes below"
_BULK_VRS = frozenset({"OB", "OW", "OF", "OD", "OL", "OV", "UN"})
_MAX_VALUE = 256


@dataclass(frozen=True)
class Attribute:
    """One row of the metadata panel; `depth` > 0 for attributes inside sequences."""

    keyword: str
    tag: str
    vr: str
    value: str
    depth: int
    identifying: bool


@dataclass
class ImageInfo:
    """Decoded geometry plus the attribute listing of one file."""

    kind: str
    geometry: dict[str, Any]
    attributes: list[Attribute] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def describe(
    path: Path, kind: ImageKind, *, memory_budget: int = budget.DEFAULT_BYTES
) -> ImageInfo:
    """Geometry and attributes of a DICOM, NIfTI or raster file (`DecodeError` if unreadable)."""
    if kind is ImageKind.DICOM:
        return _dicom(Path(path), memory_budget)
    if kind is ImageKind.NIFTI:
        return _nifti(Path(path), memory_budget)
    return _raster(Path(path), memory_budget)


def _dicom(path: Path, memory_budget: int) -> ImageInfo:
    from clinlabel.imaging.dicom_header import parse_header
    from clinlabel.imaging.geometry import geometry_of

    try:
        header = parse_header(path, memory_budget=memory_budget)
    except DecodeError:
        # A structured report, a key object or an encapsulated PDF is still DICOM: its
        # attributes are worth showing, with word that there is no image.
        found = _without_pixels(path)
        if found is None:
            raise
        return _pixel_less(found)
    ds, options = header.dataset, header.options
    geometry: dict[str, Any] = {
        "rows": options["rows"],
        "columns": options["columns"],
        "frames": header.frames,
        "samples_per_pixel": options["samples_per_pixel"],
        "bits_allocated": options["bits_allocated"],
        "bits_stored": options["bits_stored"],
        "signed": options["pixel_representation"] == 1,
        "photometric_interpretation": str(options.get("photometric_interpretation", "")),
        "transfer_syntax": header.transfer_syntax.name,
        "transfer_syntax_uid": str(header.transfer_syntax),
        "plugin": header.plugin or "pydicom (native)",
        "modality": str(ds.get("Modality", "")),
        "sop_class": getattr(ds.get("SOPClassUID"), "name", str(ds.get("SOPClassUID", ""))),
    }
    acquisition = {k: v for k, v in geometry_of(ds).items() if v is not None}
    geometry["acquisition"] = acquisition
    attributes = list(_walk(ds.file_meta, 0)) if hasattr(ds, "file_meta") else []
    attributes.extend(_walk(ds, 0))
    return ImageInfo(kind=ImageKind.DICOM.value, geometry=geometry, attributes=attributes)


def _without_pixels(path: Path) -> Dataset | None:
    """The whole dataset of a DICOM file that has no pixel data element, else None.

    Values over 64 KB (an encapsulated document) are read only when shown, as their size.
    """
    from pydicom import dcmread

    try:
        dataset = dcmread(path, defer_size=1 << 16)
    except Exception:  # not DICOM at all, or damaged: the header reader's message stands
        return None
    if any(tag in dataset for tag in _PIXEL_TAGS):
        return None
    return dataset


def _pixel_less(ds: Dataset) -> ImageInfo:
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    geometry: dict[str, Any] = {
        "pixels": NO_PIXELS,
        "modality": str(ds.get("Modality", "")),
        "sop_class": getattr(ds.get("SOPClassUID"), "name", str(ds.get("SOPClassUID", ""))),
        "transfer_syntax": getattr(syntax, "name", str(syntax or "")),
    }
    attributes = list(_walk(meta, 0)) if meta is not None else []
    attributes.extend(_walk(ds, 0))
    return ImageInfo(kind=ImageKind.DICOM.value, geometry=geometry, attributes=attributes)


def _walk(dataset: Dataset, depth: int, *, inside_identifying: bool = False) -> list[Attribute]:
    rows: list[Attribute] = []
    for element in dataset:
        if element.tag in _PIXEL_TAGS:
            continue  # the pixels are the image, not metadata
        identifying = inside_identifying or is_identifying(int(element.tag))
        rows.append(_row(element, depth, identifying))
        if element.VR == "SQ":
            for item in element.value:
                rows.extend(_walk(item, depth + 1, inside_identifying=identifying))
    return rows


def _row(element: DataElement, depth: int, identifying: bool) -> Attribute:
    keyword = (element.keyword or "(private)") if element.tag.is_private else element.keyword
    if element.VR == "SQ":
        value = f"<sequence of {len(element.value)} item(s)>"
    elif element.VR in _BULK_VRS and isinstance(element.value, (bytes, bytearray)):
        value = f"<{len(element.value)} bytes>"
    else:
        value = str(element.value) if element.value is not None else ""
        if len(value) > _MAX_VALUE:
            value = value[:_MAX_VALUE] + "..."
    return Attribute(
        keyword=keyword or "",
        tag=f"({element.tag.group:04X},{element.tag.element:04X})",
        vr=str(element.VR),
        value=value,
        depth=depth,
        identifying=identifying,
    )


def _nifti(path: Path, memory_budget: int) -> ImageInfo:
    import nibabel as nib

    from clinlabel.imaging import rendering
    from clinlabel.imaging.nifti import quiet, read_volume

    # Refuses CIFTI-2 with a message that names it.
    volume = read_volume(path, memory_budget=memory_budget)
    with quiet():
        image: Any = nib.load(path)  # reads the header only: the data are in `volume` already
    affine = image.affine
    geometry: dict[str, Any] = {
        "shape_ras": list(volume.data.shape),
        "dtype": str(volume.data.dtype),
        "spacing_ras_mm": [round(s, 4) for s in volume.spacing],
        "orientation": "".join(nib.aff2axcodes(affine)),  # type: ignore[no-untyped-call]
        "affine": [[round(float(v), 4) for v in row] for row in affine],
        "slices": {plane: volume.slices(plane) for plane in ("axial", "coronal", "sagittal")},
        "scl_slope": volume.transform.slope,
        "scl_inter": volume.transform.intercept,
    }
    nan_voxels = rendering.nan_count(volume.data)
    if nan_voxels:
        # Shown as the lowest grey and left out of the windows: say so, or they pass for air.
        geometry["nan_voxels"] = nan_voxels
    return ImageInfo(kind=ImageKind.NIFTI.value, geometry=geometry)


def _raster(path: Path, memory_budget: int) -> ImageInfo:
    from clinlabel.imaging.raster import EXIF_ORIENTATION, exif_of, open_image

    with open_image(path, memory_budget=memory_budget) as image:
        exif = exif_of(image, path.name)
        geometry: dict[str, Any] = {
            "format": image.format,
            "width": image.width,
            "height": image.height,
            "mode": image.mode,
            "frames": getattr(image, "n_frames", 1),
            "exif_orientation": int(exif.get(EXIF_ORIENTATION, 1)),
        }
    return ImageInfo(kind=ImageKind.RASTER.value, geometry=geometry)
