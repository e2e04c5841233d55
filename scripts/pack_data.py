"""Pack training photos small enough to travel with the working tree to a GPU machine.

    .venv/bin/python scripts/pack_data.py ../shared/data/train packed/ --budget-mb 24

Each photo becomes what training reads of it anyway: the centre square at ``--side`` pixels
(``training.data.square_crop``; 320 is the cache side of 256 px crops), saved as a JPEG of
``--quality``. Photos are taken class by class in turn (a seeded order within each class),
so every class is represented however small the budget, until the next photo would pass
``--budget-mb``. Greyscale and unreadable photos are skipped, as training skips them.
``OUT/<class>/`` keeps the class folders (``colouru train --data OUT`` reads them as
classes); ``OUT/MANIFEST.tsv`` lists each packed file with its source. ``OUT`` must not exist:
nothing is ever overwritten. Add ``OUT`` to ``.git/info/exclude`` and carry it.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from colouru.atomic import atomic_write_bytes
from colouru.imageio import ImageReadError, read_image
from colouru.training.data import DataError, is_greyscale, list_photos, square_crop


def interleaved(root: Path, classes: list[str] | None, seed: int) -> list[tuple[str, Path]]:
    """``(class, photo)`` pairs taking one photo of each class in turn, each class in a seeded
    order; a flat folder is one class named ``photos``."""
    subdirs = sorted(d.name for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    names = classes or subdirs or [""]
    queues = []
    for i, name in enumerate(names):
        photos = list_photos(root / name) if name else list_photos(root)
        order = np.random.default_rng([seed, i]).permutation(len(photos))
        queues.append((name or "photos", [photos[j] for j in order]))
    out = []
    for k in range(max(len(q) for _, q in queues)):
        out += [(name, q[k]) for name, q in queues if k < len(q)]
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data", type=Path, help="photos: a folder, flat or one sub-folder per class")
    ap.add_argument("out", type=Path, help="a new folder for the packed photos")
    ap.add_argument("--classes", help="class sub-folders to take, comma-separated (default all)")
    ap.add_argument("--side", type=int, default=320, help="square side in pixels (default 320)")
    ap.add_argument("--quality", type=int, default=90, help="JPEG quality (default 90)")
    ap.add_argument("--budget-mb", type=float, default=24.0, help="size limit (default 24 MB)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    if args.out.exists():
        print(f"pack_data: {args.out} exists; choose a new folder", file=sys.stderr)
        return 2
    if not (16 <= args.side <= 4096 and 1 <= args.quality <= 100 and args.budget_mb > 0):
        print("pack_data: --side 16..4096, --quality 1..100 and a positive --budget-mb",
              file=sys.stderr)
        return 2
    try:
        todo = interleaved(args.data, args.classes.split(",") if args.classes else None,
                           args.seed)
    except (DataError, OSError) as e:
        print(f"pack_data: {e}", file=sys.stderr)
        return 2
    budget, used, rows, skipped = args.budget_mb * 1e6, 0, [], 0
    for name, path in todo:
        try:
            rgb = read_image(path)
        except ImageReadError:
            skipped += 1
            continue
        if is_greyscale(rgb):
            skipped += 1
            continue
        buf = io.BytesIO()
        Image.fromarray(square_crop(rgb, args.side)).save(buf, "JPEG", quality=args.quality)
        if used + buf.tell() > budget:
            break
        dst = args.out / name / f"{path.stem}.jpg"
        n = 1
        while dst.exists():  # a.jpg and a.png of one class: both kept
            dst, n = args.out / name / f"{path.stem}-{n}.jpg", n + 1
        dst.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(dst, buf.getvalue())
        used += buf.tell()
        rows.append(f"{name}/{dst.name}\t{path}")
    if not rows:
        print("pack_data: no photo packed (budget too small, or no usable photos)",
              file=sys.stderr)
        return 1
    atomic_write_bytes(args.out / "MANIFEST.tsv",
                       ("packed\tsource\n" + "\n".join(rows) + "\n").encode())
    print(f"packed {len(rows)} of {len(todo)} photos ({used / 1e6:.1f} MB, {skipped} skipped) "
          f"into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
