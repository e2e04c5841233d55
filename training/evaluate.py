"""``colouru evaluate``: a model beside plain grey and Levin et al. 2004, by hint count.

The protocol (photos, seeded hints and strokes, the locality edits, the figures) is
``eval_protocol``'s; the report (means, JSON, tables) ``eval_report``'s; the pictures
(``--samples``) ``eval_pictures``'. Here: the baselines' pass (``baseline_photo``, in
worker processes), the model's pass over the same hints, and the command.

Levin's sparse solve dominates the time (about a third of a second per photo and hint count on
one core); ``--workers`` runs it in parallel processes while the model runs in this one.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from colouru import __version__, metrics
from colouru.atomic import atomic_write_bytes
from colouru.colour import srgb_image_lightness
from colouru.hints import Hint, Stroke
from colouru.imageio import ImageReadError, save_image
from colouru.training import levin
from colouru.training.data import DataError, list_photos
from colouru.training.eval_pictures import sample_strip
from colouru.training.eval_protocol import (
    LOCALITY_TRIALS,
    SIZE,
    GreyscalePhoto,
    ab_of,
    figures,
    hints_for,
    load_photo,
    locality_hint,
    locality_of,
    model_results,
    strokes_for,
)
from colouru.training.eval_report import Report, dump_json, print_report

PROTOCOLS = ("squares", "strokes", "locality")
METHODS = ("model", "grey", "levin")
SAMPLE_PHOTOS = 4  # --samples writes strips of this many photos (the first ones)


# --- the baselines' pass -----------------------------------------------------------------------
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
        before = ab_of(images["locality", None])
        edits = [locality_of(before, ab_of(images["locality", t]), h)
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
