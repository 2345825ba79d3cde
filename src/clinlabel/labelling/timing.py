"""Time on an image: from when it was shown to when its label was saved, less time away.

A gap between two signs of activity (a key, a click, a mouse move reported by the page, any
engine call) longer than the idle threshold counts as time away in full: the annotator was not
looking at this image then, and the report shows that time separately.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Dwell:
    image_id: int
    active_ms: int
    idle_ms: int


class DwellClock:
    """Tracks the one image on screen; revisits start a new segment that adds to that image."""

    def __init__(
        self, *, idle_threshold_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._threshold = idle_threshold_s
        self._clock = clock
        self._image: int | None = None
        self._start = 0.0
        self._last_activity = 0.0
        self._idle = 0.0

    @property
    def image_id(self) -> int | None:
        return self._image

    def activity(self) -> None:
        now = self._clock()
        if self._image is not None:
            gap = now - self._last_activity
            if gap > self._threshold:
                self._idle += gap
        self._last_activity = now

    def show(self, image_id: int) -> Dwell | None:
        """A new image is on screen; returns the dwell of the one it replaces, if any."""
        ended = self.stop()
        now = self._clock()
        self._image, self._start, self._last_activity, self._idle = image_id, now, now, 0.0
        return ended

    def take(self, image_id: int) -> Dwell:
        """The time on `image_id` so far (zero if it is not the image on screen); restarts it."""
        if self._image != image_id:
            return Dwell(image_id, 0, 0)
        self.activity()
        dwell = self._measure()
        self._start, self._idle = self._last_activity, 0.0
        return dwell

    def give_back(self, dwell: Dwell) -> None:
        """Return time that `take` handed out but could not be saved (the write failed), so
        that the next save of the same image counts it; nothing if another image is shown."""
        if self._image != dwell.image_id:
            return
        self._start -= (dwell.active_ms + dwell.idle_ms) / 1000
        self._idle += dwell.idle_ms / 1000

    def stop(self) -> Dwell | None:
        if self._image is None:
            return None
        self.activity()
        dwell = self._measure()
        self._image = None
        return dwell

    def _measure(self) -> Dwell:
        assert self._image is not None
        total = max(0.0, self._last_activity - self._start)
        idle = min(self._idle, total)
        return Dwell(self._image, round((total - idle) * 1000), round(idle * 1000))
