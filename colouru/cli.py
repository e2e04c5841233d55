"""The ``colouru`` command: ``colorize`` (batch), ``info``, ``train`` and ``evaluate``.

Exit codes: 0 all succeeded, 1 some inputs failed, 2 usage error (argparse's convention).
"""

from __future__ import annotations

import argparse
import glob
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from colouru import __version__

FORMATS = ("png", "jpg", "tif", "webp")


class UsageError(Exception):
    """Bad arguments found after parsing; reported as 'colouru: error: ...' with exit 2."""


@dataclass
class Job:
    src: Path
    dst: Path
    hints: Path | None


# --- collecting inputs ---------------------------------------------------------------------------
def collect_inputs(items: list[str], recursive: bool) -> tuple[list[tuple[Path, Path]], list[str]]:
    """Expand files, folders and globs into ``(file, base folder)`` pairs, in order, without
    duplicates. Returns ``(found, problems)``: names that matched nothing are problems."""
    from colouru.imageio import READ_EXTENSIONS

    found: list[tuple[Path, Path]] = []
    seen: set[Path] = set()
    problems: list[str] = []

    def add(p: Path, base: Path):
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            found.append((p, base))

    for item in items:
        p = Path(item)
        if p.is_dir():
            pattern = "**/*" if recursive else "*"
            files = sorted(f for f in p.glob(pattern)
                           if f.is_file() and f.suffix.lower() in READ_EXTENSIONS
                           and not f.name.startswith("."))
            if not files:
                problems.append(f"{p}: folder has no images"
                                + ("" if recursive else " (use --recursive for sub-folders)"))
            for f in files:
                add(f, p)
        elif p.exists():
            add(p, p.parent)
        elif glob.has_magic(item):
            matches = sorted(Path(m) for m in glob.glob(item, recursive=recursive))
            matches = [m for m in matches if m.is_file()]
            if not matches:
                problems.append(f"{item}: no files match")
            for m in matches:
                add(m, m.parent)
        else:
            problems.append(f"{p}: no such file or folder")
    return found, problems


def plan_jobs(found, outdir: Path, fmt: str | None, hints: Path | None) -> list[Job]:
    """Decide each output path (mirroring sub-folders of a folder input) and its hints file."""
    jobs = []
    used: dict[Path, Path] = {}
    for src, base in found:
        try:
            rel = src.relative_to(base)
        except ValueError:
            rel = Path(src.name)
        ext = "." + (fmt or _default_ext(src))
        dst = outdir / rel.with_suffix(ext)
        if dst in used:  # photo.jpg and photo.png in one folder: keep both
            dst = dst.with_name(f"{src.stem}_{src.suffix.lstrip('.').lower()}{ext}")
        used[dst] = src
        h = None
        if hints is not None:
            if hints.is_dir():
                cand = hints / rel.with_suffix(".json")
                h = cand if cand.is_file() else None
            else:
                h = hints
        jobs.append(Job(src, dst, h))
    return jobs


def _one_line(e: BaseException) -> str:
    """An exception as one line; the class name is kept where the message alone is unclear."""
    lines = str(e).strip().splitlines()
    first = lines[0] if lines else ""
    if first and isinstance(e, (ValueError, OSError, MemoryError, RuntimeError)):
        return first
    return f"{e.__class__.__name__}: {first}" if first else e.__class__.__name__


def _default_ext(src: Path) -> str:
    s = src.suffix.lower().lstrip(".")
    return {"jpeg": "jpg", "tiff": "tif"}.get(s, s if s in FORMATS else "png")


# --- commands --------------------------------------------------------------------------------
def cmd_colorize(args) -> int:
    import torch
    from tqdm import tqdm

    from colouru.colorizer import Colorizer, NoModelError
    from colouru.device import resolve_device, resolve_precision
    from colouru.hints import HintsFileError, load_hints
    from colouru.imageio import ImageReadError, ImageWriteError, read_image, save_image
    from colouru.weights import ModelFileError

    if args.work_size is not None and not 16 <= args.work_size <= 4096:
        raise UsageError(f"--work-size must be between 16 and 4096, got {args.work_size}")
    if args.max_pixels < 0:
        raise UsageError(f"--max-pixels must be 0 (no limit) or positive, got {args.max_pixels}")
    try:
        device = str(resolve_device(args.device))
    except ValueError as e:
        raise UsageError(f"--device: {e}") from None
    try:
        resolve_precision(torch.device(device), args.precision)
    except ValueError as e:
        raise UsageError(f"--precision: {e}") from None
    hints_path = Path(args.hints) if args.hints else None
    if hints_path is not None and not hints_path.exists():
        raise UsageError(f"--hints {hints_path}: no such file or folder")
    found, problems = collect_inputs(args.inputs, args.recursive)
    for msg in problems:
        print(f"colouru: {msg}", file=sys.stderr)
    if not found:
        print("colouru: nothing to colorize", file=sys.stderr)
        return 1 if problems else 2
    outdir = Path(args.output)
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        print(f"colouru: cannot create output folder {outdir} ({e.strerror})", file=sys.stderr)
        return 1
    if not os.access(outdir, os.W_OK):
        print(f"colouru: output folder {outdir} is not writable", file=sys.stderr)
        return 1
    shared_hints = None
    if hints_path is not None and hints_path.is_file():
        try:
            shared_hints = load_hints(hints_path)
        except HintsFileError as e:
            print(f"colouru: {e}", file=sys.stderr)
            return 2
    try:
        colorizer = Colorizer.load(args.model, device=device, precision=args.precision)
    except (NoModelError, ModelFileError, ValueError) as e:
        print(f"colouru: {e}", file=sys.stderr)
        return 1

    inputs = {src.resolve() for src, _ in found}
    jobs = plan_jobs(found, outdir, args.format, hints_path)
    ok = skipped = 0
    failed: list[str] = []
    t0 = time.perf_counter()
    bar = tqdm(jobs, unit="photo", disable=args.quiet or None, file=sys.stderr,
               dynamic_ncols=True)
    for job in bar:
        bar.set_postfix_str(job.src.name[-30:], refresh=False)
        try:
            if job.dst.resolve() in inputs:
                raise ImageWriteError(f"{job.dst}: refusing to overwrite an input photo")
            if job.dst.exists() and not args.overwrite:
                if args.skip_existing:
                    skipped += 1
                    continue
                raise ImageWriteError(f"{job.dst}: exists (use --overwrite or --skip-existing)")
            hints = shared_hints if shared_hints is not None else (
                load_hints(job.hints) if job.hints else [])
            image = read_image(job.src, max_pixels=args.max_pixels or None)
            result = colorizer.colorize(image, hints, work_size=args.work_size)
            job.dst.parent.mkdir(parents=True, exist_ok=True)
            save_image(job.dst, result, protect=tuple(inputs & {job.src.resolve()}),
                       overwrite=True)
            ok += 1
        except (ImageReadError, ImageWriteError, HintsFileError) as e:
            failed.append(str(e))
            tqdm.write(f"colouru: skipped {e}", file=sys.stderr)
        except Exception as e:  # one bad photo must not stop the batch, whatever went wrong
            msg = _one_line(e)
            failed.append(f"{job.src}: {msg}")
            tqdm.write(f"colouru: skipped {job.src}: {msg}", file=sys.stderr)
    bar.close()
    dt = time.perf_counter() - t0
    n_fail = len(failed) + len(problems)
    print(f"colouru: {ok} colorized, {skipped} skipped (exist), {n_fail} failed "
          f"in {dt:.1f} s -> {outdir}", file=sys.stderr)
    return 1 if n_fail else 0


def cmd_info(args) -> int:
    import torch

    from colouru.colorizer import Colorizer, NoModelError, bundled_model_path
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
                   help="hints for every photo (a JSON file), or a folder of NAME.json per photo")
    c.add_argument("--model", metavar="PATH", help="model file (default: the bundled model)")
    c.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    c.add_argument("--precision", default="auto",
                   help="the network's arithmetic: auto (bf16 on a CUDA GPU that has it, "
                   "else fp32), fp32 or bf16")
    c.add_argument("--work-size", type=int, metavar="N",
                   help="long side the network runs at (default: the model's, 256)")
    c.add_argument("--format", choices=FORMATS, help="output format (default: like the input)")
    g = c.add_mutually_exclusive_group()
    g.add_argument("--skip-existing", action="store_true", help="skip outputs that exist")
    g.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    c.add_argument("--recursive", "-r", action="store_true", help="descend into sub-folders")
    c.add_argument("--max-pixels", type=int, default=200_000_000,
                   help="refuse images larger than this (decompression-bomb guard; 0: no limit)")
    c.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    c.set_defaults(func=cmd_colorize)

    i = sub.add_parser("info", help="version, device and the model's card")
    i.add_argument("--model", metavar="PATH")
    i.add_argument("--device", default="auto")
    i.add_argument("--precision", default="auto", help="auto, fp32 or bf16")
    i.set_defaults(func=cmd_info)

    from colouru.training.cli import add_subcommands

    add_subcommands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
