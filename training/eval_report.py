"""The report of ``colouru evaluate``: per-photo figures and their means (``Report``), the
JSON written by ``--json`` (``to_dict``, ``dump_json``) and the tables a person reads
(``format_table``, ``print_report``)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from colouru.simulate import HintSimConfig
from colouru.training import levin
from colouru.training.eval_protocol import (
    FAR_FRACTION,
    HINT_SIDE,
    LOCALITY_MIN_CHROMA,
    LOCALITY_TRIALS,
    MOVED,
    NEAR_RADIUS,
    SIZE,
    STROKE_LENGTH,
    STROKE_WIDTH,
)

FIGURES = ("psnr", "ssim", "normalized_loss", "colourfulness")


@dataclass
class Report:
    """Per-photo figures and their means; ``to_dict`` is the JSON written by ``--json``.
    The square protocol's figures are ``counts`` and ``per_photo``, the stroke protocol's
    ``stroke_counts`` and ``per_photo_strokes`` (either may be empty)."""

    counts: list[int]
    seed: int
    methods: list[str]
    photos: list[str] = field(default_factory=list)
    per_photo: list[dict[str, dict[int, tuple[float, ...]]]] = field(default_factory=list)
    stroke_counts: list[int] = field(default_factory=list)
    per_photo_strokes: list[dict[str, dict[int, tuple[float, ...]]]] = field(default_factory=list)
    truth_colourfulness: list[float] = field(default_factory=list)  # of each true photo
    locality: list[tuple[float, float]] = field(default_factory=list)  # (near, far) per photo
    skipped: list[str] = field(default_factory=list)
    failed: int = 0  # unreadable files among the skipped
    seconds: float = 0.0

    def mean(self, method: str, k: int, protocol: str = "squares") -> dict[str, float]:
        """Mean figures of one method at one hint (or stroke) count, with the PSNR's standard
        error."""
        per_photo = self.per_photo if protocol == "squares" else self.per_photo_strokes
        rows = np.array([p[method][k] for p in per_photo], dtype=np.float64)
        out = {name: float(rows[:, i].mean()) for i, name in enumerate(FIGURES)}
        n = len(rows)
        out["psnr_sem"] = float(rows[:, 0].std(ddof=1) / math.sqrt(n)) if n > 1 else float("nan")
        # Colourfulness against the true photos': the mean result's over the mean truth's.
        truth = float(np.mean(self.truth_colourfulness)) if self.truth_colourfulness else 0.0
        out["colourfulness_ratio"] = out["colourfulness"] / truth if truth > 0 else float("nan")
        return out

    def locality_summary(self) -> dict[str, float]:
        """The locality protocol's figures over the photos: medians and means of the near
        change and the far share."""
        near, far = np.array(self.locality, dtype=np.float64).reshape(-1, 2).T
        return {
            "near_change_median": float(np.median(near)),
            "far_share_median": float(np.median(far)),
            "near_change_mean": float(near.mean()),
            "far_share_mean": float(far.mean()),
        }

    def to_dict(self) -> dict:
        doc = {
            "protocol": {
                "size": SIZE,
                "crop": "short side resized to 256 (area filter when shrinking), centre crop",
                "hint_side": HINT_SIDE,
                "hints": "colouru.simulate.simulate_hints(count=k, side=5), numpy Generator "
                "seeded with [seed, photo index, k]",
                "seed": self.seed,
                "levin_at_0_hints": "grey (no constraint to spread)",
                "levin": levin.describe(),
            },
            "photos": len(self.photos),
            "hint_counts": self.counts,
            "truth_colourfulness": round(float(np.mean(self.truth_colourfulness)), 5)
            if self.truth_colourfulness
            else None,
            "results": {
                m: {str(k): _finite(self.mean(m, k)) for k in self.counts} for m in self.methods
            },
            "skipped": self.skipped,
            "seconds": round(self.seconds, 1),
            "per_photo_figures": list(FIGURES),
            "per_photo": [
                {
                    "photo": name,
                    "truth_colourfulness": round(c, 5),
                    **_rounded(fig, self.methods, self.counts),
                }
                for name, fig, c in zip(
                    self.photos, self.per_photo, self.truth_colourfulness, strict=True
                )
            ],
        }
        if self.stroke_counts:
            doc["strokes"] = {
                "protocol": {
                    "strokes": "colouru.simulate.simulate_strokes(count=k, length="
                    f"{STROKE_LENGTH}, width={STROKE_WIDTH}, lightness=L), numpy Generator "
                    "seeded with [seed, photo index, k, 1]",
                    "length": STROKE_LENGTH,
                    "width": STROKE_WIDTH,
                    "tolerance": {
                        "ab": HintSimConfig().stroke_tolerance,
                        "L": HintSimConfig().stroke_l_tolerance,
                    },
                },
                "stroke_counts": self.stroke_counts,
                "results": {
                    m: {str(k): _finite(self.mean(m, k, "strokes")) for k in self.stroke_counts}
                    for m in self.methods
                },
            }
            for row, fig in zip(doc["per_photo"], self.per_photo_strokes, strict=True):
                row["strokes"] = _rounded(fig, self.methods, self.stroke_counts)
        if self.locality:
            doc["locality"] = {
                "protocol": {
                    "trials": LOCALITY_TRIALS,
                    "hint": f"one square of side {HINT_SIDE} at simulate_hints' Gaussian position "
                    "(numpy Generator seeded with [seed, photo index, trial, 2]), its true mean "
                    f"ab turned 180 degrees in hue, chroma at least {LOCALITY_MIN_CHROMA:g}",
                    "near": f"median ab change within {NEAR_RADIUS} px of the hint's centre, "
                    "against the result without hints",
                    "far": f"share of pixels farther than {FAR_FRACTION:.3f} of the diagonal "
                    f"whose ab changed by more than {MOVED:g}",
                },
                "results": _finite(self.locality_summary()),
            }
            for row, (near, far) in zip(doc["per_photo"], self.locality, strict=True):
                row["locality"] = [round(near, 5), round(far, 5)]
        return doc


def _rounded(fig: dict, methods: Sequence[str], counts: Sequence[int]) -> dict:
    return {m: {str(k): [round(v, 5) for v in fig[m][k]] for k in counts} for m in methods}


def dump_json(doc: dict) -> str:
    """``doc`` as indented JSON, except one line per photo in ``per_photo`` (280 photos would
    otherwise make 40,000 lines)."""
    doc = dict(doc)
    rows = doc.pop("per_photo", [])
    head = json.dumps(doc, indent=1)
    body = ",\n  ".join(json.dumps(r) for r in rows)
    return f'{head[:-2]},\n "per_photo": [\n  {body}\n ]\n}}\n'


def _finite(d: dict[str, float]) -> dict:
    """JSON has no NaN or infinity: write them as null."""
    return {k: (round(v, 5) if math.isfinite(v) else None) for k, v in d.items()}


def format_table(report: Report, protocol: str = "squares") -> str:
    """The figures as a table a person reads: one row per hint (or stroke) count."""
    methods = report.methods
    counts = report.counts if protocol == "squares" else report.stroke_counts
    noun = "hints" if protocol == "squares" else "strokes"
    names = {"model": "model", "grey": "grey", "levin": "Levin"}
    width = 8 * len(methods)
    head1 = "       " + "".join(
        f"  {title:-^{width}}" for title in (" PSNR dB ", " SSIM ", " norm. loss ")
    )
    head2 = f"{noun:>7}" + ("  " + "".join(f"{names[m]:>8}" for m in methods)) * 3
    lines = [head1, head2]
    for k in counts:
        means = {m: report.mean(m, k, protocol) for m in methods}
        cells = [f"{k:7d}"]
        for fig, fmt in (("psnr", "8.2f"), ("ssim", "8.3f"), ("normalized_loss", "8.3f")):
            cells.append("  " + "".join(format(means[m][fig], fmt) for m in methods))
        cells.append(f"  {means['model']['colourfulness_ratio']:10.2f}")
        lines.append("".join(cells))
    lines[0] += "  colourful"
    lines[1] += "  vs truth"
    return "\n".join(lines)


def print_report(report: Report, data, source: str) -> None:
    """The figures as a person reads them: a table per protocol, the locality line, notes."""
    print(
        f"{len(report.photos)} photos from {data} ({SIZE} x {SIZE}), seed {report.seed}, "
        f"model {source}"
    )
    if report.counts:
        print(f"hint squares of side {HINT_SIDE}:")
        print(format_table(report))
    if report.stroke_counts:
        print(
            f"brush strokes of length {STROKE_LENGTH} (less where the colour changes), "
            f"width {STROKE_WIDTH}:"
        )
        print(format_table(report, "strokes"))
    if report.locality:
        loc = report.locality_summary()
        print(
            f"locality, {LOCALITY_TRIALS} one-hint edits a photo (a colour the photo does not "
            f"have there): ab change within {NEAR_RADIUS} px {loc['near_change_median']:.1f} "
            f"(median over photos); far pixels moved > {MOVED:g}: median "
            f"{loc['far_share_median']:.3f}, mean {loc['far_share_mean']:.3f}"
        )
    notes = ["grey: the photo's own L with no colour (normalised loss 1 by definition)"]
    if "levin" in report.methods:
        notes.append("Levin: Levin, Lischinski and Weiss 2004 from the same hints (0 hints: grey)")
    for line in notes:
        print(f"  {line}")
    skipped = len(report.skipped)
    print(
        f"{skipped} skipped ({report.failed} unreadable) in {report.seconds:.0f} s"
        if skipped
        else f"done in {report.seconds:.0f} s"
    )


