"""File names with control characters print as one escaped line: a newline in a name must not
forge a line of `scan` or `init` output (another file, a fake summary), nor an escape sequence
move the terminal."""

from __future__ import annotations

from pathlib import Path

from .cli_run import run, two_case_batch


def test_scan_and_init_escape_control_characters_in_file_names(tmp_path: Path) -> None:
    batch = two_case_batch(tmp_path / "batch")
    folder = batch / "Case_1" / "Visit_1" / "XC_CLINICAL"
    (folder / "cut\nTotal 0 images\x1b[2J.jpg").write_bytes(b"")  # a zero-byte "JPEG"
    for args in (("scan", batch), ("init", batch, "--out", tmp_path / "project")):
        result = run(*args)
        assert result.exit_code == 0, result.output
        lines = result.output.splitlines()
        assert not any(line.startswith("Total 0 images") for line in lines), result.output
        assert "\x1b" not in result.output
        assert any("cut\\nTotal 0 images\\x1b[2J.jpg" in line for line in lines), result.output
