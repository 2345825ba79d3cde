"""Parse a DICOM file's header and remember where its pixel data starts.

An enhanced multi-frame object with 1,000 per-frame functional groups takes tens of milliseconds to
parse, far more than decoding one of its frames, so the open project's viewing service keeps the
headers it parsed (`viewing.ViewingService`, keyed by the file's identity). This module keeps
nothing: each header carries the `FileIdentity` of the bytes it was parsed from, checked after
parsing. The pixel data itself is not read here: frames are read one at a time (`dicom_frames`).

Only pydicom's public API is used (`dcmread`, `read_preamble`, `read_dataset`, `pydicom.datadict`),
so a pydicom upgrade cannot silently change what is parsed.
"""

from __future__ import annotations

import io
import struct
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom import dcmread
from pydicom.datadict import keyword_dict
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.errors import InvalidDicomError
from pydicom.filereader import read_dataset, read_preamble
from pydicom.tag import BaseTag, Tag
from pydicom.uid import (
    UID,
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from clinlabel.errors import DecodeError
from clinlabel.imaging import budget
from clinlabel.imaging.file_identity import FileIdentity, check_unchanged, identify
from clinlabel.imaging.plugins import choose_plugin

#: Files up to this size have their header parsed from memory (`_header_source`).
WHOLE_READ_BYTES = 1 << 20
_PIXEL_TAGS = {
    0x7FE00010: "PixelData",
    0x7FE00008: "FloatPixelData",
    0x7FE00009: "DoubleFloatPixelData",
}
_ITEM, _SEQUENCE_END = 0xFFFEE000, 0xFFFEE0DD
# What a rendition reads (`parse_render_header`): every Image Pixel, Modality LUT, VOI LUT and
# palette attribute (group 0028, PS3.3 C.7.6.3, C.11.1, C.11.2, C.7.9), the functional groups
# that carry them per frame in enhanced objects (C.7.6.16), the Extended Offset Table and the SOP
# Class. Everything else (patient, study, geometry) is left for `parse_header`.
# As `BaseTag`s: `read_dataset` converts each entry with `Tag()` on every call otherwise.
_RENDER_TAGS: tuple[BaseTag, ...] = tuple(
    Tag(tag)
    for tag in (
        *sorted(tag for tag in keyword_dict.values() if tag >> 16 == 0x0028),
        0x00080016,  # SOP Class UID
        0x20500020,  # Presentation LUT Shape (C.11.6): the polarity
        0x52009229,  # Shared Functional Groups Sequence
        0x52009230,  # Per-frame Functional Groups Sequence
        0x7FE00001,  # Extended Offset Table
        0x7FE00002,  # Extended Offset Table Lengths
    )
)


@dataclass(frozen=True, eq=False)
class DicomHeader:
    """Everything about one file except its pixel data, plus how to decode that data."""

    path: Path
    dataset: Dataset
    """The whole header (without the pixel data element, except for a Deflated file)."""
    transfer_syntax: UID
    plugin: str
    """The pydicom decoding plugin chosen for this syntax ("" for the native decoders)."""
    options: dict[str, Any] = field(repr=False)
    """The keyword arguments for `Decoder.as_array` (rows, columns, bits, offsets, ...)."""
    pixel_offset: int
    """File offset of the first byte of the pixel data value (-1 when held in `inflated`)."""
    inflated: Dataset | None = field(default=None, repr=False)
    """A Deflated file, read whole: its byte offsets are those of the inflated stream."""
    identity: FileIdentity | None = field(default=None, repr=False)
    """The file this header was parsed from, exactly (path, size, mtime, inode)."""
    handover: list[bytes] = field(default_factory=list, repr=False)
    """The whole file when it was read into memory for parsing (`_header_source`), for the first
    frame read to take (`take_handover`) instead of opening the file again; never kept longer,
    so cached headers hold no pixel data."""

    def take_handover(self) -> bytes | None:
        """The file's bytes if they were read whole and not taken yet (then forgotten)."""
        try:
            return self.handover.pop()
        except IndexError:
            return None

    @property
    def frames(self) -> int:
        return int(self.options["number_of_frames"])

    @property
    def is_encapsulated(self) -> bool:
        return self.transfer_syntax.is_encapsulated


def parse_header(
    path: Path,
    *,
    identity: FileIdentity | None = None,
    memory_budget: int = budget.DEFAULT_BYTES,
) -> DicomHeader:
    """The whole header of `path` (`DecodeError` when it has no image), checked to come from
    the file with `identity` (taken now when not given)."""
    identity = identity or identify(path)
    header = _parse(Path(identity.path), identity, memory_budget=memory_budget)
    check_unchanged(identity)
    return header


def parse_render_header(
    path: Path,
    *,
    identity: FileIdentity | None = None,
    memory_budget: int = budget.DEFAULT_BYTES,
) -> DicomHeader:
    """A header with what rendering needs: the rendering tags only, when it can.

    A cold rendition reads only `_RENDER_TAGS` (as pydicom's own `pixel_array` reads only group
    0028), about a third of the cost of a full `dcmread` on a CT slice; its `dataset` lacks the
    other attributes, so metadata and geometry go through `parse_header`. Files without File Meta
    Information, Deflated files and anything the short route cannot read take the full route.
    """
    identity = identity or identify(path)
    header = _parse_for_render(Path(identity.path), identity, memory_budget=memory_budget)
    check_unchanged(identity)
    return header


def _header_source(path: Path, size: int) -> Any:
    """What to parse a header from: the whole file in memory when it is small, else the file.

    pydicom's element reader calls `tell()` on its source about twice per element, and a
    buffered file's `tell` costs ten times an in-memory one's: a 6 KB scanner CT header of 256
    elements parses in 0.40 ms from memory (the whole 0.5 MB file read included) against 0.67 ms
    from the file. Past `WHOLE_READ_BYTES` the one read would cost more than it saves.
    """
    if size <= WHOLE_READ_BYTES:
        with path.open("rb", buffering=0) as raw:
            return io.BytesIO(raw.read())
    return path.open("rb")


def _after_meta(tag: BaseTag, vr: str | None, length: int) -> bool:
    """`stop_when` for `read_dataset`: File Meta Information is group 0002 (PS3.10 7.1)."""
    return tag >> 16 != 0x0002


def _at_pixels(tag: BaseTag, vr: str | None, length: int) -> bool:
    """`stop_when` for `read_dataset`: stop right before the pixel data element."""
    return tag in _PIXEL_TAGS


def _parse_for_render(path: Path, identity: FileIdentity, *, memory_budget: int) -> DicomHeader:
    try:
        with _header_source(path, identity.size) as handle:
            # What `dcmread` does, in its public parts, without building a `FileDataset` (a
            # third of the cost of a CT slice's render header): the preamble, the File Meta
            # Information (always explicit VR little endian), then the dataset up to the
            # pixel data element, where `read_dataset` leaves the handle.
            read_preamble(handle, True)
            meta = FileMetaDataset(
                read_dataset(
                    handle, is_implicit_VR=False, is_little_endian=True, stop_when=_after_meta
                )
            )
            syntax = UID(meta.get("TransferSyntaxUID") or "")
            if not syntax or syntax == DeflatedExplicitVRLittleEndian:
                return _parse(path, identity, memory_budget=memory_budget)
            dataset = read_dataset(
                handle,
                is_implicit_VR=syntax.is_implicit_VR,
                is_little_endian=syntax.is_little_endian,
                stop_when=_at_pixels,
                specific_tags=list(_RENDER_TAGS),
            )
            dataset.file_meta = meta
            offset, options = _locate_pixels(handle, dataset, syntax, path.name)
            whole = handle.getvalue() if isinstance(handle, io.BytesIO) else None
    except Exception:  # the full route reads it, or raises with the reason
        return _parse(path, identity, memory_budget=memory_budget)
    header = _header(path, identity, dataset, syntax, offset, options)
    if whole is not None:
        header.handover.append(whole)
    return header


def looks_like_dicom(path: Path) -> bool:
    """True for a DICOM file, with or without its 128-byte preamble (extension-less files)."""
    try:
        dcmread(path, stop_before_pixels=True, specific_tags=[0x00080016])
    except (InvalidDicomError, OSError, ValueError, EOFError, struct.error, AttributeError):
        return False
    return True


def _parse(path: Path, identity: FileIdentity, *, memory_budget: int) -> DicomHeader:
    name = path.name
    try:
        with path.open("rb") as handle:
            # pydicom inflates a Deflated dataset whole before reading its header: measure the
            # inflated size first, without keeping it (a 2 MB file inflated to 2 GiB in 6 GB).
            _check_deflated_stream(handle, name, memory_budget)
            handle.seek(0)
            dataset = _read_dataset(handle, name)
            syntax = _transfer_syntax(dataset)
            if syntax == DeflatedExplicitVRLittleEndian:
                # Inflated whole (`_deflated`): its whole pixel data must fit the budget first.
                _check_inflated_budget(dataset, name, memory_budget)
                handle.seek(0)
                return _deflated(path, identity, dcmread(handle))
            offset, options = _locate_pixels(handle, dataset, syntax, name)
    except (OSError, ValueError, EOFError, struct.error, KeyError, TypeError) as exc:
        raise DecodeError(f"{name} has a damaged DICOM header ({exc}).") from exc
    return _header(path, identity, dataset, syntax, offset, options)


#: What a Deflated dataset may hold besides pixel data (its header), inflated, over the budget.
_DEFLATED_HEADER_ALLOWANCE = 16 * 1024 * 1024
_INFLATE_CHUNK = 1 << 20


def _check_deflated_stream(handle: Any, name: str, memory_budget: int) -> None:
    """`TooLargeError` when a Deflated Explicit VR file (PS3.5 A.5: the dataset after the File
    Meta Information is one raw deflate stream) inflates past the memory budget.

    The stream is inflated a megabyte at a time and thrown away as it goes, stopping as soon as
    the budget is passed: memory stays at a few megabytes whatever the file claims.
    """
    try:
        read_preamble(handle, False)
        meta = read_dataset(
            handle, is_implicit_VR=False, is_little_endian=True, stop_when=_after_meta
        )
    except Exception:  # no File Meta Information, or not DICOM at all: not a Deflated file
        return
    if UID(meta.get("TransferSyntaxUID") or "") != DeflatedExplicitVRLittleEndian:
        return
    limit = memory_budget + _DEFLATED_HEADER_ALLOWANCE
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    inflated = 0
    while chunk := handle.read(_INFLATE_CHUNK):
        data = inflater.decompress(chunk, _INFLATE_CHUNK)
        while True:
            inflated += len(data)
            if inflated > limit:
                budget.check(
                    inflated,
                    name=name,
                    what="its Deflated dataset (inflated, at least)",
                    limit=memory_budget,
                )
            if inflater.eof:
                return  # (zlib may leave a byte in unconsumed_tail after the end)
            if not inflater.unconsumed_tail:
                break
            data = inflater.decompress(inflater.unconsumed_tail, _INFLATE_CHUNK)


def _locate_pixels(
    handle: Any, dataset: Dataset, syntax: UID, name: str
) -> tuple[int, dict[str, Any]]:
    """Where the pixel data starts and the decode options, frame offsets included."""
    offset, keyword, vr = _pixel_value_start(handle, dataset, syntax, name)
    options = _options(dataset, syntax, keyword, vr, name)
    if syntax.is_encapsulated and options["number_of_frames"] > 1:
        _add_frame_offsets(handle, offset, options)
    return offset, options


def _header(
    path: Path,
    identity: FileIdentity,
    dataset: Dataset,
    syntax: UID,
    offset: int,
    options: dict[str, Any],
) -> DicomHeader:
    if not syntax.is_encapsulated:
        _check_length(options, offset, identity.size, path.name)
    return DicomHeader(
        path=path,
        dataset=dataset,
        transfer_syntax=syntax,
        plugin=choose_plugin(syntax, options=options),
        options=options,
        pixel_offset=offset,
        identity=identity,
    )


def _read_dataset(handle: Any, name: str) -> Dataset:
    """The header, also of a bare dataset without preamble and File Meta Information."""
    try:
        return dcmread(handle, stop_before_pixels=True)
    except InvalidDicomError:
        handle.seek(0)
    try:
        dataset = dcmread(handle, stop_before_pixels=True, force=True)
    except Exception as exc:  # forced reading of arbitrary bytes fails in many ways
        raise DecodeError(f"{name} is not a DICOM file.") from exc
    # Forcing reads almost anything; a real bare dataset starts with group 0008 attributes.
    if "SOPClassUID" not in dataset and "Rows" not in dataset:
        raise DecodeError(f"{name} is not a DICOM file.")
    return dataset


def _transfer_syntax(dataset: Dataset) -> UID:
    syntax = dataset.file_meta.get("TransferSyntaxUID") if hasattr(dataset, "file_meta") else None
    if syntax:
        return UID(syntax)
    # No File Meta Information (a bare dataset): pydicom guessed the encoding while reading.
    implicit, little = dataset.original_encoding
    if implicit:
        return ImplicitVRLittleEndian
    return ExplicitVRLittleEndian if little else ExplicitVRBigEndian


def _pixel_value_start(
    handle: Any, dataset: Dataset, syntax: UID, name: str
) -> tuple[int, str, str | None]:
    """Step over the pixel data element's tag (dcmread stopped right before it).

    The encoding actually found while reading wins over the transfer syntax: some writers store
    an implicit VR dataset under an explicit VR syntax, and pydicom reads it anyway.
    """
    implicit, little = dataset.original_encoding
    if implicit is None:
        implicit, little = syntax.is_implicit_VR, syntax.is_little_endian
    endian = "<" if little else ">"
    head = handle.read(8)
    if len(head) < 8:
        raise DecodeError(f"{name} has no pixel data (no image to show).")
    group, element = struct.unpack(f"{endian}HH", head[:4])
    keyword = _PIXEL_TAGS.get(group << 16 | element)
    if keyword is None:
        raise DecodeError(f"{name} has no pixel data (no image to show).")
    vr: str | None = None
    # Pixel data VRs are OB, OW, OF, OD or UN; anything else means the tag was written implicit.
    if not implicit and head[4:6] in (b"OB", b"OW", b"OF", b"OD", b"UN"):
        vr = head[4:6].decode("ascii")
        handle.read(4)  # OB/OW/OF/OD have a 2-byte reserved field and a 4-byte length
    return int(handle.tell()), keyword, vr


# The Image Pixel attributes a decoder takes (pydicom's `as_pixel_options` reads the same):
# the US ones, whose values are read straight from their two bytes, and the others.
_PIXEL_US = {
    0x00280002: "samples_per_pixel",
    0x00280006: "planar_configuration",
    0x00280010: "rows",
    0x00280011: "columns",
    0x00280100: "bits_allocated",
    0x00280101: "bits_stored",
    0x00280103: "pixel_representation",
}
_PIXEL_OTHER = {0x00280004: "photometric_interpretation", 0x00280008: "number_of_frames"}


def _pixel_options(dataset: Dataset) -> dict[str, Any]:
    """The Image Pixel module as decoder options, as pydicom's `as_pixel_options` gives them.

    A US attribute of one value still in its raw form (never accessed) is read from its two
    bytes in the element's own byte order: pydicom's conversion of a raw element (a DataElement,
    its value checks) costs ~8 us each, the seven of them as much as the rest of a small header.
    Anything else (another VR, several values, an element already converted) goes through
    pydicom, so the result is the same; the conformance tests compare both on every corpus file.
    """
    options: dict[str, Any] = {}
    for tag, name in _PIXEL_US.items():
        element = dataset.get_item(tag)
        if element is None:
            continue
        if (
            isinstance(element, RawDataElement)
            and element.VR in (None, "US")
            and isinstance(element.value, bytes)
            and len(element.value) == 2
        ):
            order = "little" if element.is_little_endian else "big"
            options[name] = int.from_bytes(element.value, order)
        else:
            options[name] = dataset[tag].value
    for tag, name in _PIXEL_OTHER.items():
        if tag in dataset:
            options[name] = dataset[tag].value
    # As `as_pixel_options`: Number of Frames absent, empty or zero means one frame.
    frames = options.get("number_of_frames")
    options["number_of_frames"] = int(frames) if frames not in (None, "", 0) else 1
    return options


def _options(
    dataset: Dataset, syntax: UID, keyword: str, vr: str | None, name: str
) -> dict[str, Any]:
    try:
        options = _pixel_options(dataset)
    except (AttributeError, KeyError, ValueError, TypeError) as exc:
        raise DecodeError(f"{name}: the Image Pixel module is incomplete ({exc}).") from exc
    for needed in ("rows", "columns", "bits_allocated", "samples_per_pixel"):
        if needed not in options:
            raise DecodeError(f"{name}: the Image Pixel module lacks {needed.replace('_', ' ')}.")
    options["transfer_syntax_uid"] = syntax
    options["pixel_keyword"] = keyword
    if vr:
        options["pixel_vr"] = vr
    options["number_of_frames"] = max(1, int(options.get("number_of_frames") or 1))
    options.setdefault("pixel_representation", 0)
    options.setdefault("bits_stored", options["bits_allocated"])
    if "ExtendedOffsetTable" in dataset and "ExtendedOffsetTableLengths" in dataset:
        options["extended_offsets"] = (
            dataset.ExtendedOffsetTable,
            dataset.ExtendedOffsetTableLengths,
        )
    return options


def _check_length(options: dict[str, Any], offset: int, size: int, name: str) -> None:
    frame_bits = (
        options["rows"]
        * options["columns"]
        * options["samples_per_pixel"]
        * options["bits_allocated"]
    )
    if options.get("photometric_interpretation") == "YBR_FULL_422":
        frame_bits = frame_bits * 2 // 3  # PS3.3 C.7.6.3.1.2: two chroma samples per pixel pair
    expected = (frame_bits * options["number_of_frames"] + 7) // 8
    if offset + expected > size:
        raise DecodeError(
            f"{name} is truncated: its pixel data needs {expected} bytes, "
            f"the file holds {max(0, size - offset)}."
        )


def _add_frame_offsets(handle: Any, offset: int, options: dict[str, Any]) -> None:
    """Index the fragments once so frame N is one seek, when each frame is one fragment.

    PS3.5 A.4: encapsulated pixel data is a Basic Offset Table item then fragment items. With an
    empty offset table pydicom would walk every fragment header on every frame; we walk them once
    and hand pydicom an Extended Offset Table (offsets relative to the first fragment).
    """
    if "extended_offsets" in options:
        return
    handle.seek(offset)
    # A tag is two little-endian uint16 (group, element), not one uint32.
    group, element, length = struct.unpack("<HHI", handle.read(8))
    if group << 16 | element != _ITEM or length:  # a Basic Offset Table: pydicom uses it
        return
    start = offset + 8
    offsets: list[int] = []
    lengths: list[int] = []
    while True:
        head = handle.read(8)
        if len(head) < 8:
            break
        group, element, length = struct.unpack("<HHI", head)
        if group << 16 | element != _ITEM:
            break
        offsets.append(int(handle.tell()) - 8 - start)
        lengths.append(length)
        handle.seek(length, 1)
    if len(offsets) == options["number_of_frames"]:
        options["extended_offsets"] = (offsets, lengths)


def _check_inflated_budget(dataset: Dataset, name: str, limit: int) -> None:
    try:
        options = _pixel_options(dataset)
    except (AttributeError, KeyError, ValueError, TypeError):
        return  # `_options` reports the incomplete module once the file is read
    budget.check(
        budget.dicom_pixel_bytes(options),
        name=name,
        what=f"its pixel data ({options.get('number_of_frames', 1)} frame(s) of "
        f"{options.get('rows')} x {options.get('columns')} pixels)",
        limit=limit,
    )


def _deflated(path: Path, identity: FileIdentity, full: Dataset) -> DicomHeader:
    """Deflated files are inflated whole (they are rare and small) and kept in the cache."""
    if not any(keyword in full for keyword in _PIXEL_TAGS.values()):
        raise DecodeError(f"{path.name} has no pixel data (no image to show).")
    syntax = DeflatedExplicitVRLittleEndian
    keyword = next(keyword for keyword in _PIXEL_TAGS.values() if keyword in full)
    options = _options(full, syntax, keyword, None, path.name)
    return DicomHeader(
        path=path,
        dataset=full,
        transfer_syntax=syntax,
        plugin=choose_plugin(syntax, options=options),
        options=options,
        pixel_offset=-1,
        inflated=full,
        identity=identity,
    )
