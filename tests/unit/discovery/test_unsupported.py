"""Pictures clinlabel cannot label yet (a phone's HEIC) are reported, never silently left out."""

from __future__ import annotations

from pathlib import Path

from clinlabel.discovery import scan_batch
from clinlabel.domain import ScanResult


def test_heic_webp_and_gif_are_problem_files(tmp_path: Path) -> None:
    folder = tmp_path / "B" / "Case_1" / "Visit_1" / "XC"
    folder.mkdir(parents=True)
    for name in ("IMG_0001.HEIC", "lesion.webp", "anim.gif"):
        (folder / name).write_bytes(b"not decoded by the scan")
    (folder / "ok.jpg").write_bytes(b"\xff\xd8\xff\xe0")
    result = ScanResult()
    images = [ref.file for ref in scan_batch(tmp_path / "B", result)]
    assert images == ["XC/ok.jpg"]
    reasons = {p.relpath.rsplit("/", 1)[-1]: p.reason for p in result.problems}
    assert set(reasons) == {"IMG_0001.HEIC", "lesion.webp", "anim.gif"}
    assert ".HEIC pictures are not supported yet" in reasons["IMG_0001.HEIC"]
    assert all("JPEG or PNG" in reason for reason in reasons.values())
