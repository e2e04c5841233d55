"""``Colorizer``: the one service the app, the command line and evaluation use.

Data flow (full resolution H x W, working size h x w with long side ``work_size``)::

    sRGB (H, W, 3) -> L (H, W) --area--> L (h, w) -+-> input (1, 4, h, w) -> generator
    hints (image px) -> rasterize at (h, w) -------+                          |
                                                        ab (2, h, w) -> follow_hints
    L (H, W) + ab (2, h, w) -> guided upsampling -> ab (2, H, W) -> hint squares set exactly
    -> Lab -> sRGB (chroma lowered where out of gamut, L kept) -> uint8 (H, W, 3)

``follow_hints`` (``colouru.generator``) spreads what the network missed at each hint
square (hint ab minus its ab) along the photo's regions and adds it, so the colour around a
hint reaches the hint's own colour instead of stopping short of it at the square's border.

The output keeps the photo's own L; ab is brought to full resolution by a fast guided filter
(He and Sun 2015) whose guide is L, so colour follows the photo's edges instead of bleeding
across them as with plain bilinear upsampling.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import cv2
import numpy as np
import torch

from colouru.colour import denormalize_ab, lab_to_srgb8, srgb_image_lightness
from colouru.generator import follow_hints
from colouru.hints import Hint, hint_box, rasterize_hints
from colouru.inputs import make_input
from colouru.parallel import map_bands, row_bands
from colouru.weights import ModelInfo, load_model

DEFAULT_MODEL_NAME = "colouru-default.safetensors"


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
    mps = getattr(torch.backends, "mps", None)
    if device == "mps" and not (mps is not None and mps.is_available()):
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
    L float32 ``(H, W)`` in 0..100, converted in blocks to bound memory."""
    return srgb_image_lightness(image)


class GuidedUpsampler:
    """Fast guided filter upsampling (He and Sun 2015), applied in row bands.

    ``guide_lo`` ``(h, w)`` and ``src_lo`` ``(h, w, C)`` (or ``(h, w)``) at low resolution,
    guides in 0..1. In each low-resolution window ``src ~ a * guide + b`` is fitted; the smoothed
    ``a`` and ``b`` are upsampled bilinearly (as ``cv2.resize`` with ``INTER_LINEAR`` would) to
    ``out_hw`` and applied to the full-resolution guide, one band of rows at a time, so no
    full-resolution coefficient image is ever held in memory.
    """

    def __init__(self, guide_lo: np.ndarray, src_lo: np.ndarray, out_hw: Sequence[int],
                 radius: int = 2, eps: float = 1e-3):
        k = (2 * radius + 1, 2 * radius + 1)
        box = lambda x: cv2.boxFilter(x, -1, k, borderType=cv2.BORDER_REFLECT)  # noqa: E731
        g = np.ascontiguousarray(guide_lo, dtype=np.float32)
        p = np.ascontiguousarray(src_lo, dtype=np.float32)
        self.channels = 1 if p.ndim == 2 else p.shape[2]
        p = p.reshape(*g.shape, self.channels)
        gc = g[..., None]
        mean_g = box(g)[..., None]
        var = box(g * g)[..., None] - mean_g * mean_g
        mean_p = box(p).reshape(p.shape)
        cov = box(p * gc).reshape(p.shape) - mean_g * mean_p
        a = cov / (var + np.float32(eps))
        b = mean_p - a * mean_g
        # Smoothed coefficients, a and b side by side: (h, w, 2C).
        self.coef = box(np.concatenate([a, b], axis=2)).reshape(*g.shape, 2 * self.channels)
        self.out_hw = (int(out_hw[0]), int(out_hw[1]))
        # Vertical bilinear taps per output row, with cv2.resize's pixel-centre convention.
        h, big_h = g.shape[0], self.out_hw[0]
        fy = (np.arange(big_h, dtype=np.float64) + 0.5) * (h / big_h) - 0.5
        y0 = np.floor(fy)
        wy = fy - y0
        y0 = y0.astype(np.int64)
        low, high = y0 < 0, y0 >= h - 1
        wy[low | high] = 0.0
        y0 = np.clip(y0, 0, h - 1)
        self._y0, self._y1 = y0, np.minimum(y0 + 1, h - 1)
        self._wy = wy.astype(np.float32)[:, None, None]

    def rows(self, r0: int, r1: int, guide_hi: np.ndarray) -> list[np.ndarray]:
        """Output rows ``r0:r1``: one float32 ``(r1 - r0, W)`` array per source channel;
        ``guide_hi`` is those rows of the full-resolution guide ``(r1 - r0, W)``."""
        c, wy = self.coef, self._wy[r0:r1]
        band = c[self._y0[r0:r1]] * (1.0 - wy) + c[self._y1[r0:r1]] * wy  # (rows, w, 2C)
        band = cv2.resize(band, (self.out_hw[1], r1 - r0), interpolation=cv2.INTER_LINEAR)
        planes = cv2.split(band.reshape(r1 - r0, self.out_hw[1], 2 * self.channels))
        n = self.channels
        guide = np.ascontiguousarray(guide_hi, dtype=np.float32)
        out = []
        for i in range(n):
            a = planes[i]
            a *= guide
            a += planes[n + i]
            out.append(a)
        return out


def guided_upsample(guide_lo: np.ndarray, src_lo: np.ndarray, guide_hi: np.ndarray,
                    radius: int = 2, eps: float = 1e-3) -> np.ndarray:
    """Fast guided filter upsampling (He and Sun 2015).

    ``guide_lo`` ``(h, w)`` and ``src_lo`` ``(h, w)`` at low resolution, ``guide_hi`` ``(H, W)``;
    guides in 0..1. Fits ``src ~ a * guide + b`` in each low-resolution window, upsamples the
    smoothed ``a`` and ``b`` bilinearly and applies them to the full-resolution guide. Returns
    float32 ``(H, W)``.
    """
    up = GuidedUpsampler(guide_lo, src_lo, guide_hi.shape, radius, eps)
    out = np.empty(guide_hi.shape, dtype=np.float32)

    def band(rows):
        r0, r1 = rows
        out[r0:r1] = up.rows(r0, r1, guide_hi[r0:r1])[0]

    map_bands(band, row_bands(*guide_hi.shape))
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
    def load(cls, path: str | os.PathLike | None = None, device: str = "auto") -> Colorizer:
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
        if dev.type == "cpu":
            # On the CPU, oneDNN runs the transposed convolutions in channels-last layout; the
            # default layout takes a much slower path (about 1.8x for the whole network).
            model = model.to(memory_format=torch.channels_last)
        return cls(model, info, dev, source=str(path))

    # -- steps ------------------------------------------------------------------------------
    def prepare(self, image: np.ndarray, work_size: int | None = None) -> Prepared:
        """Compute full-resolution L and working-size L once per photo."""
        lightness = image_lightness(image)
        h, w = working_shape(lightness.shape, work_size or self.work_size)
        work = cv2.resize(lightness, (w, h), interpolation=cv2.INTER_AREA)
        return Prepared(lightness=lightness, work_lightness=work)

    def predict_ab(self, prepared: Prepared, hints: Iterable[Hint] = (),
                   follow: bool = True) -> np.ndarray:
        """The network's ab ``(2, h, w)`` at working size (CIE units), bent towards the hints
        by ``follow_hints`` (``follow=False``: the network's alone, for measurements)."""
        hint_ab, mask = rasterize_hints(hints, prepared.image_hw, prepared.work_hw)
        return self._predict(prepared, hint_ab, mask, follow)

    @torch.inference_mode()
    def _predict(self, prepared: Prepared, hint_ab: np.ndarray, mask: np.ndarray,
                 follow: bool = True) -> np.ndarray:
        """``predict_ab`` from hints already rasterized at working size."""
        lt = torch.from_numpy(prepared.work_lightness)[None, None].to(self.device)
        ht = torch.from_numpy(hint_ab)[None].to(self.device)
        x = make_input(lt, ht)
        if self.device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)  # see load()
        ab = self.model(x)
        if follow and mask.any():
            m = torch.from_numpy(mask)[None, None].to(self.device)
            ab = follow_hints(ab, x[:, :1].contiguous(), x[:, 1:3].contiguous(), m)
        return np.ascontiguousarray(denormalize_ab(ab[0].float()).cpu().numpy())

    def preview(self, prepared: Prepared, hints: Sequence[Hint] = ()) -> np.ndarray:
        """Fast colorized sRGB uint8 ``(h, w, 3)`` at working size (hint squares exact)."""
        hint_ab, mask = rasterize_hints(hints, prepared.image_hw, prepared.work_hw)
        ab = self._predict(prepared, hint_ab, mask)
        ab[:, mask] = hint_ab[:, mask]
        lab = np.concatenate([prepared.work_lightness[None], ab], axis=0).transpose(1, 2, 0)
        return lab_to_srgb8(lab)

    def upsample_ab(self, prepared: Prepared, ab_work: np.ndarray,
                    hints: Sequence[Hint] = ()) -> np.ndarray:
        """Working-size ab -> full-resolution ab ``(2, H, W)``, guided by L; hint squares are
        then set to their hints' ab exactly."""
        out = np.empty((2, *prepared.image_hw), dtype=np.float32)
        ab_rows = self._ab_rows(prepared, ab_work, hints)

        def band(rows):
            out[0, rows[0]:rows[1]], out[1, rows[0]:rows[1]] = ab_rows(*rows)

        map_bands(band, row_bands(*prepared.image_hw))
        return out

    def _ab_rows(self, prepared: Prepared, ab_work: np.ndarray, hints: Sequence[Hint] = ()):
        """A function ``(r0, r1) -> (a, b)``: full-resolution a and b ``(r1 - r0, W)`` of rows
        ``r0:r1``, guided-upsampled from ``ab_work`` ``(2, h, w)``, hint squares set exactly.
        Bands are independent, so they may be computed in any order, in parallel."""
        hw = prepared.image_hw
        same = prepared.work_hw == hw
        if not same:
            up = GuidedUpsampler(prepared.work_lightness / np.float32(100.0),
                                 np.asarray(ab_work, dtype=np.float32).transpose(1, 2, 0), hw)
        # The same geometry as rasterize_hints, painted at full resolution; later hints win.
        boxes = [(b, h.ab) for h in hints if (b := hint_box(h, hw, hw)) is not None]

        def rows(r0: int, r1: int) -> list[np.ndarray]:
            if same:
                ab = [np.array(ab_work[c, r0:r1], dtype=np.float32) for c in range(2)]
            else:
                ab = up.rows(r0, r1, prepared.lightness[r0:r1] * np.float32(0.01))
            for (x0, y0, x1, y1), hab in boxes:
                if y0 < r1 and y1 > r0:
                    for c in range(2):
                        ab[c][max(y0, r0) - r0:min(y1, r1) - r0, x0:x1] = hab[c]
            return ab

        return rows

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
        Works in bands of rows (upsampling, hints, Lab -> sRGB), several at once, so beside the
        photo, its L and the result only a few megabytes are needed at any time.
        """
        p = image_or_prepared if isinstance(image_or_prepared, Prepared) else self.prepare(
            image_or_prepared, work_size)
        hints = list(hints)
        ab_work = self.predict_ab(p, hints)
        out = np.empty((*p.image_hw, 3), dtype=np.uint8)
        ab_rows = self._ab_rows(p, ab_work, hints)

        def band(rows):
            r0, r1 = rows
            a, b = ab_rows(r0, r1)
            lab_to_srgb8(cv2.merge([p.lightness[r0:r1], a, b]), out=out[r0:r1])

        map_bands(band, row_bands(*p.image_hw))
        return out

    def describe(self) -> str:
        """A few lines for ``colouru info`` and the app's About box."""
        g = self.info.generator
        lines = [f"model: {self.source}",
                 f"architecture: {g.arch} (width {g.width}, depth {g.depth}, hint scales "
                 f"{g.hint_scales}, edge-aware hints {g.edge_hints}), "
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
