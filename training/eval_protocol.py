"""The protocol of ``colouru evaluate`` (and of training's validation): the photos, the
seeded hints, strokes and one-hint edits, and the figures.

Protocol (the same for every model, baseline and run):

* Each photo is resized so its short side is 256 (area filter when shrinking) and
  centre-cropped to 256 x 256 (``data.square_crop``, the training pipeline's own crop), 8-bit.
  Greyscale photos (``data.is_greyscale``) have no colour to measure and are skipped; so are
  unreadable files, each reported.
* For each hint count k, ``simulate_hints`` places k squares of side 5 at Gaussian positions
  (the training distribution) with the true mean ab under each. The generator is seeded per
  (seed, photo index, k), the index being the photo's place in the sorted file list, so every
  method, and every run, sees the very same hints.
* Strokes, a second protocol beside the squares (``--protocol``): for each stroke count k,
  ``simulate_strokes`` draws k brush strokes of ``STROKE_LENGTH`` = 32 pixels and width
  ``STROKE_WIDTH`` = 3, starting at Gaussian positions as the squares do, each a smooth random
  path that stops early where the true colour (ab or L) changes, so it stays in one region
  (stopped, it goes on the other way from its start; its brush narrows where the dab at its
  start would cover another colour), carrying the true mean ab under its brush. The generator
  is seeded per (seed, photo index, k, 1). Its figures are reported apart (``strokes`` in the
  JSON, a second table), so the square figures and their keys are those of before.
* Locality, a third protocol (``--protocol``): does one hint stay on its object? For each of
  ``LOCALITY_TRIALS`` one-hint edits per photo, one square of side 5 at a Gaussian position
  (``simulate_hints``, seeded per (seed, photo index, trial, 2)) takes a colour the photo does
  not have there: the true mean ab under it with its hue turned 180 degrees and its chroma
  raised to at least ``LOCALITY_MIN_CHROMA``. The model's result with that hint is compared
  with its result without hints: the *near change* is the median ab change (CIE units) within
  ``NEAR_RADIUS`` pixels of the hint's centre (it should be large: the hint is followed), the
  *far share* the share of the pixels farther than ``FAR_FRACTION`` of the diagonal whose ab
  moved by more than ``MOVED`` (it should be small: the rest of the photo keeps its colour).
  Each is averaged over a photo's trials; the report gives their medians over the photos.
  Grey ignores hints and Levin's one constraint colours the whole photo, so only the model is
  measured.
* Methods: the model (``Colorizer.colorize`` at working size 256, so the network runs at native
  size), plain grey (the photo's own L with ab = 0, ``metrics.grey_of``; it ignores hints, so
  its normalised loss is 1 by definition), and Levin et al. 2004 (``levin.colorize``); with no
  hints Levin has nothing to spread and is grey.
* Figures: PSNR, SSIM and normalised loss of each result against the 256 x 256 photo, averaged
  over photos (``psnr_sem`` is the standard error of the mean PSNR).
"""

from __future__ import annotations

import math
from collections.abc import Hashable
from pathlib import Path

import numpy as np

from colouru import metrics
from colouru.colour import rgb_to_lab
from colouru.hints import Hint, Stroke
from colouru.imageio import read_image
from colouru.simulate import HintSimConfig, simulate_hints, simulate_strokes
from colouru.training.data import is_greyscale, square_crop

SIZE = 256  # evaluation photos are SIZE x SIZE
HINT_SIDE = 5  # side of every simulated hint square, pixels
STROKE_LENGTH = 32  # length of every simulated stroke, pixels (shorter where colour changes)
STROKE_WIDTH = 3  # its brush diameter, pixels
LOCALITY_TRIALS = 3  # one-hint edits per photo in the locality protocol
LOCALITY_MIN_CHROMA = 30.0  # the locality hint's chroma at least (ab units)
NEAR_RADIUS = 8  # pixels from the hint's centre that count as near it
FAR_FRACTION = 1 / 3  # pixels farther than this share of the diagonal count as far
MOVED = 10.0  # a far pixel whose ab changed by more than this (CIE units) was moved


class GreyscalePhoto(Exception):
    """A photo with no colour to measure (skipped, like in training)."""


def load_photo(path: str | Path, size: int = SIZE) -> np.ndarray:
    """A photo as the evaluation sees it: uint8 ``(size, size, 3)`` sRGB.
    Raises ``ImageReadError`` (unreadable) or ``GreyscalePhoto``."""
    rgb = read_image(path)
    if is_greyscale(rgb):
        raise GreyscalePhoto(f"{path}: greyscale, no colour to measure")
    return square_crop(rgb, size)


def hints_for(truth: np.ndarray, seed: int, index: int, k: int) -> list[Hint]:
    """The k simulated hints of photo ``index`` (uint8 sRGB ``truth``) under ``seed``."""
    if k == 0:
        return []
    ab = rgb_to_lab(truth.astype(np.float32) / 255.0)[..., 1:].transpose(2, 0, 1)
    rng = np.random.default_rng([seed, index, k])
    return simulate_hints(ab, rng, HintSimConfig(), count=k, side=HINT_SIDE)


def strokes_for(truth: np.ndarray, seed: int, index: int, k: int) -> list[Stroke]:
    """The k simulated strokes of photo ``index`` (uint8 sRGB ``truth``) under ``seed``."""
    if k == 0:
        return []
    lab = rgb_to_lab(truth.astype(np.float32) / 255.0)
    rng = np.random.default_rng([seed, index, k, 1])  # 1: not the squares' stream
    return simulate_strokes(
        lab[..., 1:].transpose(2, 0, 1),
        rng,
        k,
        length=STROKE_LENGTH,
        width=STROKE_WIDTH,
        lightness=lab[..., 0],
    )


def locality_hint(truth: np.ndarray, seed: int, index: int, trial: int) -> Hint:
    """The one-hint edit ``trial`` of photo ``index``: a square of side ``HINT_SIDE`` at a
    Gaussian position whose colour is the true one there with its hue turned 180 degrees
    (chroma at least ``LOCALITY_MIN_CHROMA``; a grey spot takes a seeded hue)."""
    ab = rgb_to_lab(truth.astype(np.float32) / 255.0)[..., 1:].transpose(2, 0, 1)
    rng = np.random.default_rng([seed, index, trial, 2])  # 2: not the squares' or strokes'
    (hint,) = simulate_hints(ab, rng, HintSimConfig(), count=1, side=HINT_SIDE)
    a, b = hint.ab
    chroma = math.hypot(a, b)
    turn = rng.uniform(0.0, 2 * math.pi)  # drawn always: one stream whatever the photo
    if chroma < 1.0:
        a, b, chroma = math.cos(turn), math.sin(turn), 1.0
    scale = -max(chroma, LOCALITY_MIN_CHROMA) / chroma
    return hint.with_ab((a * scale, b * scale))


def locality(before: np.ndarray, after: np.ndarray, hint: Hint) -> tuple[float, float]:
    """``(near change, far share)`` of a one-hint edit: uint8 sRGB results without and with
    ``hint``. Near: the median ab change within ``NEAR_RADIUS`` of its centre; far: the share
    of pixels farther than ``FAR_FRACTION`` of the diagonal whose ab moved by over ``MOVED``."""
    return locality_of(ab_of(before), ab_of(after), hint)


def ab_of(image: np.ndarray) -> np.ndarray:
    """CIE ab ``(H, W, 2)`` of a uint8 sRGB image."""
    return rgb_to_lab(image.astype(np.float32) / 255.0)[..., 1:]


def locality_of(ab0: np.ndarray, ab1: np.ndarray, hint: Hint) -> tuple[float, float]:
    """``locality`` from the two results' ab ``(H, W, 2)`` (one conversion of the result
    without hints serves every edit of a photo)."""
    change = np.hypot(*(ab1 - ab0).transpose(2, 0, 1))
    h, w = change.shape
    ys, xs = np.mgrid[0:h, 0:w]
    r = np.hypot(xs - hint.x, ys - hint.y)
    near = float(np.median(change[r <= NEAR_RADIUS]))
    far = r > FAR_FRACTION * math.hypot(h, w)
    return near, float((change[far] > MOVED).mean()) if far.any() else 0.0


def figures(result: np.ndarray, truth: np.ndarray) -> tuple[float, float, float, float]:
    """(PSNR, SSIM, normalised loss, colourfulness) of one result against the truth."""
    return (
        metrics.psnr(result, truth),
        metrics.ssim(result, truth),
        metrics.normalized_loss(result, truth),
        metrics.colourfulness(result),
    )


def model_results(
    colorizer, truth: np.ndarray, hints: dict[Hashable, list[Hint | Stroke]]
) -> dict[Hashable, np.ndarray]:
    """The model's uint8 result for each set of hints (keyed by hint count, or by (protocol,
    count)): ``Colorizer.colorize`` at working size ``SIZE`` (the network runs at the photo's
    own size), finished by ``colouru.finish`` as every result is. Training's validation calls
    this too, so its figures are these."""
    prepared = colorizer.prepare(truth, work_size=SIZE)
    return {k: colorizer.colorize(prepared, h) for k, h in hints.items()}


