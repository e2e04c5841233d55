"""Hints for a film: hints and strokes on keyframes, by frame number.

A film's hints file is the photo format (``colouru.hints``) with ``frames`` in place of
``hints``: an object whose keys are frame numbers (counted from 0, in the order the frames are
shown) and whose values each hold that keyframe's ``hints`` list, squares and strokes as in a
photo's file, in the frame's own pixels::

    {"version": 2,
     "image": {"width": 640, "height": 480},
     "saturation": 1.2,
     "frames": {"0": {"hints": [{"x": 120, "y": 80, "size": 9, "rgb": "#c03020"}]},
                "240": {"hints": [{"stroke": [[40, 300], [90, 290]], "width": 8,
                                   "ab": [-20, 30]}]}}}

From its keyframe on, each hint follows the motion (``colouru.temporal.move_hints``) until the
next keyframe replaces the whole set (an empty list clears it), the film cuts to a new shot,
or its point is hidden or leaves the frame. A photo's hints file is read as the hints of
frame 0. ``version``, ``image`` and ``saturation`` mean what they mean for a photo; a stroke
needs version 2.

Pure (json and the hint records; no numpy arrays, no torch).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from colouru.hints import (
    FORMAT_VERSION,
    STROKES_VERSION,
    Hint,
    HintsFileError,
    Stroke,
    check_saturation,
    read_hints_doc,
    read_hints_text,
)

MAX_KEYFRAME = 10**9  # frame numbers above this are no film's (a day at 10,000 frames/s)


@dataclass(frozen=True)
class VideoHints:
    """A film's keyframe hints: ``frames`` maps a frame number to its hints and strokes."""

    frames: Mapping[int, list] = field(default_factory=dict)  # frame -> [Hint | Stroke]
    saturation: float = 1.0  # the result's chroma factor, as a photo's
    image_size: tuple[int, int] | None = None  # (width, height) of the frames, when recorded
    source: str = "<hints>"  # the file it was read from
    photo_file: bool = False  # read from a photo's hints file (frame 0's hints)

    @property
    def hints(self) -> list:
        """The file as a photo sees it (``HintsDoc.hints``), so one ``--hints FILE`` serves a
        batch of photos and films: a photo's file gives its hints; a film's file cannot serve
        a photo (``HintsFileError``)."""
        if not self.photo_file:
            raise HintsFileError(f"{self.source}: a film's hints file (hints by frame); a photo "
                                 f"needs a photo's hints file")
        return list(self.frames.get(0, []))

    def keyframe(self, index: int) -> list | None:
        """The hints that frame ``index`` starts afresh with, or None when it is no keyframe."""
        got = self.frames.get(index)
        return None if got is None else list(got)


def read_video_hints(text: str, source: str = "<hints>") -> VideoHints:
    """Parse a film's hints JSON (or a photo's: frame 0's hints); ``HintsFileError`` (one
    line, naming the source and the frame) for anything wrong."""
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise HintsFileError(f"{source}: not valid JSON ({e.msg} at line {e.lineno})") from None
    except (RecursionError, ValueError):
        raise HintsFileError(f"{source}: not a hints file") from None
    if not (isinstance(doc, dict) and "frames" in doc):
        photo = read_hints_doc(text, source)
        return VideoHints({0: list(photo.hints)} if photo.hints else {}, photo.saturation,
                          photo.image_size, source, photo_file=True)
    if "hints" in doc:
        raise HintsFileError(f"{source}: give either 'hints' (a photo's) or 'frames' (a "
                             f"film's), not both")
    frames = doc["frames"]
    if not isinstance(frames, dict):
        raise HintsFileError(f"{source}: 'frames' must be an object of frame number -> "
                             f"{{\"hints\": [...]}}")
    head = {k: v for k, v in doc.items() if k != "frames"}
    # The version, image and saturation are checked as a photo file's.
    base = read_hints_doc(json.dumps({**head, "hints": []}), source)
    out: dict[int, list] = {}
    for key, entry in frames.items():
        if not (key.isdigit() and int(key) <= MAX_KEYFRAME):
            raise HintsFileError(f"{source}: frame {key!r} is not a frame number (0, 1, 2 ...)")
        if not (isinstance(entry, dict) and set(entry) == {"hints"}):
            raise HintsFileError(f"{source}: frame {key} must be {{\"hints\": [...]}}")
        sub = json.dumps({"version": head.get("version"), "hints": entry["hints"]})
        if int(key) in out:
            raise HintsFileError(f"{source}: frame {int(key)} is given twice")
        out[int(key)] = list(read_hints_doc(sub, f"{source} frame {key}").hints)
    return VideoHints(dict(sorted(out.items())), base.saturation, base.image_size, source)


def load_video_hints(path: str | os.PathLike) -> VideoHints:
    """Read a film's (or a photo's) hints file of at most ``MAX_HINTS_BYTES``; whatever is
    wrong, a ``HintsFileError`` with one line naming it."""
    text = read_hints_text(path)
    return read_video_hints(text, source=str(path))


def video_hints_to_json(frames: Mapping[int, Iterable[Hint | Stroke]],
                        image_size: tuple[int, int] | None = None,
                        saturation: float = 1.0) -> str:
    """A film's hints as JSON text: version 2 when there is a stroke, else 1."""
    items = {int(k): list(v) for k, v in sorted(frames.items())}
    strokes = any(isinstance(h, Stroke) for v in items.values() for h in v)
    doc: dict = {"version": STROKES_VERSION if strokes else FORMAT_VERSION}
    if image_size is not None:
        doc["image"] = {"width": int(image_size[0]), "height": int(image_size[1])}
    saturation = check_saturation(saturation)
    if saturation != 1.0:
        doc["saturation"] = saturation
    doc["frames"] = {str(k): {"hints": [h.to_dict() for h in v]} for k, v in items.items()}
    return json.dumps(doc, indent=1) + "\n"


def save_video_hints(path: str | os.PathLike, frames: Mapping[int, Iterable[Hint | Stroke]],
                     image_size: tuple[int, int] | None = None, saturation: float = 1.0) -> None:
    """Write a film's hints file atomically (``video_hints_to_json``)."""
    from colouru.atomic import atomic_write_bytes

    text = video_hints_to_json(frames, image_size, saturation)
    atomic_write_bytes(Path(path), text.encode("utf-8"))


def hints_as_json_list(hints: Iterable[Hint | Stroke]) -> str:
    """Hints and strokes as a compact JSON list with every float exact (``repr``): the hints
    a film carries at a segment's end, stored so a resumed run goes on with the same ones."""
    out = []
    for h in hints:
        if isinstance(h, Stroke):
            out.append({"stroke": [list(p) for p in h.points], "width": h.width,
                        "ab": list(h.ab)})
        else:
            out.append({"x": h.x, "y": h.y, "size": h.size, "ab": list(h.ab)})
    return json.dumps(out)


def hints_from_json_list(text: str) -> list[Hint | Stroke]:
    """``hints_as_json_list``'s inverse, exactly."""
    return [Stroke(d["stroke"], d["width"], ab=d["ab"]) if "stroke" in d
            else Hint(d["x"], d["y"], d["size"], ab=d["ab"]) for d in json.loads(text)]
