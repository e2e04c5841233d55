"""The Levin et al. 2004 baseline: its weights, its solver, and how colour spreads."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from conftest import gradient_photo
from scipy.sparse.linalg import spsolve

from colouru.colour import rgb_to_lab
from colouru.hints import Hint, Stroke
from colouru.rasterize import rasterize_hints
from colouru.training import levin

RED, BLUE = (60.0, 40.0), (-20.0, -50.0)


def naive_affinity(y: np.ndarray, var_scale: float = levin.VAR_SCALE) -> np.ndarray:
    """The weights written pixel by pixel, straight from the paper (dense, tiny images only)."""
    h, w = y.shape
    out = np.zeros((h * w, h * w))
    for r in range(h):
        for c in range(w):
            win = [(r + dy, c + dx) for dy in (-1, 0, 1) for dx in (-1, 0, 1)
                   if 0 <= r + dy < h and 0 <= c + dx < w]
            vals = np.array([y[p] for p in win])
            nbs = [p for p in win if p != (r, c)]
            d2 = np.array([(y[p] - y[r, c]) ** 2 for p in nbs])
            denom = max(2 * var_scale * vals.var(), d2.min() / -np.log(0.01), levin.MIN_DENOM)
            wts = np.exp(-d2 / denom)
            for (pr, pc), wt in zip(nbs, wts / wts.sum(), strict=True):
                out[r * w + c, pr * w + pc] = wt
    return out


def two_regions(h: int = 40, w: int = 60) -> np.ndarray:
    """L (H, W): a dark left half and a light right half, a sharp vertical edge between."""
    lightness = np.full((h, w), 30.0, np.float32)
    lightness[:, w // 2:] = 80.0
    return lightness


def test_affinity_matches_the_paper_written_pixel_by_pixel():
    y = np.random.default_rng(0).random((5, 7))
    y[:, 4:] += 2.0  # an edge, so the variance differs from window to window
    w = levin.affinity(y / 3)
    np.testing.assert_allclose(w.toarray(), naive_affinity(y / 3), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(np.asarray(w.sum(axis=1)).ravel(), 1.0)
    assert w.diagonal().max() == 0  # a pixel is not its own neighbour


def test_solver_matches_the_full_system_of_the_paper():
    """Reduced, reordered, unpivoted solve == the plain system with identity rows at hints."""
    img = gradient_photo(30, 40)
    lightness = rgb_to_lab(img.astype(np.float32) / 255)[..., 0]
    hints = [Hint(5, 5, 3, ab=RED), Hint(30, 20, 5, ab=BLUE), Hint(20, 12, 1, ab=(0, 30))]
    hint_ab, mask = rasterize_hints(hints, lightness.shape)
    fixed = mask.ravel()
    a = sp.diags(fixed.astype(float)) + sp.diags((~fixed).astype(float)) @ (
        sp.identity(fixed.size) - levin.affinity(lightness / 100))
    expected = np.stack([spsolve(a.tocsc(), np.where(fixed, hint_ab[c].ravel(), 0.0))
                         for c in range(2)]).reshape(hint_ab.shape)
    np.testing.assert_allclose(levin.solve_ab(lightness, hint_ab, mask), expected, atol=1e-4)


def test_hint_pixels_keep_their_colour_exactly():
    img = gradient_photo(48, 64)
    lightness = rgb_to_lab(img.astype(np.float32) / 255)[..., 0]
    hints = [Hint(10, 10, 5, ab=RED), Hint(50, 30, 5, ab=BLUE), Hint(63, 0, 4, ab=(5, 5))]
    hint_ab, mask = rasterize_hints(hints, lightness.shape)
    ab = levin.solve_ab(lightness, hint_ab, mask)
    assert mask.sum() > 40
    np.testing.assert_array_equal(ab[:, mask], hint_ab[:, mask])
    # Every result is a weighted mean of the hint colours.
    assert ab[0].min() >= -20 - 1e-3 and ab[0].max() <= 60 + 1e-3

    # Through the sRGB output too: at mid-grey these colours are in gamut, so they survive.
    grey = np.full((48, 64, 3), 0.5, np.float32)
    in_gamut = [Hint(10, 10, 5, ab=(30, 20)), Hint(50, 30, 5, ab=(-10, -25))]
    hint_ab, mask = rasterize_hints(in_gamut, (48, 64))
    out_lab = rgb_to_lab(levin.colorize(grey, in_gamut))
    np.testing.assert_allclose(out_lab[mask][:, 1:], hint_ab[:, mask].T, atol=0.05)
    np.testing.assert_allclose(out_lab[..., 0], rgb_to_lab(grey)[..., 0], atol=0.01)  # L kept


def test_each_colour_stays_in_its_region():
    lightness = two_regions()
    hints = [Hint(10, 20, 5, ab=RED), Hint(50, 20, 5, ab=BLUE)]
    ab = levin.solve_ab(lightness, *rasterize_hints(hints, lightness.shape))
    left, right = ab[:, :, :30], ab[:, :, 30:]  # every pixel, those at the edge included
    assert np.abs(left - np.array(RED)[:, None, None]).max() < 3
    assert np.abs(right - np.array(BLUE)[:, None, None]).max() < 3
    # With texture the edge still holds.
    noisy = lightness + np.random.default_rng(0).normal(0, 2, lightness.shape).astype(np.float32)
    ab = levin.solve_ab(noisy, *rasterize_hints(hints, lightness.shape))
    assert np.abs(ab[:, :, :30] - np.array(RED)[:, None, None]).max() < 6
    assert np.abs(ab[:, :, 30:] - np.array(BLUE)[:, None, None]).max() < 6


def test_strokes_are_constraints_too():
    """The paper's own input: scribbles. A stroke in each region, its pixels kept exactly, each
    colour spread over its region; through ``colorize`` as through ``solve_ab``."""
    lightness = two_regions()
    strokes = [Stroke([(5, 5), (12, 18), (8, 32)], 3, ab=RED),
               Stroke([(45, 35), (52, 20)], 2, ab=BLUE)]
    hint_ab, mask = rasterize_hints(strokes, lightness.shape)
    assert mask.sum() > 60
    ab = levin.solve_ab(lightness, hint_ab, mask)
    np.testing.assert_array_equal(ab[:, mask], hint_ab[:, mask])
    assert np.abs(ab[:, :, :30] - np.array(RED)[:, None, None]).max() < 3
    assert np.abs(ab[:, :, 30:] - np.array(BLUE)[:, None, None]).max() < 3
    grey = np.full((40, 60, 3), 0.5, np.float32)
    mixed = [Stroke([(5, 5), (20, 30)], 3, ab=(30, 20)), Hint(50, 30, 5, ab=(-10, -25))]
    hint_ab, mask = rasterize_hints(mixed, (40, 60))
    out_lab = rgb_to_lab(levin.colorize(grey, mixed))
    np.testing.assert_allclose(out_lab[mask][:, 1:], hint_ab[:, mask].T, atol=0.05)


def test_one_colour_fills_a_flat_image_and_no_hint_is_grey():
    flat = np.full((24, 32), 55.0, np.float32)
    ab = levin.solve_ab(flat, *rasterize_hints([Hint(4, 20, 3, ab=RED)], flat.shape))
    np.testing.assert_allclose(ab, np.broadcast_to(np.array(RED, np.float32)[:, None, None],
                                                   ab.shape), atol=1e-4)
    none = levin.solve_ab(flat, *rasterize_hints([], flat.shape))
    assert not none.any()
    out = levin.colorize(gradient_photo(24, 32), [])
    assert np.abs(rgb_to_lab(out)[..., 1:]).max() < 0.05  # grey


@pytest.mark.parametrize("h, w", [(1, 1), (1, 9), (2, 2), (3, 17), (31, 8), (64, 64)])
def test_dissection_order_is_a_permutation(h, w):
    order = levin._dissection_order(h, w)
    np.testing.assert_array_equal(np.sort(order), np.arange(h * w))


def test_odd_shapes_solve():
    for h, w in [(1, 12), (2, 2), (17, 5)]:
        lightness = np.linspace(0, 100, h * w, dtype=np.float32).reshape(h, w)
        hint_ab, mask = rasterize_hints([Hint(0, 0, 1, ab=RED)], (h, w))
        ab = levin.solve_ab(lightness, hint_ab, mask)
        np.testing.assert_allclose(ab, np.broadcast_to(np.array(RED, np.float32)[:, None, None],
                                                       ab.shape), atol=1e-3)
    full = np.ones((3, 3), bool)
    ab = levin.solve_ab(np.zeros((3, 3)), np.full((2, 3, 3), 7.0, np.float32), full)
    assert (ab == 7).all()  # every pixel a hint: nothing to solve


def test_shape_errors_are_named():
    with pytest.raises(ValueError, match=r"\(2, 4, 5\)"):
        levin.solve_ab(np.zeros((4, 5)), np.zeros((2, 5, 4)), np.zeros((4, 5), bool))
    with pytest.raises(ValueError, match="intensity must have shape"):
        levin.affinity(np.zeros((2, 3, 3)))
