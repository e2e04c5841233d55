"""Render `colouru evaluate --json` results as the markdown table of the model card.

    .venv/bin/python scripts/eval_table.py FIGURES.json [--levin OTHER.json]

``--levin``: take grey and Levin from another run's JSON (same photos, seed and counts),
for a model evaluated with --no-levin.
"""

from __future__ import annotations

import argparse
import json


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("json")
    ap.add_argument("--levin")
    args = ap.parse_args()
    doc = json.load(open(args.json))
    base = json.load(open(args.levin)) if args.levin else doc
    if args.levin and (base["photos"], base["protocol"]["seed"]) != (
        doc["photos"],
        doc["protocol"]["seed"],
    ):
        raise SystemExit("the two runs differ in photos or seed")
    res, ref = doc["results"]["model"], base["results"]
    print(f"{doc['photos']} photos, 256 x 256, seed {doc['protocol']['seed']}\n")
    print(
        "| hints | PSNR model | PSNR grey | PSNR Levin | model - Levin | SSIM model | SSIM Levin "
        "| norm. loss model | norm. loss Levin |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for k in sorted(res, key=int):
        m, g, lv = res[k], ref["grey"][k], ref["levin"][k]
        print(
            f"| {k} | {m['psnr']:.2f} | {g['psnr']:.2f} | {lv['psnr']:.2f} | "
            f"{m['psnr'] - lv['psnr']:+.2f} | {m['ssim']:.3f} | {lv['ssim']:.3f} | "
            f"{m['normalized_loss']:.3f} | {lv['normalized_loss']:.3f} |"
        )


if __name__ == "__main__":
    main()
