"""Which folders hold clinical images and which file names are images."""

from __future__ import annotations

import pytest

from clinlabel.discovery import is_clinical_folder
from clinlabel.discovery.layout import Sniff, classify_name
from clinlabel.domain import ImageKind


@pytest.mark.parametrize(
    "name",
    [
        "XC",
        "xc",
        "Xc",
        "XC_CLINICAL",
        "xc photos",
        "02_XC",
        "XC1",
        "XC-2024",
        "photosXC",
        "XCPhotos",
        "CLINICAL_IMAGES",
        "Clinical",
        "clinical photos",
    ],
)
def test_xc_or_clinical_folders_hold_images(name: str) -> None:
    assert is_clinical_folder(name)


@pytest.mark.parametrize(
    "name",
    [
        "excluded",
        "xcode",
        "Xcode",
        "XCode",
        "EXC",
        "xcphotos",
        "Dermoscopy",
        "Photos",
        "CLINIC",
        "NonClinical",
        "non-clinical",
        "NON_CLINICAL",
    ],
)
def test_xc_inside_a_word_does_not_count(name: str) -> None:
    assert not is_clinical_folder(name)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("img1.jpg", ImageKind.RASTER),
        ("IMG1.JPG", ImageKind.RASTER),
        ("a.Jpeg", ImageKind.RASTER),
        ("a.PNG", ImageKind.RASTER),
        ("a.tif", ImageKind.RASTER),
        ("a.TIFF", ImageKind.RASTER),
        ("a.bmp", ImageKind.RASTER),
        ("ct.dcm", ImageKind.DICOM),
        ("CT.DICOM", ImageKind.DICOM),
        ("brain.nii", ImageKind.NIFTI),
        ("brain.NII.GZ", ImageKind.NIFTI),
        ("IM000001", Sniff.SNIFF),
        ("1.2.840.10008.1", Sniff.SNIFF),
        ("scan.IMA", Sniff.SNIFF),
        ("notes.txt", None),
        ("archive.gz", None),
        ("thumbs.db", None),
        ("desktop.ini", None),
        ("dicomdir", None),
    ],
)
def test_file_kind_comes_from_the_lower_cased_name(name: str, kind: object) -> None:
    assert classify_name(name.lower()) == kind
