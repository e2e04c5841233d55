"""Render `colouru evaluate --json` results as the markdown table of the model card.

    .venv/bin/python scripts/eval_table.py FIGURES.json [--levin OTHER.json]
    .venv/bin/python scripts/eval_table.py --rows NAME=FIGURES.json [NAME=FIGURES.json ...]
    .venv/bin/python scripts/eval_table.py --paired NEW.json OLD.json

``--levin``: take grey and Levin from another run's JSON (same photos, seed and counts),
for a model evaluated with --no-levin. ``--rows``: one row of PSNR per model (and the
colourfulness of its results without hints against the true photos'), for comparing models.
``--paired``: two models on the same photos and hints, photo by photo: the mean PSNR
difference (new - old) and its standard error at each count, and the share of photos where
the new model is better; for the stroke protocol too where both runs have it, and the
locality protocol's near change and far share (medians, and the paired mean difference).
"""

from __future__ import annotations

import argparse
import json
import math


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


def paired(new_path: str, old_path: str) -> None:
    new, old = json.load(open(new_path)), json.load(open(old_path))
    if [p["photo"] for p in new["per_photo"]] != [p["photo"] for p in old["per_photo"]] or (
            new["protocol"]["seed"] != old["protocol"]["seed"]):
        raise SystemExit("the two runs differ in photos or seed")
    for part, label in ((None, "hints"), ("strokes", "strokes")):
        def figures(doc, part=part):
            rows = [p[part] if part else p for p in doc["per_photo"] if not part or part in p]
            return [r["model"] for r in rows]
        a, b = figures(new), figures(old)
        if not a or len(a) != len(b):
            continue
        counts = sorted(set(a[0]) & set(b[0]), key=int)
        if not counts:
            continue
        print(f"| {label} | " + " | ".join(counts) + " |")
        print("|---|" + "---|" * len(counts))
        means, better = [], []
        for k in counts:
            d = [x[k][0] - y[k][0] for x, y in zip(a, b, strict=True)]
            m = sum(d) / len(d)
            se = math.sqrt(sum((v - m) ** 2 for v in d) / (len(d) - 1) / len(d))
            means.append(f"{m:+.2f} ± {se:.2f}")
            better.append(f"{100 * sum(v > 0 for v in d) / len(d):.0f}%")
        print("| PSNR, new - old (dB) | " + " | ".join(means) + " |")
        print("| photos where new is better | " + " | ".join(better) + " |")
        print()
    if all("locality" in p for doc in (new, old) for p in doc["per_photo"]):
        print("| locality | new | old | paired mean, new - old |")
        print("|---|---|---|---|")
        for i, name in enumerate(("near change (ab)", "far share")):
            a = [p["locality"][i] for p in new["per_photo"]]
            b = [p["locality"][i] for p in old["per_photo"]]
            d = [x - y for x, y in zip(a, b, strict=True)]
            m = sum(d) / len(d)
            se = math.sqrt(sum((v - m) ** 2 for v in d) / (len(d) - 1) / len(d))
            print(f"| {name}, median over photos | {_median(a):.3f} | {_median(b):.3f} | "
                  f"{m:+.3f} ± {se:.3f} |")
        print()


def _median(values: list[float]) -> float:
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else (v[n // 2 - 1] + v[n // 2]) / 2


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("json", nargs="?")
    ap.add_argument("--levin")
    ap.add_argument("--rows", nargs="+", metavar="NAME=FILE")
    ap.add_argument("--paired", nargs=2, metavar=("NEW", "OLD"))
    args = ap.parse_args()
    if args.rows:
        rows(args.rows)
        return
    if args.paired:
        paired(*args.paired)
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
