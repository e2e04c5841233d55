"""Simulated user hints, for training and for evaluation (one function serves both).

A simulated user places a binomially distributed number of squares (p = 1/8) at Gaussian
positions around the image centre (standard deviation a quarter of the image size, clipped
inside the image), each 1 to 9 pixels on a side, coloured with the true image's mean ab under
the square. Everything is drawn from the ``numpy.random.Generator`` passed in, so a seeded
generator gives the same hints every time (a validation set's hints never change).

Brush strokes (``simulate_strokes``): a stroke starts at the same Gaussian positions and follows
a smooth random path (its heading a random walk), stopping where the brush would cover a colour
far from the start's (a region of similar colour: a stroke stays inside one object); it carries
the true mean ab under its brush. Training adds strokes to a ``stroke_share`` of the samples
that have hints; with ``stroke_share`` 0 (the default) not one more number is drawn, so the
square simulation's hints are exactly those of the code before strokes existed.

Recoloured regions (``recolour_regions``): where every hint carries the photo's true colour, one
hint is also the best guess of the whole photo's cast, and a network learns it as one (a red
hint on a shirt turns the lawn red). So in a ``recolour_share`` of the samples with hints, the
regions under some of the hints (flood fills of similar colour from the hint, as a stroke stays
in one) are given another colour, in the training target and in the hints drawn on them: a
hint's colour is then evidence for its region, and the rest of the photo keeps its own colour.
With ``recolour_share`` 0 (the default) no number is drawn: the hints are those of before.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from colouru.colour import AB_NORM
from colouru.hints import Hint, Stroke, hint_box
from colouru.rasterize import stroke_mask


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
    # Brush strokes (simulate_strokes). A run saved before they existed lacks these keys and
    # takes these defaults, so it resumes unchanged (stroke_share 0: squares only).
    stroke_share: float = 0.0  # share of the samples with hints that get strokes too
    stroke_n_max: int = 20  # strokes of such a sample: uniform 1..stroke_n_max, scaled by area
    # like n (at least 1), so a 96 x 96 crop gets 1..3
    stroke_min_length: int = 8  # stroke length in pixels (before it stops at a colour edge),
    stroke_max_length: int = 64  # drawn uniformly from min..max
    stroke_min_width: int = 1  # brush diameter in pixels, drawn uniformly from min..max
    stroke_max_width: int = 7
    stroke_tolerance: float = 12.0  # a stroke stops before its brush covers a pixel whose a
    stroke_l_tolerance: float = 25.0  # or b (L) differs from the start pixel's by more
    # Recoloured regions (recolour_regions). A run saved before they existed lacks these keys
    # and takes these defaults (recolour_share 0: every hint in the photo's true colour).
    recolour_share: float = 0.0  # share of the samples with hints whose hinted regions may
    recolour_hint_p: float = 0.5  # be recoloured; then each hint's region with this chance
    recolour_min_chroma: float = 10.0  # a region's new mean chroma (ab units), uniform in
    recolour_max_chroma: float = 60.0  # min..max, less near black and white (REGION_L_FADE)
    recolour_tolerance: float = 12.0  # a region: the pixels connected to the hint whose a and
    recolour_l_tolerance: float = 10.0  # b (L) lie within these of the hint pixel's (smoothed)


STROKE_TURN = 0.15  # standard deviation of the heading's change per pixel of path (radians)
# recolour_regions: within this many L units of black (0) or white (100) a region's new chroma
# fades linearly, down to a quarter at the ends (no vivid colour exists there).
REGION_L_FADE = 25.0


def draw_count(rng: np.random.Generator, cfg: HintSimConfig, area: int | None = None) -> int:
    """The number of hints of one sample: 0 with ``no_hint_share``, else Binomial(n, p).

    ``area``: the image's pixel count; n is scaled by ``area / cfg.area_ref`` when both are
    set (None: the reference area)."""
    if rng.random() < cfg.no_hint_share:
        return 0
    return _binomial_count(rng, cfg, area)


def _binomial_count(rng: np.random.Generator, cfg: HintSimConfig, area: int | None) -> int:
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
    lightness: np.ndarray | None = None,
) -> list[Hint | Stroke]:
    """Hints a simulated user would place on a photo whose true chroma is ``ab``.

    ``ab``: ``(2, H, W)`` float, the true CIE a and b. ``count``: number of squares (None: drawn
    with ``draw_count``, and then a ``cfg.stroke_share`` of the samples with hints get strokes
    too, after their squares); ``side``: fixed square side (None: uniform in the config's
    range). ``lightness``: the true L ``(H, W)``, 0..100, which strokes also stay within
    (None: ab alone). Returns hints in the image's pixel coordinates, each with the mean true
    ab under it.
    """
    if ab.ndim != 3 or ab.shape[0] != 2:
        raise ValueError(f"ab must have shape (2, H, W), got {ab.shape}")
    h, w = ab.shape[1:]
    strokes = 0
    if count is not None:
        k = int(count)
    elif rng.random() < cfg.no_hint_share:  # the draws of draw_count, in its order
        k = 0
    else:
        k = _binomial_count(rng, cfg, h * w)
        # Only a run with strokes draws this number: stroke_share 0 keeps the old hints.
        if cfg.stroke_share > 0 and rng.random() < cfg.stroke_share:
            n_max = cfg.stroke_n_max * (h * w / cfg.area_ref if cfg.area_ref else 1.0)
            strokes = int(rng.integers(1, max(1, int(round(n_max))) + 1))
    hints: list[Hint | Stroke] = []
    if k > 0:
        hints += _squares(ab, rng, cfg, k, side)
    if strokes:
        hints += simulate_strokes(ab, rng, strokes, cfg=cfg, lightness=lightness)
    return hints


def _positions(rng: np.random.Generator, cfg: HintSimConfig, h: int, w: int, k: int):
    """``k`` Gaussian positions around the centre (sigma ``cfg.sigma_frac`` of each side),
    rounded and clipped inside the image: ``(ys, xs)``, rows drawn first."""
    ys = np.clip(np.rint(rng.normal(h / 2, cfg.sigma_frac * h, size=k)), 0, h - 1)
    xs = np.clip(np.rint(rng.normal(w / 2, cfg.sigma_frac * w, size=k)), 0, w - 1)
    return ys, xs


def _whole(rng: np.random.Generator, fixed: int | None, lo: int, hi: int, k: int) -> np.ndarray:
    """``k`` whole numbers: ``fixed`` each (drawing nothing), or uniform in ``lo..hi``."""
    return rng.integers(lo, hi + 1, size=k) if fixed is None else np.full(k, int(fixed))


def _squares(
    ab: np.ndarray, rng: np.random.Generator, cfg: HintSimConfig, k: int, side: int | None
) -> list[Hint]:
    h, w = ab.shape[1:]
    ys, xs = _positions(rng, cfg, h, w, k)
    sides = _whole(rng, side, cfg.min_side, cfg.max_side, k)
    return [true_colour(Hint(x, y, s, ab=(0.0, 0.0)), ab)
            for x, y, s in zip(xs, ys, sides, strict=True)]


def true_colour(hint: Hint | Stroke, ab: np.ndarray) -> Hint | Stroke:
    """``hint`` (or stroke) with the mean of ``ab`` ``(2, H, W)`` under its pixels (the
    rasterizer's own: ``hint_box``, ``stroke_mask``) as its colour. It must lie on the image."""
    hw = ab.shape[1:]
    if isinstance(hint, Stroke):
        y0, x0, near = stroke_mask(hint, hw, hw)
        mean = ab[:, y0 : y0 + near.shape[0], x0 : x0 + near.shape[1]][:, near].mean(axis=1)
        return Stroke(hint.points, hint.width, ab=(float(mean[0]), float(mean[1])))
    x0, y0, x1, y1 = hint_box(hint, hw, hw)
    mean = ab[:, y0:y1, x0:x1].reshape(2, -1).mean(axis=1)
    return hint.with_ab((float(mean[0]), float(mean[1])))


def region_at(lab: np.ndarray, x: float, y: float, cfg: HintSimConfig = HintSimConfig()):
    """The pixels of similar colour connected to ``(x, y)``: a bool ``(H, W)`` mask.

    ``lab``: float32 ``(H, W, 3)`` (L 0..100, a, b), smoothed by the caller where its grain
    should not break a region. A pixel belongs when its a and b lie within
    ``cfg.recolour_tolerance`` and its L within ``cfg.recolour_l_tolerance`` of the start
    pixel's, 4-connected (a fixed range: a slow gradient does not carry it across the photo)."""
    h, w = lab.shape[:2]
    mask = np.zeros((h + 2, w + 2), np.uint8)
    tol = (cfg.recolour_l_tolerance, cfg.recolour_tolerance, cfg.recolour_tolerance)
    seed = (int(min(max(round(x), 0), w - 1)), int(min(max(round(y), 0), h - 1)))
    flags = 4 | cv2.FLOODFILL_FIXED_RANGE | cv2.FLOODFILL_MASK_ONLY | (1 << 8)
    cv2.floodFill(np.ascontiguousarray(lab, dtype=np.float32), mask, seed, 0, tol, tol, flags)
    return mask[1:-1, 1:-1].astype(bool)


def recolour_regions(
    ab: np.ndarray,
    lightness: np.ndarray,
    hints: list[Hint | Stroke],
    rng: np.random.Generator,
    cfg: HintSimConfig = HintSimConfig(),
) -> tuple[np.ndarray, list[Hint | Stroke]]:
    """Give some hinted regions of a training photo another colour: ``(ab', hints')``.

    ``ab``: ``(2, H, W)`` true a and b; ``lightness``: ``(H, W)`` L 0..100; ``hints``: drawn on
    this photo (``simulate_hints``). In a ``cfg.recolour_share`` of the samples with hints, each
    hint (in order) with chance ``cfg.recolour_hint_p`` has its region (``region_at`` from its
    centre, a stroke's first point; pixels of an earlier region excluded) shifted to a new mean
    colour, its own variation kept: a uniform hue, a chroma uniform in
    ``cfg.recolour_min_chroma..recolour_max_chroma`` faded near black and white
    (``REGION_L_FADE``). Every hint then takes the mean of the new ``ab`` under it
    (``true_colour``), so the hints and the target agree and a hint speaks for its region only.
    ``ab'`` is a new array (``ab`` is not changed) clipped to +-``AB_NORM``. With
    ``recolour_share`` 0 or no hints, nothing is drawn and ``(ab, hints)`` come back as they
    are; otherwise one number, and three per hint when the sample is chosen.
    """
    if not hints or cfg.recolour_share <= 0 or rng.random() >= cfg.recolour_share:
        return ab, hints
    draws = rng.random((len(hints), 3))  # chosen?, hue, chroma: three per hint, always
    lab = np.concatenate([lightness[None], ab], axis=0).transpose(1, 2, 0).astype(np.float32)
    lab = cv2.medianBlur(lab, 5)  # grain would break a region into specks; edges stay sharp
    out = ab.astype(np.float32, copy=True)
    taken = np.zeros(ab.shape[1:], bool)
    for hint, (pick, hue, chroma) in zip(hints, draws, strict=True):
        if pick >= cfg.recolour_hint_p:
            continue
        x, y = hint.points[0] if isinstance(hint, Stroke) else (hint.x, hint.y)
        region = region_at(lab, x, y, cfg) & ~taken
        if not region.any():
            continue
        taken |= region
        lm = float(lightness[region].mean())
        fade = min(1.0, max(0.25, min(lm, 100.0 - lm) / REGION_L_FADE))
        c = fade * (cfg.recolour_min_chroma
                    + chroma * (cfg.recolour_max_chroma - cfg.recolour_min_chroma))
        angle = 2 * math.pi * hue
        shift = np.array([c * math.cos(angle), c * math.sin(angle)], np.float32)
        shift -= out[:, region].mean(axis=1)
        out[:, region] += shift[:, None]
    np.clip(out, -AB_NORM, AB_NORM, out=out)
    return out, [true_colour(h, out) for h in hints]


def simulate_strokes(
    ab: np.ndarray,
    rng: np.random.Generator,
    count: int,
    length: int | None = None,
    width: int | None = None,
    lightness: np.ndarray | None = None,
    cfg: HintSimConfig = HintSimConfig(),
) -> list[Stroke]:
    """``count`` brush strokes a simulated user would draw on a photo whose true chroma is ``ab``.

    ``ab``: ``(2, H, W)`` float, the true CIE a and b; ``lightness``: the true L ``(H, W)``
    (None: strokes follow ab alone). ``length``: the path's length in pixels (None: uniform in
    ``cfg.stroke_min_length..stroke_max_length``); ``width``: the brush diameter in pixels
    (None: uniform in ``cfg.stroke_min_width..stroke_max_width``).

    Each stroke starts at a Gaussian position around the centre (``cfg.sigma_frac``, as the
    squares), heads in a uniform direction that turns by ``STROKE_TURN`` radians (standard
    deviation) per pixel, one point per pixel of path, and stops before the brush would cover
    a pixel whose a or b differs from the start pixel's by more than ``cfg.stroke_tolerance``
    (L: ``cfg.stroke_l_tolerance``) or would leave the image; stopped, it spends the rest of
    its length going the other way from its start. So it stays in a region of similar colour
    and may be shorter than ``length`` (a single dab at worst). Where even the dab at its start
    covers another colour, the brush narrows (down to one pixel). Its colour is the true mean
    ab under its brush (``rasterize.stroke_mask``, the rasterizer's own pixels).
    The random numbers drawn do not depend on the image, only on ``count`` (and on whether
    ``length`` and ``width`` are given).
    """
    if ab.ndim != 3 or ab.shape[0] != 2:
        raise ValueError(f"ab must have shape (2, H, W), got {ab.shape}")
    h, w = ab.shape[1:]
    if lightness is not None and lightness.shape != (h, w):
        raise ValueError(f"lightness must have shape ({h}, {w}), got {lightness.shape}")
    k = int(count)
    if k <= 0:
        return []
    ys, xs = _positions(rng, cfg, h, w, k)
    lengths = _whole(rng, length, cfg.stroke_min_length, cfg.stroke_max_length, k)
    widths = _whole(rng, width, cfg.stroke_min_width, cfg.stroke_max_width, k)
    headings = rng.uniform(0.0, 2 * math.pi, size=k)
    # One heading change per pixel of path, drawn for the whole length whether used or not.
    turns = [rng.normal(0.0, STROKE_TURN, size=int(n)) for n in lengths]
    colour = ab if lightness is None else np.concatenate([ab, lightness[None]], axis=0)
    tolerance = np.array(
        [cfg.stroke_tolerance] * 2 + [cfg.stroke_l_tolerance] * (len(colour) - 2),
        dtype=colour.dtype,
    )
    strokes = []
    for x, y, bw, heading, turn in zip(xs, ys, widths, headings, turns, strict=True):
        strokes.append(
            _one_stroke(
                ab, colour, float(x), float(y), int(bw), float(heading), np.cumsum(turn), tolerance
            )
        )
    return strokes


def _one_stroke(
    ab: np.ndarray,
    colour: np.ndarray,
    x: float,
    y: float,
    width: int,
    heading: float,
    turned: np.ndarray,
    tolerance: np.ndarray,
) -> Stroke:
    """Walk one stroke from ``(x, y)`` along ``heading + turned[i]`` (one pixel a step); where
    it is stopped, the rest of its length goes the other way from the start. ``colour``:
    ``(C, H, W)``, the channels each brush pixel must keep within ``tolerance`` (``(C,)``) of
    the start pixel's."""
    hw = colour.shape[1:]
    start = colour[:, int(y), int(x)][:, None, None]
    tol = tolerance[:, None, None]

    def covers_other_colour(points, bw) -> bool:
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        r = bw / 2 + 1  # a box around every pixel the brush may cover (rasterize.stroke_mask)
        bx0, by0 = max(int(min(xs) - r), 0), max(int(min(ys) - r), 0)
        bx1, by1 = min(int(max(xs) + r) + 2, hw[1]), min(int(max(ys) + r) + 2, hw[0])
        far = np.abs(colour[:, by0:by1, bx0:bx1] - start) > tol
        if not far.any():  # the quick answer, nearly always
            return False
        y0, x0, near = stroke_mask(Stroke(points, bw, ab=(0.0, 0.0)), hw, hw)
        far = np.abs(colour[:, y0 : y0 + near.shape[0], x0 : x0 + near.shape[1]] - start) > tol
        return bool((far.any(axis=0) & near).any())

    while width > 1 and covers_other_colour([(x, y)], width):
        width -= 1

    def step(path, angle) -> bool:
        px, py = path[-1]
        nx, ny = px + math.cos(angle), py + math.sin(angle)
        if not (0 <= nx <= hw[1] - 1 and 0 <= ny <= hw[0] - 1):
            return False
        if covers_other_colour([(px, py), (nx, ny)], width):
            return False
        path.append((nx, ny))
        return True

    forward, back = [(x, y)], [(x, y)]
    turned_back = None  # the heading's turn when the stroke was stopped
    for t in turned:
        if turned_back is None and step(forward, heading + t):
            continue
        # Stopped: the rest of the length goes the other way from the start, the path smooth
        # through it (leaving opposite the first forward step).
        turned_back = t if turned_back is None else turned_back
        if not step(back, heading + turned[0] + math.pi + (t - turned_back)):
            break
    return true_colour(Stroke(back[:0:-1] + forward, width, ab=(0.0, 0.0)), ab)
