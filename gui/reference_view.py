"""A reference colour image shown beside the photo; clicking it takes a colour (eyedropper)."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QGraphicsPixmapItem

from .qt_images import to_pixmap
from .zoom_view import STEP, ZoomView


class ReferenceView(ZoomView):
    colourSampled = Signal(object)  # (r, g, b) 0..255

    def __init__(self, parent=None):
        super().__init__(parent)
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._item)
        self.image: np.ndarray | None = None
        self.restore_cursor()
        self.setMinimumHeight(160)
        self.setToolTip("Reference image: click to take a colour from it\n"
                        "Wheel: zoom · middle drag or Space+drag: pan · float the panel to "
                        "make it larger")

    def sizeHint(self) -> QSize:
        return QSize(340, 360)

    def plain_wheel(self, event) -> None:
        """The plain wheel zooms (about the cursor): nothing else to do with it here."""
        steps = event.angleDelta().y() / 120.0
        if steps:
            self.set_zoom(self.zoom * STEP ** steps)
        event.accept()

    def restore_cursor(self) -> None:
        self.viewport().setCursor(Qt.CursorShape.CrossCursor)

    def set_image(self, rgb: np.ndarray) -> None:
        """An sRGB uint8 ``(H, W, 3)`` reference."""
        self.image = rgb
        self._item.setPixmap(to_pixmap(rgb))
        self.set_image_rect(rgb.shape[1], rgb.shape[0])
        self.fit()

    def sample(self, x: float, y: float) -> tuple[int, int, int] | None:
        """Mean colour of the 3 x 3 pixels around ``(x, y)``."""
        a = self.image
        if a is None or not (0 <= x < a.shape[1] and 0 <= y < a.shape[0]):
            return None
        cx, cy = int(x), int(y)
        r, g, b = a[max(cy - 1, 0):cy + 2, max(cx - 1, 0):cx + 2].reshape(-1, 3).mean(0).round()
        return int(r), int(g), int(b)

    def mousePressEvent(self, event):
        if self.start_pan(event):
            event.accept()
            return
        if event.button() == Qt.MouseButton.LeftButton:
            p = self.image_point(event.position())
            rgb = self.sample(p.x(), p.y())
            if rgb is not None:
                self.colourSampled.emit(rgb)
            event.accept()
            return
        super().mousePressEvent(event)
