"""A model file from a training run's latest checkpoint, while the run goes on.

    .venv/bin/python scripts/checkpoint_to_model.py RUN_DIR OUT.safetensors

Writes the generator of ``RUN_DIR/checkpoint.safetensors`` (the weight average when the run
keeps one, as ``colouru train`` would export it) with its provenance: the run's config, and
the stage and step of the checkpoint. For measuring a long run part-way (``colouru evaluate
--model OUT``); a finished run's own ``model.safetensors`` is the one to ship.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from safetensors import safe_open

from colouru.generator import build_generator
from colouru.training.checkpoint import read_checkpoint_meta
from colouru.training.train import TrainConfig
from colouru.weights import ModelInfo, save_model


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("run", type=Path)
    ap.add_argument("out", type=Path)
    args = ap.parse_args()
    ckpt = args.run / "checkpoint.safetensors"
    meta = read_checkpoint_meta(ckpt)
    cfg = TrainConfig.from_dict(meta["config"])
    G = build_generator(cfg.generator)
    prefix = "G_ema." if cfg.ema else "G."
    with safe_open(str(ckpt), framework="pt") as f:
        state = {k[len(prefix):]: f.get_tensor(k) for k in f.keys() if k.startswith(prefix)}
    G.load_state_dict(state)
    stage = cfg.stages[meta["stage"]] if meta["stage"] < len(cfg.stages) else "done"
    info = ModelInfo(cfg.generator, work_size=cfg.work_size, provenance={
        "trained_by": "colouru train (checkpoint exported by scripts/checkpoint_to_model.py)",
        "data": cfg.data, "classes": cfg.classes, "stages": cfg.stages, "steps": cfg.steps,
        "checkpoint": f"stage {stage}, step {meta['step']}", "batch_size": cfg.batch_size,
        "size": cfg.size, "init": cfg.init, "ema": cfg.ema})
    save_model(args.out, G.eval(), info)
    print(f"{args.out}: {stage} step {meta['step']} of {args.run}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
