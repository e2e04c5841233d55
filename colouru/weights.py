"""Model files: safetensors weights with the model's JSON config in the file's metadata.

One ``.safetensors`` file holds everything needed to rebuild a generator: the tensors, and
under the metadata key ``colouru`` a JSON document with the architecture, the input layout and
normalisation, the default working size and provenance (how the weights were made). Loading
never runs pickled code; a corrupt, truncated or mismatched file raises ``ModelFileError``.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from colouru import colour, inputs
from colouru.generator import GeneratorConfig, build_generator
from colouru.imageio import publish

FORMAT = "colouru-model"
FORMAT_VERSION = 1
METADATA_KEY = "colouru"


class ModelFileError(Exception):
    """A model file that cannot be used; the message says why in one line."""


def input_spec() -> dict:
    """The input layout and normalisation this code uses; stored in every model file."""
    return {
        "channels": ["L", "hint_a", "hint_b", "highpass"],
        "l_cent": colour.L_CENT,
        "l_norm": colour.L_NORM,
        "ab_norm": colour.AB_NORM,
        "highpass_sigma": inputs.HIGHPASS_SIGMA,
        "highpass_scale": inputs.HIGHPASS_SCALE,
    }


@dataclass
class ModelInfo:
    """What a model file says about itself besides its tensors."""

    generator: GeneratorConfig
    work_size: int = 256  # default long side the network runs at
    provenance: dict = field(default_factory=dict)  # command, data, steps, figures ...

    def to_json(self) -> str:
        return json.dumps({
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "generator": self.generator.to_dict(),
            "input": input_spec(),
            "work_size": self.work_size,
            "provenance": self.provenance,
        })


def save_model(path: str | os.PathLike, model: torch.nn.Module, info: ModelInfo) -> Path:
    """Write ``model``'s weights and ``info`` to one safetensors file, atomically."""
    path = Path(path)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        save_file(state, tmp, metadata={METADATA_KEY: info.to_json()})
        publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_info(path: str | os.PathLike) -> ModelInfo:
    """Read only the metadata of a model file (fast; no tensors are loaded)."""
    path = Path(path)
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelFileError(
            f"{path}: not a valid safetensors model file ({_first_line(e)})") from None
    if METADATA_KEY not in meta:
        raise ModelFileError(
            f"{path}: safetensors file without a ColourU config (not a ColourU model)")
    try:
        doc = json.loads(meta[METADATA_KEY])
        if not isinstance(doc, dict):
            raise ValueError("the config is not a JSON object")
        if doc.get("format") != FORMAT:
            raise ValueError(f"format is {doc.get('format')!r}")
        if doc.get("version") != FORMAT_VERSION or isinstance(doc.get("version"), bool):
            raise ValueError(f"model format version {doc.get('version')!r} is not {FORMAT_VERSION}")
        if not isinstance(doc.get("generator"), dict):
            raise ValueError("'generator' must be an object")
        gen = GeneratorConfig.from_dict(doc["generator"])
        spec = doc["input"]
        work_size = doc.get("work_size", 256)
        if isinstance(work_size, bool) or not isinstance(work_size, int) or work_size < 1:
            raise ValueError(f"work_size must be a positive whole number, got {work_size!r}")
        provenance = doc.get("provenance", {})
        if not isinstance(provenance, dict):
            raise ValueError("'provenance' must be an object")
    except (ValueError, KeyError, TypeError) as e:
        raise ModelFileError(
            f"{path}: bad ColourU config in model file ({_first_line(e)})") from None
    if spec != input_spec():
        raise ModelFileError(
            f"{path}: model was trained with a different input layout or normalisation "
            f"({spec}) than this ColourU uses ({input_spec()})"
        )
    return ModelInfo(generator=gen, work_size=work_size, provenance=dict(provenance))


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu"):
    """Rebuild the generator from its file alone. Returns ``(model in eval mode, ModelInfo)``."""
    path = Path(path)
    info = read_info(path)
    try:
        model = build_generator(info.generator)
    except (ValueError, TypeError) as e:
        raise ModelFileError(f"{path}: {e}") from None
    try:
        state = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise ModelFileError(f"{path}: damaged or truncated weights ({_first_line(e)})") from None
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state))
    extra = sorted(set(state) - set(expected))
    wrong = sorted(k for k in set(expected) & set(state) if expected[k].shape != state[k].shape)
    if missing or extra or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if extra:
            parts.append(f"{len(extra)} unexpected (e.g. {extra[0]})")
        if wrong:
            k = wrong[0]
            parts.append(f"{len(wrong)} of wrong shape (e.g. {k}: {tuple(state[k].shape)} "
                         f"vs {tuple(expected[k].shape)})")
        raise ModelFileError(f"{path}: weights do not match the architecture in its config: "
                             + "; ".join(parts))
    for k, v in state.items():
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise ModelFileError(f"{path}: weights contain NaN or infinite values ({k})")
    model.load_state_dict(state)
    model.eval()
    return model.to(device), info


def _first_line(e: BaseException) -> str:
    s = str(e).strip()
    return s.splitlines()[0] if s else e.__class__.__name__
