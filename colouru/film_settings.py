"""Films' settings: their defaults and ranges, and which file names are films.

Pure Python (no numpy, OpenCV or PyAV), so the command line builds its help and collects its
inputs without loading them; ``colouru.temporal`` and ``colouru.video`` take their defaults
from here.
"""

from __future__ import annotations

import os
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
