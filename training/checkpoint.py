"""Training checkpoints: one safetensors file with both networks and both optimisers.

Tensors go in the safetensors body (``G.*``, ``D.*``, ``opt_g.<param>.<key>``, ``G_ema.*``
when the run keeps a weight average, ...); the
run's config, the position (stage, step) and the optimisers' hyper-parameters go in its JSON
metadata, with a checksum of the tensors (``checksum``; checkpoints written before it existed
load without). Nothing is pickled, so loading a checkpoint never runs code. Written to a
temporary file and renamed: a run killed while saving keeps its previous checkpoint.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save as save_bytes

from colouru.atomic import atomic_write_bytes

FORMAT = "colouru-checkpoint"
VERSION = 1


class CheckpointError(Exception):
    """A checkpoint that cannot be resumed from; one-line message."""


def checksum(tensors: dict[str, torch.Tensor]) -> str:
    """SHA-256 of the tensors: each one's name, dtype, shape and bytes, in name order."""
    h = hashlib.sha256()
    for k in sorted(tensors):
        t = tensors[k]
        h.update(f"{k}|{t.dtype}|{tuple(t.shape)}\n".encode())
        h.update(t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy())
    return "sha256:" + h.hexdigest()


def _opt_tensors(prefix: str, opt: torch.optim.Optimizer) -> tuple[dict, dict]:
    sd = opt.state_dict()
    tensors = {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            t = v if torch.is_tensor(v) else torch.tensor(v)
            tensors[f"{prefix}.{pid}.{k}"] = t.detach().to("cpu").contiguous()
    return tensors, {"param_groups": sd["param_groups"]}


def save_checkpoint(
    path: Path,
    *,
    G: torch.nn.Module,
    D: torch.nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    G_ema: torch.nn.Module | None = None,
    config: dict,
    stage: int,
    step: int,
) -> None:
    tensors = {f"G.{k}": v.detach().cpu().contiguous() for k, v in G.state_dict().items()}
    tensors.update({f"D.{k}": v.detach().cpu().contiguous() for k, v in D.state_dict().items()})
    if G_ema is not None:
        tensors.update(
            {f"G_ema.{k}": v.detach().cpu().contiguous() for k, v in G_ema.state_dict().items()}
        )
    tg, mg = _opt_tensors("opt_g", opt_g)
    td, md = _opt_tensors("opt_d", opt_d)
    tensors.update(tg)
    tensors.update(td)
    meta = {
        "format": FORMAT,
        "version": VERSION,
        "config": config,
        "stage": stage,
        "step": step,
        "opt_g": mg,
        "opt_d": md,
        "checksum": checksum(tensors),
    }
    path = Path(path)
    try:
        atomic_write_bytes(path, save_bytes(tensors, metadata={"colouru": json.dumps(meta)}))
    except BaseException as e:
        if isinstance(e, OSError):  # disk full, folder gone ...: one line, the old one kept
            raise CheckpointError(
                f"{path}: could not write the checkpoint ({e.strerror or e}); the previous "
                "one is kept"
            ) from None
        raise


def read_checkpoint_meta(path: Path) -> dict:
    """The checkpoint's metadata (config, stage, step ...); raises ``CheckpointError``."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no checkpoint to resume from")
    try:
        with safe_open(str(path), framework="pt") as f:
            meta = json.loads((f.metadata() or {})["colouru"])
    except (SafetensorError, OSError, ValueError, KeyError, RecursionError) as e:
        raise CheckpointError(
            f"{path}: not a ColourU training checkpoint ({e.__class__.__name__})"
        ) from None
    fmt, version = (meta.get("format"), meta.get("version")) if isinstance(meta, dict) else ("", "")
    if fmt != FORMAT or version != VERSION:
        raise CheckpointError(
            f"{path}: not a ColourU training checkpoint (format {fmt!r} version {version!r})"
        )
    problem = _meta_problem(meta)
    if problem:
        raise CheckpointError(f"{path}: bad checkpoint metadata ({problem})")
    return meta


def _meta_problem(meta: dict) -> str | None:
    """What is wrong with the shape of a checkpoint's metadata (say, after a hand edit)."""
    for key in ("stage", "step"):
        v = meta.get(key)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            return f"{key} must be a whole number >= 0, got {v!r}"
    if not isinstance(meta.get("config"), dict):
        return "config must be an object"
    for key in ("opt_g", "opt_d"):
        groups = meta.get(key, {}).get("param_groups") if isinstance(meta.get(key), dict) else None
        if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
            return f"{key} must hold the optimiser's param_groups"
    if not isinstance(meta.get("extra", {}), dict):
        return "extra must be an object"
    if "checksum" in meta and not isinstance(meta["checksum"], str):
        return f"checksum must be a string, got {meta['checksum']!r}"
    return None


def load_checkpoint(
    path: Path,
    *,
    G: torch.nn.Module,
    D: torch.nn.Module,
    opt_g: torch.optim.Optimizer,
    opt_d: torch.optim.Optimizer,
    G_ema: torch.nn.Module | None = None,
) -> dict:
    """Restore networks, optimisers and, when given, the weight average in place; returns the
    metadata."""
    meta = read_checkpoint_meta(path)
    try:
        with safe_open(str(path), framework="pt") as f:
            tensors = {k: f.get_tensor(k) for k in f.keys()}
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise CheckpointError(f"{path}: damaged checkpoint ({e.__class__.__name__}: {e})") from None
    if "checksum" in meta and checksum(tensors) != meta["checksum"]:
        raise CheckpointError(
            f"{path}: damaged checkpoint (its tensors do not match their checksum)"
        )

    def part(prefix: str) -> dict:
        n = len(prefix) + 1
        return {k[n:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}

    try:
        G.load_state_dict(part("G"))
        D.load_state_dict(part("D"))
        if G_ema is not None:
            G_ema.load_state_dict(part("G_ema"))
        for name, opt in (("opt_g", opt_g), ("opt_d", opt_d)):
            state: dict = {}
            for k, v in part(name).items():
                pid, key = k.split(".", 1)
                state.setdefault(int(pid), {})[key] = v
            opt.load_state_dict({"state": state, "param_groups": meta[name]["param_groups"]})
    except (RuntimeError, ValueError, KeyError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else e.__class__.__name__
        raise CheckpointError(
            f"{path}: checkpoint does not match this run's networks ({first})"
        ) from None
    return meta
