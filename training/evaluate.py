"""``colouru evaluate``: a model beside plain grey and Levin et al. 2004, by hint count.

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

Levin's sparse solve dominates the time (about a third of a second per photo and hint count on
one core); ``--workers`` runs it in parallel processes while the model runs in this one.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Hashable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from colouru import __version__, metrics
from colouru.atomic import atomic_write_bytes
from colouru.colour import rgb_to_lab, srgb_image_lightness
from colouru.hints import Hint, Stroke
from colouru.imageio import ImageReadError, read_image, save_image
from colouru.simulate import HintSimConfig, simulate_hints, simulate_strokes
from colouru.training import levin
from colouru.training.data import DataError, is_greyscale, list_photos, square_crop
from colouru.training.eval_pictures import draw_hints, sample_strip  # noqa: F401 (re-exported)

SIZE = 256  # evaluation photos are SIZE x SIZE
HINT_SIDE = 5  # side of every simulated hint square, pixels
STROKE_LENGTH = 32  # length of every simulated stroke, pixels (shorter where colour changes)
STROKE_WIDTH = 3  # its brush diameter, pixels
LOCALITY_TRIALS = 3  # one-hint edits per photo in the locality protocol
LOCALITY_MIN_CHROMA = 30.0  # the locality hint's chroma at least (ab units)
NEAR_RADIUS = 8  # pixels from the hint's centre that count as near it
FAR_FRACTION = 1 / 3  # pixels farther than this share of the diagonal count as far
MOVED = 10.0  # a far pixel whose ab changed by more than this (CIE units) was moved
PROTOCOLS = ("squares", "strokes", "locality")
METHODS = ("model", "grey", "levin")
FIGURES = ("psnr", "ssim", "normalized_loss", "colourfulness")
SAMPLE_PHOTOS = 4  # --samples writes strips of this many photos (the first ones)


# --- one photo ---------------------------------------------------------------------------------
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
    return locality_of(_ab(before), _ab(after), hint)


def _ab(image: np.ndarray) -> np.ndarray:
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


@dataclass
class PhotoWork:
    """What the baseline pass gives the model pass for one photo."""

    index: int
    path: str
    truth: np.ndarray | None = None  # uint8 (SIZE, SIZE, 3); None when skipped
    hints: dict[int, list[Hint]] = field(default_factory=dict)
    figures: dict[str, dict[int, tuple[float, float, float]]] = field(default_factory=dict)
    levin_images: dict[int, np.ndarray] = field(default_factory=dict)  # only for samples
    strokes: dict[int, list[Stroke]] = field(default_factory=dict)  # the stroke protocol's
    stroke_figures: dict[str, dict[int, tuple[float, float, float]]] = field(default_factory=dict)
    levin_stroke_images: dict[int, np.ndarray] = field(default_factory=dict)
    locality_hints: list[Hint] = field(default_factory=list)  # the locality protocol's edits
    truth_colourfulness: float = 0.0  # of the true photo (Hasler and Suesstrunk 2003)
    skipped: str | None = None  # why, when the photo could not be used
    failed: bool = False  # skipped because unreadable (not merely greyscale)


def baseline_photo(
    index: int,
    path: str,
    counts: Sequence[int],
    seed: int,
    with_levin: bool,
    keep_images: bool,
    size: int = SIZE,
    stroke_counts: Sequence[int] = (),
    with_locality: bool = False,
) -> PhotoWork:
    """Load one photo, draw its hints (squares for ``counts``, strokes for ``stroke_counts``,
    the one-hint edits when ``with_locality``) and score the baselines (runs in a worker
    process)."""
    work = PhotoWork(index, str(path))
    try:
        truth = load_photo(path, size)
    except ImageReadError as e:
        work.skipped, work.failed = str(e), True
        return work
    except GreyscalePhoto as e:
        work.skipped = str(e)
        return work
    work.truth = truth
    work.truth_colourfulness = metrics.colourfulness(truth)
    if with_locality:
        work.locality_hints = [locality_hint(truth, seed, index, t) for t in range(LOCALITY_TRIALS)]
    grey = figures(metrics.grey_of(truth), truth)
    work.figures["grey"] = {k: grey for k in counts}
    work.stroke_figures["grey"] = {k: grey for k in stroke_counts}
    weights = levin.affinity(srgb_image_lightness(truth) / 100.0) if with_levin else None
    protocols = (
        (counts, hints_for, work.hints, work.figures, work.levin_images),
        (stroke_counts, strokes_for, work.strokes, work.stroke_figures, work.levin_stroke_images),
    )
    for ks, draw, drawn, figs, images in protocols:
        if with_levin:
            figs["levin"] = {}
        for k in ks:
            drawn[k] = draw(truth, seed, index, k)
            if not with_levin:
                continue
            if k == 0:  # no constraint: Levin's result is grey
                figs["levin"][k] = grey
                result = metrics.grey_of(truth)
            else:
                result = levin.colorize(truth, drawn[k], weights)
                figs["levin"][k] = figures(result, truth)
            if keep_images:
                images[k] = result
    return work


def _baseline_star(task: tuple) -> PhotoWork:
    return baseline_photo(*task)


# --- the whole evaluation ----------------------------------------------------------------------
@dataclass
class Report:
    """Per-photo figures and their means; ``to_dict`` is the JSON written by ``--json``.
    The square protocol's figures are ``counts`` and ``per_photo``, the stroke protocol's
    ``stroke_counts`` and ``per_photo_strokes`` (either may be empty)."""

    counts: list[int]
    seed: int
    methods: list[str]
    photos: list[str] = field(default_factory=list)
    per_photo: list[dict[str, dict[int, tuple[float, ...]]]] = field(default_factory=list)
    stroke_counts: list[int] = field(default_factory=list)
    per_photo_strokes: list[dict[str, dict[int, tuple[float, ...]]]] = field(default_factory=list)
    truth_colourfulness: list[float] = field(default_factory=list)  # of each true photo
    locality: list[tuple[float, float]] = field(default_factory=list)  # (near, far) per photo
    skipped: list[str] = field(default_factory=list)
    failed: int = 0  # unreadable files among the skipped
    seconds: float = 0.0

    def mean(self, method: str, k: int, protocol: str = "squares") -> dict[str, float]:
        """Mean figures of one method at one hint (or stroke) count, with the PSNR's standard
        error."""
        per_photo = self.per_photo if protocol == "squares" else self.per_photo_strokes
        rows = np.array([p[method][k] for p in per_photo], dtype=np.float64)
        out = {name: float(rows[:, i].mean()) for i, name in enumerate(FIGURES)}
        n = len(rows)
        out["psnr_sem"] = float(rows[:, 0].std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
        # Colourfulness against the true photos': the mean result's over the mean truth's.
        truth = float(np.mean(self.truth_colourfulness)) if self.truth_colourfulness else 0.0
        out["colourfulness_ratio"] = out["colourfulness"] / truth if truth > 0 else float("nan")
        return out

    def locality_summary(self) -> dict[str, float]:
        """The locality protocol's figures over the photos: medians and means of the near
        change and the far share."""
        near, far = np.array(self.locality, dtype=np.float64).reshape(-1, 2).T
        return {
            "near_change_median": float(np.median(near)),
            "far_share_median": float(np.median(far)),
            "near_change_mean": float(near.mean()),
            "far_share_mean": float(far.mean()),
        }

    def to_dict(self) -> dict:
        doc = {
            "protocol": {
                "size": SIZE,
                "crop": "short side resized to 256 (area filter when shrinking), centre crop",
                "hint_side": HINT_SIDE,
                "hints": "colouru.simulate.simulate_hints(count=k, side=5), numpy Generator "
                "seeded with [seed, photo index, k]",
                "seed": self.seed,
                "levin_at_0_hints": "grey (no constraint to spread)",
                "levin": levin.describe(),
            },
            "photos": len(self.photos),
            "hint_counts": self.counts,
            "truth_colourfulness": round(float(np.mean(self.truth_colourfulness)), 5)
            if self.truth_colourfulness
            else None,
            "results": {
                m: {str(k): _finite(self.mean(m, k)) for k in self.counts} for m in self.methods
            },
            "skipped": self.skipped,
            "seconds": round(self.seconds, 1),
            "per_photo_figures": list(FIGURES),
            "per_photo": [
                {
                    "photo": name,
                    "truth_colourfulness": round(c, 5),
                    **_rounded(fig, self.methods, self.counts),
                }
                for name, fig, c in zip(
                    self.photos, self.per_photo, self.truth_colourfulness, strict=True
                )
            ],
        }
        if self.stroke_counts:
            doc["strokes"] = {
                "protocol": {
                    "strokes": "colouru.simulate.simulate_strokes(count=k, length="
                    f"{STROKE_LENGTH}, width={STROKE_WIDTH}, lightness=L), numpy Generator "
                    "seeded with [seed, photo index, k, 1]",
                    "length": STROKE_LENGTH,
                    "width": STROKE_WIDTH,
                    "tolerance": {
                        "ab": HintSimConfig().stroke_tolerance,
                        "L": HintSimConfig().stroke_l_tolerance,
                    },
                },
                "stroke_counts": self.stroke_counts,
                "results": {
                    m: {str(k): _finite(self.mean(m, k, "strokes")) for k in self.stroke_counts}
                    for m in self.methods
                },
            }
            for row, fig in zip(doc["per_photo"], self.per_photo_strokes, strict=True):
                row["strokes"] = _rounded(fig, self.methods, self.stroke_counts)
        if self.locality:
            doc["locality"] = {
                "protocol": {
                    "trials": LOCALITY_TRIALS,
                    "hint": f"one square of side {HINT_SIDE} at simulate_hints' Gaussian position "
                    "(numpy Generator seeded with [seed, photo index, trial, 2]), its true mean "
                    f"ab turned 180 degrees in hue, chroma at least {LOCALITY_MIN_CHROMA:g}",
                    "near": f"median ab change within {NEAR_RADIUS} px of the hint's centre, "
                    "against the result without hints",
                    "far": f"share of pixels farther than {FAR_FRACTION:.3f} of the diagonal "
                    f"whose ab changed by more than {MOVED:g}",
                },
                "results": _finite(self.locality_summary()),
            }
            for row, (near, far) in zip(doc["per_photo"], self.locality, strict=True):
                row["locality"] = [round(near, 5), round(far, 5)]
        return doc


def _rounded(fig: dict, methods: Sequence[str], counts: Sequence[int]) -> dict:
    return {m: {str(k): [round(v, 5) for v in fig[m][k]] for k in counts} for m in methods}


def dump_json(doc: dict) -> str:
    """``doc`` as indented JSON, except one line per photo in ``per_photo`` (280 photos would
    otherwise make 40,000 lines)."""
    doc = dict(doc)
    rows = doc.pop("per_photo", [])
    head = json.dumps(doc, indent=1)
    body = ",\n  ".join(json.dumps(r) for r in rows)
    return f'{head[:-2]},\n "per_photo": [\n  {body}\n ]\n}}\n'


def _finite(d: dict[str, float]) -> dict:
    """JSON has no NaN or infinity: write them as null."""
    return {k: (round(v, 5) if math.isfinite(v) else None) for k, v in d.items()}


def _baseline_results(
    paths: Sequence[str | Path],
    counts: Sequence[int],
    seed: int,
    with_levin: bool,
    workers: int,
    n_samples: int,
    size: int = SIZE,
    stroke_counts: Sequence[int] = (),
    with_locality: bool = False,
) -> Iterator[PhotoWork]:
    tasks = [
        (i, str(p), tuple(counts), seed, with_levin, i < n_samples, size, tuple(stroke_counts),
         with_locality)
        for i, p in enumerate(paths)
    ]
    if workers <= 1:
        yield from map(_baseline_star, tasks)
        return
    # spawn, not fork: this process holds torch's threads, which do not survive a fork.
    pool = ProcessPoolExecutor(workers, mp_context=get_context("spawn"))
    try:
        yield from pool.map(_baseline_star, tasks)
    finally:  # interrupted or stopped early: drop the photos not yet started
        pool.shutdown(cancel_futures=True)


def _score_model(colorizer, work: PhotoWork, report: Report, with_locality: bool):
    """The model's results for one photo's hints: its figures into ``work``, its locality
    into ``report``. Returns its images by square count and by stroke count."""
    images = model_results(
        colorizer,
        work.truth,
        {
            **{("squares", k): h for k, h in work.hints.items()},
            **{("strokes", k): h for k, h in work.strokes.items()},
            **{("locality", t): [h] for t, h in enumerate(work.locality_hints)},
            **({("locality", None): []} if with_locality else {}),
        },
    )
    if with_locality:
        before = _ab(images["locality", None])
        edits = [locality_of(before, _ab(images["locality", t]), h)
                 for t, h in enumerate(work.locality_hints)]
        near, far = np.mean(edits, axis=0)
        report.locality.append((float(near), float(far)))
    model_images = {k: images["squares", k] for k in report.counts}
    model_stroke_images = {k: images["strokes", k] for k in report.stroke_counts}
    work.figures["model"] = {k: figures(model_images[k], work.truth) for k in report.counts}
    work.stroke_figures["model"] = {
        k: figures(model_stroke_images[k], work.truth) for k in report.stroke_counts
    }
    return model_images, model_stroke_images


def evaluate(
    colorizer,
    paths: Sequence[str | Path],
    counts: Sequence[int],
    seed: int = 0,
    with_levin: bool = True,
    workers: int = 1,
    progress: bool = True,
    samples_dir: Path | None = None,
    log=None,
    size: int = SIZE,
    stroke_counts: Sequence[int] = (),
    with_locality: bool = False,
) -> Report:
    """Score ``colorizer`` and the baselines on ``paths`` at each hint count in ``counts``
    (squares) and each stroke count in ``stroke_counts`` (the stroke protocol), and the
    model's one-hint edits when ``with_locality`` (the locality protocol).

    ``paths``: photo files in a fixed order (a photo's index seeds its hints). ``log``:
    called with one line per skipped photo (default: written above the progress bar).
    ``samples_dir``: write a strip for each usable photo among the first ``SAMPLE_PHOTOS``.
    ``size``: the side of the square crops (the protocol's ``SIZE``; smaller in tests).
    """
    from tqdm import tqdm

    counts = list(counts)
    methods = ["model", "grey"] + (["levin"] if with_levin else [])
    stroke_counts = list(stroke_counts)
    report = Report(counts=counts, seed=seed, methods=methods, stroke_counts=stroke_counts)
    log = log or (lambda line: tqdm.write(line, file=sys.stderr))
    t0 = time.perf_counter()
    n_samples = SAMPLE_PHOTOS if samples_dir is not None else 0
    results = _baseline_results(
        paths, counts, seed, with_levin, workers, n_samples, size, stroke_counts, with_locality
    )
    bar = tqdm(
        results,
        total=len(paths),
        unit="photo",
        desc="evaluate",
        file=sys.stderr,
        disable=not progress,
        dynamic_ncols=True,
    )
    for work in bar:
        if work.truth is None:
            report.skipped.append(work.skipped)
            report.failed += work.failed
            log(f"colouru: skipped {work.skipped}")
            continue
        model_images, model_stroke_images = _score_model(colorizer, work, report,
                                                         with_locality)
        if work.index < n_samples:
            save_image(
                samples_dir / f"{work.index:03d}-{Path(work.path).stem}.png",
                sample_strip(work, model_images, model_stroke_images),
            )
        report.photos.append(work.path)
        report.per_photo.append(work.figures)
        report.per_photo_strokes.append(work.stroke_figures)
        report.truth_colourfulness.append(work.truth_colourfulness)
        psnr = [
            f[0] for f in (*work.figures["model"].values(), *work.stroke_figures["model"].values())
        ]
        if psnr:  # the locality protocol alone has none
            bar.set_postfix_str(f"model PSNR {np.mean(psnr):.2f}", refresh=False)
    bar.close()
    report.seconds = time.perf_counter() - t0
    return report


# --- the command -------------------------------------------------------------------------------
def parse_counts(text: str, option: str = "--hints", least: int = 0) -> list[int]:
    """``"0,1,5"`` -> ``[0, 1, 5]`` (sorted, without repeats); raises ``ValueError``."""
    try:
        counts = sorted({int(t) for t in text.split(",") if t.strip()})
    except ValueError:
        raise ValueError(f"{option} must be comma-separated whole numbers, got {text!r}") from None
    if not counts or counts[0] < least:
        raise ValueError(f"{option} needs one or more counts >= {least}, got {text!r}")
    return counts


def parse_protocols(text: str) -> list[str]:
    """``"squares,strokes"`` -> the protocols named, in ``PROTOCOLS``' order; ``ValueError``."""
    names = {t.strip() for t in text.split(",") if t.strip()}
    bad = sorted(names - set(PROTOCOLS))
    if bad or not names:
        raise ValueError(f"--protocol takes one or more of {','.join(PROTOCOLS)}, got {text!r}")
    return [p for p in PROTOCOLS if p in names]


def format_table(report: Report, protocol: str = "squares") -> str:
    """The figures as a table a person reads: one row per hint (or stroke) count."""
    methods = report.methods
    counts = report.counts if protocol == "squares" else report.stroke_counts
    noun = "hints" if protocol == "squares" else "strokes"
    names = {"model": "model", "grey": "grey", "levin": "Levin"}
    width = 8 * len(methods)
    head1 = "       " + "".join(
        f"  {title:-^{width}}" for title in (" PSNR dB ", " SSIM ", " norm. loss ")
    )
    head2 = f"{noun:>7}" + ("  " + "".join(f"{names[m]:>8}" for m in methods)) * 3
    lines = [head1, head2]
    for k in counts:
        means = {m: report.mean(m, k, protocol) for m in methods}
        cells = [f"{k:7d}"]
        for fig, fmt in (("psnr", "8.2f"), ("ssim", "8.3f"), ("normalized_loss", "8.3f")):
            cells.append("  " + "".join(format(means[m][fig], fmt) for m in methods))
        cells.append(f"  {means['model']['colourfulness_ratio']:10.2f}")
        lines.append("".join(cells))
    lines[0] += "  colourful"
    lines[1] += "  vs truth"
    return "\n".join(lines)


def print_report(report: Report, data, source: str) -> None:
    """The figures as a person reads them: a table per protocol, the locality line, notes."""
    print(
        f"{len(report.photos)} photos from {data} ({SIZE} x {SIZE}), seed {report.seed}, "
        f"model {source}"
    )
    if report.counts:
        print(f"hint squares of side {HINT_SIDE}:")
        print(format_table(report))
    if report.stroke_counts:
        print(
            f"brush strokes of length {STROKE_LENGTH} (less where the colour changes), "
            f"width {STROKE_WIDTH}:"
        )
        print(format_table(report, "strokes"))
    if report.locality:
        loc = report.locality_summary()
        print(
            f"locality, {LOCALITY_TRIALS} one-hint edits a photo (a colour the photo does not "
            f"have there): ab change within {NEAR_RADIUS} px {loc['near_change_median']:.1f} "
            f"(median over photos); far pixels moved > {MOVED:g}: median "
            f"{loc['far_share_median']:.3f}, mean {loc['far_share_mean']:.3f}"
        )
    notes = ["grey: the photo's own L with no colour (normalised loss 1 by definition)"]
    if "levin" in report.methods:
        notes.append("Levin: Levin, Lischinski and Weiss 2004 from the same hints (0 hints: grey)")
    for line in notes:
        print(f"  {line}")
    skipped = len(report.skipped)
    print(
        f"{skipped} skipped ({report.failed} unreadable) in {report.seconds:.0f} s"
        if skipped
        else f"done in {report.seconds:.0f} s"
    )


def _checked(args: argparse.Namespace) -> tuple[list[str], list[int], list[int], int]:
    """``(protocols, counts, stroke counts, workers)`` of the command's arguments; a bad one
    raises ``UsageError``."""
    from colouru.errors import UsageError

    try:
        protocols = parse_protocols(args.protocol)
        counts = parse_counts(args.hints) if "squares" in protocols else []
        stroke_counts = (
            parse_counts(args.strokes, "--strokes", least=1) if "strokes" in protocols else []
        )
    except ValueError as e:
        raise UsageError(str(e)) from None
    if args.seed < 0:
        raise UsageError(f"--seed must be 0 or more, got {args.seed}")
    if args.limit is not None and args.limit < 1:
        raise UsageError(f"--limit must be 1 or more, got {args.limit}")
    workers = 1 if args.workers is None else args.workers
    if workers < 1:
        raise UsageError(f"--workers must be 1 or more, got {workers}")
    return protocols, counts, stroke_counts, workers


def run(args: argparse.Namespace) -> int:
    from colouru.colorizer import Colorizer, NoModelError
    from colouru.weights import ModelFileError

    protocols, counts, stroke_counts, workers = _checked(args)
    try:
        paths = list_photos(args.data)
    except DataError as e:
        print(f"colouru: {e}", file=sys.stderr)
        return 1
    paths = paths[: args.limit] if args.limit else paths
    try:
        colorizer = Colorizer.load(args.model, device=args.device)
    except (NoModelError, ModelFileError, ValueError) as e:
        print(f"colouru: {e}", file=sys.stderr)
        return 1
    if workers > 1 and colorizer.device.type == "cpu":
        # The Levin workers take the other cores; torch's own threads would only spin.
        import torch

        torch.set_num_threads(1)
    samples_dir = Path(args.samples) if args.samples else None
    if samples_dir is not None:
        samples_dir.mkdir(parents=True, exist_ok=True)

    report = evaluate(
        colorizer,
        paths,
        counts,
        seed=args.seed,
        with_levin=not args.no_levin,
        workers=workers,
        progress=not args.quiet,
        samples_dir=samples_dir,
        stroke_counts=stroke_counts,
        with_locality="locality" in protocols,
    )
    if not report.photos:
        print(f"colouru: no photo in {args.data} could be evaluated", file=sys.stderr)
        return 1
    print_report(report, args.data, colorizer.source)
    if args.json:
        doc = report.to_dict()
        doc["data"] = str(args.data)
        doc["colouru_version"] = __version__
        doc["model"] = {
            "path": colorizer.source,
            "work_size": SIZE,
            "generator": colorizer.info.generator.to_dict(),
            "provenance": colorizer.info.provenance,
        }
        atomic_write_bytes(Path(args.json), dump_json(doc).encode())
    return 1 if report.failed else 0
