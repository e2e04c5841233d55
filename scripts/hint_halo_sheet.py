"""Where one hint's colour goes: a sheet of the change one hint makes, for models side by side.

    .venv/bin/python scripts/hint_halo_sheet.py OUT.png --data ../shared/data/val-wide \
        [--model PATH ...] [--photos 6]

For each of the first ``--photos`` photos (sorted by name), one hint of 5 px at working size is
placed at the flattest spot of L (least spread of L in a 33 px window, away from the borders),
in one of six saturated colours in turn, as a person hinting a sky or a wall would. Each tile
shows how much the result at working size changed (``Colorizer.predict_ab``, as finished: with
the hint minus without it; white is a change of 64 CIE units or more) over the photo's L in dim
red. One row per model. A model whose hint features have sharp edges
(``GeneratorConfig.hint_fade`` 0) shows a rectangle around the hint; the change should fade
and stay within the hint's region.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from colouru import Colorizer, Hint
from colouru.imageio import read_image

PALETTE = ("#c03020", "#2060c0", "#30a040", "#e0c020", "#a040a0", "#20a0a0")
WINDOW = 33  # the flatness window, px at working size
SIDE = 5  # the hint square, px at working size
TILE = 256


def flattest(light: np.ndarray, keep_off: int = 40) -> tuple[int, int]:
    """``(x, y)`` of the least spread of L in a ``WINDOW`` window, ``keep_off`` px from each
    border (less on a small photo)."""
    f = light.astype(np.float64)
    mean = cv2.blur(f, (WINDOW, WINDOW))
    spread = cv2.blur(f * f, (WINDOW, WINDOW)) - mean * mean
    h, w = f.shape
    m = min(keep_off, h // 4, w // 4)
    inner = spread[m:h - m, m:w - m]
    y, x = np.unravel_index(np.argmin(inner), inner.shape)
    return int(x + m), int(y + m)


def tile(colorizer: Colorizer, path: Path, colour: str) -> np.ndarray:
    """One photo's tile ``(TILE, TILE, 3)`` uint8 for ``colorizer``."""
    prepared = colorizer.prepare(read_image(path))
    wl = prepared.work_lightness
    w, ww = prepared.image_hw[1], prepared.work_hw[1]
    x, y = flattest(wl)
    scale = w / ww  # image px per working px
    hint = Hint((x + 0.5) * scale, (y + 0.5) * scale, SIDE * scale, rgb=colour)
    with_hint = colorizer.predict_ab(prepared, [hint])
    change = np.hypot(*(with_hint - colorizer.predict_ab(prepared, [])))
    white = np.clip(change * 4, 0, 255).astype(np.uint8)
    dim = np.clip(wl * 0.85, 0, 255).astype(np.uint8)
    rgb = np.stack([np.maximum(white, dim), white, white], -1)
    return cv2.resize(rgb, (TILE, TILE), interpolation=cv2.INTER_NEAREST)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", help="the sheet (.png)")
    ap.add_argument("--data", required=True, help="folder of photos")
    ap.add_argument("--model", action="append", help="model file(s) (default: the bundled one)")
    ap.add_argument("--photos", type=int, default=6)
    args = ap.parse_args()
    paths = sorted(p for p in Path(args.data).iterdir()
                   if p.suffix.lower() in (".jpg", ".jpeg", ".png"))[: args.photos]
    rows = []
    for model in args.model or [None]:
        c = Colorizer.load(model, device="cpu")
        rows.append(np.concatenate([tile(c, p, PALETTE[i % len(PALETTE)])
                                    for i, p in enumerate(paths)], axis=1))
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.out)
    print(f"{args.out}: {len(rows)} model(s) x {len(paths)} photos")


if __name__ == "__main__":
    main()
