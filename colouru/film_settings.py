"""Films' settings: their defaults and ranges, and which file names are films.

Pure Python (no numpy, OpenCV or PyAV), so the command line builds its help and collects its
inputs without loading them; ``colouru.temporal`` and ``colouru.video`` take their defaults
from here.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import PurePath

# Carried colour's weight where the flow is fully trusted (0: each frame on its own). At 0.8
# the benchmark clip's flicker falls to about a third; above 0.9 colour lags behind real change.
DEFAULT_CARRY = 0.8
MAX_CARRY = 0.95
DEFAULT_CRF = 18  # H.264's constant rate factor (0 lossless .. 51); 18 looks like the source
MAX_CRF = 63  # VP9's scale goes to 63, H.264's to 51
DEFAULT_PRESET = "medium"  # x264's speed preset
X264_PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow",
                "slower", "veryslow")
# Output container by the output's extension (the command line keeps the input's).
VIDEO_EXTENSIONS = {".mp4": "mp4", ".m4v": "mp4", ".mov": "mov", ".mkv": "matroska",
                    ".webm": "webm", ".avi": "avi"}


def is_video_path(path: str | os.PathLike) -> bool:
    """Whether a file's name says it is a film ColourU reads (its content is checked later)."""
    return PurePath(path).suffix.lower() in VIDEO_EXTENSIONS


# --- a range of frames: --start / --end ----------------------------------------------------
@dataclass(frozen=True)
class Position:
    """A place in a film, as ``--start`` / ``--end`` give it: a frame number (``frame``) or a
    time in seconds from the film's start (``seconds``); ``parse_position`` makes one."""

    frame: int | None = None
    seconds: float | None = None

    def to_frame(self, rate: float | None) -> int:
        """The frame number: the frame on screen at this time (the film's average ``rate``,
        frames a second). ``ValueError`` for a time in a film without a known rate."""
        if self.frame is not None:
            return self.frame
        if not rate:
            raise ValueError("the film has no known frame rate: give the range in frames")
        return math.floor(self.seconds * float(rate) + 1e-6)

    def __str__(self) -> str:
        return f"frame {self.frame}" if self.frame is not None else f"{self.seconds:g} s"


_TIME = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:\.\d*)?)$")


def parse_position(text: str | int) -> Position:
    """``"240"`` (frame 240, counted from 0), ``"10s"`` / ``"10.5s"`` (seconds), ``"1:05"``,
    ``"1:05.5"``, ``"1:02:05"`` (minutes or hours, minutes and seconds) -> a ``Position``;
    ``ValueError`` (one line) for anything else."""
    if isinstance(text, int) and not isinstance(text, bool):
        if text < 0:
            raise ValueError(f"a frame number is 0 or more, got {text}")
        return Position(frame=text)
    s = str(text).strip()
    if s.isdigit():
        return Position(frame=int(s))
    if s.endswith("s") and re.fullmatch(r"\d+(\.\d*)?", s[:-1]):
        return Position(seconds=float(s[:-1]))
    m = _TIME.match(s)
    if m and float(m.group(3)) < 60 and (m.group(1) is None or int(m.group(2)) < 60):
        h, mi, sec = int(m.group(1) or 0), int(m.group(2)), float(m.group(3))
        return Position(seconds=h * 3600 + mi * 60 + sec)
    raise ValueError(f"{text!r} is no frame or time (a frame number like 240, or a time like "
                     f"10s, 10.5s, 1:05 or 1:02:05.5)")
