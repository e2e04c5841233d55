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
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from colouru import __version__
from colouru.atomic import is_leftover, publish, temporary_beside
from colouru.film_settings import (
    DEFAULT_CARRY,
    DEFAULT_CRF,
    DEFAULT_PRESET,
    MAX_CRF,
    VIDEO_EXTENSIONS,
    is_video_path,
)
from colouru.hints import Hint, HintsFileError, Stroke, check_saturation
from colouru.imageio import DEFAULT_MAX_PIXELS
from colouru.temporal import (
    SteadyConfig,
    estimate_motion,
    move_hints,
    new_flow,
    steady,
)
from colouru.video_hints import (
    VideoHints,
    hints_as_json_list,
    hints_from_json_list,
    load_video_hints,
)

# Demuxers read (FFmpeg's names) and what to call them.
CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": "MP4/MOV", "matroska,webm": "MKV/WebM", "avi": "AVI"}
# Video codecs read (FFmpeg's decoder names).
CODECS = {"h264": "H.264", "hevc": "H.265", "vp8": "VP8", "vp9": "VP9",
          "mpeg4": "MPEG-4 Part 2", "mjpeg": "MJPEG", "prores": "ProRes"}
CONTAINERS_TEXT = "MP4, MOV, MKV, WebM or AVI"
CODECS_TEXT = ", ".join(CODECS.values())
# Encoders tried in turn: H.264 (libx264, in PyAV's wheels), else MPEG-4 Part 2, which every
# FFmpeg has; WebM takes VP9 (else VP8).
ENCODERS = {"webm": ("libvpx-vp9", "libvpx")}
DEFAULT_ENCODERS = ("libx264", "libopenh264", "mpeg4")
DEFAULT_SEGMENT_FRAMES = 1024  # frames a segment (about 43 s at 24 frames/s): resume unit
DEFAULT_BATCH = 8  # frames a network call
BATCH_PIXELS = 16_000_000  # fewer frames a call when they are large (1080p: 7)
DESCRIPTION_TAG = "Colorized by ColourU"
# Container tags the muxer writes itself (or that describe the old file, not the new one).
_OWN_TAGS = {"major_brand", "minor_version", "compatible_brands", "encoder", "duration"}
_PLAN_VERSION = 1


__all__ = ["CODECS", "CONTAINERS", "VIDEO_EXTENSIONS", "VideoInfo", "VideoReadError",
           "VideoResult", "VideoWriteError", "colorize_video", "is_video_path", "parts_folder",
           "probe_video"]


class VideoReadError(Exception):
    """A film that cannot be read; the message is one line naming the file."""


class VideoWriteError(Exception):
    """A film that cannot be written; the message is one line naming the file."""


@dataclass
class VideoInfo:
    """What ``probe_video`` found: enough to plan the work and check the result."""

    path: Path
    container: str  # FFmpeg's demuxer name
    codec: str  # the video decoder's name
    width: int
    height: int
    frames: int  # video packets with data: the frame count, for the progress and the ETA
    rate: Fraction | None  # the average frame rate, when known
    duration: float | None  # seconds, when known
    audio: list[int] = field(default_factory=list)  # indexes of the audio streams
    dropped: list[str] = field(default_factory=list)  # other streams, which are not copied


@dataclass
class VideoResult:
    """What ``colorize_video`` did."""

    path: Path
    frames: int  # frames written
    seconds: float
    cuts: int  # frames that started a new shot (the first frame not counted)
    resumed_frames: int = 0  # frames taken from an interrupted run's finished segments
    notes: list[str] = field(default_factory=list)  # things the user should know


# --- reading -------------------------------------------------------------------------------
def _open_input(path: Path):
    import av

    if path.is_dir():
        raise VideoReadError(f"{path}: is a folder, not a film")
    if path.exists() and not path.is_file():
        raise VideoReadError(f"{path}: not a regular file (a pipe or a device?)")
    if not path.exists():
        raise VideoReadError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise VideoReadError(f"{path}: the file is empty")
    try:
        return av.open(str(path), "r")
    except PermissionError:
        raise VideoReadError(f"{path}: permission denied") from None
    except av.FFmpegError as e:
        with open(path, "rb") as f:
            head = f.read(12)
        if head[4:8] == b"ftyp":  # an MP4 or MOV whose index never came (it is written last)
            raise VideoReadError(f"{path}: the file is truncated: an MP4/MOV without its index "
                                 f"(cut short while copying or downloading, or its recording "
                                 f"never finished?)") from None
        raise VideoReadError(f"{path}: not a film ColourU reads ({CONTAINERS_TEXT}), or damaged "
                             f"({_ffmpeg_reason(e)})") from None


def _ffmpeg_reason(e: BaseException) -> str:
    text = getattr(e, "strerror", None) or str(e) or e.__class__.__name__
    return str(text).splitlines()[0].rstrip(".")


def probe_video(path: str | os.PathLike, max_pixels: int | None = DEFAULT_MAX_PIXELS,
                ) -> VideoInfo:
    """Check a film before any work: its container and codec are allowed, it has a video
    stream of a sane size, and its packets are all there. Reads every packet once (no
    decoding: a fraction of the decoding's time), to count the frames and to find a file cut
    short (its last packets end before the duration its header gives, or fewer packets than
    its header counts). ``VideoReadError`` (one line) otherwise."""
    import av

    path = Path(path)
    with _open_input(path) as c:
        if c.format.name not in CONTAINERS:
            raise VideoReadError(f"{path}: a {c.format.long_name or c.format.name} file; ColourU "
                                 f"reads films in {CONTAINERS_TEXT}")
        if not c.streams.video:
            raise VideoReadError(f"{path}: has no video stream")
        v = c.streams.video[0]
        name = v.codec_context.name if v.codec_context is not None else "unknown"
        if name not in CODECS:
            raise VideoReadError(f"{path}: video codec {name!r} is not one ColourU reads "
                                 f"({CODECS_TEXT})")
        w, h = v.codec_context.width, v.codec_context.height
        if w <= 0 or h <= 0:
            raise VideoReadError(f"{path}: the video has no size ({w} x {h})")
        if max_pixels is not None and w * h > max_pixels:
            raise VideoReadError(f"{path}: frames of {w} x {h} pixels, over the limit of "
                                 f"{max_pixels:,}; raise it with --max-pixels if genuine")
        audio = [s.index for s in c.streams.audio]
        dropped = [f"{s.type} stream {s.index}" for s in c.streams
                   if s.type not in ("video", "audio") or (s.type == "video" and s is not v)]
        n, end = 0, 0.0
        try:
            for pkt in c.demux():
                if pkt.size == 0 or pkt.pts is None and pkt.dts is None:
                    continue
                if pkt.stream.index == v.index:
                    n += 1
                if pkt.time_base is not None:
                    ts = pkt.pts if pkt.pts is not None else pkt.dts
                    end = max(end, float((ts + (pkt.duration or 0)) * pkt.time_base))
        except av.FFmpegError as e:
            raise VideoReadError(f"{path}: damaged, cannot be read ({_ffmpeg_reason(e)})") from None
        if n == 0:
            raise VideoReadError(f"{path}: the video has no frames")
        duration = c.duration / 1e6 if c.duration else None
        start = c.start_time / 1e6 if c.start_time else 0.0
        rate = v.average_rate or v.guessed_rate
        frame_s = float(1 / rate) if rate else 0.04
        cut_short = (v.frames > 1 and n < v.frames - 1) or (
            duration is not None and end - start < duration - max(0.5, 3 * frame_s))
        if cut_short:
            got = f"{n} of {v.frames} frames" if v.frames > 1 and n < v.frames - 1 else (
                f"{end - start:.2f} of {duration:.2f} s")
            raise VideoReadError(f"{path}: the file is truncated: it ends before the film does "
                                 f"({got}; cut short while copying or downloading?)")
        return VideoInfo(path, c.format.name, name, w, h, n, Fraction(rate) if rate else None,
                         duration, audio, dropped)


def _grey(frame) -> np.ndarray:
    """A decoded frame's lightness as a grey image: uint8 ``(H, W)`` (uint16 for more than 8
    bits), full range whatever the video's range (a colour film is reduced to its luma)."""
    deep = any(c.bits > 8 for c in frame.format.components)
    kwargs = {"dst_color_range": "JPEG"}
    if frame.color_range == 2:  # full range, tagged on a format whose name does not say it
        kwargs["src_color_range"] = "JPEG"
    return frame.to_ndarray(format="gray16le" if deep else "gray", **kwargs)


@dataclass
class _Frame:
    """A decoded frame, prepared, waiting for the network."""

    index: int
    pts: int
    prepared: object  # colouru.colorizer.Prepared
    hints: list  # Hint | Stroke: its keyframe's, or carried along the motion
    motion: object  # temporal.Motion from the last frame, or None (first frame, or a cut)
    cut: bool = False  # the frame starts a new shot


class _Reader:
    """Decodes frames in order and prepares them: L, the motion from the last frame, the
    hints. Runs in one thread; ``take(n)`` gives up to ``n`` frames, never past a segment's
    end (so a resumed run batches the frames as an uninterrupted one did)."""

    def __init__(self, container, stream, colorizer, work_size, hints: VideoHints,
                 config: SteadyConfig, segment_frames: int, start: int, carried: list):
        self.frames = container.decode(stream)
        self.colorizer, self.work_size = colorizer, work_size
        self.hints, self.config, self.segment = hints, config, segment_frames
        self.flow = new_flow()
        self.index = 0
        self.prev_work = None
        self.carried = carried
        self.last_pts = None
        self.rotation = 0
        rate = stream.average_rate or stream.guessed_rate
        self.tick = (max(1, round(1 / (rate * stream.time_base)))
                     if rate and stream.time_base else 1)
        self.path = Path(container.name)
        self._skip(start)

    def _next(self):
        import av

        try:
            frame = next(self.frames)
        except StopIteration:
            return None
        except av.FFmpegError as e:
            raise VideoReadError(f"{self.path}: damaged at frame {self.index}, cannot be decoded "
                                 f"({_ffmpeg_reason(e)})") from None
        if self.index == 0:
            self.rotation = int(frame.rotation or 0)
        return frame

    def _skip(self, start: int) -> None:
        """Decode and drop the frames a resumed run has already (the last one's L is kept:
        the motion to the first new frame starts from it)."""
        while self.index < start:
            frame = self._next()
            if frame is None:
                raise VideoReadError(f"{self.path}: has fewer frames than the interrupted run "
                                     f"wrote ({self.index} of {start})")
            self.last_pts = self._pts(frame)
            if self.index == start - 1:
                self.prev_work = self.colorizer.prepare(_grey(frame),
                                                        self.work_size).work_lightness
            self.index += 1

    def _pts(self, frame) -> int:
        """The frame's time stamp (in the stream's time base), made strictly increasing."""
        pts = frame.pts
        if pts is None:
            pts = 0 if self.last_pts is None else self.last_pts + self.tick
        if self.last_pts is not None and pts <= self.last_pts:
            pts = self.last_pts + 1
        return pts

    def take(self, n: int) -> list[_Frame]:
        out: list[_Frame] = []
        end = (self.index // self.segment + 1) * self.segment  # this segment's end
        while len(out) < n and self.index < end:
            frame = self._next()
            if frame is None:
                break
            pts = self._pts(frame)
            self.last_pts = pts
            prepared = self.colorizer.prepare(_grey(frame), self.work_size)
            del frame
            work = prepared.work_lightness
            motion = None
            if self.prev_work is not None and self.prev_work.shape == work.shape:
                motion = estimate_motion(self.prev_work, work, self.flow, self.config)
            if motion is not None and not motion.cut:
                hints = move_hints(self.carried, motion, prepared.image_hw)
            else:
                hints = []
            key = self.hints.keyframe(self.index)
            if key is not None:
                hints = key
            self.carried = hints
            cut = motion is not None and motion.cut
            out.append(_Frame(self.index, pts, prepared, hints, None if cut else motion, cut))
            self.prev_work = work
            self.index += 1
        return out


# --- writing -------------------------------------------------------------------------------
def _encoder_for(fmt: str) -> str:
    from av import codec as av_codec

    for name in ENCODERS.get(fmt, DEFAULT_ENCODERS):
        try:
            av_codec.Codec(name, "w")
            return name
        except Exception:  # av.codec.codec.UnknownCodecError
            continue
    raise VideoWriteError(f"no video encoder for {fmt} in this FFmpeg (tried "
                          f"{', '.join(ENCODERS.get(fmt, DEFAULT_ENCODERS))})")


def _pix_fmt(encoder: str, size: tuple[int, int], chroma: str) -> str:
    """The encoded pixels: 4:2:0 (what every player plays) unless ``chroma`` is ``"444"``
    (colour at full resolution: H.264's High 4:4:4 profile, VP9's profile 1) or the size is
    odd (4:2:0 needs even sides; the film keeps its size in 4:4:4)."""
    odd = size[0] % 2 or size[1] % 2
    if encoder in ("libx264", "libvpx-vp9") and (chroma == "444" or odd):
        return "yuv444p"
    return "yuv420p"


def _encoder_options(encoder: str, crf: int, preset: str) -> dict:
    if encoder == "libx264":
        # No B-frames: the segments are joined packet by packet, and without reordering each
        # packet's decode time is its show time, which every container stores as it is (MKV
        # keeps no decode times, AVI no show times). About a tenth more bits at the same CRF.
        return {"crf": str(crf), "preset": preset, "bf": "0"}
    if encoder in ("libvpx-vp9", "libvpx"):
        return {"crf": str(min(crf, 63)), "b": "0", "deadline": "good", "cpu-used": "4",
                "row-mt": "1"}
    if encoder == "mpeg4":  # quantiser 2 (best) .. 31
        return {"qscale": str(max(2, min(31, round(crf / 6))))}
    return {}


def _mux_options(fmt: str, time_base: Fraction) -> dict:
    """Muxer options: an MP4's edit list (a segment's start) counted in the video's own time
    base (the default of milliseconds would move a segment's frames by a rounding)."""
    if fmt in ("mp4", "mov") and time_base:
        return {"movie_timescale": str(Fraction(time_base).denominator)}
    return {}


class _SegmentWriter:
    """Encodes frames into one segment file at a time: a temporary file in the parts folder,
    published as ``NNNNNN.EXT`` when the segment is whole (after its state file)."""

    def __init__(self, parts: Path, fmt: str, ext: str, encoder: str, options: dict,
                 pix_fmt: str, size: tuple[int, int], time_base: Fraction,
                 rate: Fraction | None):
        self.parts, self.fmt, self.ext = parts, fmt, ext
        self.encoder, self.options = encoder, options
        self.width, self.height = size
        self.time_base, self.rate = time_base, rate
        self.out = self.stream = self.tmp = None
        self.segment = None
        self.pts: list[int] = []  # the open segment's frame times, in order
        self.pix_fmt = pix_fmt

    def _open(self, segment: int) -> None:
        import av

        fd, self.tmp = temporary_beside(self.parts / "segment")
        os.close(fd)
        self.segment = segment
        self.pts = []
        self.out = av.open(self.tmp, "w", format=self.fmt,
                           options=_mux_options(self.fmt, self.time_base))
        s = self.out.add_stream(self.encoder, rate=self.rate or 25, options=dict(self.options))
        s.width, s.height, s.pix_fmt = self.width, self.height, self.pix_fmt
        s.time_base = self.time_base
        s.codec_context.time_base = self.time_base
        s.codec_context.colorspace = 1  # BT.709, as the frames are converted below
        s.codec_context.color_primaries = 1
        s.codec_context.color_trc = 1
        s.codec_context.color_range = 1  # limited ("MPEG")
        self.stream = s

    def write(self, segment: int, pts: int, rgb: np.ndarray) -> None:
        import av

        if self.out is None:
            self._open(segment)
        frame = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(  # (a frame of
            width=self.width, height=self.height,  # another size, mid-film, is scaled)
            format=self.pix_fmt, dst_colorspace="ITU709", dst_color_range="MPEG")
        frame.pts = pts
        frame.time_base = self.time_base
        self.pts.append(pts)
        self.out.mux(self.stream.encode(frame))

    def close_segment(self, state: dict) -> None:
        """Flush and publish the open segment, its state first."""
        if self.out is None:
            return
        self.out.mux(self.stream.encode())
        self.out.close()
        self.out = None
        name = f"{self.segment:06d}"
        _save_state(self.parts / f"{name}.npz", {**state, "pts": self.pts})
        publish(self.tmp, self.parts / f"{name}{self.ext}")
        self.tmp = None

    def abort(self) -> None:
        if self.out is not None:
            with contextlib.suppress(Exception):
                self.out.close()
            self.out = None
        if self.tmp is not None:
            Path(self.tmp).unlink(missing_ok=True)
            self.tmp = None


def _save_state(path: Path, state: dict) -> None:
    from colouru.atomic import atomic_file

    with atomic_file(path) as f:
        np.savez(f, ab=state["ab"], hints=np.array(hints_as_json_list(state["hints"])),
                 frames=np.array(state["frames"]), rotation=np.array(state["rotation"]),
                 pts=np.array(state["pts"], dtype=np.int64))


def _load_state(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        ab = z["ab"]
        return {"ab": None if ab.size == 0 else ab.astype(np.float32),
                "hints": hints_from_json_list(str(z["hints"])), "frames": int(z["frames"]),
                "rotation": int(z["rotation"]), "pts": z["pts"].tolist()}


# --- the parts folder: segments, their states, the plan --------------------------------------
def parts_folder(dst: Path) -> Path:
    """Where a film's finished segments wait to be joined (hidden, beside the output)."""
    return dst.parent / f".{dst.name}.colouru-parts"


def _others_writing(parts: Path) -> bool:
    """Whether another live process has a temporary file in ``parts`` (it is writing there)."""
    for p in parts.glob(".colouru-*.tmp"):
        tag = p.name.split("-")
        if len(tag) > 2 and tag[2] == str(os.getpid()):
            continue
        if not is_leftover(p):
            return True
    return False


def _finished_segments(parts: Path, ext: str) -> int:
    """How many segments from the first on are whole (the film file and its state)."""
    k = 0
    while (parts / f"{k:06d}{ext}").is_file() and (parts / f"{k:06d}.npz").is_file():
        k += 1
    return k


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
    ``resume``: continue from an interrupted run's finished segments when they were made with
    the same source and settings (else they are removed and the film starts over).
    ``segment_frames``: frames a segment, the unit a resumed run restarts from (default
    ``DEFAULT_SEGMENT_FRAMES``). ``protect``: files never to replace (the inputs). Raises
    ``VideoReadError`` or ``VideoWriteError`` (one line), ``HintsFileError`` for a bad hints
    file.
    """
    t0 = time.perf_counter()
    src, dst = Path(src), Path(dst)
    fmt = VIDEO_EXTENSIONS.get(dst.suffix.lower())
    if fmt is None:
        raise VideoWriteError(f"{dst}: unknown film format {dst.suffix!r} (use one of "
                              f"{', '.join(sorted(VIDEO_EXTENSIONS))})")
    for p in (src, *protect):
        if dst.exists() and Path(p).exists() and os.path.samefile(dst, p):
            raise VideoWriteError(f"{dst}: refusing to overwrite an input")
    if dst.exists() and not overwrite:
        raise VideoWriteError(f"{dst}: exists (use --overwrite or --skip-existing)")
    config = SteadyConfig(carry=float(steadiness))
    if not (isinstance(crf, int) and 0 <= crf <= MAX_CRF):
        raise ValueError(f"crf must be a whole number 0..{MAX_CRF}, got {crf!r}")
    segment_frames = segment_frames or DEFAULT_SEGMENT_FRAMES
    if segment_frames < 1 or batch_size < 1:
        raise ValueError("segment_frames and batch_size must be positive")
    doc = _as_video_hints(hints)
    saturation = check_saturation(doc.saturation if saturation is None else saturation)
    info = probe_video(src, max_pixels)
    if colorizer is None:
        from colouru.colorizer import Colorizer

        colorizer = Colorizer.load()
    if chroma not in ("420", "444"):
        raise ValueError(f"chroma must be '420' or '444', got {chroma!r}")
    encoder = _encoder_for(fmt)
    options = _encoder_options(encoder, crf, preset)
    pix_fmt = _pix_fmt(encoder, (info.width, info.height), chroma)
    batch = max(1, min(batch_size, BATCH_PIXELS // (info.width * info.height)))
    notes = []
    if encoder not in ("libx264", "libvpx-vp9"):
        notes.append(f"{dst}: this FFmpeg has no {'VP9' if fmt == 'webm' else 'H.264'} "
                     f"encoder; wrote {encoder}")
    notes += [f"{src}: {d} not copied (only video and audio are)" for d in info.dropped]
    settings = {"steady": [config.carry, config.fb_tolerance, config.l_tolerance,
                           config.cut_share],
                "hints": json.dumps({str(k): hints_as_json_list(v) for k, v in
                                     doc.frames.items()}),
                "saturation": saturation, "encoder": encoder, "options": options,
                "pix_fmt": pix_fmt,
                "work_size": work_size, "segment_frames": segment_frames, "batch": batch,
                "format": fmt}
    plan = _plan(info, colorizer, settings)

    dst.parent.mkdir(parents=True, exist_ok=True)
    parts = parts_folder(dst)
    ext = dst.suffix.lower()
    start_segment = 0
    if parts.exists():
        if _others_writing(parts):
            raise VideoWriteError(f"{dst}: another run is colorizing this film into the same "
                                  f"folder now")
        old = None
        with contextlib.suppress(OSError, ValueError):
            old = json.loads((parts / "plan.json").read_text())
        if resume and old == plan:
            start_segment = _finished_segments(parts, ext)
        else:
            done = _finished_segments(parts, ext)
            if done:
                why = ("made with other settings or from another source" if resume
                       else "use --skip-existing to resume")
                notes.append(f"{dst}: removed {done} segment(s) of an interrupted run ({why})")
            shutil.rmtree(parts)
    parts.mkdir(exist_ok=True)
    lock_fd, lock = temporary_beside(parts / "lock")  # says a live run writes here
    os.close(lock_fd)
    try:
        from colouru.atomic import atomic_write_bytes

        atomic_write_bytes(parts / "plan.json", json.dumps(plan).encode())
        state = {"ab": None, "hints": [], "frames": 0, "rotation": 0}
        if start_segment:
            state = _load_state(parts / f"{start_segment - 1:06d}.npz")
        if state["frames"] < start_segment * segment_frames:  # all done: killed while joining
            frames, cuts, rotation = state["frames"], 0, state["rotation"]
        else:
            frames, cuts, rotation = _colorize_segments(
                info, colorizer, doc, config, saturation, work_size, batch, segment_frames,
                start_segment, state, parts, fmt, ext, encoder, options, pix_fmt, progress)
        _join(info, parts, ext, dst, fmt, rotation, overwrite)
    finally:
        Path(lock).unlink(missing_ok=True)
    shutil.rmtree(parts, ignore_errors=True)
    resumed = min(start_segment * segment_frames, frames)
    return VideoResult(dst, frames, time.perf_counter() - t0, cuts, resumed, notes)


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


def _colorize_segments(info: VideoInfo, colorizer, doc: VideoHints, config: SteadyConfig,
                       saturation: float, work_size, batch: int, segment_frames: int,
                       start_segment: int, state: dict, parts: Path, fmt: str, ext: str,
                       encoder: str, options: dict, pix_fmt: str,
                       progress) -> tuple[int, int, int]:
    """Colorize the frames from ``start_segment`` on into segment files; returns ``(frames in
    the film, cuts, rotation)``. The stages overlap (see the module docstring)."""
    start = start_segment * segment_frames
    prev_ab = state["ab"]
    cuts, done = 0, start
    with _open_input(info.path) as c:
        stream = c.streams.video[0]
        stream.thread_type = "AUTO"
        reader = _Reader(c, stream, colorizer, work_size, doc, config, segment_frames, start,
                         state["hints"])
        writer = _SegmentWriter(parts, fmt, ext, encoder, options, pix_fmt,
                                (info.width, info.height), stream.time_base,
                                stream.average_rate)

        broken = []  # set once a write failed: the batches queued behind it must not run

        def write(items: list[_Frame], abs_: list[np.ndarray], end_state: dict | None):
            nonlocal done
            if broken:
                return
            try:
                for item, ab in zip(items, abs_, strict=True):
                    rgb = colorizer.finish_ab(item.prepared, ab, item.hints)
                    writer.write(item.index // segment_frames, item.pts, rgb)
                    done += 1
                    if progress is not None:
                        progress(done, max(info.frames, done))
                if end_state is not None:
                    writer.close_segment(end_state)
            except BaseException:
                broken.append(True)
                raise

        try:
            with ThreadPoolExecutor(1, thread_name_prefix="colouru-decode") as read_pool, \
                    ThreadPoolExecutor(1, thread_name_prefix="colouru-encode") as write_pool:
                pending: deque = deque()
                ahead = read_pool.submit(reader.take, batch)
                while True:
                    items = ahead.result()
                    if not items:
                        break
                    ahead = read_pool.submit(reader.take, batch)
                    preds = colorizer.predict_ab_batch([(f.prepared, f.hints, saturation)
                                                        for f in items])
                    abs_ = []
                    for f, pred in zip(items, preds, strict=True):
                        cuts += int(f.cut)
                        prev_ab = steady(pred, prev_ab, f.motion, config.carry)
                        abs_.append(prev_ab)
                    last = items[-1]  # a batch never crosses a segment's end
                    end_state = None
                    if (last.index + 1) % segment_frames == 0:
                        end_state = {"ab": prev_ab, "hints": last.hints,
                                     "frames": last.index + 1, "rotation": reader.rotation}
                    while len(pending) >= 2:
                        pending.popleft().result()
                    pending.append(write_pool.submit(write, items, abs_, end_state))
                while pending:
                    pending.popleft().result()
                total = reader.index
                if total == 0:
                    raise VideoReadError(f"{info.path}: the video has no frames that decode")
                if total % segment_frames:  # the last, shorter segment
                    writer.close_segment({"ab": prev_ab, "hints": reader.carried,
                                          "frames": total, "rotation": reader.rotation})
        except BaseException:
            writer.abort()
            raise
    return total, cuts, reader.rotation


def _segment_packets(parts: Path, ext: str, count: int, time_base: Fraction) -> Iterator:
    """The video packets of segments 0 .. count - 1, in order, with their time in seconds.
    Each packet is one frame (no B-frames: decode order is show order) and gets the time its
    frame had in the source, as the segment's state recorded it: exact in every container
    (an AVI stores none, an MP4 segment's start is an edit list, MKV rounds to milliseconds)."""
    import av

    for k in range(count):
        times = _load_state(parts / f"{k:06d}.npz")["pts"]
        with av.open(str(parts / f"{k:06d}{ext}")) as c:
            packets = [p for p in c.demux(c.streams.video[0]) if p.size]
            if len(packets) != len(times):
                raise VideoWriteError(f"segment {k} of {parts} holds {len(packets)} packets "
                                      f"for {len(times)} frames")
            seg_tb = c.streams.video[0].time_base
            for pkt, ts in zip(packets, times, strict=True):
                if pkt.duration:
                    pkt.duration = max(1, round(pkt.duration * seg_tb / time_base))
                pkt.time_base = time_base
                pkt.pts = pkt.dts = ts
                yield _when(pkt), pkt


def _when(pkt) -> float:
    ts = pkt.dts if pkt.dts is not None else pkt.pts
    return float(ts * pkt.time_base)


def _join(info: VideoInfo, parts: Path, ext: str, dst: Path, fmt: str, rotation: int,
          overwrite: bool) -> None:
    """The segments and the source's audio, chapters and metadata, muxed into a temporary file
    published as ``dst`` (never replacing a file unless ``overwrite``)."""
    import heapq

    import av

    count = _finished_segments(parts, ext)
    fd, tmp = temporary_beside(dst)
    os.close(fd)
    try:
        with av.open(str(parts / f"{0:06d}{ext}")) as first, _open_input(info.path) as src:
            options = _mux_options(fmt, src.streams.video[0].time_base)
            if fmt in ("mp4", "mov"):
                options["movflags"] = "+faststart"
            with av.open(tmp, "w", format=fmt, options=options) as out:
                meta = {k: v for k, v in src.metadata.items() if k.lower() not in _OWN_TAGS}
                comment = meta.get("comment")
                meta["comment"] = f"{comment}\n{DESCRIPTION_TAG}" if comment else DESCRIPTION_TAG
                out.metadata.update(meta)
                sv = src.streams.video[0]
                v = out.add_stream_from_template(first.streams.video[0])
                v.time_base = sv.time_base
                if sv.average_rate:  # MKV's default frame duration, MP4's frame rate
                    v.codec_context.framerate = sv.average_rate
                v.metadata.update({k: val for k, val in sv.metadata.items()
                                   if k.lower() in ("language", "title", "handler_name")})
                if rotation:
                    v.set_display_rotation(rotation)
                streams = {}
                for i in info.audio:
                    a = src.streams[i]
                    if a.codec_context.name not in out.supported_codecs:
                        continue
                    o = out.add_stream_from_template(a)
                    o.metadata.update({k: val for k, val in a.metadata.items()
                                       if k.upper() not in ("DURATION", "ENCODER")})
                    streams[i] = o
                with contextlib.suppress(Exception):
                    out.set_chapters(src.chapters())

                def audio():
                    if not streams:
                        return
                    for pkt in src.demux([src.streams[i] for i in streams]):
                        if pkt.size == 0 or pkt.dts is None and pkt.pts is None:
                            continue
                        yield _when(pkt), pkt

                video = _segment_packets(parts, ext, count, sv.time_base)
                merged = heapq.merge(((w, 0, p) for w, p in video),
                                     ((w, 1, p) for w, p in audio()),
                                     key=lambda x: (x[0], x[1]))
                for _, kind, pkt in merged:
                    pkt.stream = v if kind == 0 else streams[pkt.stream_index]
                    out.mux(pkt)
        publish(tmp, dst, replace=overwrite)
    except FileExistsError:
        raise VideoWriteError(f"{dst}: appeared while it was being written (another run "
                              f"writing the same name?); not replaced") from None
    except av.FFmpegError as e:
        raise VideoWriteError(f"{dst}: cannot write the film ({_ffmpeg_reason(e)})") from None
    except OSError as e:
        raise VideoWriteError(f"{dst}: cannot write ({e.strerror or e})") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
