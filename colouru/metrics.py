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


def colourfulness(image: np.ndarray) -> float:
    """Hasler and Suesstrunk 2003's colourfulness of an sRGB image (on the 0..255 scale):
    ``sqrt(sd_rg^2 + sd_yb^2) + 0.3 sqrt(mean_rg^2 + mean_yb^2)`` with ``rg = R - G`` and
    ``yb = (R + G) / 2 - B``. 0 for a grey image; about 33 is "moderately", 59 "quite"
    colourful in their scale."""
    x = _f(image) * 255.0
    rg = x[..., 0] - x[..., 1]
    yb = 0.5 * (x[..., 0] + x[..., 1]) - x[..., 2]
    return float(np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean()))


def hint_border_jumps(ab: np.ndarray, boxes) -> np.ndarray:
    """How sharply each hint square shows: for each box ``(x0, y0, x1, y1)`` (end-exclusive)
    in ``ab`` ``(2, H, W)``, the median over its border of the ab distance (CIE units) between
    each pixel just inside and its neighbour just outside. Boxes touching the image's edge are
    measured on the sides that have an outside. Returns one figure per box."""
    h, w = ab.shape[1:]
    out = []
    for x0, y0, x1, y1 in boxes:
        pairs = []
        if y0 > 0:
            pairs.append((ab[:, y0, x0:x1], ab[:, y0 - 1, x0:x1]))
        if y1 < h:
            pairs.append((ab[:, y1 - 1, x0:x1], ab[:, y1, x0:x1]))
        if x0 > 0:
            pairs.append((ab[:, y0:y1, x0], ab[:, y0:y1, x0 - 1]))
        if x1 < w:
            pairs.append((ab[:, y0:y1, x1 - 1], ab[:, y0:y1, x1]))
        d = np.concatenate([np.hypot(*(a - b)) for a, b in pairs]) if pairs else np.zeros(1)
        out.append(float(np.median(d)))
    return np.array(out)


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
