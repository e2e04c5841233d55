"""The canvas: the photo in grey with its hints and strokes. Left click adds or selects a hint
(or a stroke), dragging moves it, right click deletes it, the wheel sets the hint size
(Ctrl+wheel zooms). With the brush tool, press-drag-release draws a stroke and the wheel sets
the brush width.

Hints are painted in ``drawForeground`` at their true footprint (the working-grid cells the
network sees), filled with their colour at the photo's lightness there; a hint smaller than a
few screen pixels gets a ring so it stays visible. Strokes are painted as the area their brush
covers, in their colour, half transparent (the photo shows through) with a thin outline; with
the brush tool a circle of the brush's width follows the cursor.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPainterPathStroker, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsPixmapItem

from colouru.hints import Stroke

from .colours import ab_to_rgb8
from .editor import HintEditor
from .qt_images import to_pixmap
from .session import Session, Tool
from .zoom_view import ZoomView

HIT_TOLERANCE_PX = 4  # screen pixels around a hint that still count as clicking it
MIN_VISIBLE_PX = 7  # hints drawn smaller than this on screen get a ring
STROKE_ALPHA = 150  # of 255: strokes are half transparent, so the photo shows through
MIN_STROKE_PX = 3  # strokes drawn at least this wide on screen
HINT_TIP = ("Left click: add or select a hint or stroke · drag: move · right click: delete\n"
            "Wheel: hint size · Ctrl+wheel: zoom · middle drag or Space+drag: pan\n"
            "S: brush tool (draw strokes)")
BRUSH_TIP = ("Drag: draw a stroke of the current colour · right click: delete\n"
             "Wheel or [ ]: brush width · Ctrl+wheel: zoom · middle drag or Space+drag: pan\n"
             "H: back to the hint tool (click to select, drag to move)")


class Canvas(ZoomView):
    def __init__(self, session: Session, editor: HintEditor, parent=None):
        super().__init__(parent)
        self.session = session
        self.editor = editor
        self._pixmap = QGraphicsPixmapItem()
        self.scene().addItem(self._pixmap)
        self._colours: dict = {}  # hint -> QColor cache (depends on the photo's L under it)
        self._hover: QPointF | None = None  # image point under the cursor (the brush circle)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip(HINT_TIP)

    def show_tool(self) -> None:
        """The session's tool changed: tooltip and brush circle follow."""
        self.setToolTip(BRUSH_TIP if self.session.tool is Tool.BRUSH else HINT_TIP)
        self.refresh()

    def restore_cursor(self) -> None:
        self.viewport().setCursor(Qt.CursorShape.CrossCursor)

    # -- content ------------------------------------------------------------------------------
    def set_photo(self, grey: np.ndarray | QPixmap | None) -> None:
        """The photo in grey: uint8 ``(H, W)``, or a pixmap made of it (shared with the
        result view's "before", so a big photo is held once)."""
        self._colours.clear()
        if grey is None:
            self._pixmap.setPixmap(to_pixmap(np.zeros((1, 1), np.uint8)))
            self.set_image_rect(0, 0)
        else:
            pm = grey if isinstance(grey, QPixmap) else to_pixmap(grey)
            self._pixmap.setPixmap(pm)
            self.set_image_rect(pm.width(), pm.height())
        self.refresh()

    def refresh(self) -> None:
        self.viewport().update()

    def _colour(self, hint) -> QColor:
        c = self._colours.get(hint)
        if c is None:
            if len(self._colours) > 4096:
                self._colours.clear()
            c = QColor(*ab_to_rgb8(self.session.hint_lightness(hint), hint.ab))
            self._colours[hint] = c
        return c

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        s = self.session
        if s.photo is None:
            return
        brush = s.tool is Tool.BRUSH and self._hover is not None
        if not s.hints and not brush:
            return
        t = self.viewportTransform()
        painter.save()
        painter.resetTransform()
        for i, item in enumerate(s.hints):
            selected = i == s.selected and not self.editor.drawing
            if isinstance(item, Stroke):
                self._draw_stroke(painter, t, item, selected)
            else:
                self._draw_hint(painter, t, item, selected)
        if brush:  # where the brush would draw, and how wide
            painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            c = t.map(self._hover)
            r = max(s.brush_to_image(s.brush) / 2 * t.m11(), MIN_STROKE_PX / 2)
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for colour, width in ((QColor(0, 0, 0, 200), 3), (QColor(255, 255, 255), 1)):
                painter.setPen(QPen(colour, width))
                painter.drawEllipse(c, r, r)
        painter.restore()

    def _draw_hint(self, painter: QPainter, t, hint, selected: bool) -> None:
        s = self.session
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        r = t.mapRect(QRectF(QPointF(*s.footprint(hint)[:2]), QPointF(*s.footprint(hint)[2:])))
        painter.fillRect(r, self._colour(hint))
        painter.setBrush(Qt.BrushStyle.NoBrush)
        if r.width() < MIN_VISIBLE_PX:
            ring = r.adjusted(-4, -4, 4, 4)
            painter.setPen(QPen(QColor(0, 0, 0), 3))
            painter.drawRect(ring)
            painter.setPen(QPen(self._colour(hint), 1))
            painter.drawRect(ring)
        painter.setPen(QPen(QColor(0, 0, 0), 1))
        painter.drawRect(r.adjusted(-1, -1, 0, 0))
        painter.setPen(QPen(QColor(255, 255, 255), 1))
        painter.drawRect(r.adjusted(-2, -2, 1, 1))
        if selected:
            pen = QPen(QColor(255, 210, 0), 2, Qt.PenStyle.DashLine)
            painter.setPen(pen)
            painter.drawRect(r.adjusted(-5, -5, 4, 4))

    @staticmethod
    def stroke_shape(t, stroke: Stroke, grow: float = 0.0) -> QPainterPath:
        """The area a stroke's brush covers, in viewport coordinates under transform ``t``,
        grown by ``grow`` screen pixels all round."""
        pts = [t.map(QPointF(x + 0.5, y + 0.5)) for x, y in stroke.points]
        r = max(stroke.width / 2 * t.m11(), MIN_STROKE_PX / 2) + grow
        if len(pts) == 1 or all(p == pts[0] for p in pts):
            shape = QPainterPath()
            shape.addEllipse(pts[0], r, r)
            return shape
        line = QPainterPath(pts[0])
        for p in pts[1:]:
            line.lineTo(p)
        stroker = QPainterPathStroker()
        stroker.setWidth(2 * r)
        stroker.setCapStyle(Qt.PenCapStyle.RoundCap)
        stroker.setJoinStyle(Qt.PenJoinStyle.RoundJoin)
        return stroker.createStroke(line).simplified()

    def _draw_stroke(self, painter: QPainter, t, stroke: Stroke, selected: bool) -> None:
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        shape = self.stroke_shape(t, stroke)
        fill = QColor(self._colour(stroke))
        fill.setAlpha(STROKE_ALPHA)
        painter.setPen(QPen(QColor(0, 0, 0, 170), 1.5))
        painter.setBrush(fill)
        painter.drawPath(shape)
        if selected:
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.setPen(QPen(QColor(255, 210, 0), 2, Qt.PenStyle.DashLine))
            painter.drawPath(self.stroke_shape(t, stroke, grow=4))

    # -- mouse --------------------------------------------------------------------------------
    def _tolerance(self) -> float:
        return HIT_TOLERANCE_PX / max(self.zoom, 1e-6)

    def mousePressEvent(self, event):
        if self.start_pan(event):
            event.accept()
            return
        p = self.image_point(event.position())
        if event.button() == Qt.MouseButton.LeftButton:
            self.setFocus()
            if self.editor.press(p.x(), p.y(), self._tolerance()) is None:
                self.session.select(None)
            event.accept()
        elif event.button() == Qt.MouseButton.RightButton:
            self.editor.remove_at(p.x(), p.y(), self._tolerance())
            event.accept()
        else:
            super().mousePressEvent(event)

    def mouseMoveEvent(self, event):
        p = self.image_point(event.position())
        if self.session.tool is Tool.BRUSH:
            self._hover = p
            self.refresh()
        if self.editor.dragging and not self.panning:
            self.hovered.emit(p.x(), p.y())
            self.editor.drag(p.x(), p.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton and self.editor.dragging:
            p = self.image_point(event.position())
            self.editor.release(p.x(), p.y())
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def leaveEvent(self, event):
        self._hover = None
        self.refresh()
        super().leaveEvent(event)

    def plain_wheel(self, event) -> None:
        steps = int(np.sign(event.angleDelta().y()))
        if steps:
            self.editor.step_size(steps)
        event.accept()

    def contextMenuEvent(self, event):
        event.accept()
