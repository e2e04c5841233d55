"""How much hint squares show in the saved photo: the ab step across each square's border.

    .venv/bin/python scripts/hint_border_jumps.py [--model PATH]

On the four old photos in ``assets/examples``, 24 saturated hints each (seeded positions,
six colours), each a square of 5 px at working size, as a person clicking would leave them.
For every hint, ``metrics.hint_border_jumps``: the median over the square's border of the ab
distance between the pixel just inside and the one just outside, in the uint8 result read
back as Lab (what is saved) and in the ab before conversion (what the finishing step
controls). Printed: the median and worst over all 96 hints, beside the same boxes in the
result without hints (the photo's own texture), beside a ring 3 px outside each square in the
saved result (how much neighbouring pixels of that colour differ anyway: gamut clipping and
8-bit rounding of a saturated colour over the photo's texture; a square that shows has a
larger jump at its border than there), and beside the hard-edged squares of the previous
finishing step (``--paste``: each square's ab set exactly, no filling).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from colouru import Colorizer, Hint, finish
from colouru.colour import rgb_to_lab
from colouru.hints import hint_box
from colouru.imageio import read_image
from colouru.metrics import hint_border_jumps

PHOTOS = ("1880sBrooklynBridge.jpg", "1890Surfer.png", "1909Chicago.jpg", "1910Bike.jpg")
PALETTE = ("#c03020", "#2060c0", "#30a040", "#e0c020", "#a040a0", "#20a0a0")
EXAMPLES = Path(__file__).resolve().parents[1] / "assets" / "examples"


def user_hints(hw: tuple[int, int], work_size: int, n: int = 24, seed: int = 0) -> list[Hint]:
    """``n`` saturated hints at seeded positions, squares of 5 px at working size."""
    h, w = hw
    rng = np.random.default_rng(seed)
    side = 5 * max(h, w) / work_size
    return [Hint(float(rng.uniform(0.1, 0.9) * w), float(rng.uniform(0.1, 0.9) * h), side,
                 rgb=PALETTE[i % len(PALETTE)]) for i in range(n)]


def jumps(colorizer: Colorizer) -> dict[str, np.ndarray]:
    """Per-hint border jumps over the four photos: saved (uint8), a ring 3 px outside in
    the saved photo, before conversion, and the same boxes without hints."""
    out = {"saved": [], "3 px out": [], "ab": [], "no hints": []}
    for name in PHOTOS:
        img = read_image(EXAMPLES / name)
        hw = img.shape[:2]
        hints = user_hints(hw, colorizer.work_size)
        boxes = [hint_box(h, hw, hw) for h in hints]
        saved = rgb_to_lab(colorizer.colorize(img, hints) / 255.0)[..., 1:].transpose(2, 0, 1)
        before = colorizer.colorize_lab(img, hints)[..., 1:].transpose(2, 0, 1)
        plain = rgb_to_lab(colorizer.colorize(img) / 255.0)[..., 1:].transpose(2, 0, 1)
        out["saved"].append(hint_border_jumps(saved, boxes))
        ring = [(x0 - 3, y0 - 3, x1 + 3, y1 + 3) for x0, y0, x1, y1 in boxes]
        out["3 px out"].append(hint_border_jumps(saved, ring))
        out["ab"].append(hint_border_jumps(before, boxes))
        out["no hints"].append(hint_border_jumps(plain, boxes))
    return {k: np.concatenate(v) for k, v in out.items()}


def paste_squares() -> None:
    """The previous finishing step: each square's ab set exactly, the squares not filled."""
    finish.fill_squares = lambda ab, mask: ab
    finish._window = lambda lo, hi, n: (max(lo, 0), min(hi, n),
                                        np.ones(min(hi, n) - max(lo, 0), np.float32))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", help="model file (default: the bundled model)")
    p.add_argument("--paste", action="store_true", help="measure the hard-edged squares")
    args = p.parse_args()
    if args.paste:
        paste_squares()
    colorizer = Colorizer.load(args.model, device="cpu")
    for kind, j in jumps(colorizer).items():
        print(f"{kind:>9}: median {np.median(j):5.2f}, worst {j.max():5.2f} CIE ab units "
              f"({len(j)} hints)")


if __name__ == "__main__":
    main()
