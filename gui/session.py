"""The app's document, free of Qt: the photo, its hints, the selection, the current colour and
hint size. Widgets draw it; undo commands (``commands.py``) change its hints.

Coordinates are the photo's own pixels, as in the hints file. The hint size the user picks is
counted in pixels of the network's working grid (1..9, as in Zhang et al. 2017) and stored on
each hint in image pixels.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from colouru.colour import srgb_image_lightness
from colouru.geometry import DEFAULT_WORK_SIZE, working_shape
from colouru.hints import Hint, hint_box

from .colours import round_ab

MIN_SIZE, MAX_SIZE = 1, 9  # hint side in working-grid pixels
DEFAULT_SIZE = 3
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


class Session:
    """Photo, hints, selection, current colour and size; listeners hear what changed (a
    ``Change``)."""

    def __init__(self, work_size: int = DEFAULT_WORK_SIZE):
        self.photo: Photo | None = None
        self.work_size = work_size
        self.current_ab: tuple[float, float] = DEFAULT_AB
        self.size = DEFAULT_SIZE
        self.recent: list[tuple[float, float]] = []
        self.focus: tuple[int, int] | None = None  # last point clicked (the gamut's lightness)
        self._hints: tuple[Hint, ...] = ()
        self._selected: int | None = None
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
        ``lightness`` already computed; hints and selection are cleared."""
        if lightness is None:
            lightness = srgb_image_lightness(image)
            colour = image.ndim == 3 if colour is None else colour
        self.photo = Photo(Path(path) if path is not None else None, lightness, bool(colour))
        self._hints, self._selected, self.focus = (), None, None
        self._notify(Change.PHOTO)

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

    # -- hints --------------------------------------------------------------------------------
    @property
    def hints(self) -> tuple[Hint, ...]:
        return self._hints

    @property
    def selected(self) -> int | None:
        return self._selected

    @property
    def selected_hint(self) -> Hint | None:
        return None if self._selected is None else self._hints[self._selected]

    def set_hints(self, hints: Sequence[Hint], selected: int | None = None) -> None:
        """Replace the hint list (undo commands call this) and select ``selected``."""
        self._hints = tuple(hints)
        if selected is not None and not 0 <= selected < len(self._hints):
            selected = None
        self._selected = selected
        if selected is not None:  # the current colour and size follow the selected hint
            h = self._hints[selected]
            self.current_ab, self.size = (h.ab[0], h.ab[1]), self.size_to_work(h.size)
        self._notify(Change.HINTS)

    def select(self, index: int | None) -> None:
        """Select a hint: its colour and size become the current ones."""
        if index is not None and not 0 <= index < len(self._hints):
            index = None
        self._selected = index
        if index is not None:
            h = self._hints[index]
            self.current_ab = (h.ab[0], h.ab[1])
            self.size = self.size_to_work(h.size)
            self.focus = (int(h.x), int(h.y))
        self._notify(Change.SELECTION)

    def new_hint(self, x: float, y: float, ab=None) -> Hint:
        """A hint of the current size centred on pixel ``(x, y)``, of colour ``ab`` (None: the
        current colour)."""
        ab = self.current_ab if ab is None else ab
        return Hint(int(x), int(y), self.size_to_image(self.size), ab=round_ab(ab))

    def hint_at(self, x: float, y: float, tolerance: float = 0.0) -> int | None:
        """Index of the topmost hint whose drawn square (grown by ``tolerance`` image pixels)
        contains the point, or None."""
        for i in range(len(self._hints) - 1, -1, -1):
            x0, y0, x1, y1 = self.footprint(self._hints[i])
            if x0 - tolerance <= x < x1 + tolerance and y0 - tolerance <= y < y1 + tolerance:
                return i
        return None

    def footprint(self, hint: Hint) -> tuple[float, float, float, float]:
        """The hint's square as the network sees it (its working-grid cells), in image pixels:
        ``(x0, y0, x1, y1)``. Falls back to the nominal square for a hint off the photo."""
        (ih, iw), (wh, ww) = self.image_hw, self.work_hw
        box = hint_box(hint, (ih, iw), (wh, ww))
        if box is None:
            r = hint.size / 2
            return hint.x + 0.5 - r, hint.y + 0.5 - r, hint.x + 0.5 + r, hint.y + 0.5 + r
        sx, sy = iw / ww, ih / wh
        x0, y0, x1, y1 = box
        return x0 * sx, y0 * sy, x1 * sx, y1 * sy

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
        """L of the point being coloured: the selected hint's square (mean), else the last
        point clicked, else mid-grey."""
        if self.photo is None:
            return 50.0
        hint = self.selected_hint
        if hint is not None:
            box = hint_box(hint, self.image_hw, self.image_hw)
            if box is not None:
                x0, y0, x1, y1 = box
                return float(self.photo.lightness[y0:y1, x0:x1].mean())
        if self.focus is not None:
            h, w = self.image_hw
            x, y = min(max(self.focus[0], 0), w - 1), min(max(self.focus[1], 0), h - 1)
            return float(self.photo.lightness[y, x])
        return 50.0

    def hint_lightness(self, hint: Hint) -> float:
        """Mean L under a hint's square (what its colour will look like in the result)."""
        box = hint_box(hint, self.image_hw, self.image_hw) if self.photo is not None else None
        if box is None:
            return 50.0
        x0, y0, x1, y1 = box
        return float(self.photo.lightness[y0:y1, x0:x1].mean())

    def probe_box_work(self) -> tuple[int, int, int, int] | None:
        """The selected hint's (or focus point's) square on the working grid, for suggestions."""
        if self.photo is None:
            return None
        hint = self.selected_hint
        if hint is None and self.focus is not None:
            hint = Hint(self.focus[0], self.focus[1], self.size_to_image(self.size), ab=(0, 0))
        if hint is None:
            return None
        return hint_box(hint, self.image_hw, self.work_hw)
