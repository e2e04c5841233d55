"""Simulated user hints: their statistics match the design, and a seed fixes them."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from colouru.hints import Hint, Stroke, hint_box
from colouru.rasterize import stroke_mask
from colouru.simulate import HintSimConfig, draw_count, simulate_hints, simulate_strokes

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


# --- what seeded hints were before strokes existed (pinned: stroke_share 0 must not move them)
def _smooth_ab() -> np.ndarray:
    yy, xx = np.mgrid[0:120, 0:160].astype(np.float32)
    return np.stack([40 * np.sin(xx / 9) + yy / 3, 30 * np.cos(yy / 7) - xx / 4]).astype(
        np.float32)


def _rows(hints):
    return [(h.x, h.y, h.size, round(h.ab[0], 3), round(h.ab[1], 3)) for h in hints]


def test_seeded_squares_are_pinned():
    """The hints of the square simulation, computed with the code before strokes were added:
    evaluation's seeded hints (and a resumed run's batches) must never change."""
    ab = _smooth_ab()
    rng = np.random.default_rng([0, 3, 5])  # evaluation: count and side fixed
    assert _rows(simulate_hints(ab, rng, HintSimConfig(), count=5, side=5)) == [
        (71.0, 119.0, 5.0, 78.817, -29.944), (0.0, 83.0, 5.0, 32.084, 22.054),
        (63.0, 0.0, 5.0, 26.289, 13.743), (106.0, 115.0, 5.0, 10.308, -48.585),
        (65.0, 38.0, 5.0, 44.549, 3.046)]
    rng = np.random.default_rng(11)  # training: counts and sides drawn, one generator
    drawn = [simulate_hints(ab, rng, HintSimConfig()) for _ in range(6)]
    assert [len(d) for d in drawn] == [0, 1, 0, 4, 4, 1]
    assert _rows(drawn[1]) == [(59.0, 51.0, 5.0, 27.628, 1.068)]
    assert _rows(drawn[3][:2]) == [(99.0, 57.0, 1.0, -21.0, -33.296),
                                   (113.0, 80.0, 8.0, 28.565, -14.64)]
    assert _rows(drawn[4][:2]) == [(20.0, 2.0, 9.0, 31.516, 21.186),
                                   (81.0, 36.0, 1.0, 28.485, -7.731)]
    assert _rows(drawn[5]) == [(72.0, 91.0, 9.0, 68.299, 7.408)]
    assert rng.random() == pytest.approx(0.21714825741852817, abs=0)  # no extra draws


# --- brush strokes ------------------------------------------------------------------------------
LEFT, RIGHT = (40.0, 10.0), (-30.0, -20.0)


def _halves(h: int = 64, w: int = 96) -> np.ndarray:
    """Two flat colours: columns < w/2 LEFT, the rest RIGHT."""
    ab = np.empty((2, h, w), np.float32)
    ab[:, :, : w // 2] = np.array(LEFT, np.float32)[:, None, None]
    ab[:, :, w // 2:] = np.array(RIGHT, np.float32)[:, None, None]
    return ab


def _covered(stroke: Stroke, hw) -> np.ndarray:
    y0, x0, near = stroke_mask(stroke, hw, hw)
    full = np.zeros(hw, bool)
    full[y0:y0 + near.shape[0], x0:x0 + near.shape[1]] = near
    return full


def test_strokes_stay_inside_a_region_of_one_colour():
    ab = _halves()
    hw = ab.shape[1:]
    strokes = simulate_strokes(ab, np.random.default_rng(0), 200)  # lengths, widths drawn
    assert {s.width for s in strokes} == set(range(1, 8))
    crossing_blocked = 0
    for s in strokes:
        cols = np.nonzero(_covered(s, hw).any(axis=0))[0]
        left = cols[0] < hw[1] // 2
        assert (cols < hw[1] // 2).all() if left else (cols >= hw[1] // 2).all()
        assert s.ab == (LEFT if left else RIGHT)  # the true mean: one flat colour
        crossing_blocked += len(s.points) - 1 < 8  # shorter than the shortest length drawn
    assert 0 < crossing_blocked < len(strokes)  # some were stopped by the edge, most not


def test_strokes_follow_lightness_when_given():
    ab = np.zeros((2, 64, 96), np.float32) + np.array([20.0, 5.0], np.float32)[:, None, None]
    lightness = np.where(np.arange(96) < 48, 30.0, 70.0)[None].repeat(64, 0).astype(np.float32)
    strokes = simulate_strokes(ab, np.random.default_rng(1), 60, lightness=lightness)
    for s in strokes:
        cols = np.nonzero(_covered(s, (64, 96)).any(axis=0))[0]
        assert (cols < 48).all() or (cols >= 48).all()
    # ab alone: nothing stops them at the edge of L, and some cross it
    free = simulate_strokes(ab, np.random.default_rng(1), 60)
    assert any((lambda c: c.min() < 48 <= c.max())(np.nonzero(_covered(s, (64, 96)).any(0))[0])
               for s in free)


def test_stroke_colour_is_the_true_mean_under_the_brush_and_length_is_kept():
    ab = _ab(128, 128, seed=7)  # noise: only an infinite tolerance lets strokes go
    cfg = HintSimConfig(stroke_tolerance=1e9)
    strokes = simulate_strokes(ab, np.random.default_rng(2), 30, length=32, width=3, cfg=cfg)
    # Stopped by the border, a stroke goes the other way from its start, so it nearly always
    # gets its whole length (only a start near a corner may be shut both ways).
    assert sum(len(s.points) == 33 for s in strokes) >= 27
    for s in strokes:
        assert s.width == 3 and len(s.points) <= 33
        steps = np.diff(np.array(s.points), axis=0)
        if len(steps):
            np.testing.assert_allclose(np.hypot(*steps.T), 1.0, atol=1e-9)  # a pixel a step
        want = ab[:, _covered(s, (128, 128))].mean(axis=1)
        np.testing.assert_allclose(s.ab, want, atol=1e-4)


def test_strokes_are_smooth_paths():
    flat = np.zeros((2, 200, 200), np.float32)
    strokes = simulate_strokes(flat, np.random.default_rng(3), 50, length=40, width=1)
    for s in strokes:
        d = np.diff(np.array(s.points), axis=0)
        turn = np.abs(np.angle(np.exp(1j * np.diff(np.arctan2(d[:, 1], d[:, 0])))))
        assert turn.max() < 0.8  # 0.15 rad per step is the standard deviation: no sharp turns


def test_strokes_are_deterministic_from_the_generator():
    ab = _ab(80, 100)
    a = simulate_strokes(ab, np.random.default_rng(5), 6, length=32, width=3)
    assert a == simulate_strokes(ab, np.random.default_rng(5), 6, length=32, width=3)
    assert a != simulate_strokes(ab, np.random.default_rng(6), 6, length=32, width=3)
    assert simulate_strokes(ab, np.random.default_rng(5), 0) == []
    with pytest.raises(ValueError, match="lightness"):
        simulate_strokes(ab, np.random.default_rng(5), 2, lightness=np.zeros((3, 3)))


def test_stroke_share_adds_strokes_to_that_share_of_samples_with_hints():
    ab = _halves(64, 64)
    # no area scaling (1..20 strokes at any size), short strokes: a fast test
    cfg = HintSimConfig(stroke_share=0.4, area_ref=0, stroke_max_length=8)
    rng = np.random.default_rng(8)
    samples = [simulate_hints(ab, rng, cfg) for _ in range(500)]
    with_strokes = [s for s in samples if any(isinstance(h, Stroke) for h in s)]
    share = len(with_strokes) / len(samples)
    assert abs(share - 0.4 * (1 - cfg.no_hint_share)) < 0.06  # the no-hint samples stay empty
    n = [sum(isinstance(h, Stroke) for h in s) for s in with_strokes]
    assert min(n) == 1 and max(n) == cfg.stroke_n_max
    for s in with_strokes:  # squares first, then the strokes
        kinds = [isinstance(h, Stroke) for h in s]
        assert kinds == sorted(kinds)
        assert all(isinstance(h, Hint) for h in s[: kinds.index(True)])
    # by default a 96 x 96 crop gets 1..3 (20 scaled by its area)
    cfg = HintSimConfig(stroke_share=1.0, no_hint_share=0.0, stroke_max_length=8)
    small = [simulate_hints(_halves(96, 96), rng, cfg) for _ in range(100)]
    assert {sum(isinstance(h, Stroke) for h in s) for s in small} == {1, 2, 3}
    # a fixed count (evaluation) never gets strokes
    assert not any(isinstance(h, Stroke) for _ in range(20)
                   for h in simulate_hints(ab, rng, cfg, count=3))


def test_stroke_share_zero_draws_nothing_more():
    ab = _smooth_ab()
    a, b = np.random.default_rng(4), np.random.default_rng(4)
    one = [simulate_hints(ab, a, HintSimConfig()) for _ in range(20)]
    two = [simulate_hints(ab, b, HintSimConfig(stroke_share=0.0, stroke_n_max=3)) for _ in
           range(20)]
    assert one == two and a.random() == b.random()


# --- recoloured regions -------------------------------------------------------------------------
def _two_regions() -> tuple[np.ndarray, np.ndarray]:
    """A 64 x 96 photo: left half orange-ish (L 40), right half green-ish (L 70), with a little
    grain. Returns ``(ab (2, H, W), L (H, W))``."""
    rng = np.random.default_rng(3)
    ab = np.zeros((2, 64, 96), np.float32)
    ab[:, :, :48] = np.array([30.0, 40.0])[:, None, None]
    ab[:, :, 48:] = np.array([-35.0, 25.0])[:, None, None]
    ab += rng.normal(0, 1.0, ab.shape).astype(np.float32)
    lightness = np.where(np.arange(96) < 48, 40.0, 70.0)[None].repeat(64, 0).astype(np.float32)
    return ab, lightness


ALWAYS = HintSimConfig(recolour_share=1.0, recolour_hint_p=1.0)


def test_recolouring_off_draws_nothing_and_changes_nothing():
    from colouru.simulate import recolour_regions

    ab, lightness = _two_regions()
    hints = [Hint(10, 10, 5, ab=(30.0, 40.0))]
    rng = np.random.default_rng(0)
    out, same = recolour_regions(ab, lightness, hints, rng, HintSimConfig())
    assert out is ab and same is hints
    assert rng.random() == np.random.default_rng(0).random()  # no number drawn
    out, same = recolour_regions(ab, lightness, [], rng, ALWAYS)  # no hints: nothing to do
    assert out is ab and same == []


def test_a_recoloured_region_is_the_hinted_one_and_its_hints_say_so():
    from colouru.simulate import recolour_regions

    ab, lightness = _two_regions()
    before = ab.copy()
    hints = [Hint(10, 20, 5, ab=(0.0, 0.0)), Hint(30, 50, 3, ab=(0.0, 0.0)),
             Stroke([(12, 5), (40, 5)], 3, ab=(0.0, 0.0))]
    out, recoloured = recolour_regions(ab, lightness, hints, np.random.default_rng(4), ALWAYS)
    np.testing.assert_array_equal(ab, before)  # the input is not changed
    np.testing.assert_array_equal(out[:, :, 48:], ab[:, :, 48:])  # the unhinted half keeps
    shift = out[:, :, :48] - ab[:, :, :48]  # the hinted half moved as one, grain kept
    assert np.ptp(shift[0]) < 1e-3 and np.ptp(shift[1]) < 1e-3
    new = out[:, :, :48].reshape(2, -1).mean(axis=1)
    chroma = float(np.hypot(*new))
    cfg = ALWAYS
    assert cfg.recolour_min_chroma - 1e-3 <= chroma <= cfg.recolour_max_chroma + 1e-3
    assert float(np.hypot(*(new - np.array([30.0, 40.0])))) > 1.0
    # every hint carries the new colour under it, the stroke too (one region: one colour)
    for h in recoloured:
        assert np.hypot(*(np.array(h.ab) - new)) < 1.0
    assert [type(h) for h in recoloured] == [Hint, Hint, Stroke]
    assert recoloured[2].points == hints[2].points and recoloured[2].width == 3


def test_recolouring_is_seeded_and_each_hint_may_be_skipped():
    from colouru.simulate import recolour_regions

    ab, lightness = _two_regions()
    hints = [Hint(10, 20, 5, ab=(0.0, 0.0)), Hint(70, 20, 5, ab=(0.0, 0.0))]
    one = recolour_regions(ab, lightness, hints, np.random.default_rng(9), ALWAYS)
    two = recolour_regions(ab, lightness, hints, np.random.default_rng(9), ALWAYS)
    np.testing.assert_array_equal(one[0], two[0])
    assert one[1] == two[1]
    assert not np.allclose(one[0][:, :, 48:], ab[:, :, 48:])  # both halves hinted: both moved
    never = replace(ALWAYS, recolour_hint_p=0.0)
    out, kept = recolour_regions(ab, lightness, hints, np.random.default_rng(9), never)
    np.testing.assert_array_equal(out, ab)
    assert [h.ab for h in kept] == [tuple(np.float32(v) for v in _mean_under(ab, h))
                                    for h in hints] or kept  # true colours, not the zeros
    assert all(np.hypot(*h.ab) > 20 for h in kept)


def _mean_under(ab, h):
    x0, y0, x1, y1 = hint_box(h, ab.shape[1:], ab.shape[1:])
    return ab[:, y0:y1, x0:x1].reshape(2, -1).mean(axis=1)


def test_region_at_stops_at_a_change_of_colour_or_lightness():
    from colouru.simulate import region_at

    ab, lightness = _two_regions()
    lab = np.concatenate([lightness[None], ab]).transpose(1, 2, 0)
    left = region_at(lab, 5, 5)
    assert left[:, :48].all() and not left[:, 48:].any()
    lab[..., 1:] = 0  # the same colour everywhere: L alone (40 against 70) still splits it
    assert not region_at(lab, 90, 60)[:, :48].any()
