"""Editing: what a click, a drag, the Delete key, a colour choice or the saturation slider does
to the session.

Widgets translate their events into image coordinates and call these methods; every change to
the items (hints and strokes) goes through ``HintsCommand``, every change to the saturation
through ``SaturationCommand``, on the one ``QUndoStack``. A drag moves an item live (without
filling the undo stack) and lands as one command on release; a stroke is drawn live the same
way and lands as one "Draw stroke" on release, its polyline simplified.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

from PySide6.QtGui import QUndoStack

from colouru.hints import Stroke

from .commands import HintsCommand, SaturationCommand
from .session import (
    SATURATION_RANGE,
    STROKE_SPACING,
    STROKE_TOLERANCE,
    Item,
    Session,
    Tool,
    simplify_polyline,
)


def _kind(item: Item) -> str:
    return "stroke" if isinstance(item, Stroke) else "hint"


class HintEditor:
    def __init__(self, session: Session, stack: QUndoStack,
                 new_colour: Callable[[int, int], tuple[float, float] | None] | None = None):
        self.session = session
        self.stack = stack
        # The colour a new hint at image pixel (x, y) takes; None (or no hook): the current.
        self.new_colour = new_colour
        self._serial = itertools.count(1)
        self._colour_key = None
        self._saturation_key = None
        self._drag: dict | None = None  # index, items before, press point, item at press, key
        self._draw: dict | None = None  # a stroke being drawn: items before, its points

    # -- helpers ------------------------------------------------------------------------------
    def _push(self, after: Sequence[Item], text: str, selected: int | None, key=None) -> None:
        s = self.session
        self.stack.push(HintsCommand(s, s.hints, after, text, s.selected, selected, key))

    def _clamp(self, x: float, y: float) -> tuple[int, int]:
        h, w = self.session.image_hw
        return int(min(max(x, 0), w - 1)), int(min(max(y, 0), h - 1))

    # -- mouse --------------------------------------------------------------------------------
    def press(self, x: float, y: float, tolerance: float = 0.0) -> int | None:
        """Left button down at image point ``(x, y)``. With the brush tool: start a stroke of
        the current colour and brush width there. Otherwise: select the item there, or add a
        hint of the current size, coloured by ``new_colour`` (else the current colour).
        Returns the item's index (None off the photo). A new item's colour is not a pick:
        Recent is left alone."""
        s = self.session
        if s.photo is None:
            return None
        h, w = s.image_hw
        if not (0 <= x < w and 0 <= y < h):
            return None
        if s.tool is Tool.BRUSH:
            self._start_stroke(x, y)
            return len(s.hints) - 1
        index = s.item_at(x, y, tolerance)
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
        """Mouse moved with the button down: extend the stroke being drawn, or move the
        pressed item (live, not yet undoable)."""
        if self._draw is not None:
            self._extend_stroke(x, y)
            return
        d = self._drag
        if d is None:
            return
        item = d["hint"]
        if isinstance(item, Stroke):  # the point grabbed stays on the photo
            px, py = d["press"]
            gx, gy = self._clamp(px + round(x - px), py + round(y - py))
            dx, dy = gx - int(px), gy - int(py)
            moved = item.moved(dx, dy) if (dx, dy) != (0, 0) else item
        else:
            nx, ny = self._clamp(item.x + round(x - d["press"][0]),
                                 item.y + round(y - d["press"][1]))
            moved = item.moved(nx, ny)
        hints = list(self.session.hints)
        if hints[d["index"]] == moved:
            return
        hints[d["index"]] = moved
        d["moved"] = True
        self.session.set_hints(hints, d["index"])

    def release(self, x: float | None = None, y: float | None = None) -> None:
        """Button up (at ``(x, y)`` if known): a stroke being drawn becomes one "Draw stroke",
        a drag one undo step (merged into "Add hint" for a new hint)."""
        if self._draw is not None:
            self._finish_stroke(x, y)
            return
        d, self._drag = self._drag, None
        if d is None or not d["moved"]:
            return
        s = self.session
        text = f"Move {_kind(d['hint'])}"
        self.stack.push(HintsCommand(s, d["before"], s.hints, text, d["index"],
                                     d["index"], d["key"]))

    @property
    def dragging(self) -> bool:
        return self._drag is not None or self._draw is not None

    @property
    def drawing(self) -> bool:
        return self._draw is not None

    # -- strokes ------------------------------------------------------------------------------
    # A stroke drawn is not selected (as a new hint is): with a brush one picks a colour, then
    # draws, then picks the next colour for the next stroke, which must leave this one alone.
    # The hint tool selects a stroke to recolour, move or resize it.
    def _start_stroke(self, x: float, y: float) -> None:
        s = self.session
        stroke = s.new_stroke([s.stroke_point(x, y)])
        self._draw = {"before": s.hints, "selected": s.selected, "points": list(stroke.points),
                      "stroke": stroke}
        s.set_hints([*s.hints, stroke])  # shown (and colorized) while drawn

    def _extend_stroke(self, x: float, y: float, final: bool = False) -> None:
        d, s = self._draw, self.session
        p = s.stroke_point(x, y)
        last = d["points"][-1]
        spacing = max(1.0, STROKE_SPACING * d["stroke"].width)
        far = math.hypot(p[0] - last[0], p[1] - last[1])
        if far == 0 or (far < spacing and not final):
            return
        d["points"].append(p)
        d["stroke"] = Stroke(d["points"], d["stroke"].width, ab=d["stroke"].ab)
        s.set_hints([*d["before"], d["stroke"]])

    def _finish_stroke(self, x: float | None, y: float | None) -> None:
        if x is not None and y is not None:
            self._extend_stroke(x, y, final=True)
        d, self._draw = self._draw, None
        s, stroke = self.session, d["stroke"]
        tolerance = max(0.25, STROKE_TOLERANCE * stroke.width)
        stroke = Stroke(simplify_polyline(d["points"], tolerance), stroke.width, ab=stroke.ab)
        self.stack.push(HintsCommand(s, d["before"], [*d["before"], stroke], "Draw stroke",
                                     d["selected"], None))

    # -- removing -----------------------------------------------------------------------------
    def remove(self, index: int) -> None:
        hints = list(self.session.hints)
        if 0 <= index < len(hints):
            item = hints.pop(index)
            self._push(hints, f"Delete {_kind(item)}", None)

    def remove_at(self, x: float, y: float, tolerance: float = 0.0) -> bool:
        index = self.session.item_at(x, y, tolerance)
        if index is not None:
            self.remove(index)
        return index is not None

    def remove_selected(self) -> None:
        if self.session.selected is not None:
            self.remove(self.session.selected)

    def clear(self) -> None:
        if self.session.hints:
            self._push([], "Clear all hints", None)

    def replace_all(self, hints: Sequence[Item], text: str = "Import hints",
                    saturation: float | None = None) -> None:
        """Replace every item (and the saturation, if given) in one undo step."""
        s = self.session
        if saturation is None or float(saturation) == s.saturation:
            self._push(list(hints), text, None)
            return
        self.stack.beginMacro(text)
        self._push(list(hints), text, None)
        self.stack.push(SaturationCommand(s, s.saturation, saturation, text))
        self.stack.endMacro()

    # -- colour, size, width ------------------------------------------------------------------
    def set_colour(self, ab, continuing: bool = False, final: bool = True) -> None:
        """Make ``ab`` the current colour; a selected item takes it too (one undo step per
        drag: ``continuing`` merges into the previous change). ``final`` also records it
        as a recently used colour."""
        s = self.session
        s.set_current_ab(ab)
        if s.selected is not None:
            if not continuing or self._colour_key is None:
                self._colour_key = ("colour", next(self._serial))
            hints = list(s.hints)
            item = hints[s.selected]
            if item.ab != s.current_ab:
                hints[s.selected] = item.with_ab(s.current_ab)
                self._push(hints, f"Change {_kind(item)} colour", s.selected, self._colour_key)
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
        hint = s.selected_hint
        if hint is not None:
            self._resize_selected(hint.size, s.size_to_image(s.size), hint.with_size,
                                  "Change hint size", "size")

    def set_brush(self, width: int) -> None:
        """Set the brush width (working-grid pixels); a selected stroke takes it too.
        Consecutive width changes of one stroke are one undo step."""
        s = self.session
        s.set_brush(width)
        stroke = s.selected_stroke
        if stroke is not None:
            self._resize_selected(stroke.width, s.brush_to_image(s.brush), stroke.with_width,
                                  "Change stroke width", "width")

    def _resize_selected(self, old: float, new: float, resized, label: str, what: str) -> None:
        """The selected item at its ``new`` size (image px; ``resized`` makes it), as one undo
        step merged with the item's previous ``what`` change; nothing when it is unchanged."""
        s = self.session
        if old != new:
            hints = list(s.hints)
            hints[s.selected] = resized(new)
            self._push(hints, label, s.selected, (what, s.selected))

    def step_size(self, delta: int) -> None:
        """The wheel or [ ]: the brush width with the brush tool or a stroke selected (in
        steps of about a fifth), else the hint size."""
        s = self.session
        if s.tool is Tool.BRUSH or s.selected_stroke is not None:
            step = max(1, round(s.brush * 0.2))
            self.set_brush(s.brush + (step if delta > 0 else -step) * abs(int(delta)))
        else:
            self.set_size(s.size + delta)

    # -- saturation ---------------------------------------------------------------------------
    def set_saturation(self, value: float, continuing: bool = False) -> None:
        """Set the result's saturation: one undo step, or (``continuing``) merged into the
        previous change (one drag of the slider is one step)."""
        s = self.session
        if not continuing or self._saturation_key is None:
            self._saturation_key = ("saturation", next(self._serial))
        lo, hi = SATURATION_RANGE
        value = round(min(max(float(value), lo), hi), 2)
        if value != s.saturation:
            self.stack.push(SaturationCommand(s, s.saturation, value, "Change saturation",
                                              self._saturation_key))

    def finish_saturation(self) -> None:
        self._saturation_key = None
