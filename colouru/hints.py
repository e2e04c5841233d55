"""Colour hints: the ``Hint`` and ``Stroke`` records, their JSON file format, where a square lies.

A hint is a small square of colour the user places on the photo. Its centre ``(x, y)`` and
side ``size`` are in the photo's own pixels (so a hints file is independent of the network's
working size); its colour is stored as CIE ab (an sRGB colour's own lightness is ignored: the
photo keeps its L). A stroke is a brush stroke of one colour: a polyline of points and a width,
in the photo's pixels.

A hints file is JSON: ``{"version": 1, "image": {"width": W, "height": H}, "saturation": s,
"hints": [...]}`` (``image`` and ``saturation`` optional), each item a square
``{"x", "y", "size", "ab": [a, b] | "rgb": "#rrggbb"}``; version 2 also allows strokes,
``{"stroke": [[x, y], ...], "width", "ab" | "rgb"}``, and is written only when there are
strokes, so files without them stay readable by older ColourU.

``hint_box`` is where a hint's square lies on a grid of any size; drawing hints and strokes
into the network's hint channels is ``colouru.rasterize``'s.
"""

from __future__ import annotations

import json
import math
import os
import re
import stat
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from colouru.colour import rgb_to_lab

FORMAT_VERSION = 1  # the version written when there are no strokes
STROKES_VERSION = 2  # version 2: items may also be strokes; written only when there are some
READ_VERSIONS = (FORMAT_VERSION, STROKES_VERSION)
# The global saturation (chroma factor of the result, ``colouru.finish.saturate``): its range,
# inclusive; 1.0 leaves the colours as the network and the hints made them, 0 is grey.
SATURATION_RANGE = (0.0, 3.0)
# Largest hints file read (a million hints take about 60 MB; a photo rarely has a hundred).
MAX_HINTS_BYTES = 64 << 20
# Most hints and stroke points one file may hold, all together (the app simplifies a stroke to a
# few points; a photo rarely has a hundred hints). Counted in the text before it is parsed, so
# a file of ten million points is refused before it takes gigabytes as Python objects.
MAX_FILE_ITEMS = 1_000_000
# Largest coordinate, square side or brush width, in image pixels: no photo is wider (PNG and
# TIFF stop at 2**31 pixels a side). Larger numbers cannot mean a place on a photo; bounded,
# they cannot overflow anything the rasterizer and the finishing step compute from them.
MAX_EXTENT = float(1 << 31)
_HEX = re.compile(r"^#?([0-9a-fA-F]{6})$")


class HintsFileError(ValueError):
    """A hints file that cannot be read; the message says what and where."""


def rgb_hex_to_ab(rgb: str) -> tuple[float, float]:
    """``"#c03020"`` -> its CIE (a, b); the colour's own L is dropped."""
    m = _HEX.match(rgb.strip())
    if not m:
        raise ValueError(f"colour {rgb!r} is not of the form '#rrggbb'")
    v = int(m.group(1), 16)
    srgb = np.array([(v >> 16) & 255, (v >> 8) & 255, v & 255], dtype=np.float32) / 255.0
    lab = rgb_to_lab(srgb)
    return float(lab[1]), float(lab[2])


@dataclass(frozen=True)
class Hint:
    """One square colour hint, in the photo's pixel coordinates.

    ``x``, ``y``: centre (column, row) in image pixels; ``size``: side length in image pixels
    (> 0); ``ab``: CIE a and b. Construct with ``ab=(a, b)`` or ``rgb="#rrggbb"``.
    """

    x: float
    y: float
    size: float
    ab: tuple[float, float] = (0.0, 0.0)

    def __init__(self, x, y, size, ab=None, rgb=None):
        if (ab is None) == (rgb is None):
            raise ValueError("a Hint needs exactly one of ab=(a, b) or rgb='#rrggbb'")
        if rgb is not None:
            if not isinstance(rgb, str):
                raise ValueError(f"hint rgb must be a string '#rrggbb', got {rgb!r}")
            ab = rgb_hex_to_ab(rgb)
        try:
            a, b = ab
            a, b, x, y, size = (_number(v) for v in (a, b, x, y, size))
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"bad hint values: x={_short(x)} y={_short(y)} size={_short(size)} "
                             f"ab={_short(ab)} (numbers expected)") from None
        for name, v in (("x", x), ("y", y), ("size", size), ("a", a), ("b", b)):
            if not math.isfinite(v):
                raise ValueError(f"hint {name} must be a finite number, got {v!r}")
        if size <= 0:
            raise ValueError(f"hint size must be positive, got {size!r}")
        for name, v in (("x", x), ("y", y), ("size", size)):
            _check_extent("hint", name, v)
        if not (-128.0 <= a <= 128.0 and -128.0 <= b <= 128.0):
            raise ValueError(f"hint ab must lie in -128..128, got ({a}, {b})")
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "size", size)
        object.__setattr__(self, "ab", (a, b))

    def to_dict(self) -> dict:
        return {"x": _num(self.x), "y": _num(self.y), "size": _num(self.size),
                "ab": [round(self.ab[0], 3), round(self.ab[1], 3)]}

    def moved(self, x: float, y: float) -> Hint:
        return Hint(x, y, self.size, ab=self.ab)

    def with_ab(self, ab: Sequence[float]) -> Hint:
        return Hint(self.x, self.y, self.size, ab=tuple(ab))

    def with_size(self, size: float) -> Hint:
        return Hint(self.x, self.y, size, ab=self.ab)


# Most points one stroke may have (a stroke drawn for a minute at 60 points a second has 3,600).
MAX_STROKE_POINTS = 100_000


@dataclass(frozen=True)
class Stroke:
    """A brush stroke of one colour, in the photo's pixel coordinates.

    ``points``: the polyline's points ``((x, y), ...)`` (at least one; one point is a round
    dab); ``width``: the brush's diameter in image pixels (> 0); ``ab``: CIE a and b.
    Construct with ``ab=(a, b)`` or ``rgb="#rrggbb"``.
    """

    points: tuple[tuple[float, float], ...]
    width: float
    ab: tuple[float, float] = (0.0, 0.0)

    def __init__(self, points, width, ab=None, rgb=None):
        if (ab is None) == (rgb is None):
            raise ValueError("a Stroke needs exactly one of ab=(a, b) or rgb='#rrggbb'")
        if rgb is not None:
            if not isinstance(rgb, str):
                raise ValueError(f"stroke rgb must be a string '#rrggbb', got {rgb!r}")
            ab = rgb_hex_to_ab(rgb)
        try:
            a, b = ab
            a, b, width = (_number(v) for v in (a, b, width))
            pts = tuple((_number(x), _number(y)) for x, y in points)
        except (TypeError, ValueError, OverflowError):
            raise ValueError(f"bad stroke values: points={_short(points)} width={_short(width)} "
                             f"ab={_short(ab)} (numbers expected, points as [[x, y], ...])"
                             ) from None
        if not pts:
            raise ValueError("a stroke needs at least one point")
        if len(pts) > MAX_STROKE_POINTS:
            raise ValueError(f"a stroke has at most {MAX_STROKE_POINTS} points, got {len(pts)}")
        for name, v in (("width", width), ("a", a), ("b", b)):
            if not math.isfinite(v):
                raise ValueError(f"stroke {name} must be a finite number, got {v!r}")
        if not all(math.isfinite(x) and math.isfinite(y) for x, y in pts):
            raise ValueError("stroke points must be finite numbers")
        if width <= 0:
            raise ValueError(f"stroke width must be positive, got {width!r}")
        _check_extent("stroke", "width", width)
        for x, y in pts:
            if not (abs(x) <= MAX_EXTENT and abs(y) <= MAX_EXTENT):
                _check_extent("stroke", "point x", x)
                _check_extent("stroke", "point y", y)
        if not (-128.0 <= a <= 128.0 and -128.0 <= b <= 128.0):
            raise ValueError(f"stroke ab must lie in -128..128, got ({a}, {b})")
        object.__setattr__(self, "points", pts)
        object.__setattr__(self, "width", width)
        object.__setattr__(self, "ab", (a, b))

    def to_dict(self) -> dict:
        return {"stroke": [[_num(x), _num(y)] for x, y in self.points],
                "width": _num(self.width),
                "ab": [round(self.ab[0], 3), round(self.ab[1], 3)]}

    def moved(self, dx: float, dy: float) -> Stroke:
        """The same stroke shifted by ``(dx, dy)`` image pixels."""
        return Stroke([(x + dx, y + dy) for x, y in self.points], self.width, ab=self.ab)

    def with_ab(self, ab: Sequence[float]) -> Stroke:
        return Stroke(self.points, self.width, ab=tuple(ab))

    def with_width(self, width: float) -> Stroke:
        return Stroke(self.points, width, ab=self.ab)

    def bounds(self) -> tuple[float, float, float, float]:
        """``(x0, y0, x1, y1)``: the box the brush covers, in image pixels."""
        r = self.width / 2
        xs, ys = [p[0] for p in self.points], [p[1] for p in self.points]
        return min(xs) - r, min(ys) - r, max(xs) + r + 1, max(ys) + r + 1


def _check_extent(what: str, name: str, v: float) -> None:
    """Refuse a coordinate or size beyond ``MAX_EXTENT`` pixels (no photo is that large)."""
    if not abs(v) <= MAX_EXTENT:
        n = f"{MAX_EXTENT:.0f}"
        bound = f"be at most {n}" if name in ("size", "width") else f"lie between -{n} and {n}"
        raise ValueError(f"{what} {name} must {bound} pixels (no photo is larger), got {v:g}")


def _short(v, limit: int = 24) -> str:
    r = repr(v)
    return r if len(r) <= limit else r[:limit - 3] + "..."


def _number(v) -> float:
    """A real number as float; strings and booleans are refused (TypeError)."""
    if isinstance(v, (str, bytes, bool, np.bool_)):
        raise TypeError(f"{v!r} is not a number")
    return float(v)


def _num(v: float):
    return int(v) if float(v).is_integer() else round(v, 3)


# --- JSON ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class HintsDoc:
    """A hints file's content: its hints and strokes, and the session settings beside them."""

    hints: list  # Hint | Stroke, in drawing order (later items draw over earlier ones)
    saturation: float = 1.0  # the result's chroma factor, in SATURATION_RANGE
    image_size: tuple[int, int] | None = None  # (width, height) of the photo, when recorded


def check_saturation(saturation) -> float:
    """``saturation`` as a float; ValueError (one line) unless a finite number in
    ``SATURATION_RANGE``."""
    lo, hi = SATURATION_RANGE
    try:
        s = _number(saturation)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"saturation must be a number, got {_short(saturation)}") from None
    if not (math.isfinite(s) and lo <= s <= hi):
        raise ValueError(f"saturation must lie in {lo:g}..{hi:g}, got {s!r}")
    return s


def hints_to_json(hints: Iterable[Hint | Stroke], image_size: tuple[int, int] | None = None,
                  saturation: float = 1.0) -> str:
    """Serialise hints and strokes to JSON text: version 1 when there are no strokes (what
    every ColourU reads), version 2 when there are. ``image_size``: optional (width, height);
    ``saturation`` is written only when it is not 1."""
    items = list(hints)
    version = STROKES_VERSION if any(isinstance(h, Stroke) for h in items) else FORMAT_VERSION
    doc: dict = {"version": version}
    if image_size is not None:
        doc["image"] = {"width": int(image_size[0]), "height": int(image_size[1])}
    saturation = check_saturation(saturation)
    if saturation != 1.0:
        doc["saturation"] = saturation
    doc["hints"] = [h.to_dict() for h in items]
    return json.dumps(doc, indent=1) + "\n"


def read_hints_doc(text: str, source: str = "<hints>") -> HintsDoc:
    """Parse hints JSON of version 1 or 2; raises ``HintsFileError`` (one line) naming the
    source and the item at fault."""
    # Each point and each square's ab is a '[', each item a '{': an upper bound on the objects
    # parsing would make, known before any is made.
    items = text.count("[") + text.count("{")
    if items > MAX_FILE_ITEMS:
        raise HintsFileError(f"{source}: too many hints and stroke points (about {items:,}; a "
                             f"hints file holds at most {MAX_FILE_ITEMS:,})")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as e:
        raise HintsFileError(f"{source}: not valid JSON ({e.msg} at line {e.lineno})") from None
    except RecursionError:
        raise HintsFileError(f"{source}: not a hints file (brackets nested too deeply)") from None
    except ValueError:  # an integer past Python's digit limit (sys.get_int_max_str_digits)
        raise HintsFileError(f"{source}: not a hints file (a number with too many digits)"
                             ) from None
    if not isinstance(doc, dict):
        raise HintsFileError(f"{source}: expected a JSON object with 'version' and 'hints'")
    version = doc.get("version")
    if isinstance(version, bool) or version not in READ_VERSIONS:
        raise HintsFileError(
            f"{source}: unsupported hints format version {_short(version)} "
            f"(this ColourU reads {' and '.join(map(str, READ_VERSIONS))})"
        )
    items = doc.get("hints")
    if not isinstance(items, list):
        raise HintsFileError(f"{source}: 'hints' must be a list")
    image = doc.get("image")
    if image is not None and not (
            isinstance(image, dict)
            and all(isinstance(image.get(k), int) and not isinstance(image.get(k), bool)
                    and image[k] > 0 for k in ("width", "height"))):
        raise HintsFileError(f"{source}: 'image' must be {{\"width\": W, \"height\": H}} "
                             f"with positive whole numbers")
    saturation = doc.get("saturation", 1.0)
    try:
        saturation = check_saturation(saturation)
    except ValueError as e:
        raise HintsFileError(f"{source}: {e}") from None
    hints = []
    for i, item in enumerate(items):
        if not isinstance(item, dict):
            raise HintsFileError(f"{source}: hint {i} must be an object")
        if "stroke" in item:
            if version < STROKES_VERSION:
                raise HintsFileError(f"{source}: hint {i} is a stroke, which needs version "
                                     f"{STROKES_VERSION} (this file says version {version})")
            hints.append(_stroke_item(item, i, source))
        else:
            hints.append(_hint_item(item, i, source))
    size = None if image is None else (image["width"], image["height"])
    return HintsDoc(hints, saturation, size)


def _colour_of(item: dict, what: str, source: str) -> list | None:
    """The item's ``ab`` (checked to be a list of two) or None when it gives ``rgb``."""
    if ("ab" in item) == ("rgb" in item):
        raise HintsFileError(f"{source}: {what} needs exactly one of 'ab' or 'rgb'")
    if "rgb" in item and not isinstance(item["rgb"], str):
        raise HintsFileError(f"{source}: {what} 'rgb' must be a string '#rrggbb'")
    ab = item.get("ab")
    if ab is not None and not (isinstance(ab, list) and len(ab) == 2):
        raise HintsFileError(f"{source}: {what} 'ab' must be a list [a, b]")
    return ab


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _hint_item(item: dict, i: int, source: str) -> Hint:
    unknown = set(item) - {"x", "y", "size", "ab", "rgb"}
    if unknown:
        raise HintsFileError(f"{source}: hint {i} has unknown keys {sorted(unknown)}")
    missing = {"x", "y", "size"} - set(item)
    if missing:
        raise HintsFileError(f"{source}: hint {i} is missing {sorted(missing)}")
    ab = _colour_of(item, f"hint {i}", source)
    if not all(map(_is_num, [item[k] for k in ("x", "y", "size")] + (ab or []))):
        raise HintsFileError(f"{source}: hint {i} x, y, size and ab must be numbers")
    try:
        return Hint(item["x"], item["y"], item["size"], ab=ab, rgb=item.get("rgb"))
    except (TypeError, ValueError) as e:
        raise HintsFileError(f"{source}: hint {i}: {e}") from None


def _stroke_item(item: dict, i: int, source: str) -> Stroke:
    what = f"hint {i} (a stroke)"
    unknown = set(item) - {"stroke", "width", "ab", "rgb"}
    if unknown:
        raise HintsFileError(f"{source}: {what} has unknown keys {sorted(unknown)}")
    if "width" not in item:
        raise HintsFileError(f"{source}: {what} is missing ['width']")
    ab = _colour_of(item, what, source)
    points = item["stroke"]
    if not (isinstance(points, list) and points and all(
            isinstance(p, list) and len(p) == 2 and all(map(_is_num, p)) for p in points)):
        raise HintsFileError(f"{source}: {what} 'stroke' must be a list of one or more points "
                             f"[x, y] of numbers")
    if not all(map(_is_num, [item["width"]] + (ab or []))):
        raise HintsFileError(f"{source}: {what} width and ab must be numbers")
    try:
        return Stroke(points, item["width"], ab=ab, rgb=item.get("rgb"))
    except (TypeError, ValueError) as e:
        raise HintsFileError(f"{source}: {what}: {e}") from None


def hints_from_json(text: str, source: str = "<hints>") -> list[Hint | Stroke]:
    """The hints and strokes of hints JSON (``read_hints_doc(text, source).hints``)."""
    return read_hints_doc(text, source).hints


def load_hints(path: str | os.PathLike) -> list[Hint | Stroke]:
    """The hints and strokes of a hints file (``load_hints_doc(path).hints``)."""
    return load_hints_doc(path).hints


def read_hints_text(path: str | os.PathLike) -> str:
    """The text of a hints file (or a pipe) of at most ``MAX_HINTS_BYTES``, a byte-order mark
    tolerated. Whatever is wrong, a ``HintsFileError`` with one line naming it; a device
    (``/dev/zero`` never ends) is refused unread."""
    path = Path(path)
    try:
        kind = path.stat().st_mode
        if stat.S_ISCHR(kind) or stat.S_ISBLK(kind) or stat.S_ISSOCK(kind):
            raise HintsFileError(f"{path}: not a regular file (a device?)")
        with open(path, "rb") as f:
            data = f.read(MAX_HINTS_BYTES + 1)
        if len(data) > MAX_HINTS_BYTES:
            raise HintsFileError(f"{path}: larger than {MAX_HINTS_BYTES >> 20} MB, not a hints "
                                 f"file")
        return data.decode("utf-8-sig")
    except (OSError, UnicodeDecodeError) as e:
        raise HintsFileError(
            f"{path}: cannot read hints file ({e.__class__.__name__}: {e})") from None
    except MemoryError:
        raise HintsFileError(f"{path}: not enough memory to read this hints file") from None


def load_hints_doc(path: str | os.PathLike) -> HintsDoc:
    """Read a hints JSON file (``read_hints_text``), version 1 or 2. Whatever is wrong with
    the file, the only exception is a ``HintsFileError`` with a one-line message naming it."""
    return read_hints_doc(read_hints_text(path), source=str(path))


def save_hints(path: str | os.PathLike, hints: Iterable[Hint | Stroke],
               image_size: tuple[int, int] | None = None, saturation: float = 1.0) -> None:
    """Write hints and strokes as JSON (``hints_to_json``), atomically (temporary file then
    rename)."""
    from colouru.atomic import atomic_write_bytes

    text = hints_to_json(hints, image_size, saturation)
    atomic_write_bytes(Path(path), text.encode("utf-8"))


# --- where a square lies ------------------------------------------------------------------------
def hint_square(hint: Hint, image_hw: tuple[int, int], out_hw: tuple[int, int]):
    """The pixel box ``(x0, y0, x1, y1)`` (end-exclusive) of ``hint``'s square in an
    ``out_hw`` grid laid over an image of ``image_hw`` pixels, at least 1 x 1, not clipped."""
    (ih, iw), (oh, ow) = image_hw, out_hw
    sx, sy = ow / iw, oh / ih
    side_x = max(1, int(round(hint.size * sx)))
    side_y = max(1, int(round(hint.size * sy)))
    # Pixel i covers [i, i+1); the centre pixel (x, y) has its middle at x + 0.5.
    cx, cy = (hint.x + 0.5) * sx, (hint.y + 0.5) * sy
    x0 = int(math.floor(cx - side_x / 2 + 0.5))
    y0 = int(math.floor(cy - side_y / 2 + 0.5))
    return x0, y0, x0 + side_x, y0 + side_y


def hint_box(hint: Hint, image_hw: tuple[int, int], out_hw: tuple[int, int]):
    """``hint_square`` clipped to the grid; None when the hint lies entirely outside."""
    x0, y0, x1, y1 = hint_square(hint, image_hw, out_hw)
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, out_hw[1]), min(y1, out_hw[0])
    if x0 >= x1 or y0 >= y1:
        return None
    return x0, y0, x1, y1
