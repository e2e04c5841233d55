"""Render `colouru evaluate --json` results as the markdown table of the model card.

    .venv/bin/python scripts/eval_table.py FIGURES.json [--levin OTHER.json]
    .venv/bin/python scripts/eval_table.py --rows NAME=FIGURES.json [NAME=FIGURES.json ...]

``--levin``: take grey and Levin from another run's JSON (same photos, seed and counts),
for a model evaluated with --no-levin. ``--rows``: one row of PSNR per model (and the
colourfulness of its results without hints against the true photos'), for comparing models.
"""

from __future__ import annotations

import argparse
import json


def rows(named: list[str]) -> None:
    docs = [(n.split("=", 1)[0], json.load(open(n.split("=", 1)[1]))) for n in named]
    counts = sorted(docs[0][1]["results"]["model"], key=int)
    print("| model | " + " | ".join(f"{k} hints" for k in counts) + " | colourfulness |")
    print("|---|" + "---|" * (len(counts) + 1))
    for name, doc in docs:
        res = doc["results"]["model"]
        cells = [f"{res[k]['psnr']:.2f}" if k in res else "-" for k in counts]
        ratio = res.get("0", {}).get("colourfulness_ratio")
        shown = "-" if ratio is None else f"{ratio:.2f}"
        print(f"| {name} | " + " | ".join(cells) + f" | {shown} |")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("json", nargs="?")
    ap.add_argument("--levin")
    ap.add_argument("--rows", nargs="+", metavar="NAME=FILE")
    args = ap.parse_args()
    if args.rows:
        rows(args.rows)
        return
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
        "| norm. loss model | norm. loss Levin | colourfulness vs truth |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for k in sorted(res, key=int):
        m, g, lv = res[k], ref["grey"][k], ref["levin"][k]
        ratio = m.get("colourfulness_ratio")  # figures from before it was measured lack it
        print(
            f"| {k} | {m['psnr']:.2f} | {g['psnr']:.2f} | {lv['psnr']:.2f} | "
            f"{m['psnr'] - lv['psnr']:+.2f} | {m['ssim']:.3f} | {lv['ssim']:.3f} | "
            f"{m['normalized_loss']:.3f} | {lv['normalized_loss']:.3f} | "
            f"{'-' if ratio is None else f'{ratio:.2f}'} |"
        )


if __name__ == "__main__":
    main()
