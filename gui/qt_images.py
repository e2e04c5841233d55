"""numpy arrays <-> Qt images (the only place that knows QImage's memory layouts)."""

from __future__ import annotations

import numpy as np
from PySide6.QtGui import QImage, QPixmap


def to_qimage(array: np.ndarray) -> QImage:
    """uint8 ``(H, W)`` grey, ``(H, W, 3)`` RGB or ``(H, W, 4)`` RGBA -> a QImage that owns a
    copy of the pixels."""
    a = np.ascontiguousarray(array)
    if a.dtype != np.uint8:
        raise ValueError(f"expected uint8 pixels, got {a.dtype}")
    if a.ndim == 2:
        fmt = QImage.Format.Format_Grayscale8
    elif a.ndim == 3 and a.shape[2] == 3:
        fmt = QImage.Format.Format_RGB888
    elif a.ndim == 3 and a.shape[2] == 4:
        fmt = QImage.Format.Format_RGBA8888
    else:
        raise ValueError(f"expected (H, W), (H, W, 3) or (H, W, 4) pixels, got {a.shape}")
    h, w = a.shape[:2]
    return QImage(a.data, w, h, a.strides[0], fmt).copy()


def to_pixmap(array: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(to_qimage(array))


def from_qimage(image: QImage) -> np.ndarray:
    """A QImage -> uint8 RGB ``(H, W, 3)`` (a copy)."""
    img = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=h * bpl).reshape(h, bpl)
    return buf[:, : w * 3].reshape(h, w, 3).copy()
