"""A model file with its weights stored in float16: half the size, the same network.

    .venv/bin/python scripts/half_model.py IN.safetensors OUT.safetensors

The weights load back into the float32 network (``colouru.weights.save_model(half=True)``), each
rounded once; the script reports the largest change this makes to the ab of random inputs
(with a few hint pixels), so the figure goes with the file. The provenance is kept, with ``weights``
naming the file it was rounded from. OUT must not exist.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import sys
from pathlib import Path

import torch

from colouru.weights import ModelFileError, load_model, save_model


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", type=Path, help="model file with float32 weights")
    ap.add_argument("out", type=Path, help="new model file (must not exist)")
    args = ap.parse_args(argv)
    if args.out.exists():
        print(f"half_model: {args.out} exists; not replacing it", file=sys.stderr)
        return 1
    try:
        model, info = load_model(args.source)
    except ModelFileError as e:
        print(f"half_model: {e}", file=sys.stderr)
        return 1
    digest = hashlib.sha256(args.source.read_bytes()).hexdigest()[:16]
    provenance = {**info.provenance,
                  "weights": f"float16, rounded from {args.source.name} (sha256 {digest}...)"}
    save_model(args.out, model, dataclasses.replace(info, provenance=provenance), half=True)
    half, _ = load_model(args.out)
    torch.manual_seed(0)
    x = torch.rand(4, 4, 256, 256) * 2 - 1
    x[:, 1:3] *= (torch.rand(4, 1, 256, 256) < 0.01)  # a few hint pixels
    with torch.no_grad():
        change = (half(x) - model(x)).abs().max().item()
    size = (args.source.stat().st_size / 1e6, args.out.stat().st_size / 1e6)
    print(f"half_model: {args.out}: {size[1]:.1f} MB (from {size[0]:.1f} MB); largest change "
          f"in ab on random inputs {change:.2e} of the -1..1 range")
    return 0


if __name__ == "__main__":
    sys.exit(main())
