"""numpy arrays <-> Qt images (the only place that knows QImage's memory layouts)."""

from __future__ import annotations

import sys

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


def to_rgb32(rgb: np.ndarray, band_rows: int = 256) -> QImage:
    """uint8 RGB ``(H, W, 3)`` or grey ``(H, W)`` -> a QImage in the screen's own format
    (``Format_RGB32``), so ``QPixmap.fromImage`` copies nothing. Filled by numpy in bands of
    rows: no full-size temporaries, and the GIL is let go while it copies (Qt's own
    ``convertToFormat`` holds it), so the GUI thread runs on while a worker thread makes the
    image of a big photo or result."""
    h, w = rgb.shape[:2]
    image = QImage(w, h, QImage.Format.Format_RGB32)
    bpl = image.bytesPerLine()
    pixels = np.frombuffer(image.bits(), np.uint8, count=h * bpl).reshape(h, bpl)
    pixels = pixels[:, : w * 4].reshape(h, w, 4)
    # Format_RGB32 holds 0xffRRGGBB per pixel: bytes B, G, R, 255 on little-endian machines.
    order = (2, 1, 0) if sys.byteorder == "little" else (1, 2, 3)
    alpha = 3 if sys.byteorder == "little" else 0
    for r in range(0, h, band_rows):
        band = pixels[r:r + band_rows]
        for dst, src in zip(order, range(3), strict=True):
            band[..., dst] = rgb[r:r + band_rows] if rgb.ndim == 2 else rgb[r:r + band_rows, :, src]
        band[..., alpha] = 255
    return image


def to_pixmap(array: np.ndarray) -> QPixmap:
    return QPixmap.fromImage(to_qimage(array))
