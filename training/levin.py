"""Levin, Lischinski and Weiss 2004, "Colorization using Optimization": the classic baseline.

Written from the paper. Neighbouring pixels with similar intensities should have similar
colours: for every pixel ``r`` without a hint,

    U(r) - sum_{s in N(r)} w_rs U(s) = 0,     w_rs ~ exp(-(Y(r) - Y(s))^2 / (2 sigma_r^2)),

with ``N(r)`` the 3 x 3 neighbourhood, ``sigma_r^2`` the variance of the intensities in the
window around ``r`` and the weights of each row summing to 1; hint pixels are fixed to their
colour. The paper minimises the squared residuals of these equations under the hint
constraints; like the authors' own code we drop the equations of the hint pixels and solve the
others exactly (their residuals are then zero), which is one sparse linear system.

Choices made here (the paper leaves them open):

* Colour space: CIE Lab instead of YUV. The intensity ``Y`` is L / 100 and the two chroma
  channels solved for are a and b. ColourU's hints, model and metrics all live in Lab, so the
  baseline then differs from the model only in how colour spreads, and the output keeps the
  photo's own L exactly as the model's does.
* ``sigma_r^2``: the window's variance times ``VAR_SCALE`` = 0.3 (so ``2 sigma_r^2`` is 0.6 x
  the variance, the factor of the authors' released code) rather than the literal 1.0. The
  window variance grows with any edge inside the window, so with 1.0 the weights across a
  sharp edge stay near exp(-2) and colour leaks over it (on a two-region test image 38 ab
  units against 1.3 with 0.3), and 0.3 is also the stronger baseline on real photos (12 BSDS
  training photos: +0.1 dB at 2 hints, +0.3 dB at 50). Two floors keep a flat window from
  dividing by zero and a pixel from losing all its neighbours: ``2 sigma_r^2`` is at least
  ``MIN_DENOM`` and at least large enough that the most similar neighbour keeps a weight of
  0.01 before normalising. Every weight stays positive (the window variance bounds the
  exponent at about 30), so every pixel is connected to every other.
* Solver: the hint pixels' values are known, so only the free pixels are unknowns:
  ``(I - W_ff) u_f = W_fh u_h``. One sparse LU factorisation (SuperLU, in a nested-dissection
  order, no pivoting) serves both chroma channels: about 0.25 s at 256 x 256 on one core.
  Every result is a weighted mean of hint colours, so it stays within their range. With no
  hints at all there is nothing to spread: the result is grey (ab = 0).
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from colouru.colour import lab_to_rgb_preserving_l, srgb_image_lightness
from colouru.hints import Hint, Stroke
from colouru.rasterize import rasterize_hints

VAR_SCALE = 0.3  # sigma_r^2 = VAR_SCALE x window variance (paper: 1.0; authors' code: 0.3)
MIN_DENOM = 2e-6  # floor of 2 sigma_r^2, intensities in 0..1 (as in the authors' code)
MIN_NEIGHBOUR_WEIGHT = 0.01  # the most similar neighbour keeps at least this unnormalised weight

_LEAF = 16  # nested dissection stops at regions of this many pixels

# The 8 neighbours of the 3 x 3 window, as (row, column) offsets.
_OFFSETS = [(dy, dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1) if (dy, dx) != (0, 0)]


def _shifted(a: np.ndarray, dy: int, dx: int, fill: float) -> np.ndarray:
    """``out[y, x] = a[y + dy, x + dx]``, ``fill`` where that lies outside the image."""
    h, w = a.shape
    out = np.full_like(a, fill)
    out[max(0, -dy) : h - max(0, dy), max(0, -dx) : w - max(0, dx)] = a[
        max(0, dy) : h - max(0, -dy), max(0, dx) : w - max(0, -dx)
    ]
    return out


def affinity(intensity: np.ndarray, var_scale: float = VAR_SCALE) -> sp.csr_matrix:
    """The row-normalised neighbour weights ``W`` of an image, ``(N, N)`` with ``N = H * W``.

    ``intensity``: ``(H, W)`` in 0..1. Row ``r`` holds ``w_rs`` for the (up to 8) neighbours
    ``s`` of pixel ``r`` in row-major order; every row sums to 1.
    """
    y = np.asarray(intensity, dtype=np.float64)
    if y.ndim != 2:
        raise ValueError(f"intensity must have shape (H, W), got {y.shape}")
    h, w = y.shape
    n = h * w
    idx = np.arange(n).reshape(h, w)
    # Neighbour intensities (NaN outside the image) and their indices, (8, H, W).
    nb = np.stack([_shifted(y, dy, dx, np.nan) for dy, dx in _OFFSETS])
    nb_idx = np.stack([_shifted(idx, dy, dx, -1) for dy, dx in _OFFSETS])
    valid = nb_idx >= 0
    # Window statistics over the pixel and its neighbours inside the image.
    count = 1 + valid.sum(axis=0)
    mean = (y + np.nansum(nb, axis=0)) / count
    var = ((y - mean) ** 2 + np.nansum((nb - mean) ** 2, axis=0)) / count
    d2 = np.where(valid, (nb - y) ** 2, np.inf)
    denom = 2.0 * var_scale * var
    # Floors: the closest neighbour's weight exp(-min d2 / denom) stays >= MIN_NEIGHBOUR_WEIGHT.
    denom = np.maximum(denom, d2.min(axis=0) / -np.log(MIN_NEIGHBOUR_WEIGHT))
    denom = np.maximum(denom, MIN_DENOM)
    wts = np.exp(-d2 / denom)  # 0 for neighbours outside the image (d2 = inf)
    wts /= wts.sum(axis=0)
    rows = np.broadcast_to(idx, nb_idx.shape)[valid]
    return sp.csr_matrix((wts[valid], (rows, nb_idx[valid])), shape=(n, n))


@lru_cache(maxsize=8)
def _dissection_order(h: int, w: int) -> np.ndarray:
    """Pixel indices of an ``h`` x ``w`` grid in nested-dissection order.

    A one-pixel line splits the 8-connected grid into two halves that share no neighbours;
    each half is ordered the same way, then the line. Eliminating in this order keeps the LU
    factors of a 3 x 3 stencil small (about 5 M entries at 256 x 256, half what SuperLU's own
    COLAMD ordering gives, and twice as fast). Removing pixels (the hints) keeps the property.
    """
    idx = np.arange(h * w).reshape(h, w)
    parts: list[np.ndarray] = []

    def split(y0: int, y1: int, x0: int, x1: int) -> None:
        rh, rw = y1 - y0, x1 - x0
        if rh <= 0 or rw <= 0:
            return
        if rh * rw <= _LEAF or max(rh, rw) < 3:
            parts.append(idx[y0:y1, x0:x1].ravel())
        elif rw >= rh:
            m = (x0 + x1) // 2
            split(y0, y1, x0, m)
            split(y0, y1, m + 1, x1)
            parts.append(idx[y0:y1, m])
        else:
            m = (y0 + y1) // 2
            split(y0, m, x0, x1)
            split(m + 1, y1, x0, x1)
            parts.append(idx[m, x0:x1])

    split(0, h, 0, w)
    order = np.concatenate(parts)
    order.flags.writeable = False
    return order


def solve_ab(
    lightness: np.ndarray,
    hint_ab: np.ndarray,
    mask: np.ndarray,
    weights: sp.csr_matrix | None = None,
) -> np.ndarray:
    """Spread hint colours over the image: ab ``(2, H, W)`` float32.

    ``lightness``: L ``(H, W)`` in 0..100; ``hint_ab``: ``(2, H, W)`` CIE a, b, read where
    ``mask`` ``(H, W)`` is True (those pixels keep exactly that colour). ``weights``: the image's
    ``affinity`` when already computed (it depends only on the lightness, so an evaluation
    reuses it for every hint count). No hint pixels: grey, ab = 0.
    """
    lightness = np.asarray(lightness)
    h, w = lightness.shape
    if hint_ab.shape != (2, h, w) or mask.shape != (h, w):
        raise ValueError(
            f"hint_ab {hint_ab.shape} and mask {mask.shape} must be (2, {h}, {w}) and ({h}, {w})"
        )
    fixed = mask.reshape(-1)
    out = np.zeros((2, h * w), dtype=np.float64)
    if not fixed.any():
        return out.reshape(2, h, w).astype(np.float32)
    out[:, fixed] = hint_ab.reshape(2, -1)[:, fixed]
    free = ~fixed
    if free.any():
        if weights is None:
            weights = affinity(lightness / 100.0)
        # Number the free pixels in nested-dissection order (see _dissection_order).
        order = _dissection_order(h, w)
        order = order[free[order]]
        new = np.full(h * w, -1)
        new[order] = np.arange(len(order))
        c = weights.tocoo()
        row_free = free[c.row]
        ff, fh = row_free & free[c.col], row_free & fixed[c.col]
        nf = len(order)
        w_ff = sp.csc_matrix((c.data[ff], (new[c.row[ff]], new[c.col[ff]])), shape=(nf, nf))
        w_fh = sp.csr_matrix((c.data[fh], (new[c.row[fh]], c.col[fh])), shape=(nf, h * w))
        system = (sp.identity(nf, format="csc") - w_ff).tocsc()
        rhs = w_fh @ out.T  # (F, 2): both chroma channels at once
        # I - W_ff is a non-singular M-matrix (diagonal 1, off-diagonal row sums <= 1), so
        # elimination needs no pivoting, and the dissection order is kept as given.
        # SuperLU's default supernode relaxation: a larger `relax` (40) was a little faster but
        # corrupted the heap on small systems (seen with MALLOC_CHECK_=3, scipy 1.17).
        lu = splu(
            system, permc_spec="NATURAL", diag_pivot_thresh=0.0, options={"SymmetricMode": True}
        )
        out[:, order] = lu.solve(np.ascontiguousarray(rhs)).T
    return out.reshape(2, h, w).astype(np.float32)


def colorize(
    image: np.ndarray, hints: Sequence[Hint | Stroke], weights: sp.csr_matrix | None = None
) -> np.ndarray:
    """Colorize a photo from its hints alone with Levin et al. 2004 -> sRGB float32 (H, W, 3).

    ``image``: sRGB ``(H, W, 3)`` or grey ``(H, W)`` (uint8 or float 0..1); only its lightness
    is used and the output keeps it. Every pixel under a hint square or a brush stroke (as
    ``rasterize_hints`` draws them at the image's own size) takes the hint's ab exactly; strokes
    are the paper's own input (scribbles).
    """
    lightness = srgb_image_lightness(image)
    hint_ab, mask = rasterize_hints(hints, lightness.shape)
    ab = solve_ab(lightness, hint_ab, mask, weights)
    lab = np.concatenate([lightness[..., None], ab.transpose(1, 2, 0)], axis=-1)
    return lab_to_rgb_preserving_l(lab)


def describe() -> dict:
    """The choices above, for evaluation reports."""
    return {
        "paper": "Levin, Lischinski and Weiss 2004, Colorization using Optimization",
        "colour_space": "CIE Lab: affinity on L / 100, a and b solved (the paper: YUV)",
        "neighbourhood": "3 x 3",
        "sigma": f"2 sigma_r^2 = {2 * VAR_SCALE:g} x window variance, floors {MIN_DENOM:g} "
        f"and closest neighbour weight >= {MIN_NEIGHBOUR_WEIGHT:g}",
        "hint_pixels": "every pixel under a hint square or brush stroke, fixed",
        "solver": "SuperLU, nested-dissection order, one factorisation for a and b",
    }
