"""Synthetic DICOM and NIfTI files for the demo batch: drawn with NumPy, never real patient data.

Deterministic for a given seed (pixels, UIDs, dates), small (about 3 MB in all) and fast (well
under a second). Patient names are obviously fake ("DEMO^PATIENT").
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    UID,
    CTImageStorage,
    DigitalXRayImageStorageForPresentation,
    ExplicitVRLittleEndian,
    XRayAngiographicImageStorage,
    generate_uid,
)

DEMO_PATIENT = "DEMO^PATIENT"


def write_demo_medical(folder: Path, *, seed: int) -> list[Path]:
    """Write a CT slice, a 30-frame XA run, an extension-less DX file and a NIfTI volume.

    Returns the paths written, in that order. `folder` is created if needed.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = [
        _write(folder / "ct_head.dcm", _ct_slice(rng, seed)),
        _write(folder / "xa_run.dcm", _xa_run(rng, seed)),
        _write(folder / "IM000001", _dx_image(rng, seed)),
    ]
    paths.append(_write_nifti(folder / "brain_volume.nii.gz", rng))
    return paths


def _uid(seed: int, name: str, part: str) -> UID:
    # Entropy sources make the UIDs depend on the seed only: the demo batch is reproducible.
    return generate_uid(entropy_srcs=[f"clinlabel-demo-{seed}-{name}-{part}"])


def _base(seed: int, name: str, sop_class: UID, modality: str) -> Dataset:
    """Patient/study/series/instance attributes shared by every demo object (fake, fixed)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = sop_class
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = _uid(seed, name, "instance")
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.StudyInstanceUID = _uid(seed, "all", "study")
    ds.SeriesInstanceUID = _uid(seed, name, "series")
    ds.PatientName = DEMO_PATIENT
    ds.PatientID = f"DEMO{seed:04d}"
    ds.PatientBirthDate = "19700101"
    ds.PatientSex = "O"
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20240101"
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "120000"
    ds.Modality = modality
    ds.Manufacturer = "clinlabel demo (synthetic)"
    ds.InstitutionName = "DEMO HOSPITAL"
    ds.ReferringPhysicianName = "DEMO^REFERRER"
    ds.AccessionNumber = f"ACC{seed:04d}"
    ds.StudyID = "1"
    ds.SeriesNumber = 1
    ds.InstanceNumber = 1
    ds.SamplesPerPixel = 1
    ds.PixelRepresentation = 0
    return ds


def _write(path: Path, ds: Dataset) -> Path:
    ds.save_as(path, enforce_file_format=True)
    return path


def _ellipse(
    shape: tuple[int, int], centre: tuple[float, float], axes: tuple[float, float]
) -> np.ndarray:
    rows, cols = np.ogrid[: shape[0], : shape[1]]
    return ((rows - centre[0]) / axes[0]) ** 2 + ((cols - centre[1]) / axes[1]) ** 2 <= 1.0


def _ct_slice(rng: np.random.Generator, seed: int) -> Dataset:
    """A 512 x 512 head phantom in HU, stored signed with Rescale Intercept -1024 (C.11.1)."""
    shape = (512, 512)
    hu = np.full(shape, -1000.0)
    hu[_ellipse(shape, (256, 256), (230, 185))] = 1200.0  # skull
    hu[_ellipse(shape, (256, 256), (215, 170))] = 38.0  # brain
    hu[_ellipse(shape, (225, 230), (45, 12))] = 5.0  # left ventricle (screen right is patient left)
    hu[_ellipse(shape, (225, 282), (45, 12))] = 5.0
    hu[_ellipse(shape, (330, 330), (20, 25))] = 65.0  # a small haemorrhage, seen best in "brain"
    hu += rng.normal(0.0, 4.0, shape)
    ds = _base(seed, "ct", CTImageStorage, "CT")
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows, ds.Columns = shape
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation = 1
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]  # Type 1, value 3 required for CT
    ds.AcquisitionNumber = 1
    ds.PatientPosition = "HFS"  # head first supine
    ds.FrameOfReferenceUID = _uid(seed, "ct", "frame-of-reference")
    ds.PositionReferenceIndicator = ""
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
    ds.WindowCenter, ds.WindowWidth = [40, 400], [80, 1500]
    ds.WindowCenterWidthExplanation = ["BRAIN", "BONE"]
    ds.PixelSpacing = [0.45, 0.45]
    ds.SliceThickness = 5
    ds.ImagePositionPatient = [-115.0, -115.0, 40.0]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.KVP = 120
    ds.BodyPartExamined = "HEAD"
    ds.PixelData = np.rint(hu + 1024).astype(np.int16).tobytes()
    return ds


def _xa_run(rng: np.random.Generator, seed: int) -> Dataset:
    """30 frames of 256 x 256 fluoroscopy: a vessel filling with contrast, with its geometry."""
    frames, size = 30, 256
    rows, cols = np.mgrid[:size, :size]
    background = 170 + 20 * np.sin(rows / 40.0) * np.cos(cols / 55.0)
    vessel_path = np.abs(cols - (128 + 40 * np.sin(rows / 45.0))) < 5  # a curving artery
    branch = np.abs(rows - (0.6 * cols + 20)) < 3
    run = np.empty((frames, size, size), dtype=np.uint8)
    for index in range(frames):
        filled = rows < (index + 1) * size / frames * 1.2  # contrast flows down the vessel
        image = background.copy()
        image[vessel_path & filled] -= 110
        image[branch & filled & (cols > 128)] -= 80
        image += rng.normal(0.0, 6.0, (size, size))
        run[index] = np.clip(image, 0, 255).astype(np.uint8)
    ds = _base(seed, "xa", XRayAngiographicImageStorage, "XA")
    ds.ImageType = ["ORIGINAL", "PRIMARY", "SINGLE PLANE"]  # value 3 required for XA
    ds.BodyPartExamined = "HEART"  # unpaired: no Laterality
    ds.PatientOrientation = ""
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.Rows = ds.Columns = size
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 8, 8, 7
    ds.NumberOfFrames = frames
    ds.FrameTime = 66.7  # 15 frames per second
    ds.FrameIncrementPointer = 0x00181063  # Frame Time
    ds.CineRate = 15
    ds.PositionerMotion = "STATIC"
    ds.PositionerPrimaryAngle = -30.0  # RAO 30
    ds.PositionerSecondaryAngle = 20.0  # cranial 20
    ds.DistanceSourceToDetector = 1100.0
    ds.DistanceSourceToPatient = 750.0
    ds.KVP = 78
    ds.XRayTubeCurrent = 620
    ds.ExposureTime = 8
    ds.TableHeight = 152.0
    ds.ImagerPixelSpacing = [0.3, 0.3]
    ds.RadiationSetting = "GR"
    ds.IntensifierSize = 250
    ds.PixelIntensityRelationship = "LOG"
    # The XA Image module wants the Modality LUT Macro here (dciodvfy): the identity.
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = 0, 1, "US"
    ds.WindowCenter, ds.WindowWidth = 128, 256
    ds.PixelData = run.tobytes()
    return ds


def _dx_image(rng: np.random.Generator, seed: int) -> Dataset:
    """A 12-bit MONOCHROME1 radiograph (bone bright once inverted) saved without an extension."""
    size = 384
    rows, cols = np.mgrid[:size, :size]
    attenuation = np.full((size, size), 300.0)
    attenuation[_ellipse((size, size), (192, 192), (170, 110))] = 1500.0  # soft tissue
    attenuation[np.abs(cols - 192 - 10 * np.sin(rows / 30.0)) < 14] = 3300.0  # a long bone
    attenuation += rng.normal(0.0, 30.0, (size, size))
    # MONOCHROME1: the minimum value is displayed white, so store "less attenuation, more value".
    stored = np.clip(4095 - attenuation, 0, 4095).astype(np.uint16)
    ds = _base(seed, "dx", DigitalXRayImageStorageForPresentation, "DX")
    ds.ImageType = ["ORIGINAL", "PRIMARY"]
    ds.ImageLaterality = "U"  # unpaired: the phantom is no particular arm
    ds.PatientOrientation = ["A", "F"]
    # PS3.16 Annex L: Body Part Examined ARM is SCT 40983000 "Arm".
    region = Dataset()
    region.CodeValue, region.CodingSchemeDesignator, region.CodeMeaning = "40983000", "SCT", "Arm"
    ds.AnatomicRegionSequence = [region]
    ds.PixelIntensityRelationship = "LOG"
    # +1: a lower value means less X-ray intensity (more attenuation), as stored below.
    ds.PixelIntensityRelationshipSign = 1
    # The DX Image module pairs INVERSE with MONOCHROME1: the one inversion MONOCHROME1 means.
    ds.PresentationLUTShape = "INVERSE"
    ds.LossyImageCompression = "00"
    ds.BurnedInAnnotation = "NO"
    ds.DetectorType = "SCINTILLATOR"
    ds.AcquisitionContextSequence = []
    ds.PhotometricInterpretation = "MONOCHROME1"
    ds.Rows = ds.Columns = size
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 12, 11
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = 0, 1, "US"
    ds.WindowCenter, ds.WindowWidth = 2000, 3600
    ds.PresentationIntentType = "FOR PRESENTATION"
    ds.ImagerPixelSpacing = [0.5, 0.5]
    ds.BodyPartExamined = "ARM"
    ds.PixelData = stored.tobytes()
    return ds


def _write_nifti(path: Path, rng: np.random.Generator) -> Path:
    """A 64 x 64 x 40 int16 head volume, stored left-to-right flipped, 3.5 x 3.5 x 4 mm voxels.

    The affine is not the identity (an x flip and a small rotation about z), so a viewer that
    ignores it shows the marker on the wrong side; the bright marker sits at the patient's left
    anterior.
    """
    shape = (64, 64, 40)
    i, j, k = np.ogrid[: shape[0], : shape[1], : shape[2]]
    # RAS world: +x is the patient's right; the -3.5 flips it, so i runs towards the patient's left.
    radius = ((i - 32) / 28.0) ** 2 + ((j - 32) / 30.0) ** 2 + ((k - 20) / 19.0) ** 2
    volume = np.where(radius <= 1.0, 600.0, 0.0) + np.where(radius <= 0.8, 300.0, 0.0)
    marker = ((i - 50) ** 2 + (j - 46) ** 2 + (k - 24) ** 2) <= 16  # high i: patient left
    volume[marker] = 2000.0
    volume += rng.normal(0.0, 15.0, shape)
    angle = np.deg2rad(8.0)
    rotation = np.array(
        [[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0, 0, 1]]
    )
    affine = np.eye(4)
    affine[:3, :3] = rotation @ np.diag([-3.5, 3.5, 4.0])
    affine[:3, 3] = [110.0, -110.0, -80.0]
    image = nib.Nifti1Image(np.clip(volume, -32768, 32767).astype(np.int16), affine)  # type: ignore[no-untyped-call]
    image.header.set_xyzt_units("mm", "sec")  # type: ignore[no-untyped-call]
    image.set_qform(affine, code=1)  # type: ignore[no-untyped-call]
    image.set_sform(affine, code=1)  # type: ignore[no-untyped-call]
    nib.save(image, path)
    return path
