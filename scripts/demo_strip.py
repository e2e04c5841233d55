"""Draw the README's before/after strip from `make demo`'s inputs with the bundled model:
the black-and-white kingfisher with its hints (and the colour original), then the old
black-and-white photographs colorized without hints.

    .venv/bin/python scripts/demo_strip.py [--model PATH] [--out docs/demo_strip.png]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from colouru import Colorizer, load_hints
from colouru.colour import lab_to_rgb, rgb_to_lab
from colouru.hints import rasterize_hints
from colouru.imageio import read_image, save_image, to_uint8

ROOT = Path(__file__).resolve().parent.parent
EX = ROOT / "assets" / "examples"
OLD = ["1880sBrooklynBridge.jpg", "1890Surfer.png", "1909Chicago.jpg", "1910Bike.jpg"]
HEIGHT = 220


def _fit(img: np.ndarray) -> np.ndarray:
    h, w = img.shape[:2]
    return cv2.resize(img, (round(w * HEIGHT / h), HEIGHT), interpolation=cv2.INTER_AREA)


def _with_hints(grey: np.ndarray, hints) -> np.ndarray:
    """The grey photo with each hint square painted in its colour (at the photo's L)."""
    lab = rgb_to_lab(grey)
    ab, mask = rasterize_hints(hints, lab.shape[:2])
    lab[..., 1][mask], lab[..., 2][mask] = ab[0][mask], ab[1][mask]
    out = to_uint8(lab_to_rgb(lab))
    ys, xs = np.nonzero(cv2.dilate(mask.astype(np.uint8), np.ones((5, 5))) - mask)
    out[ys, xs] = 255  # a thin white frame so small squares stay visible
    return out


def _row(images: list[np.ndarray], pad: int = 4) -> np.ndarray:
    parts = []
    for im in images:
        parts += [_fit(im), np.full((HEIGHT, pad, 3), 255, np.uint8)]
    return np.concatenate(parts[:-1], axis=1)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--out", default=str(ROOT / "docs" / "demo_strip.png"))
    args = ap.parse_args()
    c = Colorizer.load(args.model)
    bw = read_image(EX / "demo" / "kingfisher_bw.png")
    hints = load_hints(EX / "demo" / "kingfisher_bw.hints.json")
    top = _row([_with_hints(bw, hints), c.colorize(bw, hints), c.colorize(bw),
                to_uint8(read_image(EX / "kingfisher.png"))])
    pairs = []
    for name in OLD[:2]:
        im = read_image(EX / name)
        pairs += [to_uint8(im), c.colorize(im)]
    mid = _row(pairs)
    pairs = []
    for name in OLD[2:]:
        im = read_image(EX / name)
        pairs += [to_uint8(im), c.colorize(im)]
    bottom = _row(pairs)
    w = max(r.shape[1] for r in (top, mid, bottom))
    rows = [np.pad(r, ((0, 6), (0, w - r.shape[1]), (0, 0)), constant_values=255)
            for r in (top, mid, bottom)]
    save_image(args.out, np.concatenate(rows, axis=0))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
