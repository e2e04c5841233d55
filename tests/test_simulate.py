"""Simulated user hints: their statistics match the design, and a seed fixes them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from colouru.hints import hint_box
from colouru.simulate import HintSimConfig, draw_count, simulate_hints

FIXED_N = HintSimConfig(n_min=64, n_max=64, no_hint_share=0.0)  # Binomial(64, 1/8): mean 8


def _ab(h: int, w: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 30, (2, h, w)).astype(np.float32)


def test_mean_count_is_n_times_p_for_fixed_n():
    rng = np.random.default_rng(0)
    counts = np.array([draw_count(rng, FIXED_N) for _ in range(4000)])
    n, p = FIXED_N.n_min, FIXED_N.p
    sd_of_mean = np.sqrt(n * p * (1 - p) / len(counts))
    assert abs(counts.mean() - n * p) < 4 * sd_of_mean
    assert abs(counts.var() - n * p * (1 - p)) < 0.15 * n * p * (1 - p)
    assert counts.min() >= 0 and counts.max() <= n


def test_share_of_samples_without_hints():
    cfg = replace(FIXED_N, no_hint_share=0.15)
    rng = np.random.default_rng(1)
    counts = np.array([draw_count(rng, cfg) for _ in range(4000)])
    expected = 0.15 + 0.85 * (1 - cfg.p) ** cfg.n_min  # forced zeros + binomial zeros
    assert abs((counts == 0).mean() - expected) < 0.03


def test_default_counts_span_one_to_a_hundred_expected_hints():
    rng = np.random.default_rng(2)
    counts = np.array([draw_count(rng, HintSimConfig()) for _ in range(3000)])
    assert counts.max() > 60 and np.median(counts) < 40 and (counts == 0).mean() > 0.15


def test_positions_centred_with_spread_a_quarter_of_the_size():
    h, w = 200, 320
    hints = simulate_hints(_ab(h, w), np.random.default_rng(3), count=6000, side=1)
    xs, ys = np.array([x.x for x in hints]), np.array([x.y for x in hints])
    assert xs.min() >= 0 and xs.max() <= w - 1 and ys.min() >= 0 and ys.max() <= h - 1
    assert abs(np.median(xs) - w / 2) < 0.03 * w and abs(np.median(ys) - h / 2) < 0.03 * h
    # The interquartile range of a normal is 1.349 sigma, untouched by clipping at +-2 sigma.
    for v, size in [(xs, w), (ys, h)]:
        iqr = np.subtract(*np.percentile(v, [75, 25]))
        assert abs(iqr / 1.349 - size / 4) < 0.05 * size / 4
    # Clipping at the borders piles some hints on the edge (about 2.3% each side).
    assert 0.01 < np.mean(xs == 0) < 0.04


def test_sides_are_one_to_nine_uniformly():
    hints = simulate_hints(_ab(64, 64), np.random.default_rng(4), count=4500)
    sides = np.array([h.size for h in hints])
    assert set(np.unique(sides)) == set(range(1, 10))
    counts = np.bincount(sides.astype(int))[1:]
    assert counts.min() > 0.8 * 500 and counts.max() < 1.2 * 500
    assert {h.size for h in simulate_hints(_ab(64, 64), np.random.default_rng(0), count=20,
                                           side=5)} == {5.0}


def test_colours_are_the_true_mean_ab_under_each_square():
    ab = _ab(90, 120, seed=5)
    hints = simulate_hints(ab, np.random.default_rng(6), count=300)
    for h in hints:
        x0, y0, x1, y1 = hint_box(h, (90, 120), (90, 120))
        want = ab[:, y0:y1, x0:x1].reshape(2, -1).mean(axis=1)
        np.testing.assert_allclose(h.ab, want, atol=1e-4)
    # Over a flat colour the hint is that colour exactly.
    flat = np.stack([np.full((30, 40), 12.5), np.full((30, 40), -7.25)]).astype(np.float32)
    hints = simulate_hints(flat, np.random.default_rng(0), count=50)
    assert {h.ab for h in hints} == {(12.5, -7.25)}


def test_same_seed_same_hints():
    ab = _ab(80, 100)
    a = simulate_hints(ab, np.random.default_rng(42))
    b = simulate_hints(ab, np.random.default_rng(42))
    assert a == b
    draws = [simulate_hints(ab, np.random.default_rng(s), count=10) for s in range(5)]
    assert len({tuple(d) for d in draws}) == 5  # different seeds, different hints


def test_zero_count_and_bad_shape():
    assert simulate_hints(_ab(10, 10), np.random.default_rng(0), count=0) == []
    with pytest.raises(ValueError, match=r"\(2, H, W\)"):
        simulate_hints(np.zeros((3, 10, 10)), np.random.default_rng(0))


def test_hint_density_scales_with_area():
    """A 96 x 96 crop gets the density of a 256 x 256 photo: (96 / 256)**2 of the count."""
    cfg = HintSimConfig(n_min=800, n_max=800, no_hint_share=0.0)
    rng = np.random.default_rng(3)
    full = np.mean([draw_count(rng, cfg, area=256 * 256) for _ in range(2000)])
    crop = np.mean([draw_count(rng, cfg, area=96 * 96) for _ in range(2000)])
    assert abs(full - 100) < 2
    assert abs(crop - 100 * (96 / 256) ** 2) < 0.5
    unscaled = HintSimConfig(n_min=800, n_max=800, no_hint_share=0.0, area_ref=0)
    assert abs(np.mean([draw_count(rng, unscaled, area=96 * 96) for _ in range(500)]) - 100) < 3
