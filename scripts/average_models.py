"""Average the generator weights of several snapshots of one run (stochastic weight averaging).

    .venv/bin/python scripts/average_models.py OUT.safetensors BASE_MODEL [SNAPSHOT ...]

``BASE_MODEL`` is a model file (its architecture and provenance are kept); each ``SNAPSHOT`` is
another model file or a training checkpoint of the same architecture (its ``G.*`` tensors).
Parameters and batch-norm statistics are averaged with equal weights.
The output is a model file whose provenance lists what was averaged. ``colouru train --ema``
does the same thing during training; this is for runs made without it.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from pathlib import Path

import torch
from safetensors import safe_open

from colouru.training.checkpoint import FORMAT as CHECKPOINT_FORMAT
from colouru.weights import load_model, save_model


def generator_tensors(path: Path) -> dict[str, torch.Tensor]:
    """The generator's tensors of a model file or (``G.*``) of a training checkpoint."""
    with safe_open(str(path), framework="pt") as f:
        meta = json.loads((f.metadata() or {}).get("colouru", "{}"))
        if meta.get("format") == CHECKPOINT_FORMAT:
            return {k[2:]: f.get_tensor(k) for k in f.keys() if k.startswith("G.")}
        return {k: f.get_tensor(k) for k in f.keys()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("base", type=Path, help="model file: architecture and provenance")
    ap.add_argument("snapshots", type=Path, nargs="*", help="more model files or checkpoints")
    args = ap.parse_args(argv)
    model, info = load_model(args.base)
    total = {k: v.detach().clone().double() for k, v in model.state_dict().items()}
    for path in args.snapshots:
        tensors = generator_tensors(path)
        if tensors.keys() != total.keys() or any(
            v.shape != total[k].shape for k, v in tensors.items()
        ):
            print(f"average_models: {path}: not the same architecture", file=sys.stderr)
            return 1
        for k, v in tensors.items():
            total[k] += v.double()
    n = 1 + len(args.snapshots)
    base = model.state_dict()  # integer buffers (batch counts) keep the base's value
    model.load_state_dict(
        {
            k: (v / n).to(base[k].dtype) if base[k].is_floating_point() else base[k]
            for k, v in total.items()
        }
    )
    provenance = {
        **info.provenance,
        "averaged": [str(p) for p in (args.base, *args.snapshots)],
    }
    save_model(args.out, model, dataclasses.replace(info, provenance=provenance))
    print(f"average_models: {n} snapshots averaged into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
