"""What `clinlabel info` and the viewer's metadata panel show: geometry and every attribute.

Attributes that identify a person or place are flagged (PS3.15 Annex E, Table E.1-1, Basic
Application Level Confidentiality Profile) so that a face can mask them until the user unmasks.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset

from clinlabel.domain.images import ImageKind

# Attributes of PS3.15 Table E.1-1 that name, locate or date a person or an institution; with
# any private attribute (odd group: Annex E removes them too), the viewer masks these by default.
IDENTIFYING_KEYWORDS: frozenset[str] = frozenset(
    {
        "PatientName",
        "PatientID",
        "IssuerOfPatientID",
        "OtherPatientIDs",
        "OtherPatientIDsSequence",
        "OtherPatientNames",
        "PatientBirthName",
        "PatientBirthDate",
        "PatientBirthTime",
        "PatientAddress",
        "PatientTelephoneNumbers",
        "PatientTelecomInformation",
        "PatientMotherBirthName",
        "PatientAge",
        "PatientSize",
        "PatientWeight",
        "MedicalRecordLocator",
        "MilitaryRank",
        "BranchOfService",
        "EthnicGroup",
        "Occupation",
        "PatientReligiousPreference",
        "AdditionalPatientHistory",
        "PatientComments",
        "PatientInsurancePlanCodeSequence",
        "CountryOfResidence",
        "RegionOfResidence",
        "ResponsiblePerson",
        "ResponsibleOrganization",
        "ReferringPhysicianName",
        "ReferringPhysicianAddress",
        "ReferringPhysicianTelephoneNumbers",
        "ReferringPhysicianIdentificationSequence",
        "PhysiciansOfRecord",
        "PhysiciansOfRecordIdentificationSequence",
        "PerformingPhysicianName",
        "PerformingPhysicianIdentificationSequence",
        "NameOfPhysiciansReadingStudy",
        "PhysiciansReadingStudyIdentificationSequence",
        "RequestingPhysician",
        "ScheduledPerformingPhysicianName",
        "OperatorsName",
        "OperatorIdentificationSequence",
        "InstitutionName",
        "InstitutionAddress",
        "InstitutionalDepartmentName",
        "InstitutionCodeSequence",
        "StationName",
        "DeviceSerialNumber",
        "AccessionNumber",
        "StudyID",
        "RequestAttributesSequence",
        "StudyDate",
        "SeriesDate",
        "AcquisitionDate",
        "ContentDate",
        "StudyTime",
        "SeriesTime",
        "AcquisitionTime",
        "ContentTime",
        "AcquisitionDateTime",
        "InstanceCreationDate",
        "StudyDescription",
        "SeriesDescription",
        "ImageComments",
        "RequestingService",
        "PerformedProcedureStepID",
        "ScheduledProcedureStepID",
        "AdmissionID",
        "CurrentPatientLocation",
        "PatientState",
        "PregnancyStatus",
        "SmokingStatus",
        "Allergies",
        "MedicalAlerts",
        "ProtocolName",
        "DetectorID",
        "GantryID",
    }
)
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


def describe(path: Path, kind: ImageKind) -> ImageInfo:
    """Geometry and attributes of a DICOM, NIfTI or raster file (`DecodeError` if unreadable)."""
    if kind is ImageKind.DICOM:
        return _dicom(Path(path))
    if kind is ImageKind.NIFTI:
        return _nifti(Path(path))
    return _raster(Path(path))


def _dicom(path: Path) -> ImageInfo:
    from clinlabel.imaging.dicom_header import read_header
    from clinlabel.imaging.geometry import geometry_of

    header = read_header(path)
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


def _walk(dataset: Dataset, depth: int) -> list[Attribute]:
    rows: list[Attribute] = []
    for element in dataset:
        if element.tag in (0x7FE00010, 0x7FE00008, 0x7FE00009):
            continue  # the pixels are the image, not metadata
        rows.append(_row(element, depth))
        if element.VR == "SQ":
            for item in element.value:
                rows.extend(_walk(item, depth + 1))
    return rows


def _row(element: DataElement, depth: int) -> Attribute:
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
        identifying=element.tag.is_private or element.keyword in IDENTIFYING_KEYWORDS,
    )


def _nifti(path: Path) -> ImageInfo:
    import nibabel as nib

    from clinlabel.imaging.nifti import load_volume, quiet

    volume = load_volume(path)
    with quiet():
        image: Any = nib.load(path)  # reads the header only: the data stay cached in `volume`
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
    return ImageInfo(kind=ImageKind.NIFTI.value, geometry=geometry)


def _raster(path: Path) -> ImageInfo:
    from clinlabel.imaging.raster import EXIF_ORIENTATION, exif_of, open_image

    with open_image(path) as image:
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
