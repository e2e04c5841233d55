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
import json
import math
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
from colouru.device import PRECISIONS, resolve_precision
from colouru.generator import ARCHITECTURES, GeneratorConfig, build_generator
from colouru.geometry import DEFAULT_WORK_SIZE
from colouru.simulate import HintSimConfig
from colouru.training import config
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
    class_pool,
    crops,
    list_photos,
    make_batch,
    split,
)
from colouru.training.discriminators import DISCRIMINATORS, build_discriminator
from colouru.training.distributed import Dist, init_distributed
from colouru.training.ema import WeightAverage
from colouru.training.gan import GanConfig, Trainer, lr_at, unwrap
from colouru.training.growth import grow_state, grows_into, same_layers
from colouru.training.logs import RunLogger
from colouru.training.rebalance import ab_prior, rebalance_weights
from colouru.training.validation import validate
from colouru.weights import (
    WORK_SIZES,
    ModelFileError,
    ModelInfo,
    load_model,
    read_info,
    save_model,
)

STAGES = config.STAGES
assert set(ARCHITECTURES) == set(config.ARCHS)
assert set(DISCRIMINATORS) == set(config.DISCS) and set(PRECISIONS) == set(config.PRECISIONS)
assert WORK_SIZES == config.WORK_SIZES


class StoppedAt(Exception):
    """The run reached its ``--until`` step: checkpointed, to be resumed."""


class TrainingError(Exception):
    """A run that cannot go on (a non-finite loss); one-line message."""


@dataclass
class TrainConfig:
    """A training run. Saved as ``config.json`` and inside every checkpoint. A new run's
    values, their ranges and help are ``training/config.py``'s ``SETTINGS``; the fields no
    option sets are commented here."""

    data: str = ""
    classes: list[str] | None = None
    class_weights: dict[str, int] | None = None
    stages: list[str] = field(default_factory=lambda: config.defaults()["stages"])
    steps: list[int] = field(
        default_factory=lambda: config.default_steps(config.defaults()["stages"]))
    batch_size: int = config.defaults()["batch_size"]
    size: int = config.defaults()["size"]
    generator: GeneratorConfig = field(
        default_factory=lambda: GeneratorConfig(**config.defaults("generator")))
    disc: str = config.defaults()["disc"]
    disc_width: int = 32
    gan: GanConfig = field(default_factory=lambda: GanConfig(**config.defaults("gan")))
    hints: HintSimConfig = field(
        default_factory=lambda: HintSimConfig(**config.defaults("hints")))
    val: str | None = None
    val_split: float | None = None
    val_count: int = 48  # validation photos used during training (seeded hints)
    val_size: int = 256  # validation square side (the evaluation protocol's size)
    val_every: int = config.defaults()["val_every"]
    ckpt_every: int = config.defaults()["ckpt_every"]
    log_every: int = 20  # steps between log records
    work_size: int = DEFAULT_WORK_SIZE  # working size stored in the exported model
    init: str | None = None
    ema: float = config.defaults()["ema"]  # it warms up (training/ema.py): 0.999 is reached
    # after ~9000 updates, the decay after n updates being (1 + n) / (10 + n)
    seed: int = config.defaults()["seed"]
    cache: str = config.defaults()["cache"]
    precision: str = config.defaults()["precision"]  # auto: device.resolve_precision

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        """The config of a saved run. A key its parts lack (saved before the setting existed)
        takes its dataclass's default, the value runs had then (``GanConfig``,
        ``HintSimConfig``, ``GeneratorConfig``): the run resumes as it was trained."""
        d = dict(d)
        d["generator"] = GeneratorConfig.from_dict(d["generator"])
        d["gan"] = GanConfig(**d["gan"])
        d["hints"] = HintSimConfig(**d["hints"])
        return cls(**d)

    def check(self) -> None:
        """Refuse values a run cannot use (bad arguments, a hand-edited checkpoint) before
        anything loads: a ``ValueError`` that names the field."""
        if not isinstance(self.generator, GeneratorConfig):
            raise ValueError("generator must be a generator config")
        config.check(self.to_dict())


# --- set-up --------------------------------------------------------------------------------------
def config_from_args(args: argparse.Namespace) -> TrainConfig:
    """Build and check the config of a new run from command-line arguments (only here are
    arguments parsed): a new run's defaults (``training/config.py``) changed by the options
    given. With ``--init`` the generator is that model's, changed only by the generator
    options given."""
    cfg = config.from_args(args, TrainConfig().to_dict())
    if args.init:
        cfg["generator"] = _grown_config(args.init, config.generator_given(args)).to_dict()
    cfg = TrainConfig.from_dict(cfg)
    cfg.check()
    return cfg


def _grown_config(init: str, wanted: dict) -> GeneratorConfig:
    """The generator of a run with ``--init``: the init model's, changed by the generator
    options given (``wanted``), which may only grow it (``grows_into``); anything else is
    refused by name rather than ignored."""
    old = read_info(init).generator
    new = GeneratorConfig.from_dict({**old.to_dict(), **wanted})
    layers = same_layers(old, new)  # the input options (hint_fade) may change freely
    if layers != old and not grows_into(old, layers):
        differ = [k for k in wanted if getattr(new, k) != getattr(old, k)]
        raise ValueError(
            f"--init {init} is a {old.arch} model that cannot become this one (it differs "
            f"in {', '.join(differ)}); with --init the generator options may only grow it: "
            "--arch unet-semantic on a plain unet, or a wider --width")
    return new


def resumed_config(args: argparse.Namespace, path: Path) -> TrainConfig:
    """The config of the run whose checkpoint is ``path``, with the changes ``--resume`` can
    apply (``config.resumed``). A checkpoint whose metadata is not usable raises
    ``CheckpointError``; an option that would change what the run is raises ``ValueError``
    naming it."""
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
    cfg = TrainConfig.from_dict(config.resumed(args, cfg.to_dict()))
    cfg.check()
    return cfg


def steps_for_epochs(epochs: float, n: int, batch: int, world: int) -> int:
    return max(1, math.ceil(epochs * n / (batch * world)))


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
    train.pool = class_pool(train.paths, cfg.data, cfg.class_weights)
    val = None
    if val_paths:
        val_paths = val_paths[: cfg.val_count] if cfg.val_count else val_paths
        val = cached_array(val_paths, cfg.val_size, cache_dir, progress)
        place = {str(p): i for i, p in enumerate(val_paths)}
        val.index = [place[p] for p in val.paths]  # seeds the hints as `colouru evaluate` does
    return train, val


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
        grows = init_model is not None and grows_into(
            init_model.config, same_layers(init_model.config, cfg.generator))
        # a grown model's new encoder starts from ImageNet too
        G = build_generator(cfg.generator, pretrained=not resume and (not cfg.init or grows))
        if init_model is not None:
            old, new = init_model.config, cfg.generator
            if grows:
                # --arch unet-semantic on a plain U-Net or a wider --width: it grows the new
                # parts, the same function at first
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
                if same_layers(old, new) != old:
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
        idx = self.train_data.photo(batch_indices(
            self.train_data.draws(), cfg.batch_size, self.step, cfg.seed, self.stage_i, d.rank,
            d.world))
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
        config.check_run_options(args)
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

