"""A film's frames, decoded in the background: the frame asked for last is the one decoded.

``FrameReader`` (no Qt) decodes frame ``i`` with PyAV: from the frame before when the film is
read forward (scrubbing to the next frame, playing), else by seeking to the key packet before
it. Frame numbers are the frames in the order they are shown, as in the film's hints file and
the command line (the video packets' time stamps, sorted). Each frame becomes grey as the
command line sees it (full range, a colour film reduced to its luma), then its L.

``FrameSource`` runs a reader on a thread of its own: ``request(i, prepare, keyframes)``
replaces any request still waiting (while the user drags the timeline only the newest frame
is decoded), and ``frameReady`` brings the frame's L, its grey image for the screen, what the
colorizer service takes (``prepare``, the service's ``preparer()``) and the frame's hints to
the GUI thread. The hints are those the export uses there: a keyframe's own, else the last
keyframe's carried along the motion frame by frame with the engine's own functions
(``colouru.temporal``: ``estimate_motion``, ``move_hints``, as ``colorize_video`` carries
them), from the last frame carried to when the film is read forward (one flow a frame while
playing or stepping), else from the keyframe; more than ``CARRY_SPAN`` frames from the
keyframe and nothing carried near, they are held where they were placed (and the window says
so). The last frames decoded are kept (``CACHE_BYTES``), so going back and forth is instant.

While the film plays, a request says how far to read on (``ahead``): once the frame asked for
is sent, the thread goes on decoding and carrying the hints frame by frame (never past the
next keyframe) until a newer request comes, so the carrying of the frames a slow machine drops
is done while the network colours the frame shown, and the frame asked for next is there at
once (the hints of the frames carried are kept, ``KEPT_CARRIED``). ``ready`` says which frame
is there at once: Play asks for the frame due when it is, else for the newest frame carried
to, so a machine that carries slower than the film's rate still shows frames as it goes.
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
from colouru.temporal import SteadyConfig, estimate_motion, move_hints, new_flow
from colouru.video_read import grey_frame

from .colours import lightness_to_grey
from .qt_images import to_rgb32

FORWARD_SPAN = 48  # frames: going forward by at most this many decodes on, without seeking
CACHE_BYTES = 96 * 2**20  # decoded frames kept (their L)
CARRY_SPAN = 240  # frames from a keyframe its hints are carried, at most, when asked afresh
KEPT_CARRIED = 512  # frames whose carried hints are kept (the newest)


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
        """Frame ``index``'s grey picture as the command line sees it (``grey_frame``);
        ``IndexError`` past the end."""
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
                return grey_frame(frame)
        self._frames = None
        raise IndexError(f"{self.path}: frame {index} does not decode")


class FrameSource(QObject):
    """Decodes the frame asked for last on a thread of its own (see the module's text)."""

    # index, L, QImage, prepared, seconds, hints, how: "key" | "carried" | "held" | "none"
    frameReady = Signal(int, object, object, object, float, object, str)
    frameFailed = Signal(int, str)

    def __init__(self, path: str | Path, parent: QObject | None = None):
        super().__init__(parent)
        self.path = Path(path)
        self._wake = threading.Condition()
        self._wanted: tuple | None = None
        self._stop = False
        self._cache: OrderedDict[int, tuple] = OrderedDict()
        self._cache_bytes = 0
        self.decoded = 0  # frames decoded (not from the cache)
        self._flow = None  # the DIS flow object of this thread (temporal.new_flow)
        # keyframes; the keyframe carried from; the last frame carried to and its working L;
        # the hints carried to each frame from the keyframe on (the newest KEPT_CARRIED)
        self._carry: dict | None = None
        self._ahead_to = -1  # the last frame to carry ahead to while no request waits
        self._thread = threading.Thread(target=self._run, name="colouru-frames", daemon=True)
        self._thread.start()

    def request(self, index: int, prepare: Callable[[np.ndarray], object],
                keyframes: dict | None = None,
                work_of: Callable[[object], np.ndarray | None] = lambda _p: None,
                ahead: int = 0) -> None:
        """Decode frame ``index`` (replacing a request still waiting); ``frameReady`` says
        when it is there. ``prepare(L)``: what the service takes with it; ``keyframes``: the
        film's (frame -> hints); ``work_of(prepared)``: its working-size L (None: no model,
        the hints are held); ``ahead``: then carry the hints on to the frames up to
        ``index + ahead`` until another request comes (playing)."""
        with self._wake:
            self._wanted = (int(index), prepare, dict(keyframes or {}), work_of)
            self._ahead_to = int(index) + max(0, int(ahead))
            self._wake.notify()

    def stop_ahead(self) -> None:
        """Carry no further ahead (playing has stopped)."""
        self._ahead_to = -1

    def carried_to(self) -> int | None:
        """The last frame the hints have been carried to (None: none carried)."""
        c = self._carry
        return None if c is None else c["frame"]

    def ready(self, index: int, keyframes: dict, carries: bool = True) -> int:
        """The newest frame up to ``index`` that ``request`` sends without carrying hints
        first (playing asks for it rather than wait for the carrying): ``index`` itself when
        it is a keyframe, has no hints to carry (none before it, ``carries`` False: no model,
        or held: too far from its keyframe), or its hints are carried there already; else the
        last frame they are carried to, else their keyframe. Read from the GUI thread while
        this one carries (a frame said to be ready stays so while the keyframes and the model
        stay)."""
        key = max((k for k in keyframes if k <= index), default=None)
        if key is None or key == index or not carries or not keyframes[key]:
            return index
        c = self._carry
        if c is not None and c["keys"] == keyframes and c["key"] == key:
            last = c["frame"]
            if index in c["hints"]:
                return index
            if last < index <= last + CARRY_SPAN:
                return last
        return index if index - key > CARRY_SPAN else key

    def forget_carried(self) -> None:
        """Another model (another working size): hints are carried afresh from keyframes."""
        self._carry = None

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
                    (index, prepare, keys, work_of), self._wanted = self._wanted, None
                t0 = time.perf_counter()
                try:
                    if reader is None:
                        reader = FrameReader(self.path)
                    lightness = self._lightness(reader, index)
                    prepared = prepare(lightness)
                    got = self._hints(reader, index, keys, prepare, work_of, prepared)
                    if got is None:  # a newer request came while carrying: that one now
                        continue
                    image = to_rgb32(lightness_to_grey(lightness))
                except Exception as e:  # reported to the window, never raised here
                    self.frameFailed.emit(index, f"{e.__class__.__name__}: {e}")
                    continue
                self.frameReady.emit(index, lightness, image, prepared,
                                     time.perf_counter() - t0, *got)
                try:
                    self._carry_ahead(reader, index, keys, prepare, work_of, prepared, got[1])
                except Exception:  # the frame asked for next reports it, if it fails again
                    self._carry = None
        finally:
            if reader is not None:
                reader.close()

    def _lightness(self, reader: FrameReader, index: int) -> np.ndarray:
        """Frame ``index``'s L ``(H, W)``, from the cache or decoded."""
        got = self._cache.get(index)
        if got is not None:
            self._cache.move_to_end(index)
            return got
        lightness = srgb_image_lightness(reader.grey(index))
        self.decoded += 1
        self._cache[index] = lightness
        self._cache_bytes += lightness.nbytes
        while self._cache_bytes > CACHE_BYTES and len(self._cache) > 1:
            _, old = self._cache.popitem(last=False)
            self._cache_bytes -= old.nbytes
        return lightness

    def _hints(self, reader: FrameReader, index: int, keys: dict, prepare, work_of,
               prepared) -> tuple[tuple, str] | None:
        """Frame ``index``'s hints and how they got there (see the module's text); None when
        a newer request stopped the carrying."""
        before = [k for k in keys if k <= index]
        if not before:
            return (), "none"
        key = max(before)
        work = work_of(prepared)
        if key == index or not keys[key] or work is None:
            return tuple(keys[key]), "key" if key == index else "held"
        c = self._carry
        if c is not None and c["keys"] == keys and c["key"] == key:
            if index in c["hints"]:  # carried there already (ahead, or earlier)
                return c["hints"][index], "carried"
            if not c["frame"] < index <= c["frame"] + CARRY_SPAN:
                c = None  # carried elsewhere: afresh from the keyframe
        else:
            c = None
        if c is None:
            if index - key > CARRY_SPAN:
                return tuple(keys[key]), "held"
            c = self._start_carry(keys, key, work_of(prepare(self._lightness(reader, key))))
        while c["frame"] < index:
            if self._wanted is not None:
                return None
            self._carry_step(c, reader, prepare, work_of,
                             work if c["frame"] + 1 == index else None)
        return c["hints"][index], "carried"

    def _start_carry(self, keys: dict, key: int, work: np.ndarray) -> dict:
        self._carry = {"keys": keys, "key": key, "frame": key, "work": work,
                       "hints": {key: tuple(keys[key])}}
        return self._carry

    def _carry_step(self, c: dict, reader: FrameReader, prepare, work_of,
                    cur: np.ndarray | None = None) -> None:
        """Carry ``c``'s hints one frame on, as ``colorize_video`` carries them (``cur``: that
        frame's working L when known)."""
        frame = c["frame"] + 1
        lightness = self._lightness(reader, frame)
        if cur is None:
            cur = work_of(prepare(lightness))
        last = c["work"]
        self._flow = self._flow or new_flow()
        motion = (estimate_motion(last, cur, self._flow, SteadyConfig())
                  if last.shape == cur.shape else None)
        hints = c["hints"][frame - 1]
        moved = (move_hints(list(hints), motion, lightness.shape)
                 if motion and not motion.cut else [])
        c["hints"][frame], c["frame"], c["work"] = tuple(moved), frame, cur
        if len(c["hints"]) > KEPT_CARRIED:  # the oldest (frames are added in order)
            del c["hints"][next(iter(c["hints"]))]

    def _carry_ahead(self, reader: FrameReader, index: int, keys: dict, prepare, work_of,
                     prepared, how: str) -> None:
        """After frame ``index`` is sent: carry its hints on, frame by frame, up to the frame
        ``request`` said (never onto the next keyframe, nor past the film's end) while no
        newer request waits."""
        if index >= self._ahead_to or how not in ("key", "carried"):
            return
        work = work_of(prepared)
        c = self._carry
        if how == "key" and (c is None or c["keys"] != keys or c["key"] != index):
            if work is None or not keys[index]:
                return
            c = self._start_carry(keys, index, work)
        if c is None or c["keys"] != keys or c["frame"] < index:
            return
        later = [k for k in keys if k > c["frame"]]
        limit = min([self._ahead_to, reader.count - 1] + [k - 1 for k in later])
        while c["frame"] < limit and self._wanted is None and not self._stop:
            self._carry_step(c, reader, prepare, work_of)
            limit = min(limit, self._ahead_to)
