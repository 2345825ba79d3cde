"""PS3.15 Annex E Table E.1-1 as clinlabel holds it: the standard's rows, matched by tag."""

from __future__ import annotations

import re

import pytest
from pydicom.datadict import dictionary_description, tag_for_keyword

from clinlabel.deid import confidentiality
from clinlabel.deid.confidentiality import PROFILE_ACTIONS, basic_profile_action, is_identifying


def _tag(keyword: str) -> int:
    tag = tag_for_keyword(keyword)
    assert tag is not None, keyword
    return int(tag)


def test_every_row_is_the_standards_attribute_with_a_profile_action() -> None:
    rows = confidentiality.rows()
    assert len(rows) > 450  # the whole table, not a hand-picked list
    normal = lambda text: re.sub(r"[^a-z0-9]", "", text.lower())  # noqa: E731
    for row in rows:
        assert set(row.action.replace("/", "").replace("*", "")) <= PROFILE_ACTIONS, row
        if row.mask == 0xFFFFFFFF:
            assert normal(dictionary_description(row.tag)) == normal(row.name), row


@pytest.mark.parametrize(
    ("keyword", "action"),
    [
        ("PatientName", "Z"),
        ("PatientID", "Z"),
        ("OtherPatientIDsSequence", "X"),
        ("PatientBirthDate", "Z"),
        ("StudyDate", "Z"),
        ("AcquisitionDateTime", "X/Z/D"),
        ("StudyTime", "Z"),
        ("SOPInstanceUID", "U"),
        ("StudyInstanceUID", "U"),
        ("FrameOfReferenceUID", "U"),
        ("PatientSex", "Z"),
        ("InstitutionName", "X/Z/D"),
        ("ReferringPhysicianName", "Z"),
        ("PerformingPhysicianName", "X"),
        ("OperatorsName", "X/Z/D"),
        ("DeviceSerialNumber", "X/Z/D"),
        ("ImageComments", "X"),
        ("PatientComments", "X"),
        ("ReferencedPatientSequence", "X"),
        ("AccessionNumber", "Z"),
    ],
)
def test_identifying_attributes_of_the_issue(keyword: str, action: str) -> None:
    assert is_identifying(_tag(keyword))
    assert basic_profile_action(_tag(keyword)) == action


def test_private_and_repeating_group_attributes() -> None:
    assert basic_profile_action(0x00091001) == "X"  # private data element
    assert basic_profile_action(0x00290010) == "X"  # private creator
    assert is_identifying(0x60023000) and is_identifying(0x60004000)  # Overlay Data, Comments
    assert is_identifying(0x50020010)  # Curve Data (retired repeating group)
    assert not is_identifying(0x60000010)  # Overlay Rows: geometry, kept


@pytest.mark.parametrize(
    "keyword",
    ["Rows", "Modality", "PixelSpacing", "WindowCenter", "RescaleSlope", "SOPClassUID", "KVP"],
)
def test_image_attributes_are_not_identifying(keyword: str) -> None:
    assert not is_identifying(_tag(keyword))
