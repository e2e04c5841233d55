"""Guided upsampling: working-size colour brought to full resolution along the photo's edges.

A fast guided filter (He and Sun 2015) whose guide is L, so colour follows the photo's edges
instead of bleeding across them as with plain bilinear upsampling; applied in row bands so no
full-resolution coefficient image is ever held in memory.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from colouru.parallel import map_bands, row_bands


class GuidedUpsampler:
    """Fast guided filter upsampling (He and Sun 2015), applied in row bands.

    ``guide_lo`` ``(h, w)`` and ``src_lo`` ``(h, w, C)`` (or ``(h, w)``) at low resolution,
    guides in 0..1. In each low-resolution window ``src ~ a * guide + b`` is fitted; the smoothed
    ``a`` and ``b`` are upsampled bilinearly (as ``cv2.resize`` with ``INTER_LINEAR`` would) to
    ``out_hw`` and applied to the full-resolution guide, one band of rows at a time, so no
    full-resolution coefficient image is ever held in memory.
    """

    def __init__(self, guide_lo: np.ndarray, src_lo: np.ndarray, out_hw: Sequence[int],
                 radius: int = 2, eps: float = 1e-3):
        k = (2 * radius + 1, 2 * radius + 1)
        box = lambda x: cv2.boxFilter(x, -1, k, borderType=cv2.BORDER_REFLECT)
        g = np.ascontiguousarray(guide_lo, dtype=np.float32)
        p = np.ascontiguousarray(src_lo, dtype=np.float32)
        self.channels = 1 if p.ndim == 2 else p.shape[2]
        p = p.reshape(*g.shape, self.channels)
        gc = g[..., None]
        mean_g = box(g)[..., None]
        var = box(g * g)[..., None] - mean_g * mean_g
        mean_p = box(p).reshape(p.shape)
        cov = box(p * gc).reshape(p.shape) - mean_g * mean_p
        a = cov / (var + np.float32(eps))
        b = mean_p - a * mean_g
        # Smoothed coefficients, a and b side by side: (h, w, 2C).
        self.coef = box(np.concatenate([a, b], axis=2)).reshape(*g.shape, 2 * self.channels)
        self.out_hw = (int(out_hw[0]), int(out_hw[1]))
        # Vertical bilinear taps per output row, with cv2.resize's pixel-centre convention.
        h, big_h = g.shape[0], self.out_hw[0]
        fy = (np.arange(big_h, dtype=np.float64) + 0.5) * (h / big_h) - 0.5
        y0 = np.floor(fy)
        wy = fy - y0
        y0 = y0.astype(np.int64)
        low, high = y0 < 0, y0 >= h - 1
        wy[low | high] = 0.0
        y0 = np.clip(y0, 0, h - 1)
        self._y0, self._y1 = y0, np.minimum(y0 + 1, h - 1)
        self._wy = wy.astype(np.float32)[:, None, None]

    def rows(self, r0: int, r1: int, guide_hi: np.ndarray) -> list[np.ndarray]:
        """Output rows ``r0:r1``: one float32 ``(r1 - r0, W)`` array per source channel;
        ``guide_hi`` is those rows of the full-resolution guide ``(r1 - r0, W)``."""
        c, wy = self.coef, self._wy[r0:r1]
        band = c[self._y0[r0:r1]] * (1.0 - wy) + c[self._y1[r0:r1]] * wy  # (rows, w, 2C)
        band = cv2.resize(band, (self.out_hw[1], r1 - r0), interpolation=cv2.INTER_LINEAR)
        planes = cv2.split(band.reshape(r1 - r0, self.out_hw[1], 2 * self.channels))
        n = self.channels
        guide = np.ascontiguousarray(guide_hi, dtype=np.float32)
        out = []
        for i in range(n):
            a = planes[i]
            a *= guide
            a += planes[n + i]
            out.append(a)
        return out


def guided_upsample(guide_lo: np.ndarray, src_lo: np.ndarray, guide_hi: np.ndarray,
                    radius: int = 2, eps: float = 1e-3) -> np.ndarray:
    """Fast guided filter upsampling (He and Sun 2015).

    ``guide_lo`` ``(h, w)`` and ``src_lo`` ``(h, w)`` at low resolution, ``guide_hi`` ``(H, W)``;
    guides in 0..1. Fits ``src ~ a * guide + b`` in each low-resolution window, upsamples the
    smoothed ``a`` and ``b`` bilinearly and applies them to the full-resolution guide. Returns
    float32 ``(H, W)``.
    """
    up = GuidedUpsampler(guide_lo, src_lo, guide_hi.shape, radius, eps)
    out = np.empty(guide_hi.shape, dtype=np.float32)

    def band(rows):
        r0, r1 = rows
        out[r0:r1] = up.rows(r0, r1, guide_hi[r0:r1])[0]

    map_bands(band, row_bands(*guide_hi.shape))
    return out
