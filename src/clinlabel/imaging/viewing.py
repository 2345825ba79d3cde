"""The viewing service: everything the viewer reads from image files, owned by the open project.

One object holds every cache of the viewing path (DICOM headers, decoded frames, NIfTI volumes and
their ranges, renditions on disk, and the files that failed to decode) and the lock under which
decoders are first imported. The project that is open creates it and passes it to whoever shows
images (the web face today, a desktop face later); closing the project drops it. Nothing in
`imaging` keeps state at module level.

Every entry is keyed by the `FileIdentity` of the file it came from (device, inode, size,
mtime_ns and path), taken when it is asked for; what was computed from bytes read while the
file changed is not kept (`file_identity.check_unchanged`). So a value can only ever be served for
the exact file it was computed from, whatever the order and concurrency of requests.

Thread-safe: decoding runs in worker threads, several at once.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from clinlabel.domain.images import ImageKind
from clinlabel.errors import DecodeError
from clinlabel.imaging.budget import DEFAULT_BYTES
from clinlabel.imaging.file_cache import IdentityCache
from clinlabel.imaging.file_identity import (
    FileChangedError,
    FileIdentity,
    check_unchanged,
    identify,
)
from clinlabel.imaging.rendition_store import (
    DEFAULT_CACHE_BYTES,
    CachedRendition,
    RenditionStore,
    rendition_key,
)

if TYPE_CHECKING:
    import numpy as np

    from clinlabel.imaging.dicom_header import DicomHeader
    from clinlabel.imaging.nifti import Volume
    from clinlabel.imaging.pixel_payload import PixelPayload
    from clinlabel.imaging.render import PhotoSize
    from clinlabel.imaging.vesselness import VesselMap
    from clinlabel.imaging.windowing import Window

T = TypeVar("T")

HEADER_ITEMS = 64
FRAME_BYTES = 96 * 1024 * 1024
VOLUME_ITEMS = 8
VOLUME_BYTES = 1024 * 1024 * 1024
#: Files that failed to decode are remembered (until they change), at most this many.
FAILURE_ITEMS = 4096
#: Vessel maps kept (a 1024 x 1024 map is 1 MB): a fluoroscopy run's worth of frames.
VESSEL_ITEMS = 64
#: Colour DICOM frames (ultrasound, endoscopy, microscopy, photographs) are sent at their own size
#: up to this long side, so zooming in shows the file's own pixels, as grey frames always do. It
#: covers 4K UHD endoscopy (3840 x 2160) and the fundus and dermoscopy cameras we know of; one
#: decoded 4096 x 4096 RGBA frame is 64 MB in the page (two fit its 128 MB colour frame cache)
#: and 48 MB as a stored PNG. Larger images are reduced by the smallest integer factor that brings
#: them within it (`rendering.grey_reduction`): a 24 MP picture still reaches the page, at 3000 px.
OWN_SIZE_LIMIT = 4096
#: How often a read that raced a change of the file is tried again.
CHANGED_RETRIES = 2


class ViewingService:
    """The caches and decoders of one open project (`ImageReader` and more)."""

    def __init__(
        self,
        *,
        rendition_folder: Path | None = None,
        rendition_bytes: int = DEFAULT_CACHE_BYTES,
        header_items: int = HEADER_ITEMS,
        frame_bytes: int = FRAME_BYTES,
        volume_items: int = VOLUME_ITEMS,
        volume_bytes: int = VOLUME_BYTES,
        own_size_limit: int = OWN_SIZE_LIMIT,
        memory_budget: int = DEFAULT_BYTES,
    ) -> None:
        self.memory_budget = memory_budget
        self._headers: IdentityCache[FileIdentity, DicomHeader] = IdentityCache(
            max_items=header_items
        )
        self._render_headers: IdentityCache[FileIdentity, DicomHeader] = IdentityCache(
            max_items=header_items
        )
        self._frames: IdentityCache[tuple[FileIdentity, int], np.ndarray] = IdentityCache(
            max_items=1 << 20, max_weight=frame_bytes, weight=lambda a: int(a.nbytes)
        )
        self._volumes: IdentityCache[FileIdentity, Volume] = IdentityCache(
            max_items=volume_items, max_weight=volume_bytes, weight=lambda v: int(v.data.nbytes)
        )
        self._ranges: IdentityCache[FileIdentity, Window] = IdentityCache(max_items=volume_items)
        self._photo_sizes: IdentityCache[FileIdentity, PhotoSize] = IdentityCache(
            max_items=FAILURE_ITEMS
        )
        self._failures: IdentityCache[tuple[str, FileIdentity], DecodeError] = IdentityCache(
            max_items=FAILURE_ITEMS
        )
        # Vessel maps (issue 11's assist), per frame: the page asks again as the slider moves.
        self._vessels: IdentityCache[tuple[FileIdentity, int], VesselMap] = IdentityCache(
            max_items=VESSEL_ITEMS
        )
        self._import_lock = threading.Lock()
        self._imported: set[ImageKind] = set()
        self.own_size_limit = own_size_limit
        self.renditions = (
            RenditionStore(rendition_folder, max_bytes=rendition_bytes)
            if rendition_folder is not None
            else None
        )

    # -- ImageReader -----------------------------------------------------------------------

    def header(self, path: Path) -> DicomHeader:
        self.import_decoders(ImageKind.DICOM)
        from clinlabel.imaging.dicom_header import parse_header

        return self._cached(
            "header", path, self._headers, parse_header, memory_budget=self.memory_budget
        )

    def render_header(self, path: Path) -> DicomHeader:
        self.import_decoders(ImageKind.DICOM)
        from clinlabel.imaging.dicom_header import parse_render_header

        def load(found: Path, *, identity: FileIdentity) -> DicomHeader:
            full = self._headers.get(identity)
            if full is not None:
                return full
            return parse_render_header(found, identity=identity, memory_budget=self.memory_budget)

        return self._cached("header", path, self._render_headers, load)

    def frame(self, header: DicomHeader, frame: int) -> np.ndarray:
        from clinlabel.imaging.dicom_frames import decode_frame

        identity = header.identity
        if identity is None:  # not read through a reader that records identities
            return decode_frame(header, frame, memory_budget=self.memory_budget)
        key = (identity, frame)
        found = self._frames.get(key)
        if found is not None:
            return found
        self._raise_known(f"frame {frame}", identity)
        try:
            pixels = decode_frame(header, frame, memory_budget=self.memory_budget)
        except FileChangedError:
            raise
        except DecodeError as exc:
            self._failures.put((f"frame {frame}", identity), exc)
            raise
        self._frames.put(key, pixels)
        return pixels

    def volume(self, path: Path) -> Volume:
        self.import_decoders(ImageKind.NIFTI)
        from clinlabel.imaging.nifti import read_volume

        return self._cached(
            "volume", path, self._volumes, read_volume, memory_budget=self.memory_budget
        )

    def volume_range(self, volume: Volume) -> Window:
        from clinlabel.imaging import rendering

        if volume.identity is None:
            return rendering.full_range(volume.data, volume.transform)
        found = self._ranges.get(volume.identity)
        if found is None:
            # A min/max pass over 78 M voxels takes tens of ms: once per loaded volume.
            found = rendering.full_range(volume.data, volume.transform)
            self._ranges.put(volume.identity, found)
        return found

    # -- what the viewer shows --------------------------------------------------------------

    def rendition(
        self, path: Path, kind: ImageKind, *, max_side: int | None, frame: int = 1
    ) -> CachedRendition:
        """The display rendition of `path`, from the disk cache or decoded now and stored.

        `max_side` None: a DICOM frame at its own size (`own_max_side`); other kinds, which the
        page never asks for so, are bounded by `own_size_limit`.
        """
        if self.renditions is None:
            raise DecodeError("This viewer has no rendition folder.")
        self.import_decoders(kind)
        from clinlabel.imaging.render import display_rendition

        store = self.renditions
        side = f"own{self.own_size_limit}" if max_side is None else str(max_side)
        what = f"rendition {side} {frame}"

        def attempt(identity: FileIdentity) -> CachedRendition:
            key = rendition_key(identity, side=side, frame=frame)
            found = store.find(key)
            if found is not None:
                return found
            self._raise_known(what, identity)
            try:
                wanted = self._own_max_side(path, kind) if max_side is None else max_side
                made = display_rendition(
                    Path(identity.path), kind, max_side=wanted, frame=frame, reader=self
                )
                check_unchanged(identity)
            except FileChangedError:  # raced a change of the file: not the file's fault
                raise
            except DecodeError as exc:
                self._failures.put((what, identity), exc)
                raise
            return store.put(key, made.data, made.media_type)

        return _while_changing(path, attempt)

    def photo_size(self, path: Path) -> PhotoSize:
        """A photo's upright size and the size of its full rendition, from its header."""
        self.import_decoders(ImageKind.RASTER)
        from clinlabel.imaging.render import photo_size

        def load(found: Path, *, identity: FileIdentity) -> PhotoSize:
            return photo_size(found, memory_budget=self.memory_budget)

        return self._cached("photo size", path, self._photo_sizes, load)

    def full_rendition(self, path: Path, kind: ImageKind) -> CachedRendition:
        """A photo at its own pixels, for zooming past the screen rendition (`render.
        full_photo_rendition`: reduced by a whole factor when the page could not hold it).

        Grey DICOM and NIfTI are already shown from their own pixels and colour DICOM frames at
        their own size (`own_size_limit`), so only photos have one.
        """
        if kind is not ImageKind.RASTER:
            raise DecodeError(
                "Only photos have a full-resolution rendition; DICOM and NIfTI are shown "
                "at their own pixels already."
            )
        if self.renditions is None:
            raise DecodeError("This viewer has no rendition folder.")
        self.import_decoders(kind)
        from clinlabel.imaging.render import full_photo_rendition

        store = self.renditions
        what = "full rendition"

        def attempt(identity: FileIdentity) -> CachedRendition:
            key = rendition_key(identity, side="full", frame=1)
            found = store.find(key)
            if found is not None:
                return found
            self._raise_known(what, identity)
            try:
                made = full_photo_rendition(Path(identity.path), memory_budget=self.memory_budget)
                check_unchanged(identity)
            except FileChangedError:
                raise
            except DecodeError as exc:
                self._failures.put((what, identity), exc)
                raise
            return store.put(key, made.data, made.media_type)

        return _while_changing(path, attempt)

    def pixels(self, path: Path, kind: ImageKind, *, frame: int, plane: str) -> PixelPayload:
        """Full-depth stored values of one frame or slice (`pixel_payload`), with its ETag."""
        self.import_decoders(kind)
        from clinlabel.imaging.pixel_payload import PixelPayload, pixel_etag, pixel_payload

        def attempt(identity: FileIdentity) -> PixelPayload:
            body = pixel_payload(Path(identity.path), kind, frame=frame, plane=plane, reader=self)
            check_unchanged(identity)
            return PixelPayload(body, pixel_etag(identity, frame=frame, plane=plane))

        return _while_changing(path, attempt)

    def vessel_map(self, path: Path, frame: int) -> VesselMap:
        """The vesselness of `frame` (from 1) of a grey DICOM file, computed once per file."""
        from clinlabel.imaging.vesselness import frame_spacing_mm, vessel_map

        def attempt(identity: FileIdentity) -> VesselMap:
            key = (identity, frame)
            found = self._vessels.get(key)
            if found is not None:
                return found
            header = self.header(path)
            if header.identity != identity:
                raise FileChangedError(f"{Path(path).name} changed while it was read.")
            if not 1 <= frame <= header.frames:
                raise DecodeError(f"{Path(path).name} has no frame {frame}.")
            values = self.frame(header, frame)
            made = vessel_map(values, spacing_mm=frame_spacing_mm(header.dataset, frame))
            self._vessels.put(key, made)
            return made

        return _while_changing(path, attempt)

    def pixels_etag(self, path: Path, *, frame: int, plane: str) -> str:
        """The entity tag `pixels` would answer with for the file as it is now (one `stat`)."""
        from clinlabel.imaging.pixel_payload import pixel_etag

        return pixel_etag(identify(path), frame=frame, plane=plane)

    def own_max_side(self, width: int, height: int) -> int:
        return own_max_side(width, height, limit=self.own_size_limit)

    def clear(self) -> None:
        """Forget everything held in memory (the renditions on disk stay)."""
        for cache in (
            self._headers,
            self._render_headers,
            self._frames,
            self._volumes,
            self._ranges,
            self._photo_sizes,
            self._failures,
        ):
            cache.clear()

    # -- internals -----------------------------------------------------------------------

    def _cached(
        self,
        what: str,
        path: Path,
        cache: IdentityCache[FileIdentity, T],
        load: Callable[..., T],
        **options: int,
    ) -> T:
        """`load(path, identity=..., **options)` once per identity; failures remembered, races
        retried."""

        def attempt(identity: FileIdentity) -> T:
            found = cache.get(identity)
            if found is not None:
                return found
            self._raise_known(what, identity)
            if identity.size == 0:
                error = DecodeError(f"{Path(path).name} is empty (0 bytes).")
                self._failures.put((what, identity), error)
                raise error
            try:
                value = load(Path(identity.path), identity=identity, **options)
            except FileChangedError:  # raced a change of the file: not the file's fault
                raise
            except DecodeError as exc:
                self._failures.put((what, identity), exc)
                raise
            cache.put(identity, value)
            return value

        return _while_changing(path, attempt)

    def _raise_known(self, what: str, identity: FileIdentity) -> None:
        """Raise again what decoding this very file raised before (it has not changed since)."""
        known = self._failures.get((what, identity))
        if known is not None:
            raise DecodeError(known.message, hint=known.hint)

    def _own_max_side(self, path: Path, kind: ImageKind) -> int:
        if kind is not ImageKind.DICOM:
            return self.own_size_limit
        # The rendering tags only (a cold read costs a fraction of a decode).
        options = self.render_header(path).options
        return self.own_max_side(int(options["columns"]), int(options["rows"]))

    def import_decoders(self, kind: ImageKind) -> None:
        """Import a kind's decoders once, under a lock.

        Two worker threads importing pydicom for the first time at once can see it half
        initialised (its modules import each other): seen as "partially initialized module
        'pydicom'" on the first DICOM prefetches. Lazily, so a batch of photos never pays for
        pydicom or nibabel.
        """
        if kind in self._imported:
            return
        with self._import_lock:
            importlib.import_module("clinlabel.imaging.render")
            importlib.import_module("clinlabel.imaging.pixel_payload")
            if kind is ImageKind.DICOM:
                importlib.import_module("clinlabel.imaging.dicom_display")
            elif kind is ImageKind.NIFTI:
                importlib.import_module("clinlabel.imaging.nifti")
            self._imported.add(kind)


def own_max_side(width: int, height: int, *, limit: int = OWN_SIZE_LIMIT) -> int:
    """The `max_side` that gives a DICOM rendition at its own size when its long side is within
    `limit`, otherwise reduced by the smallest integer factor that brings it within `limit`.

    The rendering engine reduces by `ceil(long / max_side)`, less one when that would leave under
    `GREY_SLACK` of `max_side` (`rendering.grey_reduction`): asking for `limit` itself would send a
    5,700 px image whole. Asking for `ceil(long / factor)` pins the factor, and for an image within
    the limit (factor 1) that is its own long side: never enlarged, never reduced.
    """
    long_side = max(width, height, 1)
    factor = -(-long_side // limit)
    return -(-long_side // factor)


def _while_changing(path: Path, attempt: Callable[[FileIdentity], T]) -> T:
    """`attempt(identity)` with the file's identity now, again (up to `CHANGED_RETRIES` times)
    when the file changed while it was read: what it computed from those bytes is dropped."""
    for tried in range(CHANGED_RETRIES + 1):
        try:
            return attempt(identify(path))
        except FileChangedError:
            if tried == CHANGED_RETRIES:
                raise
    raise AssertionError("unreachable")
