"""The project's viewing service, run off the event loop.

Decoding a 12 MP JPEG or a CT frame takes milliseconds to tens of milliseconds of CPU, so it runs
in worker threads, bounded by the number of cores so a burst of prefetches cannot starve the
label saves; two requests for the same rendition at once share one decode. What is decoded, how it
is cached and how each entry is tied to its file is `imaging.viewing.ViewingService`'s business.
"""

from __future__ import annotations

import asyncio
import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread

from clinlabel.domain.images import ImageKind

if TYPE_CHECKING:
    from clinlabel.imaging.pixel_payload import PixelPayload
    from clinlabel.imaging.render import PhotoSize
    from clinlabel.imaging.rendition_store import CachedRendition
    from clinlabel.imaging.viewing import ViewingService

T = TypeVar("T")


class AsyncViewer:
    def __init__(self, service: ViewingService, *, workers: int | None = None) -> None:
        self.service = service
        self.limiter = anyio.CapacityLimiter(workers or max(2, os.cpu_count() or 2))
        self._in_flight: dict[tuple[str, str, int], asyncio.Future[CachedRendition]] = {}

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """`fn(*args, **kwargs)` in a decoding thread."""
        return await anyio.to_thread.run_sync(
            functools.partial(fn, *args, **kwargs), limiter=self.limiter
        )

    async def rendition(
        self, path: Path, kind: ImageKind, *, max_side: int | None, frame: int = 1
    ) -> CachedRendition:
        """The cached rendition of `path`, decoding it first if needed."""
        return await self._shared(
            (os.path.abspath(path), str(max_side), frame),
            functools.partial(self.service.rendition, path, kind, max_side=max_side, frame=frame),
        )

    async def full_rendition(self, path: Path, kind: ImageKind) -> CachedRendition:
        """A photo at its own pixels (`ViewingService.full_rendition`)."""
        return await self._shared(
            (os.path.abspath(path), "full", 1),
            functools.partial(self.service.full_rendition, path, kind),
        )

    async def photo_size(self, path: Path) -> PhotoSize:
        return await self.run(self.service.photo_size, path)

    async def _shared(
        self, flight: tuple[str, str, int], make: Callable[[], CachedRendition]
    ) -> CachedRendition:
        """`make()` in a decoding thread; requests for the same rendition meanwhile share it."""
        pending = self._in_flight.get(flight)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[CachedRendition] = asyncio.get_running_loop().create_future()
        self._in_flight[flight] = future
        try:
            result = await self.run(make)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved here so an unawaited future logs nothing
            raise
        finally:
            del self._in_flight[flight]
        future.set_result(result)
        return result

    async def pixels(self, path: Path, kind: ImageKind, *, frame: int, plane: str) -> PixelPayload:
        return await self.run(self.service.pixels, path, kind, frame=frame, plane=plane)
