"""A film's frames, decoded in the background: the frame asked for last is the one decoded.

``FrameReader`` (no Qt) decodes frame ``i`` with PyAV: from the frame before when the film is
read forward (scrubbing to the next frame, playing), else by seeking to the key packet before
it. Frame numbers are the frames in the order they are shown, as in the film's hints file and
the command line (the video packets' time stamps, sorted). Each frame becomes grey as the
command line sees it (full range, a colour film reduced to its luma), then its L.

``FrameSource`` runs a reader on a thread of its own: ``request(i, prepare)`` replaces any
request still waiting (while the user drags the timeline only the newest frame is decoded),
and ``frameReady`` brings the frame's L, its grey image for the screen, and what the
colorizer service takes (``prepare``, the service's ``preparer()``) to the GUI thread. The
last frames decoded are kept (``CACHE_BYTES``), so going back and forth over them is instant.
"""

from __future__ import annotations

import threading
import time
from bisect import bisect_left
from collections import OrderedDict
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from colouru.colour import srgb_image_lightness

from .colours import lightness_to_grey
from .qt_images import to_rgb32

FORWARD_SPAN = 48  # frames: going forward by at most this many decodes on, without seeking
CACHE_BYTES = 96 * 2**20  # decoded frames kept (their L and grey image)


def frame_grey(frame) -> np.ndarray:
    """A decoded PyAV frame as the command line sees it: grey uint8 ``(H, W)`` (uint16 for
    more than 8 bits), full range whatever the film's range (a colour film: its luma)."""
    deep = any(c.bits > 8 for c in frame.format.components)
    kwargs = {"dst_color_range": "JPEG"}
    if frame.color_range == 2:  # full range, tagged on a format whose name does not say it
        kwargs["src_color_range"] = "JPEG"
    return frame.to_ndarray(format="gray16le" if deep else "gray", **kwargs)


class FrameReader:
    """Random access to a film's frames by number (one thread at a time)."""

    def __init__(self, path: str | Path):
        import av

        self.path = Path(path)
        self.container = av.open(str(self.path), "r")
        self.stream = self.container.streams.video[0]
        self.stream.thread_type = "AUTO"
        stamps = [p.pts for p in self.container.demux(self.stream)
                  if p.size and p.stream.index == self.stream.index]
        # Without a time stamp on every packet the frames are counted from the start.
        self.times = sorted(stamps) if all(t is not None for t in stamps) else None
        self.count = len(stamps)
        self._frames = None  # the decoder's iterator
        self._next = 0  # the number of the frame it gives next (when known)

    def close(self) -> None:
        self.container.close()

    def _restart(self, index: int) -> None:
        if self.times is None or index == 0:
            self.container.seek(0)
            self._next = 0
        else:
            self.container.seek(self.times[index], stream=self.stream, backward=True,
                                any_frame=False)
            self._next = None  # known from the first frame's time stamp
        self._frames = self.container.decode(self.stream)

    def grey(self, index: int) -> np.ndarray:
        """Frame ``index``'s grey picture (``frame_grey``); ``IndexError`` past the end."""
        if not 0 <= index < max(self.count, 1):
            raise IndexError(f"{self.path}: no frame {index}")
        ahead = None if self._next is None else index - self._next
        if self._frames is None or ahead is None or not 0 <= ahead <= FORWARD_SPAN:
            self._restart(index)
        for frame in self._frames:
            if self._next is None:  # after a seek: where it landed
                self._next = (bisect_left(self.times, frame.pts) if frame.pts is not None
                              else index)
            number, self._next = self._next, self._next + 1
            if number >= index:
                return frame_grey(frame)
        self._frames = None
        raise IndexError(f"{self.path}: frame {index} does not decode")


class FrameSource(QObject):
    """Decodes the frame asked for last on a thread of its own (see the module's text)."""

    frameReady = Signal(int, object, object, object, float)  # index, L, QImage, prepared, s
    frameFailed = Signal(int, str)

    def __init__(self, path: str | Path, parent: QObject | None = None):
        super().__init__(parent)
        self.path = Path(path)
        self._wake = threading.Condition()
        self._wanted: tuple[int, Callable] | None = None
        self._stop = False
        self._cache: OrderedDict[int, tuple] = OrderedDict()
        self._cache_bytes = 0
        self.decoded = 0  # frames decoded (not from the cache)
        self._thread = threading.Thread(target=self._run, name="colouru-frames", daemon=True)
        self._thread.start()

    def request(self, index: int, prepare: Callable[[np.ndarray], object]) -> None:
        """Decode frame ``index`` (replacing a request still waiting); ``frameReady`` says
        when it is there. ``prepare(L)``: what the service takes with it."""
        with self._wake:
            self._wanted = (int(index), prepare)
            self._wake.notify()

    def close(self) -> None:
        """Stop the thread (a frame being decoded is finished first)."""
        with self._wake:
            self._stop = True
            self._wake.notify()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(10)

    def _run(self) -> None:
        reader = None
        try:
            while True:
                with self._wake:
                    while self._wanted is None and not self._stop:
                        self._wake.wait()
                    if self._stop:
                        return
                    (index, prepare), self._wanted = self._wanted, None
                t0 = time.perf_counter()
                try:
                    if reader is None:
                        reader = FrameReader(self.path)
                    lightness, image = self._picture(reader, index)
                    prepared = prepare(lightness)
                except Exception as e:  # reported to the window, never raised here
                    self.frameFailed.emit(index, f"{e.__class__.__name__}: {e}")
                    continue
                self.frameReady.emit(index, lightness, image, prepared,
                                     time.perf_counter() - t0)
        finally:
            if reader is not None:
                reader.close()

    def _picture(self, reader: FrameReader, index: int):
        """Frame ``index``'s L and grey image, from the cache or decoded."""
        got = self._cache.get(index)
        if got is not None:
            self._cache.move_to_end(index)
            return got
        lightness = srgb_image_lightness(reader.grey(index))
        self.decoded += 1
        got = (lightness, to_rgb32(lightness_to_grey(lightness)))
        self._cache[index] = got
        self._cache_bytes += lightness.nbytes * 2
        while self._cache_bytes > CACHE_BYTES and len(self._cache) > 1:
            _, (old, _img) = self._cache.popitem(last=False)
            self._cache_bytes -= old.nbytes * 2
        return got
