"""The ``colouru`` command: ``colorize`` (batch), ``info``, ``train`` and ``evaluate``.

Exit codes: 0 all succeeded, 1 some inputs failed, 2 usage error (argparse's convention).
"""

from __future__ import annotations

import argparse
import glob
import itertools
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from colouru import __version__
from colouru.errors import UsageError, one_line
from colouru.geometry import DEFAULT_WORK_SIZE

if TYPE_CHECKING:
    from colouru.batch import Job

FORMATS = ("png", "jpg", "tif", "webp")
# Photos per network call (--batch-size). On this project's 2-core CPU, 1 MP photos: 5.4 / 5.5
# / 6.2 / 6.6 photos/s at 1 / 2 / 4 / 8 (benchmarks/bench_batch.py); READ_AHEAD_PIXELS caps what
# a batch of large photos holds (colouru/batch.py).
DEFAULT_BATCH = 8


# --- collecting inputs ---------------------------------------------------------------------------
def collect_inputs(items: list[str], recursive: bool, exclude: Path | None = None,
                   is_result=None) -> tuple[list[tuple[Path, Path]], list[str]]:
    """Expand files, folders and globs into ``(file, base folder)`` pairs, in order, without
    duplicates. Returns ``(found, problems)``: names that matched nothing are problems.

    ``exclude``: the output folder. A folder input that contains it never takes its files,
    and a file a folder or a glob finds in it (the output folder given as the input too, or a
    glob reaching into it) is left out when ``is_result(file)`` says ColourU made it (the note
    in every result; default ``imageio.is_colouru_result``), so a rerun never colorizes the
    last run's results. Files named one by one are always taken."""
    from colouru.film_settings import is_video_path
    from colouru.imageio import READ_EXTENSIONS, is_colouru_result

    is_result = is_result or is_colouru_result
    found: list[tuple[Path, Path]] = []
    seen: set[Path] = set()
    problems: list[str] = []
    out = exclude.resolve() if exclude is not None else None

    def add(p: Path, base: Path):
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            found.append((p, base))

    def result(f: Path) -> bool:  # a result of ours in the output folder
        return out is not None and out in f.resolve().parents and is_result(f)

    for item in items:
        p = Path(item)
        if p.is_dir():
            pattern = "**/*" if recursive else "*"
            skip = exclude if exclude is not None and _inside(exclude, p) else None
            files = sorted(f for f in p.glob(pattern)
                           if f.is_file() and (f.suffix.lower() in READ_EXTENSIONS
                                               or is_video_path(f))
                           and not f.name.startswith(".")
                           and not (skip is not None and _inside(f, skip)))
            within = out is not None and (out == p.resolve() or out in p.resolve().parents)
            ours = {f for f in files if is_result(f)} if within else set()
            files = [f for f in files if f not in ours]
            if not files:
                problems.append(
                    f"{p}: nothing to colorize: its {len(ours)} image(s) are ColourU results"
                    if ours else f"{p}: folder has no images"
                    + ("" if recursive else " (use --recursive for sub-folders)"))
            for f in files:
                add(f, p)
        elif p.exists():
            add(p, p.parent)
        elif glob.has_magic(item):
            matches = sorted(Path(m) for m in glob.glob(item, recursive=recursive))
            matches = [m for m in matches if m.is_file()]
            ours = {m for m in matches if result(m)}
            matches = [m for m in matches if m not in ours]
            if not matches:
                problems.append(f"{item}: no files match" + (
                    f" but ColourU's own {len(ours)} result(s) in {exclude}" if ours else ""))
            for m in matches:
                add(m, m.parent)
        else:
            problems.append(f"{p}: no such file or folder")
    return found, problems


def _inside(path: Path, folder: Path) -> bool:
    """``path`` is strictly inside ``folder`` (both resolved)."""
    path, folder = path.resolve(), folder.resolve()
    return path != folder and folder in path.parents


def plan_jobs(found, outdir: Path, fmt: str | None, hints: Path | None) -> list[Job]:
    """Decide each output path (mirroring sub-folders of a folder input) and its hints file.

    Every job gets its own output path: when two inputs would map to one name (photo.jpg and
    photo.png in a folder, or 001.png in each of several folders), the later one is renamed
    (``photo_png.png``, then ``photo-2.png``, ``photo-3.png`` ...) and the new name is checked
    again. The plan depends only on the inputs, so a rerun maps each photo to the same output.
    """
    from colouru.batch import Job
    from colouru.video_cli import film_output_ext

    jobs = []
    used: set[str] = set()  # case-folded: one file on case-insensitive file systems

    def key(p: Path) -> str:
        return os.path.normcase(str(p)).casefold()

    for src, base in found:
        try:
            rel = src.relative_to(base)
        except ValueError:
            rel = Path(src.name)
        ext = film_output_ext(src) or "." + (fmt or _default_ext(src))  # a film keeps its own
        dst = outdir / rel.with_suffix(ext)
        if key(dst) in used:
            dst = dst.with_name(f"{src.stem}_{src.suffix.lstrip('.').lower()}{ext}")
            n = 2
            while key(dst) in used:
                dst = dst.with_name(f"{src.stem}-{n}{ext}")
                n += 1
        used.add(key(dst))
        h = None
        if hints is not None:
            if hints.is_dir():
                cand = hints / rel.with_suffix(".json")
                h = cand if cand.is_file() else None
            else:
                h = hints
        jobs.append(Job(src, dst, h, rel.as_posix()))
    return jobs


def _say(text: str, write=None) -> None:
    """One line on stderr (through ``write``: tqdm's, while its bar is shown)."""
    line = one_line(text)
    if write is None:
        print(line, file=sys.stderr)
    else:
        write(line, file=sys.stderr)


def _default_ext(src: Path) -> str:
    s = src.suffix.lower().lstrip(".")
    return {"jpeg": "jpg", "tiff": "tif"}.get(s, s if s in FORMATS else "png")


# --- commands --------------------------------------------------------------------------------
def _checked_options(args):
    """The options colorize checks before it reads anything: ``(shard, device)``; a bad one
    raises ``UsageError``."""
    import torch

    from colouru.device import resolve_device, resolve_precision
    from colouru.hints import check_saturation
    from colouru.shard import local_device_index, parse_shard, shard_from_env
    from colouru.video_cli import check_film_options

    check_film_options(args)
    if args.work_size is not None and not 16 <= args.work_size <= 4096:
        raise UsageError(f"--work-size must be between 16 and 4096, got {args.work_size}")
    if args.batch_size is not None and not 1 <= args.batch_size <= 256:
        raise UsageError(f"--batch-size must be between 1 and 256, got {args.batch_size}")
    if args.max_pixels < 0:
        raise UsageError(f"--max-pixels must be 0 (no limit) or positive, got {args.max_pixels}")
    if args.saturation is not None:
        try:
            check_saturation(args.saturation)
        except ValueError as e:
            raise UsageError(f"--saturation: {e}") from None
    try:  # "--shard ''" (an unset variable) is refused, not taken for no --shard
        shard = parse_shard(args.shard) if args.shard is not None else shard_from_env()
    except ValueError as e:
        raise UsageError(f"--shard: {e}") from None
    from_launcher = shard is not None and args.shard is None
    shard = shard or parse_shard("0/1")
    try:
        device = str(resolve_device(args.device))
    except ValueError as e:
        raise UsageError(f"--device: {e}") from None
    local = local_device_index()
    if from_launcher and args.device == "auto" and device.startswith("cuda") and local is not None:
        device = f"cuda:{local % torch.cuda.device_count()}"  # one GPU per process
    try:
        resolve_precision(torch.device(device), args.precision)
    except ValueError as e:
        raise UsageError(f"--precision: {e}") from None
    return shard, device


def cmd_colorize(args) -> int:
    from colouru.atomic import clean_leftovers
    from colouru.colorizer import Colorizer, NoModelError
    from colouru.hints import HintsFileError, load_hints_doc
    from colouru.report import Report, ReportError, check_report_path, reported_outputs
    from colouru.video_cli import load_shared_hints
    from colouru.weights import ModelFileError

    shard, device = _checked_options(args)
    hints_path = Path(args.hints) if args.hints else None
    if hints_path is not None and not hints_path.exists():
        raise UsageError(f"--hints {hints_path}: no such file or folder")
    outdir = Path(args.output)
    found, problems = collect_inputs(args.inputs, args.recursive, exclude=outdir)
    inputs = {src.resolve() for src, _ in found}
    if args.report is not None:
        try:
            check_report_path(args.report, inputs)
        except ReportError as e:
            raise UsageError(f"--report {e}") from None
    for msg in problems:
        _say(f"colouru: {msg}")
    if not found:
        print("colouru: nothing to colorize", file=sys.stderr)
        return 1 if problems else 2
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        _say(f"colouru: cannot create output folder {outdir} ({e.strerror})")
        return 1
    if not os.access(outdir, os.W_OK):
        _say(f"colouru: output folder {outdir} is not writable")
        return 1
    removed = clean_leftovers(outdir, recursive=True)
    if removed:
        _say(f"colouru: removed {len(removed)} temporary file(s) left in {outdir} by an "
             f"interrupted run")
    shared_hints = None
    if hints_path is not None and not hints_path.is_dir():  # a file, a pipe, or /dev/zero
        try:
            shared_hints = load_shared_hints(hints_path, found, load_hints_doc)  # films too
        except HintsFileError as e:
            _say(f"colouru: {e}")
            return 2
    try:
        colorizer = Colorizer.load(args.model, device=device, precision=args.precision)
    except (NoModelError, ModelFileError, ValueError) as e:
        _say(f"colouru: {e}")
        return 1

    batch_size = args.batch_size or DEFAULT_BATCH
    jobs = [job for job in plan_jobs(found, outdir, args.format, hints_path)
            if shard.owns(job.rel)]
    try:
        report = Report(args.report, colorizer.source, str(shard)) if args.report else None
    except ReportError as e:
        _say(f"colouru: {e}")
        return 1
    try:
        return _run(args, jobs, colorizer, inputs, shared_hints, batch_size, report, problems,
                    shard, len(found), outdir,
                    {os.path.abspath(o) for o in reported_outputs(args.report)}
                    if report and args.skip_existing else set())
    finally:
        if report is not None:
            report.close()


def _run(args, jobs, colorizer, inputs, shared_hints, batch_size, report, problems, shard,
         n_found, outdir, reported: set[str]) -> int:
    """The batch with its progress bar, report and summary; the exit status."""
    from tqdm import tqdm

    if report is not None and shard.index == 0:
        for msg in problems:
            report.add(msg.split(": ")[0], None, "failed", msg)
    warned = [False]

    def record(job, status, error, seconds, note=None):
        """A job's line, written as soon as it ends: in the saving thread right after its
        result is published, so a kill leaves no published result unreported (all but the
        instant between the two; a rerun with --skip-existing reports what it finds)."""
        if report is not None:
            report.add(job.src, job.dst, status, error, seconds, note)

    def found_published(job) -> bool:  # an unreported result of ours, from a killed run
        from colouru.imageio import is_colouru_result

        return (report is not None and os.path.abspath(job.dst) not in reported
                and is_colouru_result(job.dst))

    from colouru.batch import run_jobs
    from colouru.video_cli import is_video_path, run_film_jobs

    films = [job for job in jobs if is_video_path(job.src)]  # colorized after the photos
    photos = [job for job in jobs if not is_video_path(job.src)]
    counts = {"ok": 0, "skipped": 0, "failed": 0}
    t0 = time.perf_counter()
    bar = tqdm(total=len(jobs), unit="file" if films else "photo", disable=args.quiet or None,
               file=sys.stderr, dynamic_ncols=True)
    for job, status, error, _ in itertools.chain(
            run_jobs(photos, colorizer, args, inputs, shared_hints, batch_size, record,
                     found_published),
            run_film_jobs(films, colorizer, args, inputs, shared_hints, record, position=1)):
        bar.update(1)
        bar.set_postfix_str(one_line(job.src.name[-30:]), refresh=False)
        counts[status] += 1
        if error:
            _say(f"colouru: {'skipped ' if status == 'failed' else ''}{error}", tqdm.write)
        if report is not None and report.error is not None and not warned[0]:
            warned[0] = True
            _say(f"colouru: cannot write the report {report.path} ({report.error}); the batch "
                 f"goes on without it", tqdm.write)
    bar.close()
    dt = time.perf_counter() - t0
    n_fail = counts["failed"] + len(problems)
    part = f" (shard {shard} of {n_found} inputs)" if shard.count > 1 else ""
    lost = ""
    if report is not None and report.error is not None:
        lost = f"; the report {report.path} lacks {report.lost} line(s) ({report.error})"
    _say(f"colouru: {counts['ok']} colorized, {counts['skipped']} skipped (exist), {n_fail} "
         f"failed in {dt:.1f} s -> {outdir}{part}{lost}")
    return 1 if n_fail or lost else 0


def cmd_info(args) -> int:
    import torch

    from colouru.assets import bundled_model_path
    from colouru.colorizer import Colorizer, NoModelError
    from colouru.device import resolve_device, resolve_precision
    from colouru.weights import ModelFileError

    print(f"ColourU {__version__} (torch {torch.__version__})")
    try:
        dev = resolve_device(args.device)
        resolve_precision(dev, args.precision)
    except ValueError as e:
        print(f"colouru: {e}", file=sys.stderr)
        return 2
    try:
        c = Colorizer.load(args.model, device=str(dev), precision=args.precision)
    except (NoModelError, ModelFileError) as e:
        print(f"model: none ({e})")
        return 1
    print(c.describe())
    if args.model is None:
        card = bundled_model_path().with_name("README.md")
        if card.is_file():
            print(f"model card: {card}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="colouru", description="User-guided photo colorization.")
    p.add_argument("--version", action="version", version=f"ColourU {__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    c = sub.add_parser("colorize", help="colorize photos (files, folders, globs) into a folder",
                       description="Colorize photos. Outputs never replace an input.")
    c.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders or globs")
    c.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="output folder")
    c.add_argument("--hints", metavar="FILE.json|DIR",
                   help="hints and strokes for every photo (a JSON file, version 1 or 2), or a "
                   "folder of NAME.json per photo")
    c.add_argument("--saturation", type=float, metavar="S",
                   help="scale the result's chroma by S, 0 (grey) to 3; the hints keep their "
                   "own colours (default: the hints file's saturation, else 1)")
    c.add_argument("--model", metavar="PATH", help="model file (default: the bundled model)")
    c.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    c.add_argument("--precision", default="auto",
                   help="the network's arithmetic: auto (bf16 on a CUDA GPU that has it, "
                   "else fp32), fp32 or bf16")
    c.add_argument("--work-size", type=int, metavar="N",
                   help="long side the network runs at (default: the model's, usually "
                   f"{DEFAULT_WORK_SIZE})")
    c.add_argument("--format", choices=FORMATS, help="output format (default: like the input)")
    g = c.add_mutually_exclusive_group()
    g.add_argument("--skip-existing", action="store_true", help="skip outputs that exist")
    g.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    c.add_argument("--recursive", "-r", action="store_true", help="descend into sub-folders")
    c.add_argument("--max-pixels", type=int, default=200_000_000,
                   help="refuse images larger than this (decompression-bomb guard; 0: no limit)")
    c.add_argument("--shard", metavar="K/N",
                   help="colorize only the K-th of N parts of the inputs (K from 0), for N jobs "
                   "with no coordination; under torchrun, RANK/WORLD_SIZE give it")
    c.add_argument("--report", metavar="FILE.jsonl",
                   help="append one JSON line per input (status, error, seconds, model) as "
                   "it goes; shards may share one file")
    c.add_argument("--batch-size", type=int, metavar="N",
                   help=f"photos through the network at a time (default {DEFAULT_BATCH}; fewer "
                   "when they are large)")
    c.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    from colouru.video_cli import add_film_options

    add_film_options(c)
    c.set_defaults(func=cmd_colorize)

    i = sub.add_parser("info", help="version, device and the model's card")
    i.add_argument("--model", metavar="PATH")
    i.add_argument("--device", default="auto")
    i.add_argument("--precision", default="auto", help="auto, fp32 or bf16")
    i.set_defaults(func=cmd_info)

    from colouru.training.cli import add_subcommands

    add_subcommands(sub)
    return p


def _values_that_look_like_options(argv: list[str]) -> list[str]:
    """``--shard -1/2`` as ``--shard=-1/2``: argparse takes a value starting with '-' for an
    option (and says only 'expected one argument'); joined, the value gets its own message."""
    out, i = [], 0
    while i < len(argv):
        if (argv[i] == "--shard" and i + 1 < len(argv) and argv[i + 1][:1] == "-"
                and argv[i + 1][1:2].isdigit()):
            out.append(f"--shard={argv[i + 1]}")
            i += 2
        else:
            out.append(argv[i])
            i += 1
    return out


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else argv
    args = parser.parse_args(_values_that_look_like_options(argv))
    try:
        return int(args.func(args) or 0)
    except UsageError as e:
        parser.error(str(e))  # exits 2
    except KeyboardInterrupt:
        print("colouru: interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
