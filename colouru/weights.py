"""Model files: safetensors weights with the model's JSON config in the file's metadata.

One ``.safetensors`` file holds everything needed to rebuild a generator: the tensors, and
under the metadata key ``colouru`` a JSON document with the architecture, the input layout and
normalisation, the default working size and provenance (how the weights were made). Loading
never runs pickled code, and builds nothing before the config is bounded and the header's
tensor shapes match the architecture's; a corrupt, truncated, oversized or mismatched file
raises ``ModelFileError`` (one line).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file
from safetensors.torch import save as save_bytes

from colouru import colour, inputs
from colouru.atomic import atomic_write_bytes
from colouru.generator import GeneratorConfig, build_generator
from colouru.geometry import DEFAULT_WORK_SIZE

FORMAT = "colouru-model"
FORMAT_VERSION = 1
METADATA_KEY = "colouru"
WORK_SIZES = (16, 4096)  # the working sizes a model file may ask for (as colorize --work-size)
MAX_NESTING = 32  # levels of JSON in the config (provenance is flat in files we write)
# The tensor types a model file may hold: float32 weights or float16 (``save_model(half=True)``)
# and the batch norms' int64 counts.
DTYPES = ("F32", "F16", "I64")


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
    work_size: int = DEFAULT_WORK_SIZE  # default long side the network runs at
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


def save_model(path: str | os.PathLike, model: torch.nn.Module, info: ModelInfo,
               half: bool = False) -> Path:
    """Write ``model``'s weights and ``info`` to one safetensors file, atomically.

    ``half``: store the floating-point tensors as float16, half the file (the bundled model
    must stay under 20 MB); they load back into the float32 network, rounded once. A tensor
    beyond float16's range raises ``ValueError`` rather than being written as infinity."""
    path = Path(path)
    state = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    if half:
        big = torch.finfo(torch.float16).max
        for k, v in state.items():
            if v.is_floating_point():
                if v.abs().max() > big:
                    raise ValueError(f"{k} holds values beyond float16's range: "
                                     "save it in full precision")
                state[k] = v.half()
    atomic_write_bytes(path, save_bytes(state, metadata={METADATA_KEY: info.to_json()}))
    return path


def read_info(path: str | os.PathLike) -> ModelInfo:
    """Read only the metadata of a model file (fast; no tensors are loaded)."""
    return _read_header(Path(path))[0]


def _read_header(path: Path) -> tuple[ModelInfo, dict[str, tuple[int, ...]]]:
    """The file's checked ``ModelInfo`` and the shape of each tensor, from its header alone."""
    if not path.is_file():
        raise ModelFileError(f"{path}: no such model file")
    try:
        from safetensors import safe_open

        with safe_open(str(path), framework="pt") as f:
            meta = f.metadata() or {}
            shapes = {k: tuple(f.get_slice(k).get_shape()) for k in f.keys()}
            odd = sorted((f.get_slice(k).get_dtype(), k) for k in f.keys()
                         if f.get_slice(k).get_dtype() not in DTYPES)
    except (SafetensorError, OSError, ValueError) as e:
        raise ModelFileError(
            f"{path}: not a valid safetensors model file ({_first_line(e)})") from None
    if odd:
        raise ModelFileError(f"{path}: {len(odd)} tensors of a type model files do not use "
                             f"(e.g. {odd[0][1]}: {odd[0][0]}; expected {', '.join(DTYPES)})")
    if METADATA_KEY not in meta:
        raise ModelFileError(
            f"{path}: safetensors file without a ColourU config (not a ColourU model)")
    try:
        doc = json.loads(meta[METADATA_KEY])
        if not isinstance(doc, dict):
            raise ValueError("the config is not a JSON object")
        _check_nesting(doc)
        if doc.get("format") != FORMAT:
            raise ValueError(f"format is {doc.get('format')!r}")
        if doc.get("version") != FORMAT_VERSION or isinstance(doc.get("version"), bool):
            raise ValueError(f"model format version {doc.get('version')!r} is not {FORMAT_VERSION}")
        if not isinstance(doc.get("generator"), dict):
            raise ValueError("'generator' must be an object")
        gen = GeneratorConfig.from_dict(doc["generator"])
        spec = doc["input"]
        work_size = doc.get("work_size", DEFAULT_WORK_SIZE)
        lo, hi = WORK_SIZES
        whole = isinstance(work_size, int) and not isinstance(work_size, bool)
        if not whole or not lo <= work_size <= hi:
            raise ValueError(f"work_size must be a whole number in {lo}..{hi}, got {work_size!r}")
        provenance = doc.get("provenance", {})
        if not isinstance(provenance, dict):
            raise ValueError("'provenance' must be an object")
    except RecursionError:
        raise ModelFileError(
            f"{path}: bad ColourU config in model file (nested too deeply)") from None
    except (ValueError, KeyError, TypeError) as e:
        raise ModelFileError(
            f"{path}: bad ColourU config in model file ({_first_line(e)})") from None
    if spec != input_spec():
        raise ModelFileError(
            f"{path}: model was trained with a different input layout or normalisation "
            f"({spec}) than this ColourU uses ({input_spec()})"
        )
    return ModelInfo(generator=gen, work_size=work_size, provenance=dict(provenance)), shapes


def _check_nesting(doc, limit: int = MAX_NESTING) -> None:
    """Refuse JSON nested deeper than ``limit`` (printing or copying it could recurse too far)."""
    level = [doc]
    for _ in range(limit):
        level = [v for x in level for v in (x.values() if isinstance(x, dict) else x)
                 if isinstance(v, (dict, list))]
        if not level:
            return
    raise ValueError(f"nested deeper than {limit} levels")


def load_model(path: str | os.PathLike, device: str | torch.device = "cpu"):
    """Rebuild the generator from its file alone. Returns ``(model in eval mode, ModelInfo)``.

    Nothing is built before the config is bounded (``GeneratorConfig.from_dict``) and the
    header's tensor shapes match those of the network it describes (built on the ``meta``
    device: shapes without storage); a bad file costs neither memory nor time."""
    path = Path(path)
    info, shapes = _read_header(path)
    try:
        with torch.device("meta"):
            blueprint = build_generator(info.generator)
    except (ValueError, TypeError) as e:
        raise ModelFileError(f"{path}: {e}") from None
    _check_shapes(path, shapes, {k: tuple(v.shape) for k, v in blueprint.state_dict().items()})
    try:
        state = load_file(str(path), device="cpu")
    except (SafetensorError, OSError, ValueError, RuntimeError) as e:
        raise ModelFileError(f"{path}: damaged or truncated weights ({_first_line(e)})") from None
    for k, v in state.items():
        if v.is_floating_point() and not torch.isfinite(v).all():
            raise ModelFileError(f"{path}: weights contain NaN or infinite values ({k})")
    model = build_generator(info.generator)
    model.load_state_dict(state)
    model.eval()
    return model.to(device), info


def _check_shapes(path: Path, shapes: dict, expected: dict) -> None:
    """Refuse tensors missing from, foreign to or of another shape than the architecture's."""
    missing = sorted(set(expected) - set(shapes))
    extra = sorted(set(shapes) - set(expected))
    wrong = sorted(k for k in set(expected) & set(shapes) if expected[k] != shapes[k])
    if missing or extra or wrong:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing (e.g. {missing[0]})")
        if extra:
            parts.append(f"{len(extra)} unexpected (e.g. {extra[0]})")
        if wrong:
            k = wrong[0]
            parts.append(f"{len(wrong)} of wrong shape (e.g. {k}: {shapes[k]} vs {expected[k]})")
        raise ModelFileError(f"{path}: weights do not match the architecture in its config: "
                             + "; ".join(parts))


def _first_line(e: BaseException) -> str:
    s = str(e).strip()
    return s.splitlines()[0] if s else e.__class__.__name__
