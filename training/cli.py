"""``colouru train`` and ``colouru evaluate``: arguments here, work in ``train`` / ``evaluate``.

The heavy modules are imported only when their command runs, so ``colouru colorize`` starts fast.
"""

from __future__ import annotations

import argparse

from colouru.training.config import add_train_parser


def _run_train(args: argparse.Namespace) -> int:
    from colouru.training.train import run

    return run(args)


def _run_evaluate(args: argparse.Namespace) -> int:
    from colouru.training.evaluate import run

    return run(args)


def add_subcommands(sub) -> None:
    add_train_parser(sub, _run_train)

    e = sub.add_parser(
        "evaluate",
        help="PSNR / SSIM / normalised loss by hint count, beside grey and Levin 2004",
        description="Each photo is resized and centre-cropped to 256 x 256; k hint squares of "
        "side 5 at seeded Gaussian positions carry the true mean ab; so do k brush strokes of "
        "length 32 and width 3 (the stroke protocol), reported apart.",
    )
    e.add_argument(
        "--data",
        required=True,
        metavar="DIR|LIST.txt",
        help="photos to evaluate on: a folder, or a text file of paths (e.g. RUN/val_split.txt)",
    )
    e.add_argument("--model", metavar="PATH", help="model file (default: the bundled model)")
    e.add_argument("--hints", default="0,1,2,5,10,20,50,100", help="hint counts, comma-separated")
    e.add_argument(
        "--protocol",
        default="squares,strokes,locality",
        help="squares (k hint squares of side 5), strokes (k brush strokes of length 32, width "
        "3, each inside a region of similar colour), locality (one hint of a colour the photo "
        "does not have there: how much it changes near it and far away), comma-separated "
        "(default all three)",
    )
    e.add_argument("--strokes", default="1,2,5,10",
                   help="stroke counts of the stroke protocol, comma-separated (default 1,2,5,10)")
    e.add_argument("--limit", type=int, metavar="N", help="only the first N photos")
    e.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    e.add_argument("--no-levin", action="store_true", help="skip the Levin et al. baseline")
    e.add_argument("--device", default="auto")
    e.add_argument("--seed", type=int, default=0, help="seeds the simulated hints (default 0)")
    e.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="processes for the Levin baseline, which dominates the time (default 1)",
    )
    e.add_argument(
        "--samples",
        metavar="DIR",
        help="write example strips (input with hints | model | Levin | truth) of the "
        "first photos here",
    )
    e.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    e.set_defaults(func=_run_evaluate)
