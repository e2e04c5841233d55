"""Films: read a video, colorize its frames with steady colour, write a video.

``colorize_video(src, dst)`` is ``colouru colorize FILM.mp4 -o OUT`` for one film. Decoding and
encoding go through PyAV (FFmpeg's libraries, in its wheels). Data flow, one frame at a time::

    demux -> decode -> grey (H, W) --prepare--> L (H, W), L at working size (h, w)
      keyframe hints, or the last frame's moved along the flow (temporal.move_hints)
      flow from the last frame (temporal.estimate_motion: DIS, trust, cut)
    network, several frames a call (Colorizer.predict_ab_batch) -> ab (2, h, w)
    temporal.steady: blended with the last frame's colour carried along the flow
    Colorizer.finish_ab -> sRGB uint8 (H, W, 3) -> encoder (H.264; VP9 for WebM)

Three stages overlap, each holding at most a batch of frames (a thread decodes and prepares,
this thread runs the network, a thread finishes and encodes), so memory does not grow with the
film's length. The frames are encoded in segments of ``segment_frames`` (a hidden folder
beside the output, ``.NAME.colouru-parts``), each published when whole with the colour state
it ends on; a killed run resumed with ``resume=True`` (``--skip-existing``) starts after the
last whole segment and makes the same film. At the end the segments are joined with the
source's audio streams (copied packet for packet, never re-encoded), its chapters and
metadata (creation time, title; the rotation a player applies is set again), into a
temporary file published in one step: a killed run never leaves a partial film under the
output's name, and an existing file is never replaced unless ``overwrite``.

Only the containers and codecs in ``CONTAINERS`` and ``CODECS`` are read; anything else, a
file with no video, with no frames, cut short, or of absurd size is refused in one line
(``VideoReadError``) before any work.

The work is split by job: ``colouru.video_read`` probes and decodes (the allow-lists, the
frames prepared with their motion and hints), ``colouru.video_write`` encodes the segments,
keeps their colour states and joins them; this module runs the three stages over them and
decides what a resumed run reuses (``plan.json``: the source, the model and the settings).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from colouru import __version__
from colouru.atomic import temporary_beside
from colouru.film_settings import (
    DEFAULT_CARRY,
    DEFAULT_CRF,
    DEFAULT_PRESET,
    MAX_CRF,
    VIDEO_EXTENSIONS,
    Position,
    is_video_path,
    parse_position,
)
from colouru.hints import Hint, HintsFileError, Stroke, check_saturation
from colouru.imageio import DEFAULT_MAX_PIXELS
from colouru.temporal import SteadyConfig, steady
from colouru.video_hints import VideoHints, hints_as_json_list, load_video_hints
from colouru.video_read import (
    CODECS,
    CONTAINERS,
    Frame,
    FrameReader,
    VideoInfo,
    VideoReadError,
    open_input,
    probe_video,
)
from colouru.video_write import (
    SegmentWriter,
    VideoWriteError,
    check_pix_fmt,
    encoder_for,
    encoder_options,
    finished_segments,
    join_segments,
    load_state,
    others_writing,
    parts_folder,
    pix_fmt_for,
)

DEFAULT_SEGMENT_FRAMES = 1024  # frames a segment (about 43 s at 24 frames/s): resume unit
DEFAULT_BATCH = 8  # frames a network call
BATCH_PIXELS = 16_000_000  # fewer frames a call when they are large (1080p: 7)
_PLAN_VERSION = 1


__all__ = ["CODECS", "CONTAINERS", "VIDEO_EXTENSIONS", "VideoInfo", "VideoReadError",
           "VideoResult", "VideoWriteError", "colorize_video", "is_video_path", "parts_folder",
           "probe_video"]


@dataclass
class VideoResult:
    """What ``colorize_video`` did."""

    path: Path
    frames: int  # frames written
    seconds: float
    cuts: int  # frames that started a new shot (the first frame not counted)
    resumed_frames: int = 0  # frames taken from an interrupted run's finished segments
    notes: list[str] = field(default_factory=list)  # things the user should know


@dataclass
class _Film:
    """One film's work, settled before a frame is decoded."""

    info: VideoInfo
    dst: Path
    fmt: str  # the muxer's name (``film_settings.VIDEO_EXTENSIONS``)
    colorizer: object  # colouru.colorizer.Colorizer
    doc: VideoHints
    config: SteadyConfig
    saturation: float
    work_size: int | None
    batch: int  # frames a network call
    segment_frames: int
    encoder: str
    options: dict  # the encoder's
    pix_fmt: str
    progress: Callable[[int, int], None] | None
    first: int = 0  # the range's first frame (the film's frame number)
    stop: int | None = None  # the frame after the range's last (None: to the film's end)

    @property
    def parts(self) -> Path:
        return parts_folder(self.dst)

    @property
    def ext(self) -> str:
        return self.dst.suffix.lower()

    @property
    def ranged(self) -> bool:
        return self.first > 0 or self.stop is not None

    @property
    def total(self) -> int:
        """The frames to write, as far as the probe counted them."""
        return (self.info.frames if self.stop is None else self.stop) - self.first

    def settings(self) -> dict:
        """What the frames are made with: a resumed run's must be the same."""
        c = self.config
        return {"steady": [c.carry, c.fb_tolerance, c.l_tolerance, c.cut_share],
                "hints": json.dumps({str(k): hints_as_json_list(v) for k, v in
                                     self.doc.frames.items()}),
                "saturation": self.saturation, "encoder": self.encoder, "options": self.options,
                "pix_fmt": self.pix_fmt, "work_size": self.work_size,
                "segment_frames": self.segment_frames, "batch": self.batch, "format": self.fmt,
                "range": [self.first, self.stop]}


def _plan(info: VideoInfo, colorizer, settings: dict) -> dict:
    st = info.path.stat()
    model = Path(colorizer.source)
    return {"version": _PLAN_VERSION, "colouru": __version__,
            "source": {"name": info.path.name, "size": st.st_size, "mtime_ns": st.st_mtime_ns},
            "model": {"name": model.name, "size": model.stat().st_size if model.is_file()
                      else None, "device": str(colorizer.device),
                      "precision": colorizer.precision},
            **settings}


# --- the whole film ------------------------------------------------------------------------
def colorize_video(src: str | os.PathLike, dst: str | os.PathLike, colorizer=None,
                   hints: VideoHints | Sequence[Hint | Stroke] | str | os.PathLike | None = None,
                   *, progress: Callable[[int, int], None] | None = None,
                   steadiness: float = DEFAULT_CARRY, saturation: float | None = None,
                   crf: int = DEFAULT_CRF, preset: str = DEFAULT_PRESET, chroma: str = "420",
                   bit_depth: int = 8, start: int | str | Position = 0,
                   end: int | str | Position | None = None,
                   work_size: int | None = None, overwrite: bool = False, resume: bool = False,
                   segment_frames: int | None = None, batch_size: int = DEFAULT_BATCH,
                   max_pixels: int | None = DEFAULT_MAX_PIXELS,
                   protect: Sequence[str | os.PathLike] = ()) -> VideoResult:
    """Colorize the film ``src`` into ``dst`` (its container by ``dst``'s extension: ``.mp4``,
    ``.mov``, ``.mkv``, ``.avi`` (H.264) or ``.webm`` (VP9)): the same frames, frame times,
    size, audio and metadata, each frame with its own lightness and steady colour.

    ``colorizer``: a ``Colorizer`` (default: the bundled model on the best device). ``hints``:
    a ``VideoHints``, a list of hints and strokes for frame 0, or a hints file (a film's or a
    photo's, ``colouru.video_hints``). ``progress(done, total)``: called from a worker thread
    after each frame is encoded (``total`` is the count of the film's video packets: its frames,
    for nearly every film). ``steadiness``: the share of colour carried along the motion where
    it is trusted (``temporal.SteadyConfig.carry``; 0: each frame on its own). ``saturation``:
    the chroma factor (default: the hints file's, else 1). ``crf``, ``preset``: the encoder's
    quality (H.264's constant rate factor, 0 lossless .. 51; VP9's 0 .. 63) and x264's speed
    preset. ``chroma``: ``"420"`` (colour at half resolution, as every player expects) or
    ``"444"`` (full resolution; with ``crf=0`` a lossless master of the frames made here).
    ``bit_depth``: 8 (what every player plays) or 10 (H.264's High 10 profile, or High 4:4:4
    with ``"444"``: half the flicker 8 bits add to steady colour, played by fewer players;
    not for WebM, ``VideoWriteError``).
    ``start``, ``end``: only the frames from ``start`` up to (not including) ``end`` (None:
    the film's end), each a frame number (counted from 0) or a time (``"10s"``, ``"1:05.5"``,
    a ``film_settings.Position``: the frame on screen then). The range is written as a film
    of its own, starting at the film's start time, its audio cut to it (to the audio packet,
    copied as it is); its first frame starts with the hints the whole film has there (the
    last keyframe's, carried along the motion through the frames before), its colour afresh
    as at a cut. Chapters are not kept.
    ``resume``: continue from an interrupted run's finished segments when they were made with
    the same source and settings (else they are removed and the film starts over).
    ``segment_frames``: frames a segment, the unit a resumed run restarts from (default
    ``DEFAULT_SEGMENT_FRAMES``). ``protect``: files never to replace (the inputs). Raises
    ``VideoReadError`` or ``VideoWriteError`` (one line), ``HintsFileError`` for a bad hints
    file.
    """
    t0 = time.perf_counter()
    src, dst = Path(src), Path(dst)
    fmt = _output_format(src, dst, protect, overwrite)
    config = SteadyConfig(carry=float(steadiness))
    if not (isinstance(crf, int) and 0 <= crf <= MAX_CRF):
        raise ValueError(f"crf must be a whole number 0..{MAX_CRF}, got {crf!r}")
    segment_frames = segment_frames or DEFAULT_SEGMENT_FRAMES
    if segment_frames < 1 or batch_size < 1:
        raise ValueError("segment_frames and batch_size must be positive")
    doc = _as_video_hints(hints)
    saturation = check_saturation(doc.saturation if saturation is None else saturation)
    info = probe_video(src, max_pixels)
    first, stop = _frame_range(info, start, end)
    if colorizer is None:
        from colouru.colorizer import Colorizer

        colorizer = Colorizer.load()
    if chroma not in ("420", "444"):
        raise ValueError(f"chroma must be '420' or '444', got {chroma!r}")
    encoder = encoder_for(fmt)
    pix_fmt = pix_fmt_for(encoder, (info.width, info.height), chroma, bit_depth)
    check_pix_fmt(encoder, pix_fmt, dst)
    film = _Film(info, dst, fmt, colorizer, doc, config, saturation, work_size,
                 max(1, min(batch_size, BATCH_PIXELS // (info.width * info.height))),
                 segment_frames, encoder, encoder_options(encoder, crf, preset), pix_fmt,
                 progress, first, stop)
    notes = []
    if encoder not in ("libx264", "libvpx-vp9"):
        notes.append(f"{dst}: this FFmpeg has no {'VP9' if fmt == 'webm' else 'H.264'} "
                     f"encoder; wrote {encoder}")
    notes += [f"{src}: {d} not copied (only video and audio are)" for d in info.dropped]
    plan = _plan(info, colorizer, film.settings())
    start_segment = _open_parts(film, plan, resume, notes)
    frames, cuts = _make(film, plan, start_segment, overwrite)
    resumed = min(start_segment * segment_frames, frames)
    return VideoResult(dst, frames, time.perf_counter() - t0, cuts, resumed, notes)


def _frame_range(info: VideoInfo, start, end) -> tuple[int, int | None]:
    """``(first, stop)``: the range's frame numbers, ``stop`` None for the film's end;
    ``VideoReadError`` (one line) for a position that is no frame or time, or a range outside
    the film or empty."""
    rate = float(info.rate) if info.rate else None
    try:
        begin = start if isinstance(start, Position) else parse_position(start)
        first = begin.to_frame(rate)
        until = end if end is None or isinstance(end, Position) else parse_position(end)
        stop = None if until is None else until.to_frame(rate)
    except ValueError as e:
        raise VideoReadError(f"{info.path}: {e}") from None
    if first >= info.frames:
        raise VideoReadError(f"{info.path}: the range starts at {begin}, past the film's last "
                             f"frame ({info.frames - 1})")
    if stop is not None and stop <= first:
        raise VideoReadError(f"{info.path}: the range is empty (from {begin} to {until})")
    if stop is not None and stop >= info.frames:
        stop = None
    return first, stop


def _output_format(src: Path, dst: Path, protect: Sequence[str | os.PathLike],
                   overwrite: bool) -> str:
    """The muxer for ``dst``'s extension; ``VideoWriteError`` for an unknown one, an input as
    the output, or an existing output without ``overwrite``."""
    fmt = VIDEO_EXTENSIONS.get(dst.suffix.lower())
    if fmt is None:
        raise VideoWriteError(f"{dst}: unknown film format {dst.suffix!r} (use one of "
                              f"{', '.join(sorted(VIDEO_EXTENSIONS))})")
    for p in (src, *protect):
        if dst.exists() and Path(p).exists() and os.path.samefile(dst, p):
            raise VideoWriteError(f"{dst}: refusing to overwrite an input")
    if dst.exists() and not overwrite:
        raise VideoWriteError(f"{dst}: exists (use --overwrite or --skip-existing)")
    return fmt


def _as_video_hints(hints) -> VideoHints:
    if hints is None:
        return VideoHints()
    if isinstance(hints, VideoHints):
        return hints
    if isinstance(hints, (str, os.PathLike)):
        return load_video_hints(hints)
    items = list(hints)
    if not all(isinstance(h, (Hint, Stroke)) for h in items):
        raise HintsFileError("hints must be a VideoHints, a file, or a list of Hint and Stroke")
    return VideoHints({0: items} if items else {})


def _open_parts(film: _Film, plan: dict, resume: bool, notes: list[str]) -> int:
    """Make the film's parts folder ready; returns the segment to start from: after an
    interrupted run's whole segments when resuming the same ``plan``, else 0 (its segments
    removed, with a note)."""
    film.dst.parent.mkdir(parents=True, exist_ok=True)
    parts, start_segment = film.parts, 0
    if parts.exists():
        if others_writing(parts):
            raise VideoWriteError(f"{film.dst}: another run is colorizing this film into the "
                                  f"same folder now")
        old = None
        with contextlib.suppress(OSError, ValueError):
            old = json.loads((parts / "plan.json").read_text())
        if resume and old == plan:
            start_segment = finished_segments(parts, film.ext)
        else:
            done = finished_segments(parts, film.ext)
            if done:
                why = ("made with other settings or from another source" if resume
                       else "use --skip-existing to resume")
                notes.append(f"{film.dst}: removed {done} segment(s) of an interrupted run "
                             f"({why})")
            shutil.rmtree(parts)
    parts.mkdir(exist_ok=True)
    return start_segment


def _make(film: _Film, plan: dict, start_segment: int, overwrite: bool) -> tuple[int, int]:
    """Colorize the film from ``start_segment`` on and join it into ``film.dst``, a lock in
    the parts folder saying a live run writes there; returns ``(frames, cuts)``."""
    parts = film.parts
    lock_fd, lock = temporary_beside(parts / "lock")
    os.close(lock_fd)
    try:
        from colouru.atomic import atomic_write_bytes

        atomic_write_bytes(parts / "plan.json", json.dumps(plan).encode())
        state = {"ab": None, "hints": [], "frames": 0, "rotation": 0}
        if start_segment:
            state = load_state(parts / f"{start_segment - 1:06d}.npz")
        if state["frames"] < start_segment * film.segment_frames:  # all done: killed joining
            frames, cuts, rotation = state["frames"], 0, state["rotation"]
        else:
            frames, cuts, rotation = _colorize_segments(film, start_segment, state)
        join_segments(film.info, parts, film.ext, film.dst, film.fmt, rotation, overwrite,
                      trim=film.ranged)
    finally:
        Path(lock).unlink(missing_ok=True)
    shutil.rmtree(parts, ignore_errors=True)
    return frames, cuts


# --- the frames ----------------------------------------------------------------------------
def _colorize_segments(film: _Film, start_segment: int, state: dict) -> tuple[int, int, int]:
    """Colorize the frames from ``start_segment`` on into segment files; returns ``(frames in
    the film, cuts, rotation)``. ``state``: the colour state the last whole segment ended on."""
    start = start_segment * film.segment_frames
    with open_input(film.info.path) as c:
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        reader = FrameReader(c, stream, film.colorizer, film.work_size, film.doc, film.config,
                             film.segment_frames, start, state["hints"], film.first,
                             film.stop)
        writer = SegmentWriter(film.parts, film.fmt, film.ext, film.encoder, film.options,
                               film.pix_fmt, (film.info.width, film.info.height),
                               stream.time_base, stream.average_rate)
        try:
            cuts, prev_ab = _stages(film, reader, writer, state["ab"], start)
            total = reader.index
            if total == 0:
                raise VideoReadError(f"{film.info.path}: the video has no frames that decode")
            if total % film.segment_frames:  # the last, shorter segment
                writer.close_segment({"ab": prev_ab, "hints": reader.carried,
                                      "frames": total, "rotation": reader.rotation,
                                      "shift": reader.shift})
        except BaseException:
            writer.abort()
            raise
    return total, cuts, reader.rotation


def _stages(film: _Film, reader: FrameReader, writer: SegmentWriter,
            prev_ab: np.ndarray | None, done: int) -> tuple[int, np.ndarray | None]:
    """The three overlapping stages (see the module docstring): a thread decodes and prepares
    the next batch while this one runs the network and steadies the colour, and a thread
    finishes and encodes the batches before (at most two waiting). Returns ``(cuts, the last
    frame's ab)``."""
    segment_frames, cuts = film.segment_frames, 0
    broken = []  # set once a write failed: the batches queued behind it must not run

    def write(items: list[Frame], abs_: list[np.ndarray], end_state: dict | None):
        nonlocal done
        if broken:
            return
        try:
            for item, ab in zip(items, abs_, strict=True):
                rgb = film.colorizer.finish_ab(item.prepared, ab, item.hints)
                writer.write(item.index // segment_frames, item.pts, rgb)
                done += 1
                if film.progress is not None:
                    film.progress(done, max(film.total, done))
            if end_state is not None:
                writer.close_segment(end_state)
        except BaseException:
            broken.append(True)
            raise

    with ThreadPoolExecutor(1, thread_name_prefix="colouru-decode") as read_pool, \
            ThreadPoolExecutor(1, thread_name_prefix="colouru-encode") as write_pool:
        pending: deque = deque()
        ahead = read_pool.submit(reader.take, film.batch)
        while True:
            items = ahead.result()
            if not items:
                break
            ahead = read_pool.submit(reader.take, film.batch)
            preds = film.colorizer.predict_ab_batch([(f.prepared, f.hints, film.saturation)
                                                     for f in items])
            abs_ = []
            for f, pred in zip(items, preds, strict=True):
                cuts += int(f.cut)
                prev_ab = steady(pred, prev_ab, f.motion, film.config.carry)
                abs_.append(prev_ab)
            last = items[-1]  # a batch never crosses a segment's end
            end_state = None
            if (last.index + 1) % segment_frames == 0:
                end_state = {"ab": prev_ab, "hints": last.hints, "frames": last.index + 1,
                             "rotation": reader.rotation, "shift": reader.shift}
            while len(pending) >= 2:
                pending.popleft().result()
            pending.append(write_pool.submit(write, items, abs_, end_state))
        while pending:
            pending.popleft().result()
    return cuts, prev_ab
