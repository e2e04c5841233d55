"""``Colorizer``: the one service the app, the command line and evaluation use.

Data flow (full resolution H x W, working size h x w with long side ``work_size``)::

    sRGB (H, W, 3) -> L (H, W) --area--> L (h, w) -+-> input (1, 4, h, w) -> generator
    hints (image px) -> rasterize at (h, w) -------+                          |
                                                                             ab (2, h, w)
    L (H, W) + ab (2, h, w) -> guided upsampling -> ab (2, H, W) -> hint squares set exactly
    -> Lab -> sRGB (chroma lowered where out of gamut, L kept) -> uint8 (H, W, 3)

The output keeps the photo's own L; ab is brought to full resolution by a fast guided filter
(He and Sun 2015) whose guide is L, so colour follows the photo's edges instead of bleeding
across them as with plain bilinear upsampling.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Iterable, Sequence

import cv2
import numpy as np
import torch

from colouru.colour import (denormalize_ab, lab_to_rgb_preserving_l, rgb_to_lightness)
from colouru.hints import Hint, hint_box, rasterize_hints
from colouru.imageio import to_uint8
from colouru.inputs import make_input
from colouru.weights import ModelInfo, load_model

DEFAULT_MODEL_NAME = "colouru-default.safetensors"
_ROWS = 512  # rows per chunk in full-resolution conversions (bounds peak memory)


class NoModelError(Exception):
    """No model file to load (e.g. the bundled default has not been trained yet)."""


def bundled_model_path() -> Path:
    """Where the bundled default model lives (``assets/models/`` in the source tree)."""
    return Path(str(resources.files("colouru.assets"))) / "models" / DEFAULT_MODEL_NAME


def resolve_device(device: str = "auto") -> torch.device:
    """``auto`` picks CUDA, then Apple MPS, then the CPU; other names are checked."""
    if device == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError("device 'cuda' asked for, but no CUDA GPU is available to PyTorch")
    if device == "mps" and not (getattr(torch.backends, "mps", None) and torch.backends.mps.is_available()):
        raise ValueError("device 'mps' asked for, but Apple MPS is not available")
    if device not in ("cpu", "mps") and not device.startswith("cuda"):
        raise ValueError(f"unknown device {device!r}; use auto, cpu, cuda, cuda:N or mps")
    return torch.device(device)


def working_shape(image_hw: Sequence[int], work_size: int) -> tuple[int, int]:
    """The working size for an image: long side ``work_size`` (never upscaled), aspect kept."""
    h, w = int(image_hw[0]), int(image_hw[1])
    scale = min(1.0, work_size / max(h, w))
    return max(1, int(round(h * scale))), max(1, int(round(w * scale)))


def image_lightness(image: np.ndarray) -> np.ndarray:
    """A photo as sRGB ``(H, W, 3)`` or grey ``(H, W)`` (uint8, uint16 or float 0..1) ->
    L float32 ``(H, W)`` in 0..100, converted in row chunks to bound memory."""
    image = np.asarray(image)
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ValueError(f"image must be (H, W) or (H, W, 3), got {image.shape}")
    scale = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}.get(image.dtype, 1.0)
    out = np.empty(image.shape[:2], dtype=np.float32)
    for r in range(0, image.shape[0], _ROWS):
        chunk = image[r:r + _ROWS].astype(np.float32) / np.float32(scale)
        out[r:r + _ROWS] = rgb_to_lightness(np.clip(chunk, 0.0, 1.0))
    return out


def guided_upsample(guide_lo: np.ndarray, src_lo: np.ndarray, guide_hi: np.ndarray,
                    radius: int = 2, eps: float = 1e-3) -> np.ndarray:
    """Fast guided filter upsampling (He and Sun 2015).

    ``guide_lo`` ``(h, w)`` and ``src_lo`` ``(h, w)`` at low resolution, ``guide_hi`` ``(H, W)``;
    guides in 0..1. Fits ``src ~ a * guide + b`` in each low-resolution window, upsamples the
    smoothed ``a`` and ``b`` bilinearly and applies them to the full-resolution guide. Returns
    float32 ``(H, W)``.
    """
    k = (2 * radius + 1, 2 * radius + 1)
    box = lambda x: cv2.boxFilter(x, -1, k, borderType=cv2.BORDER_REFLECT)  # noqa: E731
    g, p = guide_lo.astype(np.float32), src_lo.astype(np.float32)
    mean_g, mean_p = box(g), box(p)
    cov = box(g * p) - mean_g * mean_p
    var = box(g * g) - mean_g * mean_g
    a = cov / (var + np.float32(eps))
    b = mean_p - a * mean_g
    mean_a, mean_b = box(a), box(b)
    size = (guide_hi.shape[1], guide_hi.shape[0])
    out = cv2.resize(mean_a, size, interpolation=cv2.INTER_LINEAR)
    out *= guide_hi
    out += cv2.resize(mean_b, size, interpolation=cv2.INTER_LINEAR)
    return out


@dataclass
class Prepared:
    """A photo made ready for repeated colorizing (the app re-colours it on every change)."""

    lightness: np.ndarray  # (H, W) float32 L 0..100 at full resolution
    work_lightness: np.ndarray  # (h, w) float32 L at working size

    @property
    def image_hw(self) -> tuple[int, int]:
        return self.lightness.shape[:2]

    @property
    def work_hw(self) -> tuple[int, int]:
        return self.work_lightness.shape[:2]


class Colorizer:
    """Colorizes photos with a generator; see the module docstring for the data flow."""

    def __init__(self, model: torch.nn.Module, info: ModelInfo, device: torch.device,
                 source: str = "<memory>"):
        self.model = model.to(device).eval()
        self.info = info
        self.device = device
        self.source = source
        self.work_size = info.work_size

    @classmethod
    def load(cls, path: str | os.PathLike | None = None, device: str = "auto") -> "Colorizer":
        """Load a model file (``None``: the bundled default) onto ``device``."""
        dev = resolve_device(device)
        if path is None:
            path = bundled_model_path()
            if not path.is_file():
                raise NoModelError(
                    f"no bundled model at {path}: train one with 'colouru train --data PHOTOS "
                    f"--out RUN' and pass --model RUN/model.safetensors, or copy a trained "
                    f"model file to that path"
                )
        model, info = load_model(path, device=dev)
        return cls(model, info, dev, source=str(path))

    # -- steps ------------------------------------------------------------------------------
    def prepare(self, image: np.ndarray, work_size: int | None = None) -> Prepared:
        """Compute full-resolution L and working-size L once per photo."""
        lightness = image_lightness(image)
        h, w = working_shape(lightness.shape, work_size or self.work_size)
        work = cv2.resize(lightness, (w, h), interpolation=cv2.INTER_AREA)
        return Prepared(lightness=lightness, work_lightness=work)

    @torch.inference_mode()
    def predict_ab(self, prepared: Prepared, hints: Iterable[Hint] = ()) -> np.ndarray:
        """The network's ab ``(2, h, w)`` at working size (CIE units)."""
        hint_ab, _ = rasterize_hints(hints, prepared.image_hw, prepared.work_hw)
        lt = torch.from_numpy(prepared.work_lightness)[None, None].to(self.device)
        ht = torch.from_numpy(hint_ab)[None].to(self.device)
        ab = self.model(make_input(lt, ht))
        return denormalize_ab(ab[0].float()).cpu().numpy()

    def preview(self, prepared: Prepared, hints: Sequence[Hint] = ()) -> np.ndarray:
        """Fast colorized sRGB uint8 ``(h, w, 3)`` at working size (hint squares exact)."""
        ab = self.predict_ab(prepared, hints)
        hint_ab, mask = rasterize_hints(hints, prepared.image_hw, prepared.work_hw)
        ab[:, mask] = hint_ab[:, mask]
        lab = np.concatenate([prepared.work_lightness[None], ab], axis=0).transpose(1, 2, 0)
        return to_uint8(lab_to_rgb_preserving_l(lab))

    def upsample_ab(self, prepared: Prepared, ab_work: np.ndarray,
                    hints: Sequence[Hint] = ()) -> np.ndarray:
        """Working-size ab -> full-resolution ab ``(2, H, W)``, guided by L; hint squares are
        then set to their hints' ab exactly."""
        lo, hi = prepared.work_lightness / 100.0, prepared.lightness / 100.0
        if prepared.work_hw == prepared.image_hw:
            ab = ab_work.astype(np.float32).copy()
        else:
            ab = np.stack([guided_upsample(lo, ab_work[c], hi) for c in range(2)])
        for h in hints:  # the same geometry as rasterize_hints, painted at full resolution
            box = hint_box(h, prepared.image_hw, prepared.image_hw)
            if box is not None:
                x0, y0, x1, y1 = box
                ab[0, y0:y1, x0:x1] = h.ab[0]
                ab[1, y0:y1, x0:x1] = h.ab[1]
        return ab

    def colorize_lab(self, image_or_prepared, hints: Sequence[Hint] = (),
                     work_size: int | None = None) -> np.ndarray:
        """Full-resolution Lab float32 ``(H, W, 3)``: the photo's L, predicted ab."""
        p = image_or_prepared if isinstance(image_or_prepared, Prepared) else self.prepare(
            image_or_prepared, work_size)
        hints = list(hints)
        ab = self.upsample_ab(p, self.predict_ab(p, hints), hints)
        return np.concatenate([p.lightness[..., None], ab.transpose(1, 2, 0)], axis=2)

    def colorize(self, image_or_prepared, hints: Sequence[Hint] = (),
                 work_size: int | None = None) -> np.ndarray:
        """Colorize at the photo's full resolution -> sRGB uint8 ``(H, W, 3)``.

        ``image_or_prepared``: sRGB ``(H, W, 3)`` or grey ``(H, W)`` array (uint8, uint16 or
        float 0..1; a colour photo is reduced to its lightness), or a ``Prepared``.
        """
        p = image_or_prepared if isinstance(image_or_prepared, Prepared) else self.prepare(
            image_or_prepared, work_size)
        hints = list(hints)
        ab = self.upsample_ab(p, self.predict_ab(p, hints), hints)
        out = np.empty((*p.image_hw, 3), dtype=np.uint8)
        for r in range(0, p.image_hw[0], _ROWS):
            lab = np.stack([p.lightness[r:r + _ROWS], ab[0, r:r + _ROWS], ab[1, r:r + _ROWS]],
                           axis=-1)
            out[r:r + _ROWS] = to_uint8(lab_to_rgb_preserving_l(lab))
        return out

    def describe(self) -> str:
        """A few lines for ``colouru info`` and the app's About box."""
        g = self.info.generator
        lines = [f"model: {self.source}",
                 f"architecture: {g.arch} (width {g.width}, depth {g.depth}), "
                 f"working size {self.work_size}",
                 f"device: {self.device}"]
        for k, v in self.info.provenance.items():
            lines.append(f"{k}: {v}")
        return "\n".join(lines)


def timed(fn, *args, **kwargs):
    """``(result, seconds)`` of one call; used by the app's status bar and benchmarks."""
    t = time.perf_counter()
    r = fn(*args, **kwargs)
    return r, time.perf_counter() - t
