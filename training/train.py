"""``colouru train``: from a folder of photos to a model file, in three resumable stages.

Run folder::

    RUN_DIR/config.json            the run's TrainConfig
    RUN_DIR/checkpoint.safetensors latest checkpoint (both networks, both optimisers, position)
    RUN_DIR/log.jsonl              one JSON record per logged step and per validation
    RUN_DIR/losses.png             loss curves;  RUN_DIR/samples/*.png  sample grids
    RUN_DIR/model-<stage>.safetensors  the generator after each stage that trains it
    RUN_DIR/model.safetensors      the final generator, ready for ``colouru colorize --model``

Distributed: ``torchrun --nproc_per_node=N -m colouru train ...`` runs DistributedDataParallel;
rank 0 alone logs and saves.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import operator
import os
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

from colouru.atomic import clean_leftovers
from colouru.colorizer import Colorizer
from colouru.device import PRECISIONS, resolve_device, resolve_precision
from colouru.generator import GeneratorConfig, build_generator, grow_state, grows_into
from colouru.geometry import DEFAULT_WORK_SIZE
from colouru.metrics import colourfulness, psnr
from colouru.simulate import HintSimConfig
from colouru.training import defaults, evaluate
from colouru.training.checkpoint import (
    CheckpointError,
    load_checkpoint,
    read_checkpoint_meta,
    save_checkpoint,
)
from colouru.training.data import (
    DataError,
    PhotoArray,
    batch_indices,
    cached_array,
    crops,
    list_photos,
    make_batch,
    split,
)
from colouru.training.discriminators import DISCRIMINATORS, build_discriminator
from colouru.training.ema import WeightAverage
from colouru.training.gan import GanConfig, Trainer, lr_at, unwrap
from colouru.training.logs import RunLogger, save_grid
from colouru.training.rebalance import ab_prior, rebalance_weights
from colouru.weights import (
    WORK_SIZES,
    ModelFileError,
    ModelInfo,
    load_model,
    read_info,
    save_model,
)

STAGES = defaults.STAGES
VAL_HINTS = (0, 10)  # hint counts reported at each validation (0 must be one)
SIZES = (32, 2048)  # training crop sides: the patch discriminator needs 32 (three halvings)
CACHES = ("auto", "on", "off")


class StoppedAt(Exception):
    """The run reached its ``--until`` step: checkpointed, to be resumed."""


class TrainingError(Exception):
    """A run that cannot go on (a non-finite loss); one-line message."""


@dataclass
class TrainConfig:
    """A training run. Saved as ``config.json`` and inside every checkpoint."""

    data: str = ""  # folder of photos (flat or one sub-folder per class)
    classes: list[str] | None = None  # class sub-folders to use (None: all)
    stages: list[str] = field(default_factory=lambda: list(STAGES))
    steps: list[int] = field(default_factory=lambda: list(defaults.STEPS))  # per stage
    batch_size: int = defaults.BATCH_SIZE  # per process
    size: int = defaults.SIZE  # training crop side (pixels); photos are cached at size * 5/4
    # The default architecture: an ImageNet-pretrained EfficientNet-Lite0 down path and a
    # decoder of 64, 48, 32, 16 and 8 channels (README, docs/model/pretrained-encoder.md).
    # The bundled model is still the plain U-Net (--arch unet; its card).
    generator: GeneratorConfig = field(
        default_factory=lambda: GeneratorConfig(
            arch=defaults.ARCH, encoder=defaults.ENCODER, width=defaults.WIDTH,
            depth=defaults.DEPTH, hint_scales=defaults.HINT_SCALES,
            edge_hints=defaults.EDGE_HINTS, fine_width=defaults.FINE_WIDTH,
        )
    )
    disc: str = defaults.DISC  # key in DISCRIMINATORS
    disc_width: int = 32
    gan: GanConfig = field(default_factory=GanConfig)
    hints: HintSimConfig = field(
        default_factory=lambda: HintSimConfig(stroke_share=defaults.STROKE_SHARE,
                                      recolour_share=defaults.RECOLOUR_SHARE)
    )
    val: str | None = None  # validation folder (else a split of data, else none)
    val_split: float | None = None  # share of data held out for validation
    val_count: int = 48  # validation photos used during training (seeded hints)
    val_size: int = 256  # validation square side (the evaluation protocol's size)
    val_every: int = 500  # steps between validations (and sample grids)
    ckpt_every: int = 200  # steps between checkpoints
    log_every: int = 20  # steps between log records
    work_size: int = DEFAULT_WORK_SIZE  # working size stored in the exported model
    init: str | None = None  # start the generator from this model file
    ema: float = 0.0  # decay of a moving average of the generator's weights, validated and
    # exported in place of the raw weights (0: none). It warms up (training/ema.py): 0.999
    # is reached after ~9000 updates, the decay after n updates being (1 + n) / (10 + n).
    seed: int = defaults.SEED
    cache: str = defaults.CACHE  # prepared uint8 cache of the photos: auto (on), on, off
    precision: str = defaults.PRECISION  # fp32 or bf16 autocast; auto: device.resolve_precision

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        d = dict(d)
        d["generator"] = GeneratorConfig.from_dict(d["generator"])
        d["gan"] = GanConfig(**d["gan"])
        # A run saved before a hint setting existed lacks its key: it takes the default (for
        # the stroke settings, stroke_share 0: the squares that run was trained with).
        d["hints"] = HintSimConfig(**d["hints"])
        return cls(**d)

    def check(self) -> None:
        """Refuse values a run cannot use (bad arguments, a hand-edited checkpoint) before
        anything loads: a ``ValueError`` that names the field."""
        _text("data", self.data)
        if self.classes is not None and not (
            isinstance(self.classes, list) and all(isinstance(c, str) for c in self.classes)
        ):
            raise ValueError(f"classes must be a list of names, got {self.classes!r}")
        if not isinstance(self.stages, list) or not self.stages or any(
            s not in STAGES for s in self.stages
        ):
            raise ValueError(f"unknown stage(s) in {self.stages!r}; valid: {list(STAGES)}")
        if not isinstance(self.steps, list) or len(self.steps) != len(self.stages):
            raise ValueError(f"steps needs one number per stage ({len(self.stages)}), "
                             f"got {self.steps!r}")
        for n in self.steps:
            _whole("steps", n, 1)
        _whole("batch_size", self.batch_size, 1, 65536)
        _whole("size", self.size, *SIZES)
        if not isinstance(self.generator, GeneratorConfig):
            raise ValueError("generator must be a generator config")
        if self.disc not in DISCRIMINATORS:
            raise ValueError(
                f"unknown discriminator {self.disc!r}; valid: {sorted(DISCRIMINATORS)}"
            )
        _whole("disc_width", self.disc_width, 1, 1024)
        g = self.gan
        _real("lr", g.lr, 0, 1, low_open=True)
        _real("beta1", g.beta1, 0, 1, high_open=True)
        _real("beta2", g.beta2, 0, 1, high_open=True)
        _real("lambda_mse", g.lambda_mse, 0, math.inf)
        _real("real_label", g.real_label, 0, 1, low_open=True)
        _real("label_flip", g.label_flip, 0, 1)
        _real("hint_weight", g.hint_weight, 0, math.inf)
        if g.loss not in defaults.LOSSES:
            raise ValueError(f"unknown loss {g.loss!r}; valid: {list(defaults.LOSSES)}")
        _real("huber_delta", g.huber_delta, 0, 110, low_open=True)
        _real("rebalance", g.rebalance, 0, 1, low_open=True)
        h = self.hints
        _real("hints.p", h.p, 0, 1)
        _whole("hints.n_min", h.n_min, 1)
        _whole("hints.n_max", h.n_max, h.n_min)
        _real("hints.no_hint_share", h.no_hint_share, 0, 1)
        _whole("hints.min_side", h.min_side, 1)
        _whole("hints.max_side", h.max_side, h.min_side)
        _real("hints.sigma_frac", h.sigma_frac, 0, math.inf, low_open=True)
        _whole("hints.area_ref", h.area_ref, 0)
        _real("hints.stroke_share", h.stroke_share, 0, 1)
        _whole("hints.stroke_n_max", h.stroke_n_max, 1)
        _whole("hints.stroke_min_length", h.stroke_min_length, 0)
        _whole("hints.stroke_max_length", h.stroke_max_length, h.stroke_min_length)
        _whole("hints.stroke_min_width", h.stroke_min_width, 1)
        _whole("hints.stroke_max_width", h.stroke_max_width, h.stroke_min_width)
        _real("hints.stroke_tolerance", h.stroke_tolerance, 0, math.inf)
        _real("hints.stroke_l_tolerance", h.stroke_l_tolerance, 0, math.inf)
        _real("hints.recolour_share", h.recolour_share, 0, 1)
        _real("hints.recolour_hint_p", h.recolour_hint_p, 0, 1)
        _real("hints.recolour_min_chroma", h.recolour_min_chroma, 0, 128)
        _real("hints.recolour_max_chroma", h.recolour_max_chroma, h.recolour_min_chroma, 128)
        if self.val is not None:
            _text("val", self.val)
        if self.val_split is not None:
            _real("val_split", self.val_split, 0, 1, low_open=True, high_open=True)
        _whole("val_count", self.val_count, 0)
        _whole("val_size", self.val_size, 16, 4096)
        _whole("val_every", self.val_every, 1)
        _whole("ckpt_every", self.ckpt_every, 1)
        _whole("log_every", self.log_every, 1)
        _whole("work_size", self.work_size, *WORK_SIZES)
        if self.init is not None:
            _text("init", self.init)
        _real("ema", self.ema, 0, 1, high_open=True)
        _whole("seed", self.seed, 0)
        if self.cache not in CACHES:
            raise ValueError(f"cache must be one of {', '.join(CACHES)}, got {self.cache!r}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, "
                             f"got {self.precision!r}")


def _whole(name: str, v, lo: int, hi: int | None = None) -> None:
    if isinstance(v, bool) or not isinstance(v, int) or v < lo or (hi is not None and v > hi):
        span = f"{lo}..{hi}" if hi is not None else f">= {lo}"
        raise ValueError(f"{name} must be a whole number {span}, got {v!r}")


def _real(name: str, v, lo: float, hi: float, low_open=False, high_open=False) -> None:
    """``v`` a finite number in ``lo..hi`` (ends left out where open)."""
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
    ok = ok and (lo < v if low_open else lo <= v) and (v < hi if high_open else v <= hi)
    if not ok:
        span = f"{'(' if low_open else '['}{lo}, {hi}{')' if high_open else ']'}"
        raise ValueError(f"{name} must be a finite number in {span}, got {v!r}")


def _text(name: str, v) -> None:
    if not isinstance(v, str):
        raise ValueError(f"{name} must be a string, got {v!r}")


# --- set-up --------------------------------------------------------------------------------------
def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Build and check the config from command-line arguments (only here are arguments
    parsed). Paths are stored absolute, so the run resumes from any folder."""
    cfg = TrainConfig(data=os.path.abspath(args.data))
    if args.seed is not None:
        cfg.seed = args.seed
    if args.cache is not None:
        cfg.cache = args.cache
    if args.classes:
        cfg.classes = _names(args.classes)
    cfg.stages = _names(args.stages) if args.stages is not None else list(STAGES)
    bad = [s for s in cfg.stages if s not in STAGES]
    if bad or not cfg.stages:
        raise ValueError(f"unknown stage(s) {bad}; valid: {list(STAGES)}")
    if args.batch_size is not None:
        cfg.batch_size = args.batch_size
    if args.size is not None:
        cfg.size = args.size
    gen = {}
    if args.arch == "unet":  # the plain U-Net of the design, trained from scratch
        gen.update(arch="unet", encoder="", width=16, depth=5)
    if args.arch == "unet-semantic":  # the plain U-Net hearing a frozen ImageNet encoder
        gen.update(arch="unet-semantic", encoder=defaults.ENCODER, width=16, depth=5,
                   fine_width=0)
    if args.encoder:
        if (args.arch or cfg.generator.arch) not in ("unet-pretrained", "unet-semantic"):
            raise ValueError("--encoder needs --arch unet-pretrained or unet-semantic")
        gen["encoder"] = args.encoder
    if args.width is not None:
        gen["width"] = args.width
    if args.depth is not None:
        gen["depth"] = args.depth
    if args.hint_scales is not None:
        gen["hint_scales"] = args.hint_scales
    if args.edge_hints is not None:
        gen["edge_hints"] = args.edge_hints
    if args.fine_width is not None:
        gen["fine_width"] = args.fine_width
    if gen and args.init:
        cfg.generator = _grown_config(args, gen)
    elif gen:
        cfg.generator = GeneratorConfig.from_dict({**cfg.generator.to_dict(), **gen})
    if args.precision:
        cfg.precision = args.precision
    if args.disc:
        if args.disc not in DISCRIMINATORS:
            raise ValueError(
                f"unknown discriminator {args.disc!r}; valid: {sorted(DISCRIMINATORS)}"
            )
        cfg.disc = args.disc
    gan = {}
    if args.lr is not None:
        gan["lr"] = args.lr
    if args.lambda_mse is not None:
        gan["lambda_mse"] = args.lambda_mse
    if args.loss is not None:
        gan["loss"] = args.loss
    if args.huber_delta is not None:
        gan["huber_delta"] = args.huber_delta
    if args.rebalance is not None:
        gan["rebalance"] = args.rebalance
    if gan:
        cfg.gan = dataclasses.replace(cfg.gan, **gan)
    if args.stroke_share is not None:
        cfg.hints = dataclasses.replace(cfg.hints, stroke_share=args.stroke_share)
    if args.recolour_share is not None:
        cfg.hints = dataclasses.replace(cfg.hints, recolour_share=args.recolour_share)
    if args.steps:
        cfg.steps = parse_steps(args.steps, len(cfg.stages))
    else:
        cfg.steps = [dict(zip(STAGES, TrainConfig().steps, strict=True))[s] for s in cfg.stages]
    cfg.val = None if args.val is None else os.path.abspath(args.val)
    cfg.val_split = args.val_split
    if args.val_every is not None:
        cfg.val_every = args.val_every
    if args.ckpt_every is not None:
        cfg.ckpt_every = args.ckpt_every
    cfg.init = None if args.init is None else os.path.abspath(args.init)
    if args.ema:
        if not 0.0 < args.ema < 1.0:
            raise ValueError(f"--ema needs a decay between 0 and 1, got {args.ema}")
        cfg.ema = args.ema
    cfg.check()
    return cfg


def _grown_config(args: argparse.Namespace, gen: dict) -> GeneratorConfig:
    """The generator of a run with ``--init`` and generator options: the init model's, changed
    by the options given, which may only grow it (``grows_into``); anything else is refused
    by name rather than ignored."""
    old = read_info(args.init).generator
    wanted = dict(gen)
    for name in ("width", "depth"):  # --arch's defaults are for new models: keep the init's
        if getattr(args, name) is None:
            wanted.pop(name, None)
    new = GeneratorConfig.from_dict({**old.to_dict(), **wanted})
    if new != old and not grows_into(old, new):
        differ = [k for k in wanted if getattr(new, k) != getattr(old, k)]
        raise ValueError(
            f"--init {args.init} is a {old.arch} model that cannot become this one (it differs "
            f"in {', '.join(differ)}); with --init the generator options may only grow it: "
            "--arch unet-semantic on a plain unet, a wider --width on unet or unet-semantic, "
            "or a wider --fine-width on unet-pretrained")
    return new


def _names(text: str) -> list[str]:
    """``"a, b,"`` -> ``["a", "b"]``."""
    return [x.strip() for x in text.split(",") if x.strip()]


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


# What ``--resume`` may change besides ``--steps`` (how far the run goes): how it is run
# (``--threads`` and ``--device`` are not in the config). Any other option that differs from
# the run's config is refused.
RESUME_APPLIES = ("val_every", "ckpt_every", "precision", "cache")


def resumed_config(args: argparse.Namespace, path: Path) -> TrainConfig:
    """The config of the run whose checkpoint is ``path``, with the changes ``--resume`` can
    apply. A checkpoint whose metadata is not usable raises ``CheckpointError``; an option
    that would change what the run is raises ``ValueError`` naming it."""
    meta = read_checkpoint_meta(path)
    try:
        cfg = TrainConfig.from_dict(meta["config"])
        cfg.check()
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
        raise CheckpointError(f"{path}: bad run config in the checkpoint ({first})") from None
    if meta["stage"] > len(cfg.stages):
        raise CheckpointError(
            f"{path}: bad checkpoint metadata (stage {meta['stage']} of a run of "
            f"{len(cfg.stages)} stages)"
        )
    refused = [f"{opt} {given} (the run's: {was})" for opt, given, was in _changes(args, cfg)]
    if refused:
        raise ValueError(
            "a resumed run keeps its settings; these differ (start a new run with another "
            "--out): " + ", ".join(refused)
        )
    if args.steps:  # lengthen or shorten the stages of a resumed run
        cfg.steps = parse_steps(args.steps, len(cfg.stages))
    for name in RESUME_APPLIES:
        if getattr(args, name) is not None:
            setattr(cfg, name, getattr(args, name))
    cfg.check()
    return cfg


def _changes(args: argparse.Namespace, cfg: TrainConfig) -> list[tuple[str, object, object]]:
    """``(option, given, the run's value)`` of each option given with ``--resume`` that
    differs from the run's config and cannot apply to it."""

    def same_path(given, was) -> bool:
        return was is not None and Path(given).resolve() == Path(was).resolve()

    gen = cfg.generator
    asked = [  # option, value given (None: not given), the run's value, equal?
        ("--data", args.data, cfg.data, same_path),
        ("--classes", args.classes, cfg.classes, lambda a, b: _names(a) == b),
        ("--stages", args.stages, ",".join(cfg.stages), lambda a, b: _names(a) == _names(b)),
        ("--batch-size", args.batch_size, cfg.batch_size, None),
        ("--size", args.size, cfg.size, None),
        ("--arch", args.arch, gen.arch, None),
        ("--encoder", args.encoder, gen.encoder, None),
        ("--width", args.width, gen.width, None),
        ("--depth", args.depth, gen.depth, None),
        ("--hint-scales", args.hint_scales, gen.hint_scales, None),
        ("--edge-hints", args.edge_hints, gen.edge_hints, None),
        ("--fine-width", args.fine_width, gen.fine_width, None),
        ("--disc", args.disc, cfg.disc, None),
        ("--lr", args.lr, cfg.gan.lr, None),
        ("--lambda-mse", args.lambda_mse, cfg.gan.lambda_mse, None),
        ("--loss", args.loss, cfg.gan.loss, None),
        ("--huber-delta", args.huber_delta, cfg.gan.huber_delta, None),
        ("--rebalance", args.rebalance, cfg.gan.rebalance, None),
        ("--stroke-share", args.stroke_share, cfg.hints.stroke_share, None),
        ("--recolour-share", args.recolour_share, cfg.hints.recolour_share, None),
        ("--val", args.val, cfg.val, same_path),
        ("--val-split", args.val_split, cfg.val_split, None),
        ("--init", args.init, cfg.init, same_path),
        ("--ema", args.ema, cfg.ema or "none", lambda a, b: a == cfg.ema),
        ("--seed", args.seed, cfg.seed, None),
        ("--epochs", args.epochs, "set by --steps", lambda a, b: False),
    ]
    return [
        (opt, given, was)
        for opt, given, was, equal in asked
        if given is not None and not (equal or operator.eq)(given, was)
    ]


def steps_for_epochs(epochs: float, n: int, batch: int, world: int) -> int:
    return max(1, math.ceil(epochs * n / (batch * world)))


@dataclass
class Dist:
    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def init_distributed(device_name: str) -> tuple[Dist, torch.device]:
    """Join the torchrun process group when launched by torchrun (gloo on CPU, NCCL on GPU)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return Dist(), resolve_device(device_name)
    d = Dist(
        int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"]), int(os.environ.get("LOCAL_RANK", 0))
    )
    device = resolve_device(device_name)
    if device.type == "cuda":
        device = torch.device("cuda", d.local_rank)
        torch.cuda.set_device(device)
    dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return d, device


def load_data(
    cfg: TrainConfig, run_dir: Path, progress: bool
) -> tuple[PhotoArray, PhotoArray | None]:
    paths = list_photos(cfg.data, cfg.classes)
    val_paths = None
    if cfg.val:
        val_paths = list_photos(cfg.val)
    elif cfg.val_split:
        paths, val_paths = split(paths, cfg.val_split, cfg.seed)
        # The held-out photos, so `colouru evaluate` can be run on exactly them later.
        (run_dir / "val_split.txt").write_text("".join(f"{p}\n" for p in val_paths))
    cache_dir = None if cfg.cache == "off" else run_dir / "cache"
    side = cfg.size + cfg.size // 4
    train = cached_array(paths, side, cache_dir, progress)
    if len(train) == 0:
        raise DataError(f"{cfg.data}: no usable colour photos")
    val = None
    if val_paths:
        val_paths = val_paths[: cfg.val_count] if cfg.val_count else val_paths
        val = cached_array(val_paths, cfg.val_size, cache_dir, progress)
        place = {str(p): i for i, p in enumerate(val_paths)}
        val.index = [place[p] for p in val.paths]  # seeds the hints as `colouru evaluate` does
    return train, val


# --- validation ----------------------------------------------------------------------------------
@torch.no_grad()
def validate(
    G: torch.nn.Module,
    val: PhotoArray,
    cfg: TrainConfig,
    device: torch.device,
    precision: str = "fp32",
    samples_to: Path | None = None,
) -> dict:
    """Mean PSNR at each of ``VAL_HINTS`` hint counts over the validation photos, and the
    colourfulness of the results without hints against the true photos'; optionally a sample
    grid (grey + hints | result | truth).

    The very figures ``colouru evaluate`` gives for this model on these photos: the same
    seeded hints (seed 0, each photo's place in its folder), the same ``Colorizer`` and its
    finishing step (``evaluate.model_results``).
    """
    colorizer = Colorizer(
        unwrap(G), ModelInfo(cfg.generator, work_size=evaluate.SIZE), device, precision=precision
    )
    psnrs: dict[int, list[float]] = {k: [] for k in VAL_HINTS}
    colourful, truth_colourful = [], []
    grid_rows: list[list[np.ndarray]] = []
    for j in range(len(val)):
        truth = np.asarray(val.images[j])
        index = val.index[j] if val.index is not None else j
        hints = {k: evaluate.hints_for(truth, 0, index, k) for k in VAL_HINTS}
        results = evaluate.model_results(colorizer, truth, hints)
        for k in VAL_HINTS:
            psnrs[k].append(psnr(results[k], truth))
        colourful.append(colourfulness(results[0]))
        truth_colourful.append(colourfulness(truth))
        if samples_to is not None and j < 6:
            k = VAL_HINTS[-1]
            grid_rows.append([evaluate.draw_hints(truth, hints[k]), results[k], truth])
    out = {f"psnr_{k}": float(np.mean(v)) for k, v in psnrs.items()}
    out["colourfulness_ratio"] = float(np.mean(colourful) / max(np.mean(truth_colourful), 1e-9))
    if samples_to is not None and grid_rows:
        save_grid(grid_rows, samples_to)
    return out


# --- the run ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Stage:
    """What a stage of ``--stages`` does: its step, and whether the generator learns in it
    (then the weight average follows it, and the stage ends with a validation and an
    exported ``model-<stage>.safetensors``)."""

    name: str
    step: Callable  # (trainer, batch, rng) -> losses
    trains_g: bool


STAGE_REGISTRY = {
    "pretrain-g": Stage("pretrain-g", lambda t, batch, rng: t.pretrain_g_step(batch), True),
    "pretrain-d": Stage("pretrain-d", lambda t, batch, rng: t.d_step(batch, rng), False),
    "gan": Stage("gan", lambda t, batch, rng: t.gan_step(batch, rng), True),
}
assert tuple(STAGE_REGISTRY) == STAGES


class Run:
    """One training run in ``run_dir``: the networks, their data and where the run stands
    (``stage_i``, ``step``). ``train`` is the loop; the methods are its parts."""

    def __init__(self, cfg: TrainConfig, run_dir: Path, device: torch.device, d: Dist,
                 progress: bool, resume: bool):
        self.cfg, self.run_dir, self.device, self.d = cfg, run_dir, device, d
        self.progress = progress
        self.ckpt_path = run_dir / "checkpoint.safetensors"
        self.precision = resolve_precision(device, cfg.precision)
        self.stage_i, self.step = 0, 0
        self.until: int | None = None  # stop at this global step (train's ``until``)
        self.logger = None
        self._build_networks(resume)

    def _build_networks(self, resume: bool) -> None:
        cfg, device = self.cfg, self.device
        torch.manual_seed(cfg.seed)
        # A new run starts its encoder (if any) from ImageNet; a resumed or --init one from
        # files.
        init_model = load_model(cfg.init)[0] if cfg.init and not resume else None
        grows = init_model is not None and grows_into(init_model.config, cfg.generator)
        # a grown model's new encoder starts from ImageNet too
        G = build_generator(cfg.generator, pretrained=not resume and (not cfg.init or grows))
        if init_model is not None:
            old, new = init_model.config, cfg.generator
            if grows:
                # --fine-width on a model without the block, --arch unet-semantic on a plain
                # U-Net or a wider --width: it grows the new parts, the same function at first
                grown = grow_state(G, init_model.state_dict(), old)
                if self.d.main:
                    said = f"colouru train: {cfg.init} grown"
                    if grown:
                        said += (f" by {len(grown)} tensors "
                                 f"({', '.join(sorted({k.split('.')[0] for k in grown}))})")
                    if old.width != new.width:
                        said += f", width {old.width} to {new.width}"
                    print(said, file=sys.stderr)
            else:
                if old != new:
                    cfg.generator = old
                    G = build_generator(cfg.generator)
                G.load_state_dict(init_model.state_dict())
        D = build_discriminator(cfg.disc, cfg.disc_width)
        G.to(device)
        D.to(device)
        if device.type == "cpu":  # oneDNN's fast layout on the CPU (as in Colorizer.load)
            G.to(memory_format=torch.channels_last)
        self.G, self.D = G, D
        self.trainer = Trainer(G, D, cfg.gan, precision=self.precision)
        # The average starts from the initial weights; a resumed run restores it.
        self.ema = WeightAverage(G, cfg.ema) if cfg.ema else None
        self.G_ema = self.ema.model if self.ema else None
        self.published = G if self.G_ema is None else self.G_ema  # validated and exported
        self.offsets = np.cumsum([0] + cfg.steps)

    def start(self, resume: bool) -> None:
        """Restore the checkpoint (``resume``) or refuse to start over one; write the config;
        load the data (rank 0 builds the cache while the others wait: ranks building it at
        once wrote the same file under each other, SIGBUS); wrap the networks for DDP."""
        d = self.d
        if resume:
            meta = load_checkpoint(self.ckpt_path, G=self.G, D=self.D, opt_g=self.trainer.opt_g,
                                   opt_d=self.trainer.opt_d, G_ema=self.G_ema)
            self.stage_i, self.step = meta["stage"], meta["step"]
        elif self.ckpt_path.exists():
            raise CheckpointError(f"{self.run_dir} already holds a run; use --resume to "
                                  "continue it or choose another --out")
        if d.main:
            (self.run_dir / "config.json").write_text(json.dumps(self.cfg.to_dict(), indent=1))
        if d.world > 1 and not d.main:
            dist.barrier()
        self.train_data, self.val_data = load_data(self.cfg, self.run_dir,
                                                   self.progress and d.main)
        if d.world > 1 and d.main:
            dist.barrier()
        if self.cfg.gan.rebalance != 1:  # counted alike by every process: a seeded choice
            prior = ab_prior(self.train_data.images, seed=self.cfg.seed)
            self.trainer.set_ab_weights(rebalance_weights(prior, self.cfg.gan.rebalance))
        if d.world > 1:
            from torch.nn.parallel import DistributedDataParallel as DDP

            ids = [self.device.index] if self.device.type == "cuda" else None
            self.trainer.G = DDP(self.G, device_ids=ids)
            self.trainer.D = DDP(self.D, device_ids=ids)
        if d.main:
            self.logger = RunLogger(self.run_dir,
                                    resume_step=(self.stage_i, self.step) if resume else None)

    # -- one stage ------------------------------------------------------------------------------
    def train_stage(self) -> None:
        """Run the current stage from ``step`` to its end, logging, checkpointing and
        validating every so many steps."""
        cfg, d = self.cfg, self.d
        stage, total = STAGE_REGISTRY[cfg.stages[self.stage_i]], cfg.steps[self.stage_i]
        self.bar = tqdm(total=total, initial=self.step, desc=stage.name, unit="step",
                        disable=not (self.progress and d.main), dynamic_ncols=True,
                        file=sys.stderr)
        timing = [0.0, 0.0, 0]  # data seconds, step seconds, steps since the last log
        while self.step < total:
            self._stop_if_asked()
            losses = self._one_step(stage, total, timing)
            self.step += 1
            self.bar.update(1)
            self.bar.set_postfix({k: f"{v:.4g}" for k, v in losses.items()
                                  if k in ("g_mse", "d_loss", "g_adv")}, refresh=False)
            if d.main and (self.step % cfg.log_every == 0 or self.step == total):
                self._log_train(stage, total, losses, timing)
            if self.step % cfg.ckpt_every == 0 and self.step < total:
                self.checkpoint()
            if (d.main and self.val_data is not None and self.step % cfg.val_every == 0
                    and self.step < total):
                self.validate()
        self.bar.close()

    def _stop_if_asked(self) -> None:
        """At the ``until`` step: checkpoint, export that step's model and stop
        (``StoppedAt``). A run resumed at that step stops at once."""
        global_step = int(self.offsets[self.stage_i] + self.step)
        if self.until is None or global_step < self.until:
            return
        self.checkpoint()
        model = self.export(f"model-step{global_step}.safetensors") if self.d.main else None
        self.bar.close()
        raise StoppedAt(f"stopped at step {global_step} as asked (--until); model at this "
                        f"step: {model}; continue with: colouru train --out {self.run_dir} "
                        "--resume")

    def _one_step(self, stage: Stage, total: int, timing: list) -> dict:
        cfg, d = self.cfg, self.d
        t0 = time.perf_counter()
        # Batches are a pure function of (seed, stage, step, rank): a resumed run replays them.
        rng = np.random.default_rng([cfg.seed, self.stage_i, self.step, d.rank])
        idx = batch_indices(len(self.train_data), cfg.batch_size, self.step, cfg.seed,
                            self.stage_i, d.rank, d.world)
        batch = make_batch(crops(self.train_data.images, idx, cfg.size, rng), rng, cfg.hints,
                           self.device)
        t1 = time.perf_counter()
        self.trainer.set_lr(lr_at(self.step, total, cfg.gan.lr))
        losses = stage.step(self.trainer, batch, rng)
        _stop_unless_finite(losses, stage.name, self.step + 1, d, self.device)
        if self.ema is not None and stage.trains_g:
            self.ema.update(self.G, int(self.offsets[self.stage_i] + self.step))
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)
        t2 = time.perf_counter()
        timing[0] += t1 - t0
        timing[1] += t2 - t0
        timing[2] += 1
        return losses

    def _log_train(self, stage: Stage, total: int, losses: dict, timing: list) -> None:
        cfg = self.cfg
        t_data, t_all, n = timing
        self.logger.log({
            "kind": "train",
            "stage": stage.name,
            "stage_index": self.stage_i,
            "step": self.step,
            "global_step": int(self.offsets[self.stage_i] + self.step),
            "lr": lr_at(self.step - 1, total, cfg.gan.lr),
            "samples_per_s": cfg.batch_size * self.d.world * n / max(t_all, 1e-9),
            "data_share": t_data / max(t_all, 1e-9),
            **losses,
        })
        timing[:] = [0.0, 0.0, 0]

    def end_stage(self) -> None:
        """Validate and export the generator of a stage that trains it; checkpoint the start
        of the next stage."""
        stage = STAGE_REGISTRY[self.cfg.stages[self.stage_i]]
        if self.d.main:
            if self.val_data is not None and stage.trains_g:
                self.validate()
            if stage.trains_g:
                self.export(f"model-{stage.name}.safetensors")
            self.logger.plot()
        self.stage_i, self.step = self.stage_i + 1, 0
        self.checkpoint()

    # -- saving and measuring -------------------------------------------------------------------
    def checkpoint(self) -> None:
        """Save the networks, optimisers and position (rank 0; all ranks wait for it).
        Weights made NaN by the last update (its loss was still finite) are never saved;
        every process sees the same weights, so all stop together."""
        si, st, stages = self.stage_i, self.step, self.cfg.stages
        where = f"after {stages[si]} step {st}" if st else f"at the end of {stages[si - 1]}"
        G, D = unwrap(self.trainer.G), unwrap(self.trainer.D)
        _stop_unless_finite_weights({"G": G, "D": D}, where)
        if self.d.main:
            save_checkpoint(self.ckpt_path, G=G, D=D, opt_g=self.trainer.opt_g,
                            opt_d=self.trainer.opt_d, G_ema=self.G_ema,
                            config=self.cfg.to_dict(), stage=si, step=st)
        if self.d.world > 1:
            dist.barrier()

    def validate(self) -> None:
        """Validate the published generator (``evaluate``'s protocol) and log the figures."""
        stage = self.cfg.stages[self.stage_i]
        global_step = int(self.offsets[self.stage_i] + self.step)
        figures = validate(self.published, self.val_data, self.cfg, self.device, self.precision,
                           samples_to=self.run_dir / "samples" / f"{global_step:06d}-{stage}.png")
        self.logger.log({"kind": "val", "stage": stage, "stage_index": self.stage_i,
                         "step": self.step, "global_step": global_step, **figures})
        self.logger.plot()
        tqdm.write(f"validation at {stage} step {self.step}: "
                   + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()), file=sys.stderr)

    def export(self, name: str) -> Path:
        """Write the published generator as a model file with the run's provenance."""
        cfg = self.cfg
        _stop_unless_finite_weights({"G": self.published}, f"before writing {name}")
        info = ModelInfo(generator=cfg.generator, work_size=cfg.work_size, provenance={
            "trained_by": "colouru train",
            "data": cfg.data,
            "classes": cfg.classes,
            "stages": cfg.stages[: self.stage_i + 1],
            "steps": cfg.steps,
            "batch_size": cfg.batch_size,
            "world_size": self.d.world,
            "size": cfg.size,
            "init": cfg.init,
            "ema": cfg.ema,
            "lr": cfg.gan.lr,
            "loss": cfg.gan.loss,
            **({"huber_delta": cfg.gan.huber_delta} if cfg.gan.loss == "huber" else {}),
            **({"rebalance": cfg.gan.rebalance} if cfg.gan.rebalance != 1 else {}),
            "stroke_share": cfg.hints.stroke_share,
            "recolour_share": cfg.hints.recolour_share,
            "seed": cfg.seed,
        })
        return save_model(self.run_dir / name, self.published, info)

    def close(self) -> None:
        bar = getattr(self, "bar", None)
        if bar is not None:  # an error's message then starts a line of its own
            bar.close()
        if self.logger is not None:
            self.logger.close()


def train(cfg: TrainConfig, run_dir: Path, device: torch.device, resume: bool = False,
          d: Dist = Dist(), progress: bool = True, until: int | None = None) -> Path | None:
    """Run (or resume) the stages of ``cfg`` in ``run_dir``. Returns the final model path (rank
    0) or None. ``until``: stop at this global step (``StoppedAt``) with a checkpoint and the
    model of that step exported; the schedule stays that of the whole run."""
    run_dir.mkdir(parents=True, exist_ok=True)
    if d.main:  # what a killed run was writing (checkpoint, model, cache) when it died
        clean_leftovers(run_dir, recursive=True)
    run = Run(cfg, run_dir, device, d, progress, resume)
    run.until = until
    try:
        run.start(resume)
        while run.stage_i < len(cfg.stages):
            run.train_stage()
            run.end_stage()
        if not d.main:
            return None
        final = run.export("model.safetensors")
        run.logger.plot()
        return final
    finally:
        run.close()


def _stop_unless_finite(losses: dict, stage: str, step: int, d: Dist, device) -> None:
    """Stop the run (every process) at the first NaN or infinite loss, naming the step; its
    weights are lost, the last checkpoint is not overwritten."""
    bad = {k: v for k, v in losses.items() if not math.isfinite(v)}
    stop = bool(bad)
    if d.world > 1:  # a loss of one process only: the others must stop with it
        flag = torch.tensor([float(stop)], device=device)
        dist.all_reduce(flag)
        stop = flag.item() > 0
    if stop:
        what = ", ".join(f"{k} {v}" for k, v in bad.items()) or "loss in another process"
        raise TrainingError(
            f"non-finite {what} at {stage} step {step}: stopped; the last checkpoint is kept "
            "(a --lr or --lambda-mse too large, or damaged weights?)"
        )


def _stop_unless_finite_weights(nets: dict, where: str) -> None:
    """Stop the run before NaN or infinite weights are saved (an update can make them from a
    finite loss)."""
    for name, net in nets.items():
        for k, v in net.named_parameters():
            if not torch.isfinite(v).all():
                raise TrainingError(
                    f"non-finite weights ({name}.{k}) {where}: stopped; the last checkpoint is "
                    "kept"
                )


def run(args: argparse.Namespace) -> int:
    """Entry point of ``colouru train``: returns an exit code, errors as one line."""
    run_dir = Path(args.out)
    try:
        d, device = init_distributed(args.device)
    except (ValueError, RuntimeError) as e:
        print(f"colouru train: {e}", file=sys.stderr)
        return 2
    try:
        if args.threads is not None and args.threads < 1:
            raise ValueError(f"--threads must be 1 or more, got {args.threads}")
        if args.epochs is not None and not (math.isfinite(args.epochs) and args.epochs > 0):
            raise ValueError(f"--epochs must be a positive number, got {args.epochs}")
        if args.resume:
            cfg = resumed_config(args, run_dir / "checkpoint.safetensors")
        else:
            if not args.data:
                raise ValueError("--data is required (except with --resume)")
            cfg = config_from_args(args)
            if args.epochs:
                n = len(list_photos(cfg.data, cfg.classes))
                n_train = n if not cfg.val_split else n - max(1, round(n * cfg.val_split))
                cfg.steps = [steps_for_epochs(args.epochs, n_train, cfg.batch_size, d.world)] * len(
                    cfg.stages
                )
        if args.threads:
            torch.set_num_threads(args.threads)
        if args.until is not None and args.until < 1:
            raise ValueError(f"--until must be 1 or more, got {args.until}")
        final = train(cfg, run_dir, device, resume=args.resume, d=d, until=args.until)
    except StoppedAt as e:
        if d.main:
            print(f"colouru train: {e}", file=sys.stderr)
        return 0
    except (CheckpointError, DataError, ModelFileError, TrainingError, OSError, ValueError) as e:
        print(f"colouru train: {e}", file=sys.stderr)
        return 2 if isinstance(e, ValueError) else 1
    except KeyboardInterrupt:
        print(
            f"colouru train: interrupted; continue with: colouru train --out {run_dir} --resume",
            file=sys.stderr,
        )
        return 130
    finally:
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
    if final is not None:
        print(f"colouru train: model written to {final}", file=sys.stderr)
    return 0

