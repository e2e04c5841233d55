"""The result view: the colorized photo, with a before/after toggle and a split mode (the
original on the left of a draggable line, the result on its right).

A working-size preview is stretched over the photo's full size (smoothly) until the
full-resolution result replaces it. With the eyedropper armed, a click samples the result.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, Qt, Signal
from PySide6.QtGui import QColor, QImage, QPainter, QPen, QPixmap, QTransform
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPixmapItem, QGraphicsRectItem

from .qt_images import to_pixmap
from .zoom_view import ZoomView

MODES = ("result", "before", "split")


class ResultView(ZoomView):
    colourSampled = Signal(object)  # (r, g, b) 0..255

    def __init__(self, parent=None):
        super().__init__(parent)
        self._before = QGraphicsPixmapItem()
        self._clip = QGraphicsRectItem()
        self._clip.setPen(QPen(Qt.PenStyle.NoPen))
        self._clip.setFlag(QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape, True)
        self._result = QGraphicsPixmapItem(self._clip)
        self._result.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._before)
        self.scene().addItem(self._clip)
        self.mode = "result"
        self.split = 0.5  # split line position, fraction of the width
        self.message = ""  # shown over the view (e.g. no model)
        self.eyedropper = False
        self._image_wh = (0, 0)
        self._result_array: np.ndarray | None = None
        self._dragging_split = False
        self.setToolTip("The colorized result. B: before/after · V: split (drag the line)\n"
                        "Ctrl+wheel: zoom · middle drag or Space+drag: pan")

    # -- content ------------------------------------------------------------------------------
    def set_before(self, grey: np.ndarray | QPixmap | None, keep_result: bool = False) -> None:
        """The original (grey) photo, uint8 ``(H, W)`` or a pixmap of it; clears the result
        (``keep_result``: a film's next frame, of the same size; the last result stays until
        the frame's own comes)."""
        if not keep_result:
            self.clear_result()
        if grey is None:
            self._before.setPixmap(to_pixmap(np.zeros((1, 1), np.uint8)))
            self._image_wh = (0, 0)
        else:
            pm = grey if isinstance(grey, QPixmap) else to_pixmap(grey)
            self._before.setPixmap(pm)
            self._image_wh = (pm.width(), pm.height())
        self.set_image_rect(*self._image_wh)
        self._layout()

    def set_result(self, rgb: np.ndarray, image: QImage | None = None) -> None:
        """A result, at working size or full size; drawn over the whole photo. ``image``: the
        same pixels already as a QImage in the screen's format (``qt_images.to_rgb32``), so a
        big result costs the GUI thread nothing to show."""
        self._result_array = rgb
        self._result.setPixmap(QPixmap.fromImage(image) if image is not None else to_pixmap(rgb))
        w, h = self._image_wh
        if w and h:
            self._result.setTransform(QTransform.fromScale(w / rgb.shape[1], h / rgb.shape[0]))
        self._layout()

    def clear_result(self) -> None:
        self._result_array = None
        self._result.setPixmap(to_pixmap(np.zeros((1, 1, 3), np.uint8)))
        self._result.setVisible(False)

    @property
    def result(self) -> np.ndarray | None:
        """The result array currently shown (None: none yet)."""
        return self._result_array

    def set_message(self, text: str) -> None:
        self.message = text
        self.viewport().update()

    # -- modes --------------------------------------------------------------------------------
    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; use one of {MODES}")
        if mode != self.mode:
            self.mode = mode
            self._layout()

    def _layout(self) -> None:
        w, h = self._image_wh
        x0 = self.split * w if self.mode == "split" else 0.0
        self._clip.setRect(QRectF(x0, 0, w - x0, h))
        self._clip.setVisible(self.mode != "before")
        self._result.setVisible(self._result_array is not None)
        self.viewport().update()

    def drawForeground(self, painter: QPainter, rect: QRectF) -> None:
        w, h = self._image_wh
        painter.save()
        painter.resetTransform()
        if self.mode == "split" and w:
            x = self.mapFromScene(self.split * w, 0).x()
            top, bottom = self.mapFromScene(0, 0).y(), self.mapFromScene(0, h).y()
            painter.setPen(QPen(QColor(255, 255, 255), 2))
            painter.drawLine(x, top, x, bottom)
            painter.setPen(QPen(QColor(0, 0, 0), 1))
            painter.drawLine(x + 2, top, x + 2, bottom)
        if self.mode == "before" and w:
            painter.setPen(QColor(255, 255, 255))
            painter.drawText(self.viewport().rect().adjusted(8, 8, -8, -8),
                             Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft, "Before")
        if self.message:
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            r = self.viewport().rect().adjusted(40, 40, -40, -40)
            box = painter.boundingRect(r, flags, self.message).adjusted(-14, -10, 14, 10)
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(QColor(0, 0, 0, 190))
            painter.drawRoundedRect(box, 8, 8)
            painter.setPen(QColor(240, 240, 240))
            painter.drawText(r, flags, self.message)
        painter.restore()

    # -- mouse --------------------------------------------------------------------------------
    def mousePressEvent(self, event):
        if self.start_pan(event):
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton:
            p = self.image_point(event.position())
            if self.eyedropper:
                rgb = self.sample(p.x(), p.y())
                if rgb is not None:
                    self.colourSampled.emit(rgb)
            elif self.mode == "split":
                self._dragging_split = True
                self._move_split(p.x())
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event):
        if self._dragging_split:
            self._move_split(self.image_point(event.position()).x())
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):
        if self._dragging_split:
            self._dragging_split = False
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def _move_split(self, x: float) -> None:
        w = self._image_wh[0]
        if w:
            self.split = min(1.0, max(0.0, x / w))
            self._layout()

    def sample(self, x: float, y: float) -> tuple[int, int, int] | None:
        """Mean colour of the 3 x 3 result pixels around image point ``(x, y)``."""
        a, (w, h) = self._result_array, self._image_wh
        if a is None or not (0 <= x < w and 0 <= y < h):
            return None
        cx, cy = int(x * a.shape[1] / w), int(y * a.shape[0] / h)
        patch = a[max(cy - 1, 0):cy + 2, max(cx - 1, 0):cx + 2].reshape(-1, 3)
        r, g, b = patch.mean(axis=0).round().astype(int)
        return int(r), int(g), int(b)
