"""Draw a model's worst validation photos as a picture, for the model card's failure cases.

    .venv/bin/python scripts/failure_sheet.py FIGURES.json [--model PATH] [--count 6]
        [--hints 10] [--out docs/model/failures.png]

``FIGURES.json`` is ``colouru evaluate --json`` of that model (per-photo figures). Half the
photos are those whose result without hints is furthest below plain grey in PSNR (wrong
colours cost more than none), half those the ``--hints`` hints helped least. One row each:
the grey photo | the result without hints | the input with its seeded hints | the result
with them | the truth; the same crops and hints as the evaluation (``training/eval_protocol.py``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from colouru import Colorizer
from colouru.training import eval_protocol
from colouru.training.eval_pictures import draw_hints
from colouru.training.logs import save_grid


def worst(doc: dict, count: int, hints: int) -> list[tuple[str, str]]:
    """(path, why) of the photos to show."""
    rows = [p for p in doc["per_photo"] if "model" in p]

    def gain(p: dict, k: int) -> float:
        return p["model"][str(k)][0] - p["grey"][str(k)][0]

    picked: list[tuple[str, str]] = []
    for k, n in ((0, count - count // 2), (hints, count // 2)):
        shown = {path for path, _ in picked}
        fresh = [p for p in sorted(rows, key=lambda p: gain(p, k)) if p["photo"] not in shown]
        picked += [(p["photo"], f"{k} hints: {gain(p, k):+.1f} dB against grey")
                   for p in fresh[:n]]
    return picked


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("figures")
    ap.add_argument("--model", help="model file (default: the bundled model)")
    ap.add_argument("--count", type=int, default=6)
    ap.add_argument("--hints", type=int, default=10)
    ap.add_argument("--out", default="docs/model/failures.png")
    args = ap.parse_args()
    doc = json.loads(Path(args.figures).read_text())
    seed = doc["protocol"]["seed"]
    colorizer = Colorizer.load(args.model)
    if doc["skipped"]:
        raise SystemExit("the figures skipped photos: their hint seeds cannot be recovered")
    index_of = {p["photo"]: i for i, p in enumerate(doc["per_photo"])}  # seeds the hints
    grid = []
    for path, why in worst(doc, args.count, args.hints):
        truth = eval_protocol.load_photo(path)
        hints = eval_protocol.hints_for(truth, seed, index_of[path], args.hints)
        results = eval_protocol.model_results(colorizer, truth, {0: [], args.hints: hints})
        grid.append([draw_hints(truth, []), results[0],
                     draw_hints(truth, hints), results[args.hints], truth])
        print(f"{Path(path).name}: {why}")
    print(save_grid(grid, Path(args.out)))


if __name__ == "__main__":
    main()
