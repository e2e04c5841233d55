"""``colouru colorize`` for films: their options, and the jobs whose inputs are films.

The command line collects and names films with the photos (a folder of films works as a
folder of photos does; a film keeps its container: ``OUT/FILM.mp4``), shards and reports them
the same way, and hands the films here: each is colorized by ``colouru.video.colorize_video``
with a progress bar in frames (rate and time left), one line for a film that fails, and
``--skip-existing`` resuming an interrupted film from its last whole segment.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from colouru.errors import UsageError
from colouru.film_settings import (
    DEFAULT_CARRY,
    DEFAULT_CRF,
    DEFAULT_PRESET,
    MAX_CARRY,
    MAX_CRF,
    X264_PRESETS,
    is_video_path,
    parse_position,
)

__all__ = ["add_film_options", "check_film_options", "film_output_ext", "is_video_path",
           "load_shared_hints", "run_film_jobs"]

def add_film_options(parser) -> None:
    """The options that concern films, in their own group of ``colorize``'s help."""
    g = parser.add_argument_group("films (MP4, MOV, MKV, WebM, AVI: H.264, H.265, VP8, VP9, "
                                  "MPEG-4, MJPEG, ProRes)")
    g.add_argument("--steadiness", type=float, default=DEFAULT_CARRY, metavar="S",
                   help="share of each point's colour carried along the motion from the last "
                   f"frame, 0 (each frame on its own) to {MAX_CARRY:g} (default "
                   f"{DEFAULT_CARRY:g})")
    g.add_argument("--crf", type=int, default=DEFAULT_CRF, metavar="N",
                   help="the film's quality: H.264's constant rate factor, 0 (lossless) to 51, "
                   f"lower is better (VP9 for WebM: 0 to 63; default {DEFAULT_CRF})")
    g.add_argument("--preset", default=DEFAULT_PRESET, choices=X264_PRESETS,
                   help=f"H.264's speed against size (default {DEFAULT_PRESET})")
    g.add_argument("--start", metavar="AT",
                   help="colorize only from this frame on: a frame number (counted from 0, "
                   "as in the hints file) or a time (10s, 10.5s, 1:05, 1:02:05.5: the frame on "
                   "screen then); the range's first frame starts with the hints the whole film "
                   "has there (default: the first frame)")
    g.add_argument("--end", metavar="AT",
                   help="colorize only up to this frame or time, not including it (default: "
                   "the film's end); the output film is the range alone, its audio cut to it")
    g.add_argument("--chroma", default="420", choices=("420", "444"),
                   help="colour at half resolution (420: every player) or full (444: H.264 "
                   "High 4:4:4, fewer players; with --crf 0 a lossless master)")
    g.add_argument("--bit-depth", type=int, default=8, choices=(8, 10),
                   help="bits a sample of the film written: 8 (every player) or 10 (H.264 "
                   "High 10, or High 4:4:4 with --chroma 444: half the flicker the 8-bit film "
                   "adds to steady colour, but many browsers, phones and TVs do not play it; "
                   "not for WebM) (default 8)")


def check_film_options(args) -> None:
    """Usage errors in the film options."""
    if not 0 <= args.steadiness <= MAX_CARRY:
        raise UsageError(f"--steadiness must lie in 0..{MAX_CARRY:g}, got {args.steadiness:g}")
    if not 0 <= args.crf <= MAX_CRF:
        raise UsageError(f"--crf must be 0..51 (H.264) or 0..{MAX_CRF} (VP9), got {args.crf}")
    at = {}
    for name in ("start", "end"):
        text = getattr(args, name, None)
        if text is not None:
            try:
                at[name] = parse_position(text)
            except ValueError as e:
                raise UsageError(f"--{name}: {e}") from None
    a, b = at.get("start"), at.get("end")
    if a is not None and b is not None and (
            (a.frame is not None and b.frame is not None and b.frame <= a.frame)
            or (a.seconds is not None and b.seconds is not None and b.seconds <= a.seconds)):
        raise UsageError(f"--end ({b}) must come after --start ({a})")


def film_output_ext(src: Path) -> str | None:
    """A film's output extension (its own: the container is kept), or None for a photo."""
    return src.suffix.lower() if is_video_path(src) else None


def load_shared_hints(path: Path, found, load_photo_hints):
    """``--hints FILE`` read once for the whole batch: ``load_photo_hints(path)`` (a
    ``HintsDoc``) when there is no film among ``found`` (``(file, folder)`` pairs); else a
    ``VideoHints``, which serves films and, when the file is a photo's, photos too (a film's
    file given to a photo fails for that photo). ``HintsFileError`` for a bad file."""
    from colouru.video_hints import load_video_hints

    if not any(is_video_path(f) for f, _ in found):
        return load_photo_hints(path)
    return load_video_hints(path)


def _precheck(job, args, inputs: set[Path]) -> str | None:
    from colouru.video import VideoWriteError

    if job.dst.resolve() in inputs:
        raise VideoWriteError(f"{job.dst}: refusing to overwrite an input film")
    if job.dst.exists() and not args.overwrite:
        if args.skip_existing:
            return "skipped"
        raise VideoWriteError(f"{job.dst}: exists (use --overwrite or --skip-existing)")
    return None


def _film_hints(shared, job):
    """A film job's hints: ``--hints FILE``'s, else its own file's (a path), else none."""
    from colouru.video_hints import VideoHints

    if shared is None:
        return job.hints
    if isinstance(shared, VideoHints):
        return shared
    return VideoHints({0: list(shared.hints)} if shared.hints else {}, shared.saturation,
                      shared.image_size, photo_file=True)


def run_film_jobs(jobs: list, colorizer, args, inputs: set[Path], shared_hints,
                  record=None, position: int = 0):
    """Colorize the films of ``jobs``, yielding ``(job, status, error or note, seconds)`` for
    each, as ``colouru.cli.run_jobs`` does for photos, and ``record(job, status, error,
    seconds, note)`` (the report's line) as each ends. ``shared_hints``: ``--hints FILE``'s
    ``load_shared_hints`` (None: each job's own file, if any)."""
    from tqdm import tqdm

    from colouru.hints import HintsFileError
    from colouru.video import VideoReadError, VideoWriteError, colorize_video

    def done(job, status, error, t0, note=None):
        seconds = time.perf_counter() - t0
        if record is not None:
            record(job, status, error, seconds, note)
        return job, status, error or note, seconds

    for job in jobs:
        t0 = time.perf_counter()
        bar = None
        try:
            if _precheck(job, args, inputs):
                yield done(job, "skipped", None, t0)
                continue
            bar = tqdm(total=0, unit="frame", disable=args.quiet or None, file=sys.stderr,
                       dynamic_ncols=True, leave=False, position=position,
                       desc=job.src.name[-24:])

            def progress(n: int, total: int, bar=bar) -> None:
                if bar.total != total:
                    bar.total = total
                bar.update(n - bar.n)

            job.dst.parent.mkdir(parents=True, exist_ok=True)
            result = colorize_video(
                job.src, job.dst, colorizer, _film_hints(shared_hints, job), progress=progress,
                steadiness=args.steadiness, saturation=args.saturation, crf=args.crf,
                preset=args.preset, chroma=args.chroma,
                bit_depth=args.bit_depth, work_size=args.work_size,
                start=args.start or 0, end=args.end,
                overwrite=args.overwrite, resume=args.skip_existing,
                max_pixels=args.max_pixels or None,
                **({"batch_size": args.batch_size} if args.batch_size else {}))
            bar.close()
            notes = list(result.notes)
            if result.resumed_frames:
                notes.append(f"{job.dst}: resumed after the {result.resumed_frames} frames an "
                             f"interrupted run had finished")
            yield done(job, "ok", None, t0, "; ".join(notes) or None)
        except (VideoReadError, VideoWriteError, HintsFileError) as e:
            yield done(job, "failed", str(e), t0)
        except Exception as e:  # one bad film must not stop the batch
            first = (str(e).strip().splitlines() or [""])[0]
            yield done(job, "failed", f"{job.src}: {e.__class__.__name__}: {first}".rstrip(": "),
                       t0)
        finally:
            if bar is not None:
                bar.close()
