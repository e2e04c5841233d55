"""Colour rebalancing of the regression loss (after Zhang et al. 2016's class rebalancing).

Regression to the mean gives sepia: where a pixel could be red, green or blue, the loss is
lowest for a greyish brown, and the common low-chroma colours dominate every batch. Weighting
each pixel's loss by how rare its true colour is pulls the prediction towards the rarer,
more saturated colours when the network is unsure.

``ab_prior``: the empirical distribution of true ab over the training photos, in ``BIN``-unit
bins of a and b, smoothed (Gaussian, ``SMOOTH`` bins). ``rebalance_weights``: a weight per
bin, ``w ~ 1 / ((1 - lam) p + lam / Q)`` over the ``Q`` bins that occur, scaled so the mean
weight under the prior is 1: ``lam`` 1 gives every pixel weight 1 (no rebalancing), Zhang et
al. used 0.5. Pure numpy; the trainer looks the weights up per pixel (``weight_of``).
"""

from __future__ import annotations

import cv2
import numpy as np
import torch

from colouru.colour import AB_NORM, rgb_to_lab

BIN = 10.0  # ab units a bin
BINS = int(2 * np.ceil(AB_NORM / BIN)) + 1  # bins per axis, centred on 0: -115..115 -> 23
SMOOTH = 0.5  # Gaussian smoothing of the histogram, in bins (Zhang et al.: sigma 5 ab)
PRIOR_PHOTOS = 256  # photos the prior is counted on (seeded), at most


def _index(ab: np.ndarray | torch.Tensor):
    """Bin index of ab values (CIE units), clipped into the grid."""
    half = BINS // 2
    if isinstance(ab, torch.Tensor):
        return (torch.round(ab / BIN) + half).clamp(0, BINS - 1).long()
    return np.clip(np.rint(ab / BIN) + half, 0, BINS - 1).astype(np.int64)


def ab_prior(images: np.ndarray, seed: int = 0, n: int = PRIOR_PHOTOS) -> np.ndarray:
    """The smoothed distribution of true ab: ``(BINS, BINS)`` summing to 1 (rows a, columns
    b). ``images``: uint8 ``(N, S, S, 3)`` sRGB photos (the training cache); ``n`` of them,
    a seeded choice, are counted."""
    if len(images) == 0:
        raise ValueError("no photos to count colours on")
    pick = np.random.default_rng(seed).permutation(len(images))[:n]
    counts = np.zeros((BINS, BINS), np.float64)
    for i in sorted(pick):
        lab = rgb_to_lab(np.asarray(images[i], np.float32) / 255.0)
        ia, ib = _index(lab[..., 1]).ravel(), _index(lab[..., 2]).ravel()
        np.add.at(counts, (ia, ib), 1.0)
    smooth = cv2.GaussianBlur(counts, (0, 0), SMOOTH, borderType=cv2.BORDER_CONSTANT)
    smooth[counts == 0] = 0.0  # colours never seen keep no mass (they get the largest weight
    return smooth / smooth.sum()  # below only through lam / Q)


def rebalance_weights(prior: np.ndarray, lam: float) -> np.ndarray:
    """Weights per ab bin, ``(BINS, BINS)``: ``1 / ((1 - lam) p + lam / Q)`` with ``Q`` the
    bins that occur, scaled so their mean under the prior is 1; ``lam`` in (0, 1], 1 gives
    all ones."""
    if not 0 < lam <= 1:
        raise ValueError(f"rebalance lambda must be in (0, 1], got {lam}")
    q = max(1, int((prior > 0).sum()))
    w = 1.0 / ((1 - lam) * prior + lam / q)
    return (w / float((prior * w).sum())).astype(np.float32)


def weight_of(weights: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """Per-pixel weights ``(B, 1, H, W)`` of true ab ``(B, 2, H, W)`` (CIE units) from a
    ``(BINS, BINS)`` table on ``ab``'s device."""
    ia, ib = _index(ab[:, 0]), _index(ab[:, 1])
    return weights[ia, ib][:, None]
