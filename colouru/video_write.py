"""Films out: the colorized frames encoded into segments, then joined into the film.

``SegmentWriter`` encodes frames into one segment file at a time in the parts folder
(``parts_folder``: hidden, beside the output), each published when whole after the colour
state it ends on (``save_state``: the last frame's ab and hints, its frame times), so a killed
run resumes after its last whole segment. ``join_segments`` muxes the segments with the
source's audio (packet for packet), chapters and metadata into a temporary file published in
one step. The encoder is H.264 (VP9 for WebM) where this FFmpeg has it (``encoder_for``),
fed BT.709 YCbCr of 8 bits a sample or 10 (``pix_fmt_for``, ``encoder_frame``). PyAV is
imported only when a film is written.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path

import numpy as np

from colouru.atomic import is_leftover, publish, temporary_beside
from colouru.video_hints import hints_as_json_list, hints_from_json_list
from colouru.video_read import VideoInfo, ffmpeg_reason, open_input

# Encoders tried in turn: H.264 (libx264, in PyAV's wheels), else MPEG-4 Part 2, which every
# FFmpeg has; WebM takes VP9 (else VP8).
ENCODERS = {"webm": ("libvpx-vp9", "libvpx")}
DEFAULT_ENCODERS = ("libx264", "libopenh264", "mpeg4")
DESCRIPTION_TAG = "Colorized by ColourU"
BIT_DEPTHS = (8, 10)  # bits a sample of the film written
# Container tags the muxer writes itself (or that describe the old file, not the new one).
_OWN_TAGS = {"major_brand", "minor_version", "compatible_brands", "encoder", "duration"}


class VideoWriteError(Exception):
    """A film that cannot be written; the message is one line naming the file."""


# --- encoding ------------------------------------------------------------------------------
def encoder_for(fmt: str) -> str:
    from av import codec as av_codec

    for name in ENCODERS.get(fmt, DEFAULT_ENCODERS):
        try:
            av_codec.Codec(name, "w")
            return name
        except Exception:  # av.codec.codec.UnknownCodecError
            continue
    raise VideoWriteError(f"no video encoder for {fmt} in this FFmpeg (tried "
                          f"{', '.join(ENCODERS.get(fmt, DEFAULT_ENCODERS))})")


def pix_fmt_for(encoder: str, size: tuple[int, int], chroma: str, bit_depth: int = 8) -> str:
    """The encoded pixels: 4:2:0 (what every player plays) unless ``chroma`` is ``"444"``
    (colour at full resolution: H.264's High 4:4:4 profile, VP9's profile 1) or the size is
    odd (4:2:0 needs even sides; the film keeps its size in 4:4:4). ``bit_depth`` 10: the
    same at 10 bits a sample (``yuv420p10le``: H.264's High 10 profile; ``yuv444p10le``: High
    4:4:4), which fewer players play (``check_pix_fmt`` says whether the encoder writes it)."""
    if bit_depth not in BIT_DEPTHS:
        raise ValueError(f"bit_depth must be one of {BIT_DEPTHS}, got {bit_depth!r}")
    odd = size[0] % 2 or size[1] % 2
    fmt = "yuv420p"
    if encoder in ("libx264", "libvpx-vp9") and (chroma == "444" or odd):
        fmt = "yuv444p"
    return fmt if bit_depth == 8 else f"{fmt}10le"


def check_pix_fmt(encoder: str, pix_fmt: str, dst: Path) -> None:
    """``VideoWriteError`` (one line) when this FFmpeg's ``encoder`` cannot write ``pix_fmt``
    (10 bits a sample: only libx264 in PyAV's wheels, so not WebM's VP9)."""
    from av import codec as av_codec

    formats = [f.name for f in av_codec.Codec(encoder, "w").video_formats or ()]
    if formats and pix_fmt not in formats:
        raise VideoWriteError(f"{dst}: this FFmpeg's {encoder} does not write {pix_fmt} "
                              f"(10-bit films: H.264 in .mp4, .mov, .mkv or .avi)")


def encoder_frame(rgb: np.ndarray, size: tuple[int, int], pix_fmt: str,
                  full_range: bool = False):
    """An sRGB frame (uint8 ``(H, W, 3)``, or uint16 0..65535 for more than 8 bits) as the
    encoder's pixels: BT.709 YCbCr (``pix_fmt``) of limited range (``full_range``: every
    code, which not every player honours; the benchmark's), scaled to ``size`` (width, height)
    when it is another (a frame of another size, mid-film)."""
    import av

    src = "rgb24" if rgb.dtype == np.uint8 else "rgb48le"
    return av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format=src).reformat(
        width=size[0], height=size[1], format=pix_fmt, dst_colorspace="ITU709",
        dst_color_range="JPEG" if full_range else "MPEG")


def add_video_stream(out, encoder: str, options: dict, pix_fmt: str, size: tuple[int, int],
                     time_base: Fraction, rate: Fraction | None, full_range: bool = False):
    """A video stream in the output container ``out``, tagged as ``encoder_frame`` converts
    (BT.709 matrix, primaries and transfer; limited range unless ``full_range``)."""
    s = out.add_stream(encoder, rate=rate or 25, options=dict(options))
    s.width, s.height = size
    s.pix_fmt = pix_fmt
    s.time_base = time_base
    s.codec_context.time_base = time_base
    s.codec_context.colorspace = 1  # BT.709, as encoder_frame converts
    s.codec_context.color_primaries = 1
    s.codec_context.color_trc = 1
    s.codec_context.color_range = 2 if full_range else 1  # "JPEG" or "MPEG"
    return s


def encoder_options(encoder: str, crf: int, preset: str) -> dict:
    if encoder == "libx264":
        # No B-frames: the segments are joined packet by packet, and without reordering each
        # packet's decode time is its show time, which every container stores as it is (MKV
        # keeps no decode times, AVI no show times). About a tenth more bits at the same CRF.
        # CRF 0 is written as quantiser 0, lossless at every bit depth (at 10 bits x264's CRF
        # goes down to -12, and 0 is not lossless).
        quality = {"qp": "0"} if crf == 0 else {"crf": str(crf)}
        return {**quality, "preset": preset, "bf": "0"}
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


class SegmentWriter:
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
        self.stream = add_video_stream(self.out, self.encoder, self.options, self.pix_fmt,
                                       (self.width, self.height), self.time_base, self.rate)

    def write(self, segment: int, pts: int, rgb: np.ndarray) -> None:
        """Encode one sRGB frame (``encoder_frame``'s) into segment ``segment``."""
        if self.out is None:
            self._open(segment)
        frame = encoder_frame(rgb, (self.width, self.height), self.pix_fmt)
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
        save_state(self.parts / f"{name}.npz", {**state, "pts": self.pts})
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


def save_state(path: Path, state: dict) -> None:
    from colouru.atomic import atomic_file

    with atomic_file(path) as f:
        np.savez(f, ab=state["ab"], hints=np.array(hints_as_json_list(state["hints"])),
                 frames=np.array(state["frames"]), rotation=np.array(state["rotation"]),
                 pts=np.array(state["pts"], dtype=np.int64),
                 shift=np.array(state.get("shift", 0), dtype=np.int64))


def load_state(path: Path) -> dict:
    with np.load(path, allow_pickle=False) as z:
        ab = z["ab"]
        return {"ab": None if ab.size == 0 else ab.astype(np.float32),
                "hints": hints_from_json_list(str(z["hints"])), "frames": int(z["frames"]),
                "rotation": int(z["rotation"]), "pts": z["pts"].tolist(),
                "shift": int(z["shift"]) if "shift" in z else 0}


# --- the parts folder: segments and their states -------------------------------------------
def parts_folder(dst: Path) -> Path:
    """Where a film's finished segments wait to be joined (hidden, beside the output)."""
    return dst.parent / f".{dst.name}.colouru-parts"


def others_writing(parts: Path) -> bool:
    """Whether another live process has a temporary file in ``parts`` (it is writing there)."""
    for p in parts.glob(".colouru-*.tmp"):
        tag = p.name.split("-")
        if len(tag) > 2 and tag[2] == str(os.getpid()):
            continue
        if not is_leftover(p):
            return True
    return False


def finished_segments(parts: Path, ext: str) -> int:
    """How many segments from the first on are whole (the film file and its state)."""
    k = 0
    while (parts / f"{k:06d}{ext}").is_file() and (parts / f"{k:06d}.npz").is_file():
        k += 1
    return k


# --- joining -------------------------------------------------------------------------------
def _segment_packets(parts: Path, ext: str, count: int, time_base: Fraction) -> Iterator:
    """The video packets of segments 0 .. count - 1, in order, with their time in seconds.
    Each packet is one frame (no B-frames: decode order is show order) and gets the time its
    frame had in the source, as the segment's state recorded it: exact in every container
    (an AVI stores none, an MP4 segment's start is an edit list, MKV rounds to milliseconds)."""
    import av

    for k in range(count):
        times = load_state(parts / f"{k:06d}.npz")["pts"]
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


def _audio_window(parts: Path, count: int, time_base: Fraction,
                  rate: Fraction | None) -> tuple[Fraction, Fraction, Fraction]:
    """A range's audio: ``(from, to, shift)`` in seconds of the source, from its first
    frame's time to its last frame's end, and how far its frames were moved back."""
    head, tail = load_state(parts / "000000.npz"), load_state(parts / f"{count - 1:06d}.npz")
    shift = head["shift"] * Fraction(time_base)
    frame_s = 1 / Fraction(rate) if rate else Fraction(0)
    return (head["pts"][0] * Fraction(time_base) + shift,
            tail["pts"][-1] * Fraction(time_base) + shift + frame_s, shift)


def join_segments(info: VideoInfo, parts: Path, ext: str, dst: Path, fmt: str, rotation: int,
                  overwrite: bool, trim: bool = False) -> None:
    """The segments and the source's audio, chapters and metadata, muxed into a temporary file
    published as ``dst`` (never replacing a file unless ``overwrite``). ``trim``: the segments
    are a range of the film (``FrameReader``): the audio packets that start within its time
    are taken, moved back as its frames were, and the chapters are left out."""
    import heapq

    import av

    count = finished_segments(parts, ext)
    fd, tmp = temporary_beside(dst)
    os.close(fd)
    try:
        with av.open(str(parts / f"{0:06d}{ext}")) as first, open_input(info.path) as src:
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
                window = None
                if trim:
                    window = _audio_window(parts, count, sv.time_base, sv.average_rate)
                else:
                    with contextlib.suppress(Exception):
                        out.set_chapters(src.chapters())

                def audio():
                    if not streams:
                        return
                    for pkt in src.demux([src.streams[i] for i in streams]):
                        if pkt.size == 0 or pkt.dts is None and pkt.pts is None:
                            continue
                        if window is not None:
                            begin, end, shift = window
                            if not begin <= _when(pkt) < end:
                                continue
                            back = round(shift / pkt.time_base)
                            pkt.dts = None if pkt.dts is None else pkt.dts - back
                            pkt.pts = None if pkt.pts is None else pkt.pts - back
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
        raise VideoWriteError(f"{dst}: cannot write the film ({ffmpeg_reason(e)})") from None
    except OSError as e:
        raise VideoWriteError(f"{dst}: cannot write ({e.strerror or e})") from None
    finally:
        Path(tmp).unlink(missing_ok=True)
