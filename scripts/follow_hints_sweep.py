"""``follow_hints``' fade constant, swept: PSNR of the bundled model with each one.

    .venv/bin/python scripts/follow_hints_sweep.py [--data ../shared/data/train/bsds]
        [--every 3] [--fades 1e-9,1e-7,1e-6,1e-5,1e-4] [--counts 1,5,20,100] [--model PATH]

Every ``every``-th photo of ``--data`` goes through the ``colouru evaluate`` protocol (256 x
256 crop, hints seeded by the photo's index); the network's ab (``predict_ab(...,
follow=False)``) is bent towards the hints by ``propagation.follow_hints`` with each fade
constant, the hint squares are set exactly, and the result is scored as ``evaluate`` scores
it. The default photos are training photos, so the constant is not chosen on the validation
set. Prints mean PSNR per hint count. This chose ``FOLLOW_MASS``; a measurement, not a test.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import torch

from colouru.colorizer import Colorizer
from colouru.colour import lab_to_srgb8, normalize_l
from colouru.hints import rasterize_hints
from colouru.propagation import follow_hints
from colouru.training.data import list_photos
from colouru.training.evaluate import SIZE, figures, hints_for, load_photo

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=str(ROOT.parent / "shared/data/train/bsds"))
    ap.add_argument("--every", type=int, default=3, help="use every N-th photo")
    ap.add_argument("--fades", default="1e-9,1e-7,1e-6,1e-5,1e-4")
    ap.add_argument("--counts", default="1,5,20,100", help="hint counts")
    ap.add_argument("--model", help="model file (default: the bundled model)")
    args = ap.parse_args()
    counts = [int(k) for k in args.counts.split(",")]
    fades = [float(f) for f in args.fades.split(",")]
    colorizer = Colorizer.load(args.model, device="cpu")
    paths = list_photos(args.data)
    chosen = list(range(0, len(paths), args.every))
    rows = ["network alone", *fades]
    psnr = {r: {k: [] for k in counts} for r in rows}
    for i in chosen:
        truth = load_photo(paths[i])
        p = colorizer.prepare(truth, work_size=SIZE)
        lightness = normalize_l(torch.from_numpy(p.work_lightness)[None, None])
        for k in counts:
            hints = hints_for(truth, 0, i, k)
            net = colorizer.predict_ab(p, hints, follow=False)
            hint_ab, mask = rasterize_hints(hints, p.image_hw, p.work_hw)
            results = {"network alone": net}
            for f in fades:  # in CIE units: follow_hints works on any one scale of ab
                bent = follow_hints(torch.from_numpy(net)[None], lightness,
                                    torch.from_numpy(hint_ab)[None],
                                    torch.from_numpy(mask)[None, None], fade_mass=f)
                results[f] = bent[0].numpy()
            for r, ab in results.items():
                ab = np.array(ab, dtype=np.float32)
                ab[:, mask] = hint_ab[:, mask]
                out = lab_to_srgb8(np.concatenate([p.work_lightness[None], ab]).transpose(1, 2, 0))
                psnr[r][k].append(figures(out, truth)[0])
    print(f"{len(chosen)} photos of {args.data}; mean PSNR (dB) by hint count\n")
    print("| fade constant | " + " | ".join(str(k) for k in counts) + " |")
    print("|---|" + "---|" * len(counts))
    for r in rows:
        print(f"| {r} | " + " | ".join(f"{np.mean(psnr[r][k]):.2f}" for k in counts) + " |")


if __name__ == "__main__":
    main()
