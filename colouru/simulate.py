"""Simulated user hints, for training and for evaluation (one function serves both).

A simulated user places a binomially distributed number of squares (p = 1/8) at Gaussian
positions around the image centre (standard deviation a quarter of the image size, clipped
inside the image), each 1 to 9 pixels on a side, coloured with the true image's mean ab under
the square. Everything is drawn from the ``numpy.random.Generator`` passed in, so a seeded
generator gives the same hints every time (a validation set's hints never change).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from colouru.hints import Hint, hint_box


@dataclass(frozen=True)
class HintSimConfig:
    """How simulated users place hints (saved with every training run)."""

    p: float = 1 / 8  # binomial success probability of the hint count
    n_min: int = 8  # binomial trials: drawn log-uniformly per sample from n_min..n_max,
    n_max: int = 800  # so the expected count n*p spans 1..100 hints (n_min = n_max: fixed n)
    no_hint_share: float = 0.15  # share of samples with no hints (automatic colorization)
    min_side: int = 1  # square side in pixels, drawn uniformly from min_side..max_side
    max_side: int = 9
    sigma_frac: float = 0.25  # position standard deviation as a fraction of height / width
    # n is scaled by the image's area over this reference (256 x 256, the evaluation size), so
    # a 96 x 96 training crop gets the hint density of a 256 x 256 photo; 0: no scaling.
    area_ref: int = 256 * 256


def draw_count(rng: np.random.Generator, cfg: HintSimConfig, area: int | None = None) -> int:
    """The number of hints of one sample: 0 with ``no_hint_share``, else Binomial(n, p).

    ``area``: the image's pixel count; n is scaled by ``area / cfg.area_ref`` when both are
    set (None: the reference area)."""
    if rng.random() < cfg.no_hint_share:
        return 0
    if cfg.n_min == cfg.n_max:
        n = float(cfg.n_min)
    else:
        n = float(np.exp(rng.uniform(np.log(cfg.n_min), np.log(cfg.n_max))))
    if area is not None and cfg.area_ref:
        n *= area / cfg.area_ref
    return int(rng.binomial(max(1, int(round(n))), cfg.p))


def simulate_hints(
    ab: np.ndarray,
    rng: np.random.Generator,
    cfg: HintSimConfig = HintSimConfig(),
    count: int | None = None,
    side: int | None = None,
) -> list[Hint]:
    """Hints a simulated user would place on a photo whose true chroma is ``ab``.

    ``ab``: ``(2, H, W)`` float, the true CIE a and b. ``count``: number of hints (None: drawn
    with ``draw_count``); ``side``: fixed square side (None: uniform in the config's range).
    Returns hints in the image's pixel coordinates, each with the mean true ab under it.
    """
    if ab.ndim != 3 or ab.shape[0] != 2:
        raise ValueError(f"ab must have shape (2, H, W), got {ab.shape}")
    h, w = ab.shape[1:]
    k = draw_count(rng, cfg, area=h * w) if count is None else int(count)
    if k <= 0:
        return []
    ys = np.clip(np.rint(rng.normal(h / 2, cfg.sigma_frac * h, size=k)), 0, h - 1)
    xs = np.clip(np.rint(rng.normal(w / 2, cfg.sigma_frac * w, size=k)), 0, w - 1)
    if side is None:
        sides = rng.integers(cfg.min_side, cfg.max_side + 1, size=k)
    else:
        sides = np.full(k, int(side))
    hints = []
    for x, y, s in zip(xs, ys, sides, strict=True):
        probe = Hint(x, y, s, ab=(0.0, 0.0))
        x0, y0, x1, y1 = hint_box(probe, (h, w), (h, w))
        mean = ab[:, y0:y1, x0:x1].reshape(2, -1).mean(axis=1)
        hints.append(Hint(x, y, s, ab=(float(mean[0]), float(mean[1]))))
    return hints
