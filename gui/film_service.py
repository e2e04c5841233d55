"""The app's one door to the film engine (``colouru.video``), beside ``service.py``'s to the
colorizer: checking a film before it opens (``probe_video``: the command line's allow-list of
containers and codecs) and exporting it with ``colorize_video``, the very function
``colouru colorize FILM`` calls, with the command line's default settings, so the app's film
and the command line's are the same film for the same hints file; and the steady colour of
a film played in the window, with the export's settings (``PlaySteadier``)."""

from __future__ import annotations

import copy
import shutil
import threading
import time
from pathlib import Path

import numpy as np

from colouru.film_settings import DEFAULT_CARRY, VIDEO_EXTENSIONS
from colouru.hints import HintsFileError
from colouru.temporal import Steadier, SteadyConfig
from colouru.video import (
    VideoReadError,
    VideoWriteError,
    colorize_video,
    parts_folder,
    probe_video,
)
from colouru.video_hints import VideoHints

from .film_doc import FilmDoc

FILM_EXTENSIONS = tuple(sorted(VIDEO_EXTENSIONS))
STEADINESS = DEFAULT_CARRY  # the export's (the command line's default) and Play's


class FilmError(Exception):
    """A film that cannot be opened or exported, in one line naming the file."""


class _Stop(Exception):
    """Raised in ``colorize_video``'s progress callback: the user cancelled."""


def _duration(seconds: float) -> str:
    """``0:42`` or ``1:02:05``: time left, as a progress line says it."""
    s = max(0, round(seconds))
    if s >= 3600:
        return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


def _in_torch(colorizer):
    """The colorizer as the command line has it: its network in torch (``Colorizer.load``'s
    runtime). The app's runs one photo's network in ONNX Runtime (its previews), and a film's
    batch of one frame would too: a copy without it, the network itself shared."""
    if getattr(colorizer, "onnx", None) is None:
        return colorizer
    copied = copy.copy(colorizer)
    copied.use_runtime("torch")
    return copied


def probe_film(path: str | Path) -> FilmDoc:
    """The film at ``path`` checked as the command line checks it (container, codec, size,
    every packet there) -> a ``FilmDoc`` at frame 0; ``FilmError`` (one line) otherwise."""
    try:
        info = probe_video(path)
    except VideoReadError as e:
        raise FilmError(str(e)) from None
    rate = float(info.rate) if info.rate else 24.0
    return FilmDoc(Path(path), info.width, info.height, info.frames, rate)


class PlaySteadier:
    """The steady colour of one play (``temporal.Steadier`` with the export's settings) that
    moves on only with the frames shown; afresh at the first frame played, as the export of a
    range is at its first frame. The service calls ``step`` on its worker as it
    colours a played frame (``request_preview``'s ``steady``): the colour comes steadied but
    the steadier stays where it was; ``shown(frame)``, once that frame's colour is on screen,
    moves it on to that frame. A frame coloured and then dropped (a newer one asked for, the
    time up) is never steadied through."""

    def __init__(self):
        self.steadier = Steadier(SteadyConfig(carry=STEADINESS))
        self._lock = threading.Lock()
        self._proposed: dict = {}  # frame -> the state after it (Steadier.propose)

    def step(self, pred: np.ndarray, work: np.ndarray, key: int | None = None) -> np.ndarray:
        """``Steadier.step``'s colour for frame ``key``, held until ``shown(key)``."""
        ab, state = self.steadier.propose(pred, work, key)
        with self._lock:
            self._proposed[key] = state
        return ab

    def shown(self, frame: int) -> None:
        """Frame ``frame``'s steadied colour is on screen: move on to it (the colours made
        before it and not shown are forgotten)."""
        with self._lock:
            state = self._proposed.pop(frame, None)
            self._proposed.clear()
        if state is not None:
            self.steadier.commit(state)


def export_film(src: Path, dst: Path, colorizer, hints: VideoHints, report=None,
                cancelled=None, start: int = 0, end: int | None = None) -> bool:
    """Colorize the film ``src`` into ``dst`` as ``colouru colorize SRC --hints FILE`` does
    (``colorize_video`` with its defaults; ``dst`` replaced if it exists); ``start``, ``end``:
    only those frames (``end`` excluded), as ``--start START --end END`` does; reporting
    ``report(stage, fraction)`` after each frame; ``cancelled()`` stops it after the frame
    being written (nothing is published, the interrupted run's segments are removed).
    Returns False when cancelled; ``FilmError`` (one line) when it fails."""

    t0 = time.perf_counter()

    def progress(done: int, total: int) -> None:
        if cancelled is not None and cancelled():
            raise _Stop
        if report is not None:
            left = (time.perf_counter() - t0) / max(done, 1) * (total - done)
            report(f"Exporting {dst.name}: frame {done} of {total}, {_duration(left)} left",
                   done / max(total, 1))

    try:
        colorize_video(src, dst, _in_torch(colorizer), hints, progress=progress,
                       steadiness=STEADINESS, overwrite=True, protect=(src,), start=start,
                       end=end)
    except _Stop:
        shutil.rmtree(parts_folder(dst), ignore_errors=True)
        return False
    except (VideoReadError, VideoWriteError, HintsFileError) as e:
        raise FilmError(str(e)) from None
    return True
