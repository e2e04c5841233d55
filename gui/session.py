"""The app's document, free of Qt: the photo, its hints and brush strokes, the selection, the
saturation, the current colour, hint size, brush width and tool. Widgets draw it; undo commands
(``commands.py``) change its items and saturation.

The items are one list of ``Hint`` squares and ``Stroke`` polylines, in drawing order (later
ones draw over earlier ones, as ``rasterize_hints`` draws them): selection, undo and the
colorizer take them alike. Coordinates are the photo's own pixels, as in the hints file. The
hint size and brush width the user picks are counted in pixels of the network's working grid
(hints 1..9, as in Zhang et al. 2017) and stored on each item in image pixels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from colouru.colour import srgb_image_lightness
from colouru.geometry import DEFAULT_WORK_SIZE, working_shape
from colouru.hints import SATURATION_RANGE, Hint, Stroke, hint_box

from .colours import round_ab
from .film_doc import FilmDoc

Item = Hint | Stroke  # what the user places on the photo

MIN_SIZE, MAX_SIZE = 1, 9  # hint side in working-grid pixels
DEFAULT_SIZE = 3
MIN_BRUSH, MAX_BRUSH = 1, 40  # brush diameter in working-grid pixels
DEFAULT_BRUSH = 6
# A stroke keeps a point where the hand moved at least this part of the brush width (and at
# least one image pixel), and on release the polyline is simplified to within this part of
# the width: a long drag keeps tens of points, not thousands, and the brush covers the same
# pixels to a fraction of a working-grid pixel.
STROKE_SPACING = 0.25
STROKE_TOLERANCE = 0.1
DEFAULT_AB = (20.0, 45.0)  # a warm orange-brown, a common first colour in old photos
RECENT_COLOURS = 10


@dataclass
class Photo:
    """One opened photo."""

    path: Path | None
    # (H, W) float32 L 0..100: what the user sees and hints sit on, and all the colorizer
    # uses (the decoded photo is not kept: for a colour photo it is three times the size).
    lightness: np.ndarray
    colour: bool = False  # the file was in colour (only its lightness is used)

    @property
    def hw(self) -> tuple[int, int]:
        return int(self.lightness.shape[0]), int(self.lightness.shape[1])


class Change(str, Enum):
    """What changed in a ``Session``: what its listeners are told."""

    PHOTO = "photo"
    HINTS = "hints"
    SELECTION = "selection"
    COLOUR = "colour"
    SIZE = "size"
    RECENT = "recent"
    FOCUS = "focus"
    SATURATION = "saturation"
    TOOL = "tool"
    FRAME = "frame"  # a film: another frame shown, or its picture arrived


class Tool(str, Enum):
    """What a left click on the photo does: place or select a hint, or draw a stroke."""

    HINT = "hint"
    BRUSH = "brush"


class Session:
    """Photo, items (hints and strokes), selection, saturation, current colour, size, brush
    width and tool; listeners hear what changed (a ``Change``)."""

    def __init__(self, work_size: int = DEFAULT_WORK_SIZE):
        self.photo: Photo | None = None
        self.work_size = work_size
        self.current_ab: tuple[float, float] = DEFAULT_AB
        self.size = DEFAULT_SIZE
        self.brush = DEFAULT_BRUSH
        self.tool = Tool.HINT
        self.saturation = 1.0  # the result's chroma scale (1: the model's), in SATURATION_RANGE
        self.recent: list[tuple[float, float]] = []
        self.focus: tuple[int, int] | None = None  # last point clicked (the gamut's lightness)
        self._hints: tuple[Item, ...] = ()
        self._selected: int | None = None
        self.film: FilmDoc | None = None  # a film's frames and keyframes (None: a photo)
        self._listeners: list[Callable[[Change], None]] = []

    # -- listeners ----------------------------------------------------------------------------
    def subscribe(self, fn: Callable[[Change], None]) -> None:
        self._listeners.append(fn)

    def _notify(self, what: Change) -> None:
        for fn in list(self._listeners):
            fn(what)

    # -- photo --------------------------------------------------------------------------------
    def set_photo(self, path: str | Path | None, image: np.ndarray | None = None, *,
                  lightness: np.ndarray | None = None, colour: bool | None = None) -> None:
        """Show a new photo, given as decoded (sRGB ``(H, W, 3)`` or grey ``(H, W)``) or as its
        ``lightness`` already computed; items and selection are cleared, the saturation is
        back to 1."""
        if lightness is None:
            lightness = srgb_image_lightness(image)
            colour = image.ndim == 3 if colour is None else colour
        self.photo = Photo(Path(path) if path is not None else None, lightness, bool(colour))
        self._hints, self._selected, self.focus = (), None, None
        self.saturation = 1.0
        self.film = None
        self._notify(Change.PHOTO)

    # -- films: the frame shown and the keyframes (film_doc.py) ---------------------------------
    def set_film(self, film: FilmDoc, lightness: np.ndarray) -> None:
        """Show a film at ``film.frame`` (its L ``(H, W)``): the photo is that frame, the items
        are its keyframe's (``FilmDoc.hints_at``)."""
        self.set_photo(film.path, lightness=lightness, colour=False)
        self.film = film
        self._hints = film.hints_at(film.frame)
        self._notify(Change.HINTS)

    def go_to_frame(self, frame: int) -> None:
        """Show another frame of the film: its keyframe's items at once (the selection is
        dropped); its picture follows with ``set_frame_lightness``."""
        if self.film is None:
            return
        self.film.frame = self.film.clamp(frame)
        self._hints, self._selected = self.film.hints_at(self.film.frame), None
        self._notify(Change.FRAME)
        self._notify(Change.HINTS)

    def show_carried(self, hints: Sequence[Item]) -> None:
        """The shown frame (no keyframe) with its keyframe's hints carried along the motion
        (``film_frames``): shown and edited as they lie here; the keyframes are unchanged."""
        if self.film is not None and self.film.keyframe(self.film.frame) is None:
            self._hints, self._selected = tuple(hints), None
            self._notify(Change.HINTS)

    def set_frame_lightness(self, lightness: np.ndarray) -> None:
        """The shown frame's picture, decoded: its L ``(H, W)``, the film's size."""
        if self.photo is not None:
            self.photo = Photo(self.photo.path, lightness, False)
            self._notify(Change.FRAME)

    def put_keyframes(self, keyframes: dict[int, tuple[Item, ...]], frame: int,
                      selected: int | None = None) -> None:
        """Replace the film's keyframes (undo commands call this) and show ``frame``, where
        the change was made, with ``selected`` selected."""
        film = self.film
        film.keyframes = dict(keyframes)
        if film.frame != frame:
            film.frame = film.clamp(frame)
            self._notify(Change.FRAME)
        self.set_hints(film.hints_at(film.frame), selected)

    @property
    def image_hw(self) -> tuple[int, int]:
        return self.photo.hw if self.photo is not None else (1, 1)

    @property
    def work_hw(self) -> tuple[int, int]:
        return working_shape(self.image_hw, self.work_size)

    def set_work_size(self, work_size: int) -> None:
        """A model with another working size was loaded (hints keep their image-pixel size)."""
        self.work_size = int(work_size)
        self._notify(Change.SIZE)

    # -- items: hints and strokes --------------------------------------------------------------
    @property
    def hints(self) -> tuple[Item, ...]:
        """All items, hints and strokes, in drawing order: what the colorizer takes."""
        return self._hints

    @property
    def strokes(self) -> tuple[Stroke, ...]:
        return tuple(h for h in self._hints if isinstance(h, Stroke))

    @property
    def selected(self) -> int | None:
        return self._selected

    @property
    def selected_item(self) -> Item | None:
        return None if self._selected is None else self._hints[self._selected]

    @property
    def selected_hint(self) -> Hint | None:
        """The selected item if it is a hint square."""
        item = self.selected_item
        return item if isinstance(item, Hint) else None

    @property
    def selected_stroke(self) -> Stroke | None:
        item = self.selected_item
        return item if isinstance(item, Stroke) else None

    def _follow(self, item: Item) -> None:
        """The current colour and the hint size or brush width follow a selected item."""
        self.current_ab = (item.ab[0], item.ab[1])
        if isinstance(item, Stroke):
            self.brush = self.brush_to_work(item.width)
        else:
            self.size = self.size_to_work(item.size)

    def set_hints(self, hints: Sequence[Item], selected: int | None = None) -> None:
        """Replace the item list (undo commands call this) and select ``selected``."""
        self._hints = tuple(hints)
        if selected is not None and not 0 <= selected < len(self._hints):
            selected = None
        self._selected = selected
        if selected is not None:
            self._follow(self._hints[selected])
        self._notify(Change.HINTS)

    def select(self, index: int | None) -> None:
        """Select an item: its colour and size (or width) become the current ones."""
        if index is not None and not 0 <= index < len(self._hints):
            index = None
        self._selected = index
        if index is not None:
            item = self._hints[index]
            self._follow(item)
            self.focus = self._anchor(item)
        self._notify(Change.SELECTION)

    @staticmethod
    def _anchor(item: Item) -> tuple[int, int]:
        """The point that stands for an item: a hint's centre, a stroke's middle point."""
        if isinstance(item, Stroke):
            x, y = item.points[len(item.points) // 2]
            return int(x), int(y)
        return int(item.x), int(item.y)

    def new_hint(self, x: float, y: float, ab=None) -> Hint:
        """A hint of the current size centred on pixel ``(x, y)``, of colour ``ab`` (None: the
        current colour)."""
        ab = self.current_ab if ab is None else ab
        return Hint(int(x), int(y), self.size_to_image(self.size), ab=round_ab(ab))

    def new_stroke(self, points: Sequence[tuple[float, float]], ab=None) -> Stroke:
        """A stroke of the current brush width through ``points`` (image pixels), of colour
        ``ab`` (None: the current colour)."""
        ab = self.current_ab if ab is None else ab
        return Stroke(points, self.brush_to_image(self.brush), ab=round_ab(ab))

    def item_at(self, x: float, y: float, tolerance: float = 0.0) -> int | None:
        """Index of the topmost item under the point ``(x, y)`` (scene coordinates: pixel i
        spans [i, i + 1)): a hint whose drawn square, or a stroke whose brush, grown by
        ``tolerance`` image pixels, contains it; None if there is none."""
        for i in range(len(self._hints) - 1, -1, -1):
            item = self._hints[i]
            if isinstance(item, Stroke):
                if stroke_distance(item, x - 0.5, y - 0.5) <= item.width / 2 + tolerance:
                    return i
                continue
            x0, y0, x1, y1 = self.footprint(item)
            if x0 - tolerance <= x < x1 + tolerance and y0 - tolerance <= y < y1 + tolerance:
                return i
        return None

    hint_at = item_at

    def footprint(self, hint: Item) -> tuple[float, float, float, float]:
        """The hint's square as the network sees it (its working-grid cells), in image pixels:
        ``(x0, y0, x1, y1)``. Falls back to the nominal square for a hint off the photo. A
        stroke's: the box its brush covers."""
        if isinstance(hint, Stroke):
            return hint.bounds()
        (ih, iw), (wh, ww) = self.image_hw, self.work_hw
        box = hint_box(hint, (ih, iw), (wh, ww))
        if box is None:
            r = hint.size / 2
            return hint.x + 0.5 - r, hint.y + 0.5 - r, hint.x + 0.5 + r, hint.y + 0.5 + r
        sx, sy = iw / ww, ih / wh
        x0, y0, x1, y1 = box
        return x0 * sx, y0 * sy, x1 * sx, y1 * sy

    def on_photo(self, item: Item) -> bool:
        """Whether any part of the item lies on the photo."""
        if isinstance(item, Hint):
            return hint_box(item, self.image_hw, self.image_hw) is not None
        x0, y0, x1, y1 = item.bounds()
        h, w = self.image_hw
        return x0 < w and y0 < h and x1 > 0 and y1 > 0

    def stroke_point(self, x: float, y: float) -> tuple[float, float]:
        """A point of a stroke being drawn at scene point ``(x, y)``: on the photo, in the
        pixel coordinates of ``Stroke.points`` (pixel i's centre is i), to a tenth."""
        h, w = self.image_hw
        return (round(min(max(x - 0.5, 0.0), w - 1.0), 1),
                round(min(max(y - 0.5, 0.0), h - 1.0), 1))

    # -- size ---------------------------------------------------------------------------------
    def _scale(self) -> float:
        """Image pixels per working-grid pixel."""
        return max(self.image_hw) / max(self.work_hw)

    def size_to_image(self, size: int) -> float:
        return round(int(size) * self._scale(), 3)

    def size_to_work(self, image_size: float) -> int:
        return int(min(MAX_SIZE, max(MIN_SIZE, round(image_size / self._scale()))))

    def set_size(self, size: int) -> None:
        self.size = int(min(MAX_SIZE, max(MIN_SIZE, size)))
        self._notify(Change.SIZE)

    def brush_to_image(self, width: int) -> float:
        return round(int(width) * self._scale(), 3)

    def brush_to_work(self, image_width: float) -> int:
        return int(min(MAX_BRUSH, max(MIN_BRUSH, round(image_width / self._scale()))))

    def set_brush(self, width: int) -> None:
        """Set the brush width (working-grid pixels, ``MIN_BRUSH..MAX_BRUSH``)."""
        self.brush = int(min(MAX_BRUSH, max(MIN_BRUSH, width)))
        self._notify(Change.SIZE)

    def set_tool(self, tool: Tool | str) -> None:
        self.tool = Tool(tool)
        self._notify(Change.TOOL)

    # -- saturation ---------------------------------------------------------------------------
    def set_saturation(self, value: float) -> None:
        """The result's chroma scale (``SATURATION_RANGE``; 1: the model's own), to a
        hundredth; undo commands call this."""
        lo, hi = SATURATION_RANGE
        self.saturation = round(min(max(float(value), lo), hi), 2)
        self._notify(Change.SATURATION)

    # -- colour -------------------------------------------------------------------------------
    def set_current_ab(self, ab) -> None:
        self.current_ab = round_ab(ab)
        self._notify(Change.COLOUR)

    def add_recent(self, ab) -> None:
        """Put a colour first in the recently used list (near-duplicates removed)."""
        ab = round_ab(ab)
        keep = [c for c in self.recent if abs(c[0] - ab[0]) + abs(c[1] - ab[1]) > 1.0]
        self.recent = [ab, *keep][:RECENT_COLOURS]
        self._notify(Change.RECENT)

    def set_focus(self, x: int, y: int) -> None:
        self.focus = (int(x), int(y))
        self._notify(Change.FOCUS)

    def point_lightness(self) -> float:
        """L of the point being coloured: under the selected item (mean), else at the last
        point clicked, else mid-grey."""
        if self.photo is None:
            return 50.0
        item = self.selected_item
        if item is not None:
            return self.hint_lightness(item)
        if self.focus is not None:
            h, w = self.image_hw
            x, y = min(max(self.focus[0], 0), w - 1), min(max(self.focus[1], 0), h - 1)
            return float(self.photo.lightness[y, x])
        return 50.0

    def hint_lightness(self, hint: Item) -> float:
        """Mean L under a hint's square, or along a stroke's points (what its colour will
        look like in the result)."""
        if self.photo is None:
            return 50.0
        if isinstance(hint, Stroke):
            h, w = self.image_hw
            pts = np.asarray(hint.points, dtype=np.float64)
            xs = np.clip(np.round(pts[:, 0]).astype(np.int64), 0, w - 1)
            ys = np.clip(np.round(pts[:, 1]).astype(np.int64), 0, h - 1)
            return float(self.photo.lightness[ys, xs].mean())
        box = hint_box(hint, self.image_hw, self.image_hw)
        if box is None:
            return 50.0
        x0, y0, x1, y1 = box
        return float(self.photo.lightness[y0:y1, x0:x1].mean())

    def probe_box_work(self) -> tuple[int, int, int, int] | None:
        """The selected hint's (or focus point's) square on the working grid, for suggestions;
        for a selected stroke, a square of its width (at most the largest hint's) at its
        middle point."""
        if self.photo is None:
            return None
        item = self.selected_item
        if isinstance(item, Stroke):
            x, y = self._anchor(item)
            item = Hint(x, y, min(item.width, self.size_to_image(MAX_SIZE)), ab=(0, 0))
        if item is None and self.focus is not None:
            item = Hint(self.focus[0], self.focus[1], self.size_to_image(self.size), ab=(0, 0))
        if item is None:
            return None
        return hint_box(item, self.image_hw, self.work_hw)


# -- stroke geometry (image pixels) ---------------------------------------------------------------
def stroke_distance(stroke: Stroke, x: float, y: float) -> float:
    """Distance from ``(x, y)`` to the stroke's polyline (in ``Stroke.points`` coordinates)."""
    pts = np.asarray(stroke.points, dtype=np.float64)
    p = np.array([x, y], dtype=np.float64)
    if len(pts) == 1:
        return float(np.hypot(*(p - pts[0])))
    a, d = pts[:-1], np.diff(pts, axis=0)
    length2 = (d * d).sum(axis=1)
    t = np.clip(((p - a) * d).sum(axis=1) / np.where(length2 > 0, length2, 1.0), 0.0, 1.0)
    nearest = a + t[:, None] * d
    return float(np.hypot(*(p - nearest).T).min())


def simplify_polyline(points: Sequence[tuple[float, float]], tolerance: float
                      ) -> tuple[tuple[float, float], ...]:
    """Ramer-Douglas-Peucker: the fewest of ``points`` (first and last kept) whose polyline
    stays within ``tolerance`` of every point dropped."""
    pts = [tuple(p) for p in points]
    if len(pts) <= 2:
        return tuple(pts)
    arr = np.asarray(pts, dtype=np.float64)
    keep = np.zeros(len(pts), dtype=bool)
    keep[0] = keep[-1] = True
    spans = [(0, len(pts) - 1)]
    while spans:
        i, j = spans.pop()
        if j - i < 2:
            continue
        a, d = arr[i], arr[j] - arr[i]
        rel = arr[i + 1:j] - a
        length = float(np.hypot(*d))
        if length == 0:
            dist = np.hypot(rel[:, 0], rel[:, 1])
        else:
            dist = np.abs(rel[:, 0] * d[1] - rel[:, 1] * d[0]) / length
        k = int(dist.argmax())
        if dist[k] > tolerance:
            keep[i + 1 + k] = True
            spans += [(i, i + 1 + k), (i + 1 + k, j)]
    return tuple(p for p, k in zip(pts, keep, strict=True) if k)
