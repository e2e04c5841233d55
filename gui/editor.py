"""Hint editing: what a click, a drag, the Delete key or a colour choice does to the session.

Widgets translate their events into image coordinates and call these methods; every change to
the hints goes through ``HintsCommand`` on the one ``QUndoStack``. A drag moves the hint live
(without filling the undo stack) and lands as one command on release.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence

from PySide6.QtGui import QUndoStack

from colouru.hints import Hint

from .commands import HintsCommand
from .session import Session


class HintEditor:
    def __init__(self, session: Session, stack: QUndoStack,
                 new_colour: Callable[[int, int], tuple[float, float] | None] | None = None):
        self.session = session
        self.stack = stack
        # The colour a new hint at image pixel (x, y) takes; None (or no hook): the current.
        self.new_colour = new_colour
        self._serial = itertools.count(1)
        self._colour_key = None
        self._drag: dict | None = None  # index, hints before, press point, hint at press, key

    # -- helpers ------------------------------------------------------------------------------
    def _push(self, after: Sequence[Hint], text: str, selected: int | None, key=None) -> None:
        s = self.session
        self.stack.push(HintsCommand(s, s.hints, after, text, s.selected, selected, key))

    def _clamp(self, x: float, y: float) -> tuple[int, int]:
        h, w = self.session.image_hw
        return int(min(max(x, 0), w - 1)), int(min(max(y, 0), h - 1))

    # -- mouse --------------------------------------------------------------------------------
    def press(self, x: float, y: float, tolerance: float = 0.0) -> int | None:
        """Left button down at image point ``(x, y)``: select the hint there, or add one of the
        current size, coloured by ``new_colour`` (else the current colour). Returns the hint's
        index (None off the photo). A new hint's colour is not a pick: Recent is left alone."""
        s = self.session
        if s.photo is None:
            return None
        h, w = s.image_hw
        if not (0 <= x < w and 0 <= y < h):
            return None
        index = s.hint_at(x, y, tolerance)
        key = None
        if index is None:
            key = ("add", next(self._serial))
            cx, cy = self._clamp(x, y)
            hint = s.new_hint(cx, cy, self.new_colour(cx, cy) if self.new_colour else None)
            self._push([*s.hints, hint], "Add hint", len(s.hints), key)
            index = len(s.hints) - 1
        else:
            s.select(index)
        self._drag = {"index": index, "before": s.hints, "press": (x, y),
                      "hint": s.hints[index], "key": key, "moved": False}
        return index

    def drag(self, x: float, y: float) -> None:
        """Mouse moved with the button down: move the pressed hint (live, not yet undoable)."""
        d = self._drag
        if d is None:
            return
        nx, ny = self._clamp(d["hint"].x + round(x - d["press"][0]),
                             d["hint"].y + round(y - d["press"][1]))
        hints = list(self.session.hints)
        if (hints[d["index"]].x, hints[d["index"]].y) == (nx, ny):
            return
        hints[d["index"]] = d["hint"].moved(nx, ny)
        d["moved"] = True
        self.session.set_hints(hints, d["index"])

    def release(self) -> None:
        """Button up: a drag becomes one undo step (merged into "Add hint" for a new hint)."""
        d, self._drag = self._drag, None
        if d is None or not d["moved"]:
            return
        s = self.session
        self.stack.push(HintsCommand(s, d["before"], s.hints, "Move hint", d["index"],
                                     d["index"], d["key"]))

    @property
    def dragging(self) -> bool:
        return self._drag is not None

    # -- removing -----------------------------------------------------------------------------
    def remove(self, index: int) -> None:
        hints = list(self.session.hints)
        if 0 <= index < len(hints):
            del hints[index]
            self._push(hints, "Delete hint", None)

    def remove_at(self, x: float, y: float, tolerance: float = 0.0) -> bool:
        index = self.session.hint_at(x, y, tolerance)
        if index is not None:
            self.remove(index)
        return index is not None

    def remove_selected(self) -> None:
        if self.session.selected is not None:
            self.remove(self.session.selected)

    def clear(self) -> None:
        if self.session.hints:
            self._push([], "Clear all hints", None)

    def replace_all(self, hints: Sequence[Hint], text: str = "Import hints") -> None:
        self._push(list(hints), text, None)

    # -- colour and size ----------------------------------------------------------------------
    def set_colour(self, ab, continuing: bool = False, final: bool = True) -> None:
        """Make ``ab`` the current colour; a selected hint takes it too (one undo step per
        drag: ``continuing`` merges into the previous change). ``final`` also records it
        as a recently used colour."""
        s = self.session
        s.set_current_ab(ab)
        if s.selected is not None:
            if not continuing or self._colour_key is None:
                self._colour_key = ("colour", next(self._serial))
            hints = list(s.hints)
            hint = hints[s.selected]
            if hint.ab != s.current_ab:
                hints[s.selected] = hint.with_ab(s.current_ab)
                self._push(hints, "Change hint colour", s.selected, self._colour_key)
        if final:
            self.finish_colour()

    def finish_colour(self) -> None:
        self._colour_key = None
        self.session.add_recent(self.session.current_ab)

    def set_size(self, size: int) -> None:
        """Set the current hint size (working-grid pixels); a selected hint takes it too.
        Consecutive size changes of one hint are one undo step."""
        s = self.session
        s.set_size(size)
        if s.selected is not None:
            hints = list(s.hints)
            hint = hints[s.selected]
            new_size = s.size_to_image(s.size)
            if hint.size != new_size:
                hints[s.selected] = hint.with_size(new_size)
                self._push(hints, "Change hint size", s.selected, ("size", s.selected))

    def step_size(self, delta: int) -> None:
        self.set_size(self.session.size + delta)
