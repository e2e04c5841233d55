"""Films in: what ``colorize_video`` reads and how.

``probe_video`` checks a film before any work (an allow-listed container and codec, a sane
size, every packet there: a file cut short is refused) and says what it holds
(``VideoInfo``). ``FrameReader`` decodes the frames in order and prepares each for the
network: its lightness at full and working size, the motion from the last frame (a cut where
too little is trusted) and its hints (its keyframe's, else the last frame's moved along the
flow). PyAV is imported only when a film is read.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import numpy as np

from colouru.imageio import DEFAULT_MAX_PIXELS
from colouru.temporal import SteadyConfig, estimate_motion, move_hints, new_flow
from colouru.video_hints import VideoHints

# Demuxers read (FFmpeg's names) and what to call them.
CONTAINERS = {"mov,mp4,m4a,3gp,3g2,mj2": "MP4/MOV", "matroska,webm": "MKV/WebM", "avi": "AVI"}
# Video codecs read (FFmpeg's decoder names).
CODECS = {"h264": "H.264", "hevc": "H.265", "vp8": "VP8", "vp9": "VP9",
          "mpeg4": "MPEG-4 Part 2", "mjpeg": "MJPEG", "prores": "ProRes"}
CONTAINERS_TEXT = "MP4, MOV, MKV, WebM or AVI"
CODECS_TEXT = ", ".join(CODECS.values())


class VideoReadError(Exception):
    """A film that cannot be read; the message is one line naming the file."""


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


# --- probing -------------------------------------------------------------------------------
def open_input(path: Path):
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
                             f"({ffmpeg_reason(e)})") from None


def ffmpeg_reason(e: BaseException) -> str:
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
    with open_input(path) as c:
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
            raise VideoReadError(f"{path}: damaged, cannot be read ({ffmpeg_reason(e)})") from None
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


# --- decoding ------------------------------------------------------------------------------
def grey_frame(frame) -> np.ndarray:
    """A decoded frame's lightness as a grey image: uint8 ``(H, W)`` (uint16 for more than 8
    bits), full range whatever the video's range (a colour film is reduced to its luma)."""
    deep = any(c.bits > 8 for c in frame.format.components)
    kwargs = {"dst_color_range": "JPEG"}
    if frame.color_range == 2:  # full range, tagged on a format whose name does not say it
        kwargs["src_color_range"] = "JPEG"
    return frame.to_ndarray(format="gray16le" if deep else "gray", **kwargs)


@dataclass
class Frame:
    """A decoded frame, prepared, waiting for the network."""

    index: int
    pts: int
    prepared: object  # colouru.colorizer.Prepared
    hints: list  # Hint | Stroke: its keyframe's, or carried along the motion
    motion: object  # temporal.Motion from the last frame, or None (first frame, or a cut)
    cut: bool = False  # the frame starts a new shot


class FrameReader:
    """Decodes frames in order and prepares them: L, the motion from the last frame, the
    hints. Runs in one thread; ``take(n)`` gives up to ``n`` frames, never past a segment's
    end (so a resumed run batches the frames as an uninterrupted one did).

    A range of the film (``first``, ``stop``: the film's frame numbers, ``stop`` excluded;
    None: to its end) is read as a film of its own: its frames are numbered from 0 (segments
    and resuming count them so), their time stamps moved back by ``shift`` so it starts when
    the film did, and its first frame starts with the hints the whole film has there: the
    frames before it are decoded, and from the last keyframe before it on the keyframe's
    hints are carried along the motion through them as a run from the film's start does."""

    def __init__(self, container, stream, colorizer, work_size, hints: VideoHints,
                 config: SteadyConfig, segment_frames: int, start: int, carried: list,
                 first: int = 0, stop: int | None = None):
        self.frames = container.decode(stream)
        self.colorizer, self.work_size = colorizer, work_size
        self.hints, self.config, self.segment = hints, config, segment_frames
        self.first = first
        self.count = None if stop is None else stop - first  # frames in the range
        self.flow = new_flow()
        self.index = 0  # the next frame's number in the range
        self.decoded = 0  # frames of the film decoded
        self.prev_work = None
        self.carried = carried
        self.last_pts = None
        self.base_pts = None  # the film's first frame's time stamp
        self.shift = 0  # the range's first frame's time stamp less the film's first's
        self.rotation = 0
        rate = stream.average_rate or stream.guessed_rate
        self.tick = (max(1, round(1 / (rate * stream.time_base)))
                     if rate and stream.time_base else 1)
        self.path = Path(container.name)
        self._skip(start)

    def _next(self):
        """The film's next frame and its time stamp (strictly increasing), or ``(None,
        None)`` at its end."""
        import av

        try:
            frame = next(self.frames)
        except StopIteration:
            return None, None
        except av.FFmpegError as e:
            raise VideoReadError(f"{self.path}: damaged at frame {self.decoded}, cannot be "
                                 f"decoded ({ffmpeg_reason(e)})") from None
        pts = frame.pts
        if pts is None:
            pts = 0 if self.last_pts is None else self.last_pts + self.tick
        if self.last_pts is not None and pts <= self.last_pts:
            pts = self.last_pts + 1
        self.last_pts = pts
        if self.decoded == 0:
            self.rotation = int(frame.rotation or 0)
            self.base_pts = pts
        if self.decoded == self.first:
            self.shift = pts - self.base_pts
        self.decoded += 1
        return frame, pts

    def _skip(self, start: int) -> None:
        """Decode the frames before the range and those of it a resumed run has already,
        keeping the last one's L (the motion to the first new frame starts from it); a fresh
        run carries the hints of the last keyframe before the range up to it."""
        ahead = self.first + start
        before = [k for k in self.hints.frames if k < self.first] if start == 0 else []
        key = max(before) if before else ahead  # where carrying starts
        while self.decoded < ahead:
            number = self.decoded
            frame, _ = self._next()
            if frame is None:
                what = (f"the range starts at frame {self.first}" if start == 0 else
                        f"the interrupted run wrote {start} frames from frame {self.first}")
                raise VideoReadError(f"{self.path}: has only {number} frames, but {what}")
            if number >= key or number == ahead - 1:
                prepared = self.colorizer.prepare(grey_frame(frame), self.work_size)
                if number >= key:
                    self._carry(number, prepared)
                self.prev_work = prepared.work_lightness
        self.index = start

    def _carry(self, number: int, prepared):
        """Frame ``number``'s hints (its keyframe's, else the last frame's moved along the
        motion) and the motion from the last frame; returns the motion (None: none known)."""
        work = prepared.work_lightness
        motion = None
        if self.prev_work is not None and self.prev_work.shape == work.shape:
            motion = estimate_motion(self.prev_work, work, self.flow, self.config)
        if motion is not None and not motion.cut:
            hints = move_hints(self.carried, motion, prepared.image_hw)
        else:
            hints = []
        key = self.hints.keyframe(number)
        self.carried = key if key is not None else hints
        return motion

    def take(self, n: int) -> list[Frame]:
        out: list[Frame] = []
        end = (self.index // self.segment + 1) * self.segment  # this segment's end
        if self.count is not None:
            end = min(end, self.count)
        while len(out) < n and self.index < end:
            frame, pts = self._next()
            if frame is None:
                break
            prepared = self.colorizer.prepare(grey_frame(frame), self.work_size)
            del frame
            motion = self._carry(self.first + self.index, prepared)
            cut = motion is not None and motion.cut
            out.append(Frame(self.index, pts - self.shift, prepared, self.carried,
                             None if cut else motion, cut))
            self.prev_work = prepared.work_lightness
            self.index += 1
        return out
