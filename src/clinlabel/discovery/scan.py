"""Walk a batch folder and stream its images in queue order, reporting what was left out and why.

The walk holds one sorted directory listing per level of the current path, never the whole
tree, and opens no image file except to sniff an extension-less file for DICOM (132 bytes), or in
verify mode to read each header (see `headers.py`). Strings and `os.scandir` only in the hot
loop: a `Path` per file would cost more than the `stat` call the walk needs anyway.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from operator import itemgetter
from pathlib import Path

from clinlabel.discovery import layout
from clinlabel.discovery.admission import EMPTY_FILE, admit
from clinlabel.discovery.batch_root import check_batch_root, no_clinical_folder_error
from clinlabel.discovery.layout import Sniff
from clinlabel.discovery.naming import natural_key
from clinlabel.discovery.sniff import DICOM_PREFIX_END, sniff_dicom
from clinlabel.domain import ImageKind, ImageRef, Problem, ScanResult, SkippedFolder

__all__ = ["EMPTY_FILE", "scan_batch"]
_first = itemgetter(0)
_extension_kind = layout.IMAGE_EXTENSIONS.get
_classify = layout.classify_name
_DICOM = ImageKind.DICOM

# (name, filesystem path, real path) of a folder to descend into.
_Folder = tuple[str, str, str]


def scan_batch(
    root: Path, result: ScanResult, *, verify: bool = False, part: tuple[int, int] | None = None
) -> Iterator[ImageRef]:
    """Stream the images of the batch at `root` in queue order, filling `result` as it goes.

    Queue order is natural order (`Case_2` before `Case_10`, case-insensitive) of cases, then
    visits, then XC/CLINICAL folders (see `layout.is_clinical_folder`), then inside each of those
    its files, then its subfolders, depth first. `result` counts the cases and visits that yielded
    at least one image and the images yielded, and lists problem files (not yielded) and skipped
    folders with how many image files they hold. The root is checked before this returns
    (`DatasetError`); a batch without any XC/CLINICAL folder raises `DatasetError` at the end.
    Symbolic links leaving the batch are not followed; links inside it are, except into a folder
    of the current path (a loop).

    `part=(k, n)` scans only the k-th of n contiguous runs of cases (k from 0), so that n
    processes can scan one batch together: concatenated in order of k, their images are the
    whole scan's, and their results add up to its result (what is reported about the batch
    folder itself is reported by part 0 only). A part never raises for a batch without XC
    folders: `result.clinical_folders` says, once all parts are in.
    """
    root_path = os.fspath(root)
    real = check_batch_root(root_path)
    return _Scan(root_path, real, result, verify=verify).images(part)


def _reason(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()


class _Scan:
    """One pass over one batch; the state a generator would otherwise thread through arguments."""

    def __init__(self, root: str, real: str, result: ScanResult, *, verify: bool) -> None:
        self.root = root
        self.real = real
        self.inside = real if real.endswith(os.sep) else real + os.sep
        self.result = result
        self.verify = verify
        self.found_clinical = False
        self.misplaced_clinical: str | None = None
        self.case_counted = False
        self.visit_counted = True

    def images(self, part: tuple[int, int] | None = None) -> Iterator[ImageRef]:
        reported = len(self.result.skipped)
        cases = self._folders(self.root, "", self.real, "the batch folder")
        if part is not None:
            index, count = part
            if index:  # the batch folder's own findings belong to part 0
                del self.result.skipped[reported:]
            cases = cases[len(cases) * index // count : len(cases) * (index + 1) // count]
        for case, case_path, case_real in cases:
            self.case_counted = False
            chain = (self.real, case_real)
            if layout.is_clinical_folder(case):
                self.misplaced_clinical = self.misplaced_clinical or case
            visits = self._folders(case_path, case, case_real, "a case folder", chain)
            for visit, visit_path, visit_real in visits:
                self.visit_counted = False
                if layout.is_clinical_folder(visit):
                    self.misplaced_clinical = self.misplaced_clinical or f"{case}/{visit}"
                prefix = f"{case}/{visit}/"
                folders = self._folders(
                    visit_path, prefix[:-1], visit_real, "a visit folder", (*chain, visit_real)
                )
                for folder, folder_path, folder_real in folders:
                    if layout.is_clinical_folder(folder):
                        self.found_clinical = True
                        self.result.clinical_folders += 1
                        yield from self._clinical(
                            folder_path, (*chain, visit_real, folder_real), case, visit, folder
                        )
                    else:
                        self._skip(prefix + folder, "not an XC or CLINICAL folder", folder_path)
        if not self.found_clinical and part is None:
            raise no_clinical_folder_error(
                self.root, misplaced=self.misplaced_clinical, skipped=self.result.skipped
            )

    def _clinical(
        self, path: str, chain: tuple[str, ...], case: str, visit: str, folder: str
    ) -> Iterator[ImageRef]:
        """Images of one XC/CLINICAL folder: its files, then its subfolders, depth first."""
        problems = self.result.problems
        result = self.result
        verify = self.verify
        visit_prefix = f"{case}/{visit}/"
        stack = [(path, chain, folder + "/")]
        while stack:
            dir_path, dir_chain, file_prefix = stack.pop()
            rel_prefix = visit_prefix + file_prefix
            listing = self._clinical_listing(dir_path, rel_prefix, dir_chain)
            if listing is None:
                continue
            files, folders = listing
            for _, name, kind, entry in files:
                rel = rel_prefix + name
                if not rel.isascii() and not _utf8(rel):
                    problems.append(Problem(_printable(rel), NOT_UTF8))
                    continue
                try:
                    info = entry.stat()
                except OSError as exc:
                    problems.append(Problem(rel, self._stat_problem(entry, exc)))
                    continue
                size = info.st_size
                if kind is Sniff.UNSUPPORTED:
                    ext = name[name.rfind(".") :].upper()
                    problems.append(
                        Problem(rel, f"{ext} pictures are not supported yet: {TO_JPEG}")
                    )
                    continue
                if kind is Sniff.SNIFF:
                    if size < DICOM_PREFIX_END or not self._is_dicom(entry.path, rel):
                        continue  # not an image: the name did not claim to be one
                    kind = _DICOM
                    sniffed = True  # its first bytes are DICOM's: read them again only to verify
                else:
                    sniffed = False
                if verify or not sniffed:
                    # The one decision of what enters the queue (scan, init and rescans alike).
                    admission = admit(
                        entry.path, lower_name=name.lower(), size=size, kind=kind, verify=verify
                    )
                    if not admission.queued:
                        problems.append(Problem(rel, admission.reason or "not an image"))
                        continue
                    if admission.reason is not None:
                        result.unshowable.append(Problem(rel, admission.reason))
                if not self.visit_counted:
                    self._count_visit()
                result.images += 1
                yield ImageRef(
                    rel, case, visit, folder, file_prefix + name, kind, size, info.st_mtime_ns
                )
            for name, sub_path, sub_real in reversed(folders):
                stack.append((sub_path, (*dir_chain, sub_real), f"{file_prefix}{name}/"))

    def _clinical_listing(
        self, path: str, rel_prefix: str, chain: tuple[str, ...]
    ) -> tuple[list[tuple[object, str, ImageKind | Sniff, os.DirEntry[str]]], list[_Folder]] | None:
        """Candidate image files and subfolders of one folder, each in natural order."""
        files: list[tuple[object, str, ImageKind | Sniff, os.DirEntry[str]]] = []
        folders: list[tuple[object, _Folder]] = []
        real = chain[-1]
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    name = entry.name
                    if name[0] == ".":
                        continue
                    try:
                        is_dir = entry.is_dir()
                    except OSError:
                        is_dir = False
                    if is_dir:
                        folder = self._descend(entry, rel_prefix + name, real, chain)
                        if folder is not None:
                            folders.append((natural_key(name), folder))
                        continue
                    lower = name.lower()
                    kind = _extension_kind(lower[lower.rfind(".") :]) or _classify(lower)
                    if kind is None:
                        continue
                    if entry.is_symlink() and not self._link_inside(entry, rel_prefix + name):
                        continue
                    files.append((natural_key(name), name, kind, entry))
        except OSError as exc:
            self._unreadable(rel_prefix[:-1], exc)
            return None
        files.sort(key=_first)
        folders.sort(key=_first)
        return files, [folder for _, folder in folders]

    def _folders(
        self, path: str, rel: str, real: str, where: str, chain: tuple[str, ...] = ()
    ) -> list[_Folder]:
        """Subfolders of a batch, case or visit folder in natural order; stray images reported."""
        folders: list[tuple[object, _Folder]] = []
        strays = 0
        chain = chain or (real,)
        prefix = f"{rel}/" if rel else ""
        try:
            with os.scandir(path) as entries:
                for entry in entries:
                    name = entry.name
                    if name[0] == ".":
                        continue
                    if _is_dir(entry):
                        folder = self._descend(entry, prefix + name, real, chain)
                        if folder is not None:
                            folders.append((natural_key(name), folder))
                    elif self._is_image_file(entry) and (
                        not entry.is_symlink() or self._link_inside(entry, prefix + name)
                    ):
                        strays += 1
        except OSError as exc:
            self._unreadable(rel or ".", exc)
            return []
        if strays:
            reason = (
                f"{strays} image file{'s' if strays > 1 else ''} directly in {where}, "
                f"outside any XC/CLINICAL folder (expected {layout.EXPECTED_LAYOUT})"
            )
            self.result.skipped.append(SkippedFolder(rel or ".", reason, strays))
        folders.sort(key=_first)
        return [folder for _, folder in folders]

    def _descend(
        self, entry: os.DirEntry[str], rel: str, parent_real: str, chain: tuple[str, ...]
    ) -> _Folder | None:
        """The folder to walk into, or None (reported) for a link leaving the batch or a loop."""
        if not entry.is_symlink():
            return entry.name, entry.path, parent_real + os.sep + entry.name
        real = os.path.realpath(entry.path)
        if not self._within(real):
            self._skip_link(rel, "symbolic link to a folder outside the batch (not followed)")
            return None
        if real in chain:
            self._skip_link(rel, "symbolic link back into its own parent folders (a loop)")
            return None
        target = self._walked_anyway(real, rel.count("/") + 1)
        if target is not None:
            self._skip_link(
                rel, f"symbolic link to {target}, whose images are in the queue already (not twice)"
            )
            return None
        return entry.name, entry.path, real

    def _walked_anyway(self, real: str, depth: int) -> str | None:
        """The batch-relative path of a linked folder at `depth` (1 case, 2 visit, 3 XC folder,
        more inside one) when the walk lists all its images from there anyway, else None.

        That is when the target plays the same part: a case or visit folder linked as a case or
        visit, or a folder inside an XC/CLINICAL folder (or one itself) linked from inside one.
        Anything else (a hidden folder, a skipped non-clinical one, a case linked from inside an
        XC folder) is reached only through the link, so the link is followed.
        """
        parts = os.path.relpath(real, self.real).split(os.sep)
        if any(layout.is_hidden(part) for part in parts):
            return None
        target = "/".join(parts)
        if depth <= 2:
            return target if len(parts) == depth else None
        if len(parts) >= 3 and layout.is_clinical_folder(parts[2]):
            return target
        return None

    def _link_inside(self, entry: os.DirEntry[str], rel: str) -> bool:
        if self._within(os.path.realpath(entry.path)):
            return True
        self._skip_link(rel, "symbolic link to a file outside the batch (not followed)")
        return False

    def _within(self, real: str) -> bool:
        return real == self.real or real.startswith(self.inside)

    def _skip_link(self, rel: str, reason: str) -> None:
        self.result.skipped.append(SkippedFolder(rel, reason, 0))

    def _skip(self, rel: str, reason: str, path: str) -> None:
        self.result.skipped.append(SkippedFolder(rel, reason, self._count_images(path)))

    def _unreadable(self, rel: str, exc: OSError) -> None:
        if isinstance(exc, FileNotFoundError):
            reason = "folder disappeared during the scan"
        else:
            reason = f"cannot read this folder: {_reason(exc)}"
        self.result.skipped.append(SkippedFolder(rel, reason, 0))

    def _count_visit(self) -> None:
        self.visit_counted = True
        self.result.visits += 1
        if not self.case_counted:
            self.case_counted = True
            self.result.cases += 1

    def _is_dicom(self, path: str, rel: str) -> bool:
        try:
            return sniff_dicom(path)
        except OSError as exc:
            self.result.problems.append(
                Problem(rel, f"cannot read to check for DICOM: {_reason(exc)}")
            )
            return False

    def _is_image_file(self, entry: os.DirEntry[str]) -> bool:
        """Whether a file counts as an image where none is expected (sniffs like the walk)."""
        kind = _classify(entry.name.lower())
        if kind is Sniff.SNIFF:
            try:
                return entry.stat().st_size >= DICOM_PREFIX_END and sniff_dicom(entry.path)
            except OSError:
                return False
        return kind is not None

    def _count_images(self, path: str) -> int:
        """Image files anywhere below `path`, without following links (for skipped folders)."""
        count = 0
        stack = [path]
        while stack:
            try:
                with os.scandir(stack.pop()) as entries:
                    for entry in entries:
                        if entry.name[0] == ".":
                            continue
                        if _is_dir(entry, follow_symlinks=False):
                            stack.append(entry.path)
                        elif not entry.is_symlink() and self._is_image_file(entry):
                            count += 1
            except OSError:
                continue  # an unreadable subfolder: count what can be seen
        return count

    @staticmethod
    def _stat_problem(entry: os.DirEntry[str], exc: OSError) -> str:
        if isinstance(exc, FileNotFoundError):
            return "broken symbolic link" if entry.is_symlink() else "disappeared during the scan"
        return f"cannot read: {_reason(exc)}"


TO_JPEG = "save it as JPEG or PNG to label it"
NOT_UTF8 = "its name is not valid UTF-8 (an old archive or disk?): rename the file or folder"


def _utf8(text: str) -> bool:
    """Whether a path from the file system is valid UTF-8 (Python keeps bad bytes as
    surrogates, which no database, CSV or web page can carry)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _printable(text: str) -> str:
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _is_dir(entry: os.DirEntry[str], *, follow_symlinks: bool = True) -> bool:
    try:
        return entry.is_dir(follow_symlinks=follow_symlinks)
    except OSError:
        return False
