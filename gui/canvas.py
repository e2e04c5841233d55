"""The canvas: the photo in grey with its hints. Left click adds or selects a hint, dragging
moves it, right click deletes it, the wheel sets the hint size (Ctrl+wheel zooms).

Hints are painted in ``drawForeground`` at their true footprint (the working-grid cells the
network sees), filled with their colour at the photo's lightness there; a hint smaller than a
few screen pixels gets a ring so it stays visible.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap
from PySide6.QtWidgets import QGraphicsPixmapItem

from .colours import ab_to_rgb8
from .editor import HintEditor
from .qt_images import to_pixmap
from .session import Session
from .zoom_view import ZoomView

HIT_TOLERANCE_PX = 4  # screen pixels around a hint that still count as clicking it
MIN_VISIBLE_PX = 7  # hints drawn smaller than this on screen get a ring


class Canvas(ZoomView):
    def __init__(self, session: Session, editor: HintEditor, parent=None):
        super().__init__(parent)
        self.session = session
        self.editor = editor
        self._pixmap = QGraphicsPixmapItem()
        self.scene().addItem(self._pixmap)
        self._colours: dict = {}  # hint -> QColor cache (depends on the photo's L under it)
        self.viewport().setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("Left click: add or select a hint · drag: move · right click: delete\n"
                        "Wheel: hint size · Ctrl+wheel: zoom · middle drag or Space+drag: pan")

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
        if s.photo is None or not s.hints:
            return
        t = self.viewportTransform()
        painter.save()
        painter.resetTransform()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        for i, hint in enumerate(s.hints):
            r = t.mapRect(QRectF(QPointF(*s.footprint(hint)[:2]),
                                 QPointF(*s.footprint(hint)[2:])))
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
            if i == s.selected:
                pen = QPen(QColor(255, 210, 0), 2, Qt.PenStyle.DashLine)
                painter.setPen(pen)
                painter.drawRect(r.adjusted(-5, -5, 4, 4))
        painter.restore()

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
        if self.editor.dragging and not self.panning:
            p = self.image_point(event.position())
            self.hovered.emit(p.x(), p.y())
            self.editor.drag(p.x(), p.y())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton and self.editor.dragging:
            self.editor.release()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def plain_wheel(self, event) -> None:
        steps = int(np.sign(event.angleDelta().y()))
        if steps:
            self.editor.step_size(steps)
        event.accept()

    def contextMenuEvent(self, event):
        event.accept()
