"""The edge-aware hint spread alone as a colorizer, beside Levin et al. 2004, per edge width.

    .venv/bin/python scripts/edge_hints_sweep.py [--photos 20] [--sigmas 0.12,0.2,0.35,0.6]
        [--counts 1,5,10,20,100]

Every ``len(val) // photos``-th photo of ``../shared/data/val`` goes through the
``colouru evaluate`` protocol (256 x 256 crop, the same seeded hints); the result is the
photo's L with ab from ``propagation.edge_aware_hints`` (0 where no hint reached). Levin's
figures for the same photos and hints are read from the 280-photo baseline run
(``docs/model/eval-baselines-levin-grey-280.json``). Prints mean PSNR per hint count.
This chose ``EDGE_SIGMAS``; it is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from colouru import metrics
from colouru.colour import denormalize_ab, lab_to_rgb_preserving_l, srgb_image_lightness
from colouru.hints import rasterize_hints
from colouru.imageio import to_uint8
from colouru.inputs import make_input
from colouru.propagation import edge_aware_hints
from colouru.training.data import list_photos
from colouru.training.evaluate import hints_for, load_photo

ROOT = Path(__file__).resolve().parents[1]
BASELINES = ROOT / "docs/model/eval-baselines-levin-grey-280.json"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data/val"))
    ap.add_argument("--photos", type=int, default=20)
    ap.add_argument("--sigmas", default="0.12,0.2,0.35,0.6")
    ap.add_argument("--counts", default="1,5,10,20,100", help="hint counts")
    args = ap.parse_args()
    counts = [int(k) for k in args.counts.split(",")]
    torch.set_num_threads(1)
    sigmas = tuple(float(s) for s in args.sigmas.split(","))
    paths = list_photos(args.data)
    levin = {Path(r["photo"]).name: r["levin"] for r in json.load(open(BASELINES))["per_photo"]}
    chosen = list(range(0, len(paths), max(1, len(paths) // args.photos)))[: args.photos]
    spread = {s: {k: [] for k in counts} for s in sigmas}
    ref = {k: [] for k in counts}
    for i in chosen:
        truth = load_photo(paths[i])
        lightness = srgb_image_lightness(truth)
        for k in counts:
            ab, _ = rasterize_hints(hints_for(truth, 0, i, k), truth.shape[:2])
            x = make_input(torch.from_numpy(lightness)[None, None], torch.from_numpy(ab)[None])
            for s, (colour, _) in zip(sigmas, edge_aware_hints(x, sigmas), strict=True):
                lab = np.dstack([lightness, denormalize_ab(colour[0]).numpy().transpose(1, 2, 0)])
                spread[s][k].append(metrics.psnr(to_uint8(lab_to_rgb_preserving_l(lab)), truth))
            ref[k].append(levin[Path(paths[i]).name][str(k)][0])
    print(f"{len(chosen)} photos of {args.data}; mean PSNR (dB) by hint count\n")
    print("| method | " + " | ".join(str(k) for k in counts) + " |")
    print("|---|" + "---|" * len(counts))
    print("| Levin et al. 2004 | " + " | ".join(f"{np.mean(ref[k]):.2f}" for k in counts) + " |")
    for s in sigmas:
        row = " | ".join(f"{np.mean(spread[s][k]):.2f}" for k in counts)
        print(f"| edge-aware spread, sigma {s} | {row} |")


if __name__ == "__main__":
    main()
