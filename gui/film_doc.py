"""A film in the app, free of Qt: its frames, where the user is, and the keyframes' hints.

Hints and strokes belong to the frame they were placed on: a keyframe. A frame between two
keyframes takes the earlier keyframe's hints (``hints_at``; the window then shows them carried
along the motion as the export, ``colouru.video.colorize_video``, carries them). An empty
keyframe clears the hints from there on, as in the film's hints file
(``colouru.video_hints``), which this maps to and from. The range to export (``range_start``,
``range_end``) is the frames ``colouru colorize --start --end`` takes (``export_range``).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from colouru.hints import Hint, Stroke
from colouru.video_hints import VideoHints

Items = tuple[Hint | Stroke, ...]


@dataclass
class FilmDoc:
    """One opened film: its size, frame count and rate, the frame shown, the keyframes."""

    path: Path
    width: int
    height: int
    frames: int  # frame count (>= 1)
    rate: float = 24.0  # frames a second (for Shift+arrow steps, playback and the label)
    frame: int = 0  # the frame shown
    keyframes: dict[int, Items] = field(default_factory=dict)
    range_start: int | None = None  # the range to export: its first frame (None: frame 0)
    range_end: int | None = None  # its last frame, included (None: the film's last)

    @property
    def last(self) -> int:
        return self.frames - 1

    def clamp(self, frame: int) -> int:
        return min(max(int(frame), 0), self.last)

    @property
    def second(self) -> int:
        """Frames in a second (at least 1): Shift+arrow's step."""
        return max(1, round(self.rate))

    def key_of(self, frame: int) -> int | None:
        """The keyframe whose hints ``frame`` shows: the nearest at or before it (None: no
        keyframe yet)."""
        keys = sorted(self.keyframes)
        i = bisect_right(keys, frame)
        return keys[i - 1] if i else None

    def hints_at(self, frame: int) -> Items:
        key = self.key_of(frame)
        return () if key is None else self.keyframes[key]

    def keyframe(self, frame: int) -> Items | None:
        """The hints of keyframe ``frame`` (None: it is no keyframe)."""
        return self.keyframes.get(frame)

    def set_keyframe(self, frame: int, items: Sequence[Hint | Stroke] | None) -> None:
        """Make ``frame`` a keyframe with these hints (None: no keyframe there)."""
        if items is None:
            self.keyframes.pop(frame, None)
        else:
            self.keyframes[self.clamp(frame)] = tuple(items)

    @property
    def has_range(self) -> bool:
        return self.range_start is not None or self.range_end is not None

    def set_range(self, start: int | None, end: int | None) -> None:
        """The range to export, both ends included (None: the film's first or last frame);
        an end before the start moves the other end onto it."""
        start = None if start is None else self.clamp(start)
        end = None if end is None else self.clamp(end)
        if start is not None and end is not None and end < start:
            if start != self.range_start:
                end = start
            else:
                start = end
        self.range_start, self.range_end = start, end

    def export_range(self) -> tuple[int, int]:
        """``(first, stop)``: the range's frames, ``stop`` excluded, as ``colorize_video``'s
        ``start`` and ``end`` take them."""
        first = self.range_start or 0
        last = self.last if self.range_end is None else self.range_end
        return first, last + 1

    def neighbour_key(self, frame: int, step: int) -> int | None:
        """The next keyframe after ``frame`` (``step`` > 0) or the one before it (< 0)."""
        keys = sorted(self.keyframes)
        if step > 0:
            after = [k for k in keys if k > frame]
            return after[0] if after else None
        before = [k for k in keys if k < frame]
        return before[-1] if before else None

    def time_text(self, frame: int) -> str:
        """``frame 12 / 240 · 0:00.50``."""
        seconds = frame / self.rate if self.rate > 0 else 0.0
        return (f"frame {frame} / {self.last} · {int(seconds // 60)}:"
                f"{seconds % 60:05.2f}")

    # -- the film's hints file ------------------------------------------------------------------
    def video_hints(self, saturation: float = 1.0) -> VideoHints:
        """The keyframes as the command line reads them (``colouru.video_hints``)."""
        return VideoHints({k: list(v) for k, v in sorted(self.keyframes.items())}, saturation,
                          (self.width, self.height))

    def take_hints(self, doc: VideoHints) -> list[int]:
        """Replace the keyframes by a hints file's; returns the keyframes past the film's end
        (dropped)."""
        self.keyframes = {k: tuple(v) for k, v in doc.frames.items() if k <= self.last}
        return [k for k in doc.frames if k > self.last]

