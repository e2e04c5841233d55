"""Draw the README's before/after strip from `make demo`'s inputs with the bundled model:
the black-and-white kingfisher with its hints (and the colour original), then the old
black-and-white photographs colorized without hints.

    .venv/bin/python scripts/demo_strip.py [--model PATH] [--out docs/demo_strip.png]

With ``--sheet NAME=MODEL [NAME=MODEL ...] [--more PHOTO ...]`` it draws a contact sheet
instead (default ``docs/contact_sheet.png``): one row per photo (the old photographs, then
colour examples and the ``--more`` photos made grey, with their colour original last), the
input beside each model's result without hints; then the surfer with the few hints
of ``assets/examples/demo/1890Surfer.hints.json`` (skin on the man, sky, sea, foliage), and the
cyclist with one hint of a colour he does not wear (``EDITS``: red on the shirt, green on the
grass), to see whether a hint's colour stays in its object or tints the whole photo.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from colouru import Colorizer, load_hints
from colouru.colour import lab_to_rgb, rgb_to_lab
from colouru.imageio import read_image, save_image, to_uint8
from colouru.rasterize import rasterize_hints

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


def _label(img: np.ndarray, text: str) -> np.ndarray:
    img = np.ascontiguousarray(img)
    for colour, thick in (((0, 0, 0), 3), ((255, 255, 255), 1)):
        cv2.putText(img, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, thick,
                    cv2.LINE_AA)
    return img


GREYED = ["fruit_stand.png", "macaws.png", "tulip_field.png", "kingfisher.png"]
# One-hint edits of the contact sheet: photo, hints file (assets/examples/demo), label.
EDITS = [("1910Bike.jpg", "1910Bike.red-shirt.hints.json", "1 red hint, shirt"),
         ("1910Bike.jpg", "1910Bike.green-grass.hints.json", "1 green hint, grass")]


def contact_sheet(models: list[tuple[str, str]], out: str, more: list[str] = ()) -> None:
    """Input | each model, without hints, for the old photos and greyed colour ones (the
    examples', then ``more``: paths of other colour photos), with the colour original last;
    then the surfer with a few hints."""
    colorizers = [(name, Colorizer.load(path or None)) for name, path in models]
    def grey_of(im: np.ndarray) -> np.ndarray:  # float sRGB, the photo's own L alone
        return lab_to_rgb(rgb_to_lab(im) * np.float32([1, 0, 0]))

    rows = []
    for path in [EX / n for n in OLD + GREYED] + [Path(p) for p in more]:
        im = read_image(path)
        tiles = [_label(_fit(to_uint8(grey_of(im))), path.name)]
        tiles += [_label(_fit(c.colorize(im)), f"{label}, no hints") for label, c in colorizers]
        if path.name not in OLD:
            tiles.append(_label(_fit(to_uint8(im)), "colour original"))
        rows.append(tiles)
    surfer = read_image(EX / "1890Surfer.png")
    hints = load_hints(EX / "demo" / "1890Surfer.hints.json")
    rows.append([_label(_fit(_with_hints(grey_of(surfer), hints)), "5 hints")] + [
        _label(_fit(c.colorize(surfer, hints)), f"{label}, 5 hints") for label, c in colorizers])
    for name, hints_file, text in EDITS:
        im, hints = read_image(EX / name), load_hints(EX / "demo" / hints_file)
        rows.append([_label(_fit(_with_hints(grey_of(im), hints)), text)] + [
            _label(_fit(c.colorize(im, hints)), label) for label, c in colorizers])
    width = max(sum(t.shape[1] for t in r) + 4 * (len(r) - 1) for r in rows)
    lines = []
    for r in rows:
        line = np.concatenate([x for t in r for x in (t, np.full((HEIGHT, 4, 3), 255, np.uint8))]
                              [:-1], axis=1)
        lines.append(np.pad(line, ((0, 4), (0, width - line.shape[1]), (0, 0)),
                            constant_values=255))
    save_image(out, np.concatenate(lines, axis=0))
    print(f"wrote {out}")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model")
    ap.add_argument("--out")
    ap.add_argument("--sheet", nargs="+", metavar="NAME=MODEL",
                    help="draw a contact sheet of these models (MODEL empty: the bundled one)")
    ap.add_argument("--more", nargs="+", default=[], metavar="PHOTO",
                    help="with --sheet: more colour photos to show made grey")
    args = ap.parse_args()
    if args.sheet:
        models = [tuple(m.split("=", 1)) if "=" in m else (m, "") for m in args.sheet]
        contact_sheet(models, args.out or str(ROOT / "docs" / "contact_sheet.png"), args.more)
        return
    args.out = args.out or str(ROOT / "docs" / "demo_strip.png")
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
