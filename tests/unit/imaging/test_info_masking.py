"""`clinlabel info` masks identifying values by default, as the viewer's metadata panel does,
from the same PS3.15 Table E.1-1 list; `--show-identifying` prints them."""

from __future__ import annotations

import json
from pathlib import Path

import pydicom
from click.testing import CliRunner
from dicom_factory import grey_dataset, pattern, write
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian

from clinlabel.cli.app import cli
from clinlabel.domain.images import ImageKind
from clinlabel.imaging.info import describe

SECRETS = {
    "PatientName": "SMITH^JANE",
    "PatientID": "MRN-0042",
    "PatientSex": "F",
    "StudyDate": "20230917",
    "DeviceSerialNumber": "SN-998877",
    "ImageComments": "seen by Dr Who in bay 3",
}


def write_identified(path: Path) -> Path:
    ds = grey_dataset(pattern(8, 8, bits=12).astype("uint16"), signed=False, bits=12)
    for keyword, value in SECRETS.items():
        setattr(ds, keyword, value)
    ds.add_new(0x00090010, "LO", "ACME CORP")  # private creator
    ds.add_new(0x00091001, "LO", "private-secret")
    referenced = Dataset()
    referenced.ReferencedSOPClassUID = "1.2.840.10008.3.1.2.1.1"
    referenced.ReferencedSOPInstanceUID = "1.2.3.4.5.6.7"
    ds.ReferencedPatientSequence = [referenced]
    return write(path, ds, ExplicitVRLittleEndian)


def test_info_masks_identifying_values_by_default(tmp_path: Path) -> None:
    path = write_identified(tmp_path / "identified.dcm")
    runner = CliRunner()
    result = runner.invoke(cli, ["info", str(path)])
    assert result.exit_code == 0, result.output
    long_values = [value for value in SECRETS.values() if len(value) > 1]
    for value in [*long_values, "private-secret", "ACME CORP", "1.2.3.4.5.6.7"]:
        assert value not in result.output, value
    assert str(pydicom.dcmread(path).SOPInstanceUID) not in result.output  # UIDs too
    assert "PatientName: <masked> [identifying]" in result.output
    assert "PatientSex: <masked> [identifying]" in result.output
    assert "Modality: OT" in result.output  # what is not identifying stays readable
    assert "identifying value(s) masked; --show-identifying prints them" in result.output

    data = json.loads(runner.invoke(cli, ["info", str(path), "--json"]).output)
    rows = {row["keyword"]: row for row in data["attributes"]}
    assert rows["PatientName"]["masked"] and rows["PatientName"]["value"] is None
    assert data["masked"] == sum(row["masked"] for row in data["attributes"])
    assert not any(value in json.dumps(data) for value in long_values)


def test_show_identifying_prints_them(tmp_path: Path) -> None:
    path = write_identified(tmp_path / "identified.dcm")
    result = CliRunner().invoke(cli, ["info", str(path), "--show-identifying"])
    assert result.exit_code == 0, result.output
    for value in [*SECRETS.values(), "private-secret", "1.2.3.4.5.6.7"]:
        assert value in result.output, value
    assert "PatientSex: F [identifying]" in result.output
    assert "<masked>" not in result.output


def test_items_of_an_identifying_sequence_are_identifying(tmp_path: Path) -> None:
    """The page masks what `describe` flags: the whole Referenced Patient Sequence."""
    info = describe(write_identified(tmp_path / "identified.dcm"), ImageKind.DICOM)
    inside = [row for row in info.attributes if row.depth == 1]
    assert {row.keyword for row in inside} == {"ReferencedSOPClassUID", "ReferencedSOPInstanceUID"}
    assert all(row.identifying for row in inside)
