"""``colouru train``: from a folder of photos to a model file, in three resumable stages.

Run folder::

    RUN_DIR/config.json            the run's TrainConfig
    RUN_DIR/checkpoint.safetensors latest checkpoint (both networks, both optimisers, position)
    RUN_DIR/log.jsonl              one JSON record per logged step and per validation
    RUN_DIR/losses.png             loss curves;  RUN_DIR/samples/*.png  sample grids
    RUN_DIR/model-<stage>.safetensors  the generator after each stage that trains it
    RUN_DIR/model.safetensors      the final generator, ready for ``colouru colorize --model``

Distributed: ``torchrun --nproc_per_node=N -m colouru.training.train ...`` (or the ``colouru``
entry point under torchrun) runs DistributedDataParallel; rank 0 alone logs and saves.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
from tqdm import tqdm

from colouru.colorizer import Colorizer
from colouru.device import resolve_device, resolve_precision
from colouru.generator import GeneratorConfig, build_generator
from colouru.metrics import colourfulness, psnr
from colouru.simulate import HintSimConfig
from colouru.training import evaluate
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
from colouru.weights import ModelFileError, ModelInfo, load_model, save_model

STAGES = ("pretrain-g", "pretrain-d", "gan")
VAL_HINTS = (0, 10)  # hint counts reported at each validation (0 must be one)


@dataclass
class TrainConfig:
    """A training run. Saved as ``config.json`` and inside every checkpoint."""

    data: str = ""  # folder of photos (flat or one sub-folder per class)
    classes: list[str] | None = None  # class sub-folders to use (None: all)
    stages: list[str] = field(default_factory=lambda: list(STAGES))
    steps: list[int] = field(default_factory=lambda: [5000, 300, 1500])  # per stage
    batch_size: int = 16  # per process
    size: int = 96  # training crop side (pixels); photos are cached at size * 5/4
    # The default architecture: an ImageNet-pretrained EfficientNet-Lite0 down path and a
    # decoder of 64, 48, 32, 16 and 8 channels (README, docs/model/pretrained-encoder.md).
    # The bundled model is still the plain U-Net (--arch unet; its card).
    generator: GeneratorConfig = field(
        default_factory=lambda: GeneratorConfig(
            arch="unet-pretrained", encoder="efficientnet-lite0", width=16, hint_scales=3,
            edge_hints=2,
        )
    )
    disc: str = "patch"  # key in DISCRIMINATORS
    disc_width: int = 32
    gan: GanConfig = field(default_factory=GanConfig)
    hints: HintSimConfig = field(default_factory=HintSimConfig)
    val: str | None = None  # validation folder (else a split of data, else none)
    val_split: float | None = None  # share of data held out for validation
    val_count: int = 48  # validation photos used during training (seeded hints)
    val_size: int = 256  # validation square side (the evaluation protocol's size)
    val_every: int = 500  # steps between validations (and sample grids)
    ckpt_every: int = 200  # steps between checkpoints
    log_every: int = 20  # steps between log records
    work_size: int = 256  # working size stored in the exported model
    init: str | None = None  # start the generator from this model file
    ema: float = 0.0  # decay of a moving average of the generator's weights, validated and
    # exported in place of the raw weights (0: none). It warms up (training/ema.py): 0.999
    # is reached after ~9000 updates, the decay after n updates being (1 + n) / (10 + n).
    seed: int = 0
    cache: str = "auto"  # prepared uint8 cache of the photos: auto (on), on, off
    precision: str = "auto"  # fp32 or bf16 autocast; auto: colouru.device.resolve_precision

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TrainConfig:
        d = dict(d)
        d["generator"] = GeneratorConfig.from_dict(d["generator"])
        d["gan"] = GanConfig(**d["gan"])
        d["hints"] = HintSimConfig(**d["hints"])
        return cls(**d)


# --- set-up --------------------------------------------------------------------------------------
def config_from_args(args: argparse.Namespace, n_train: int | None = None) -> TrainConfig:
    """Build the config from command-line arguments (only here are arguments parsed)."""
    cfg = TrainConfig(data=str(args.data), seed=args.seed, cache=args.cache)
    if args.classes:
        cfg.classes = [c.strip() for c in args.classes.split(",") if c.strip()]
    cfg.stages = [s.strip() for s in args.stages.split(",") if s.strip()]
    bad = [s for s in cfg.stages if s not in STAGES]
    if bad or not cfg.stages:
        raise ValueError(f"unknown stage(s) {bad}; valid: {list(STAGES)}")
    if args.batch_size:
        cfg.batch_size = args.batch_size
    if args.size:
        cfg.size = args.size
    gen = {}
    if args.arch == "unet":  # the plain U-Net of the design, trained from scratch
        gen.update(arch="unet", encoder="", width=16, depth=5)
    if args.encoder:
        if (args.arch or cfg.generator.arch) != "unet-pretrained":
            raise ValueError("--encoder needs --arch unet-pretrained")
        gen["encoder"] = args.encoder
    if args.width:
        gen["width"] = args.width
    if args.depth:
        gen["depth"] = args.depth
    if args.hint_scales is not None:
        gen["hint_scales"] = args.hint_scales
    if args.edge_hints is not None:
        gen["edge_hints"] = args.edge_hints
    if gen:
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
    if args.lr:
        gan["lr"] = args.lr
    if args.lambda_mse is not None:
        gan["lambda_mse"] = args.lambda_mse
    if gan:
        cfg.gan = dataclasses.replace(cfg.gan, **gan)
    if args.steps:
        parts = [int(s) for s in str(args.steps).split(",")]
        if len(parts) == 1:
            parts = parts * len(cfg.stages)
        if len(parts) != len(cfg.stages) or min(parts) < 1:
            raise ValueError(
                f"--steps needs one positive number or one per stage ({len(cfg.stages)})"
            )
        cfg.steps = parts
    else:
        cfg.steps = [dict(zip(STAGES, TrainConfig().steps, strict=True))[s] for s in cfg.stages]
    cfg.val, cfg.val_split = args.val, args.val_split
    if args.val_every:
        cfg.val_every = args.val_every
    if args.ckpt_every:
        cfg.ckpt_every = args.ckpt_every
    cfg.init = args.init
    if args.ema:
        if not 0.0 < args.ema < 1.0:
            raise ValueError(f"--ema needs a decay between 0 and 1, got {args.ema}")
        cfg.ema = args.ema
    return cfg


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
def train(
    cfg: TrainConfig,
    run_dir: Path,
    device: torch.device,
    resume: bool = False,
    d: Dist = Dist(),
    progress: bool = True,
    stop_after: int | None = None,
) -> Path | None:
    """Run (or resume) the stages of ``cfg`` in ``run_dir``. Returns the final model path (rank
    0) or None. ``stop_after``: stop after this many steps in this call (tests, time slices)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    ckpt_path = run_dir / "checkpoint.safetensors"
    torch.manual_seed(cfg.seed)
    precision = resolve_precision(device, cfg.precision)
    # A new run starts its encoder (if any) from ImageNet; a resumed or --init one from files.
    G = build_generator(cfg.generator, pretrained=not resume and not cfg.init)
    if cfg.init and not resume:
        init_model, _ = load_model(cfg.init)
        if init_model.config != cfg.generator:
            cfg.generator = init_model.config
            G = build_generator(cfg.generator)
        G.load_state_dict(init_model.state_dict())
    D = build_discriminator(cfg.disc, cfg.disc_width)
    G.to(device)
    D.to(device)
    if device.type == "cpu":  # oneDNN's fast layout on the CPU (as in Colorizer.load)
        G.to(memory_format=torch.channels_last)
    trainer = Trainer(G, D, cfg.gan, precision=precision)
    # The average starts from the initial weights; a resumed run restores it below.
    ema = WeightAverage(G, cfg.ema) if cfg.ema else None
    G_ema = ema.model if ema else None
    published = G if G_ema is None else G_ema  # what is validated and exported
    stage_i, step = 0, 0
    if resume:
        meta = load_checkpoint(
            ckpt_path,
            G=G,
            D=D,
            opt_g=trainer.opt_g,
            opt_d=trainer.opt_d,
            G_ema=G_ema,
        )
        stage_i, step = meta["stage"], meta["step"]
    elif ckpt_path.exists():
        raise CheckpointError(
            f"{run_dir} already holds a run; use --resume to continue it or choose another --out"
        )
    if d.main:
        (run_dir / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1))
    # One photo cache for all ranks: rank 0 builds it while the others wait, then they open it
    # (ranks building it at once wrote the same file under each other: SIGBUS).
    if d.world > 1 and not d.main:
        dist.barrier()
    train_data, val_data = load_data(cfg, run_dir, progress and d.main)
    if d.world > 1 and d.main:
        dist.barrier()
    if d.world > 1:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ids = [device.index] if device.type == "cuda" else None
        trainer.G = DDP(G, device_ids=ids)
        trainer.D = DDP(D, device_ids=ids)
    logger = RunLogger(run_dir, resume_step=(stage_i, step) if resume else None) if d.main else None
    offsets = np.cumsum([0] + cfg.steps)
    done_this_call = 0

    def checkpoint(si: int, st: int) -> None:
        if d.main:
            save_checkpoint(
                ckpt_path,
                G=unwrap(trainer.G),
                D=unwrap(trainer.D),
                opt_g=trainer.opt_g,
                opt_d=trainer.opt_d,
                G_ema=G_ema,
                config=cfg.to_dict(),
                stage=si,
                step=st,
            )
        if d.world > 1:
            dist.barrier()

    def validate_now(si: int, st: int) -> None:
        _validate_and_log(
            published,
            val_data,
            cfg,
            device,
            precision,
            logger,
            cfg.stages[si],
            si,
            st,
            int(offsets[si] + st),
            run_dir,
        )

    def export(name: str) -> Path:
        info = ModelInfo(
            generator=cfg.generator,
            work_size=cfg.work_size,
            provenance={
                "trained_by": "colouru train",
                "data": cfg.data,
                "classes": cfg.classes,
                "stages": cfg.stages[: stage_i + 1],
                "steps": cfg.steps,
                "batch_size": cfg.batch_size,
                "world_size": d.world,
                "size": cfg.size,
                "init": cfg.init,
                "ema": cfg.ema,
            },
        )
        return save_model(run_dir / name, published, info)

    try:
        while stage_i < len(cfg.stages):
            stage, total = cfg.stages[stage_i], cfg.steps[stage_i]
            bar = tqdm(
                total=total,
                initial=step,
                desc=stage,
                unit="step",
                disable=not (progress and d.main),
                dynamic_ncols=True,
                file=sys.stderr,
            )
            t_data = t_all = 0.0
            n_timed = 0
            while step < total:
                if stop_after is not None and done_this_call >= stop_after:
                    return None
                t0 = time.perf_counter()
                rng = np.random.default_rng([cfg.seed, stage_i, step, d.rank])
                idx = batch_indices(
                    len(train_data), cfg.batch_size, step, cfg.seed, stage_i, d.rank, d.world
                )
                batch = make_batch(
                    crops(train_data.images, idx, cfg.size, rng), rng, cfg.hints, device
                )
                t1 = time.perf_counter()
                trainer.set_lr(lr_at(step, total, cfg.gan.lr))
                if stage == "pretrain-g":
                    losses = trainer.pretrain_g_step(batch)
                elif stage == "pretrain-d":
                    losses = trainer.d_step(batch, rng)
                else:
                    losses = trainer.gan_step(batch, rng)
                if ema is not None and stage != "pretrain-d":
                    ema.update(G, int(offsets[stage_i] + step))
                if device.type == "cuda":
                    torch.cuda.synchronize(device)
                t2 = time.perf_counter()
                t_data += t1 - t0
                t_all += t2 - t0
                n_timed += 1
                step += 1
                done_this_call += 1
                bar.update(1)
                bar.set_postfix(
                    {k: f"{v:.4g}" for k, v in losses.items() if k in ("g_mse", "d_loss", "g_adv")},
                    refresh=False,
                )
                if d.main and (step % cfg.log_every == 0 or step == total):
                    logger.log(
                        {
                            "kind": "train",
                            "stage": stage,
                            "stage_index": stage_i,
                            "step": step,
                            "global_step": int(offsets[stage_i] + step),
                            "lr": lr_at(step - 1, total, cfg.gan.lr),
                            "samples_per_s": cfg.batch_size * d.world * n_timed / max(t_all, 1e-9),
                            "data_share": t_data / max(t_all, 1e-9),
                            **losses,
                        }
                    )
                    t_data = t_all = 0.0
                    n_timed = 0
                if step % cfg.ckpt_every == 0 and step < total:
                    checkpoint(stage_i, step)
                if d.main and val_data is not None and step % cfg.val_every == 0 and step < total:
                    validate_now(stage_i, step)
            bar.close()
            # End of stage: validate, export the generator, checkpoint the next position.
            if d.main:
                if val_data is not None and stage != "pretrain-d":
                    validate_now(stage_i, step)
                if stage != "pretrain-d":
                    export(f"model-{stage}.safetensors")
                logger.plot()
            stage_i, step = stage_i + 1, 0
            checkpoint(stage_i, step)
        if d.main:
            final = export("model.safetensors")
            logger.plot()
            return final
        return None
    finally:
        if logger is not None:
            logger.close()


def _validate_and_log(
    G, val_data, cfg, device, precision, logger, stage, stage_i, step, global_step, run_dir
):
    figures = validate(
        G,
        val_data,
        cfg,
        device,
        precision,
        samples_to=run_dir / "samples" / f"{global_step:06d}-{stage}.png",
    )
    logger.log(
        {
            "kind": "val",
            "stage": stage,
            "stage_index": stage_i,
            "step": step,
            "global_step": global_step,
            **figures,
        }
    )
    logger.plot()
    tqdm.write(
        f"validation at {stage} step {step}: "
        + ", ".join(f"{k} {v:.3f}" for k, v in figures.items()),
        file=sys.stderr,
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
        if not args.resume and not args.data:
            raise ValueError("--data is required (except with --resume)")
        if args.resume:
            meta = read_checkpoint_meta(run_dir / "checkpoint.safetensors")
            cfg = TrainConfig.from_dict(meta["config"])
            if args.ema is not None and args.ema != cfg.ema:
                raise ValueError(
                    f"--ema {args.ema} differs from this run's ({cfg.ema or 'none'}); "
                    "a weight average is chosen when a run starts"
                )
            if args.steps:  # lengthen or shorten the stages of a resumed run
                parts = [int(x) for x in str(args.steps).split(",")]
                cfg.steps = parts * len(cfg.stages) if len(parts) == 1 else parts
                if len(cfg.steps) != len(cfg.stages):
                    raise ValueError(
                        f"--steps needs one number or one per stage ({len(cfg.stages)})"
                    )
        else:
            cfg = config_from_args(args)
            if args.epochs:
                n = len(list_photos(cfg.data, cfg.classes))
                n_train = n if not cfg.val_split else n - max(1, round(n * cfg.val_split))
                cfg.steps = [steps_for_epochs(args.epochs, n_train, cfg.batch_size, d.world)] * len(
                    cfg.stages
                )
        if args.threads:
            torch.set_num_threads(max(1, args.threads))
        final = train(cfg, run_dir, device, resume=args.resume, d=d)
    except (CheckpointError, DataError, ModelFileError, ValueError) as e:
        print(f"colouru train: {e}", file=sys.stderr)
        return 2 if isinstance(e, ValueError) else 1
    except KeyboardInterrupt:
        print(
            f"colouru train: interrupted; continue with: colouru train --out {run_dir} --data "
            f"{args.data} --resume",
            file=sys.stderr,
        )
        return 130
    finally:
        if dist.is_available() and dist.is_initialized():
            dist.destroy_process_group()
    if final is not None:
        print(f"colouru train: model written to {final}", file=sys.stderr)
    return 0


if __name__ == "__main__":  # torchrun --nproc_per_node=N -m colouru.training.train ...
    from colouru.cli import main

    sys.exit(main(["train", *sys.argv[1:]]))
