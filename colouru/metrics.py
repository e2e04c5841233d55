"""Image quality figures: PSNR, SSIM and the normalised loss against plain grey.

All take sRGB images ``(H, W, 3)`` as uint8 or float 0..1 and compare them on the 0..1 scale.
"""

from __future__ import annotations

import numpy as np
from skimage.metrics import structural_similarity

from colouru.colour import lab_to_rgb, rgb_to_lab


def _f(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype == np.uint8:
        return x.astype(np.float64) / 255.0
    return x.astype(np.float64)


def mse(a: np.ndarray, b: np.ndarray) -> float:
    a, b = _f(a), _f(b)
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    return float(np.mean((a - b) ** 2))


def psnr(result: np.ndarray, truth: np.ndarray) -> float:
    """Peak signal-to-noise ratio in dB (peak 1.0); infinite for identical images."""
    m = mse(result, truth)
    return float("inf") if m == 0 else float(10.0 * np.log10(1.0 / m))


def ssim(result: np.ndarray, truth: np.ndarray) -> float:
    """Structural similarity over the three sRGB channels (scikit-image, data range 1)."""
    a, b = _f(result), _f(truth)
    win = min(7, *a.shape[:2]) // 2 * 2 + 1 if min(a.shape[:2]) < 7 else 7
    return float(structural_similarity(a, b, channel_axis=-1, data_range=1.0, win_size=win))


def grey_of(truth: np.ndarray) -> np.ndarray:
    """The photo with its colour removed (its own L, ab = 0), as sRGB float 0..1."""
    lab = rgb_to_lab(_f(truth).astype(np.float32))
    lab[..., 1:] = 0.0
    return lab_to_rgb(lab)


_GREY_MSE_FLOOR = 1e-8  # below this the truth is grey up to the constants' error (RMS < 0.03 codes)


def normalized_loss(result: np.ndarray, truth: np.ndarray) -> float:
    """MSE(result, truth) / MSE(grey, truth): below 1 means better than no colour at all.

    NaN for a photo that is grey already (the ratio has no meaning there)."""
    denom = mse(grey_of(truth), truth)
    return float(mse(result, truth) / denom) if denom > _GREY_MSE_FLOOR else float("nan")
