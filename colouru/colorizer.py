"""``Colorizer``: the one service the app, the command line and evaluation use.

Data flow (full resolution H x W, working size h x w with long side ``work_size``)::

    sRGB (H, W, 3) -> L (H, W) --area--> L (h, w) -+-> input (1, 4, h, w) -> generator
    hints, strokes (image px) -> rasterize at (h, w) +                        |
                 ab (2, h, w) -> finish.follow -> finish.saturate -> finish.fill_squares
    L (H, W) + ab (2, h, w) -> guided upsampling -> ab (2, H, W) -> hint squares blended in
    -> Lab -> sRGB (chroma lowered where out of gamut, L kept) -> uint8 (H, W, 3)

A grey photo may come as one channel ``(H, W)``: only its L is used.
Everything after the network is ``colouru.finish``, the one finishing step that the preview,
``colorize``, evaluation and training's validation share.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import torch

from colouru import finish
from colouru.assets import bundled_model_path
from colouru.cancel import Cancelled, Stop
from colouru.colour import denormalize_ab, srgb_image_lightness
from colouru.device import autocast, describe_precision, resolve_device, resolve_precision
from colouru.errors import one_line
from colouru.generator import inference_copy
from colouru.geometry import working_shape
from colouru.hints import Hint, Stroke
from colouru.inputs import make_input
from colouru.parallel import map_bands, row_bands
from colouru.propagation import follow_weights
from colouru.rasterize import rasterize_hints
from colouru.runtime import OnnxGenerator, onnx_installed, onnx_runs, runtime_choice
from colouru.weights import ModelFileError, ModelInfo, load_model

PROVENANCE_LINES = 40  # entries of a model's provenance that describe() shows
PROVENANCE_WIDTH = 300  # characters of each (a command line with its options fits)

# The generator ends in tanh: its ab (normalised) lies in -1..1; a little more is rounding
# (bf16). Anything else, or NaN, is a broken network, not a colour.
OUTPUT_LIMIT = 1.001
RUNTIMES = ("auto", "torch", "onnx")  # what runs one photo's network (Colorizer.use_runtime)


class NoModelError(Exception):
    """No model file to load (e.g. the bundled default has not been trained yet)."""


class ModelOutputError(ValueError):
    """The network's colours for a photo are no colours (NaN, infinite or out of range)."""


def check_output(ab: torch.Tensor) -> None:
    """Raise ``ModelOutputError`` unless the network's normalised ab ``(B, 2, h, w)`` is
    finite and within ``OUTPUT_LIMIT`` (a model with finite but wrong weights, e.g. negative
    batch-norm variances, gives NaN: saved, it is a pure white photo)."""
    finite = torch.isfinite(ab)
    if not bool(finite.all()):
        n = int((~finite).sum())
        raise ModelOutputError(f"the model gave {n:,} colour value(s) that are not numbers (NaN "
                               f"or infinity): its weights are broken")
    top = float(ab.abs().max()) if ab.numel() else 0.0
    if top > OUTPUT_LIMIT:
        raise ModelOutputError(f"the model gave colours out of its range ({top:.3g} times the "
                               f"largest): its weights are broken")


@dataclass
class Prepared:
    """A photo made ready for repeated colorizing (the app re-colours it on every change)."""

    lightness: np.ndarray  # (H, W) float32 L 0..100 at full resolution
    work_lightness: np.ndarray  # (h, w) float32 L at working size
    # ``follow_weights``' kept weights, by device and dtype
    _follow: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    def follow_weights(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``propagation.follow_weights`` of the L of ``x``, this photo's network input
        ``(1, 4, h, w)``: computed at the first call with hints and kept, since they depend
        on L alone (each preview of the photo then bends its ab along the same ones)."""
        key = (x.device, x.dtype)
        kept = self._follow.get(key)
        if kept is None:
            kept = self._follow[key] = follow_weights(x[:, :1].contiguous())
        return kept

    @property
    def image_hw(self) -> tuple[int, int]:
        return self.lightness.shape[:2]

    @property
    def work_hw(self) -> tuple[int, int]:
        return self.work_lightness.shape[:2]


class Colorizer:
    """Colorizes photos with a generator; see the module docstring for the data flow."""

    def __init__(self, model: torch.nn.Module, info: ModelInfo, device: torch.device,
                 source: str = "<memory>", precision: str = "fp32", runtime: str = "torch"):
        self.model = model.to(device).eval()
        self.network = inference_copy(self.model)  # what runs: batch norms folded
        self.info = info
        self.device = device
        self.source = source
        self.work_size = info.work_size
        self.precision = resolve_precision(device, precision)
        self.onnx: OnnxGenerator | None = None
        self.use_runtime(runtime)

    def use_runtime(self, name: str = "auto", threads: int | None = None,
                    background: bool = False) -> str:
        """Run the network of one photo at a time (the app's previews, ``predict_ab``) in
        ``name``: ``torch``, ``onnx`` (ONNX Runtime, ``colouru.runtime``: one native call that
        releases the GIL; falls back to torch where it does not run this network, device or
        precision, or is not installed) or ``auto`` (``onnx`` unless ``COLOURU_RUNTIME=torch``).
        Batches of several photos always run in torch. ``background``: graphs not yet in the
        cache are exported on a thread of their own while torch runs (the app). Returns the
        runtime in use."""
        if name not in RUNTIMES:
            raise ValueError(f"unknown runtime {name!r}; valid: {', '.join(RUNTIMES)}")
        self.onnx = None
        if name == "torch" or (name == "auto" and runtime_choice() == "torch"):
            return "torch"
        if onnx_installed() and onnx_runs(self.network, self.device, self.precision):
            self.onnx = OnnxGenerator(self.network, threads, background=background)
        return "onnx" if self.onnx is not None else "torch"

    @classmethod
    def load(cls, path: str | os.PathLike | None = None, device: str = "auto",
             precision: str = "auto", runtime: str = "torch") -> Colorizer:
        """Load a model file (``None``: the bundled default) onto ``device``; the network runs
        in ``precision`` (``colouru.device.resolve_precision``), one photo at a time in
        ``runtime`` (``use_runtime``)."""
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
        colorizer = cls(model, info, dev, source=str(path), precision=precision)
        try:
            colorizer.self_test()
        except ModelOutputError as e:
            raise ModelFileError(f"{path}: refused: on a test photo, {e}") from None
        colorizer.use_runtime(runtime)  # after the test: no graph exported for its ramp
        return colorizer

    def self_test(self) -> None:
        """Run the network once on a small grey ramp without hints; ``ModelOutputError`` if
        its colours are no colours (a model that fails every photo is refused at load)."""
        ramp = np.linspace(5.0, 95.0, 48 * 64, dtype=np.float32).reshape(48, 64)
        self.predict_ab(self.prepare_lightness(ramp, 64), follow=False)

    # -- steps ------------------------------------------------------------------------------
    def prepare(self, image: np.ndarray, work_size: int | None = None) -> Prepared:
        """Compute full-resolution L and working-size L once per photo."""
        return self.prepare_lightness(srgb_image_lightness(image), work_size)

    def predict_ab(self, prepared: Prepared, hints: Iterable[Hint | Stroke] = (),
                   follow: bool = True, saturation: float = 1.0,
                   stop: Stop | None = None) -> np.ndarray:
        """The network's ab ``(2, h, w)`` at working size (CIE units), bent towards the hints
        by ``follow_hints`` (``follow=False``: the network's alone, for measurements), its
        chroma scaled by ``saturation`` (``finish.saturate``; the default 1 leaves it: the
        app's colour suggestions read it so). ``stop`` (``cancel.Stop``): once set, from
        any thread, the work ends with ``Cancelled`` (ONNX Runtime's network at once,
        torch's after it)."""
        hint_ab, mask = rasterize_hints(hints, prepared.image_hw, prepared.work_hw)
        return self._predict(prepared, hint_ab, mask, follow, saturation, stop)

    @torch.inference_mode()
    def _predict(self, prepared: Prepared, hint_ab: np.ndarray, mask: np.ndarray,
                 follow: bool = True, saturation: float = 1.0,
                 stop: Stop | None = None) -> np.ndarray:
        """``predict_ab`` from hints already rasterized at working size."""
        x, ab = self._network(prepared.work_lightness[None], hint_ab[None], stop)
        if stop is not None:
            stop.check()
        weights = prepared.follow_weights(x) if follow and mask.any() else None
        return self._followed(ab, x, mask, follow, saturation, weights)

    def _network(self, work_lightness: np.ndarray, hint_ab: np.ndarray,
                 stop: Stop | None = None):
        """The network on a batch: L ``(B, h, w)`` and hint ab ``(B, 2, h, w)`` ->
        ``(x, ab)``, its input and its normalised ab, both ``(B, ., h, w)`` tensors."""
        lt = torch.from_numpy(work_lightness)[:, None].to(self.device)
        x = make_input(lt, torch.from_numpy(hint_ab).to(self.device))
        onnx = self.onnx
        if onnx is not None and x.shape[0] == 1:
            try:
                ab = onnx(x, stop)  # None: a size it does not serve
                if ab is not None:
                    return x, ab
            except Cancelled:
                raise
            except Exception as e:  # an export or a session that fails: torch from now on
                self.onnx = None
                warnings.warn(f"ONNX Runtime failed, the network runs in torch: {one_line(str(e))}",
                              RuntimeWarning, stacklevel=2)
        if self.device.type == "cpu":
            x = x.contiguous(memory_format=torch.channels_last)  # see load()
        with autocast(self.device, self.precision):
            return x, self.network(x).float()

    @staticmethod
    def _followed(ab: torch.Tensor, x: torch.Tensor, mask: np.ndarray,
                  follow: bool = True, saturation: float = 1.0, weights=None) -> np.ndarray:
        """One photo's network ab ``(1, 2, h, w)`` -> CIE ab ``(2, h, w)``, bent towards its
        hints, saturated, and with their squares filled (``follow=False``: the network's
        alone, saturated). Saturating before the squares are filled keeps each filled square
        as colourful as what surrounds it; at 1 the ab is left as it is, bit for bit.
        ``ModelOutputError`` when the network's ab is no colour (``check_output``).
        ``weights``: the photo's kept ``follow_weights`` (``Prepared.follow_weights``)."""
        check_output(ab)
        if follow:
            ab = finish.follow(ab, x, mask, weights=weights)
        ab = np.ascontiguousarray(denormalize_ab(ab[0]).cpu().numpy())
        if saturation != 1:
            ab = finish.saturate(ab, saturation, mask)
        return finish.fill_squares(ab, mask) if follow else ab

    @torch.inference_mode()
    def predict_ab_batch(self, items: Sequence[tuple]) -> list[np.ndarray]:
        """``predict_ab`` of several photos: those of one working size go through the network
        together, as one batch (fewer, larger calls: what a GPU wants). ``items``: ``(prepared,
        hints)`` or ``(prepared, hints, saturation)`` each. Returns the ab of each, in order."""
        out: list[np.ndarray | None] = [None] * len(items)
        groups: dict[tuple[int, int], list[int]] = {}
        for i, item in enumerate(items):
            groups.setdefault(item[0].work_hw, []).append(i)
        for idx in groups.values():
            rasters = [rasterize_hints(items[i][1], items[i][0].image_hw, items[i][0].work_hw)
                       for i in idx]
            x, ab = self._network(np.stack([items[i][0].work_lightness for i in idx]),
                                  np.stack([hint_ab for hint_ab, _ in rasters]))
            for j, (i, (_, mask)) in enumerate(zip(idx, rasters, strict=True)):
                saturation = items[i][2] if len(items[i]) > 2 else 1.0
                out[i] = self._followed(ab[j:j + 1], x[j:j + 1], mask, saturation=saturation)
        return out

    def preview(self, prepared: Prepared, hints: Sequence[Hint | Stroke] = (),
                saturation: float = 1.0) -> np.ndarray:
        """Fast colorized sRGB uint8 ``(h, w, 3)`` at working size, finished as ``colorize``
        finishes the full-resolution result (``colouru.finish``)."""
        return self.preview_ab(prepared, hints, saturation=saturation)[0]

    def colorize_lab(self, image_or_prepared, hints: Sequence[Hint | Stroke] = (),
                     work_size: int | None = None, saturation: float = 1.0) -> np.ndarray:
        """Full-resolution Lab float32 ``(H, W, 3)``: the photo's L, the finished ab."""
        p = self._prepared(image_or_prepared, work_size)
        hints = list(hints)
        rows = finish.ab_rows(p.lightness, p.work_lightness,
                              self.predict_ab(p, hints, saturation=saturation), hints,
                              p.image_hw)
        out = np.empty((*p.image_hw, 3), dtype=np.float32)
        out[..., 0] = p.lightness

        def band(span):
            r0, r1 = span
            out[r0:r1, :, 1], out[r0:r1, :, 2] = rows(r0, r1)

        map_bands(band, row_bands(*p.image_hw))
        return out

    def colorize(self, image_or_prepared, hints: Sequence[Hint | Stroke] = (),
                 work_size: int | None = None, saturation: float = 1.0) -> np.ndarray:
        """Colorize at the photo's full resolution -> sRGB uint8 ``(H, W, 3)``.

        ``image_or_prepared``: sRGB ``(H, W, 3)`` or grey ``(H, W)`` array (uint8, uint16 or
        float 0..1; a colour photo is reduced to its lightness), or a ``Prepared``. Only L is
        used, so a grey photo is best held in one channel (``read_image(keep_grey=True)``).
        The network's ab is finished by ``colouru.finish.finish`` (in bands of rows, several
        at once), so beside the photo, its L and the result only a few megabytes are needed.
        ``saturation``: the chroma factor (``finish.saturate``, 0..3; 1 leaves the colours).
        """
        p = self._prepared(image_or_prepared, work_size)
        hints = list(hints)
        return self.finish_ab(p, self.predict_ab(p, hints, saturation=saturation), hints)

    def prepare_lightness(self, lightness: np.ndarray, work_size: int | None = None) -> Prepared:
        """``prepare`` for a photo whose L ``(H, W)`` float32 0..100 is already known (the app
        keeps only L, shared with its view, not the decoded photo): the same ``Prepared``."""
        h, w = working_shape(lightness.shape, work_size or self.work_size)
        work = cv2.resize(lightness, (w, h), interpolation=cv2.INTER_AREA)
        return Prepared(lightness=lightness, work_lightness=work)

    def preview_ab(self, prepared: Prepared, hints: Sequence[Hint | Stroke] = (),
                   saturation: float = 1.0, steady=None,
                   stop: Stop | None = None) -> tuple[np.ndarray, np.ndarray]:
        """``(preview, ab)``: ``preview(prepared, hints, saturation)`` and the working-size ab
        ``(2, h, w)`` it was finished from (already saturated), which ``finish_ab`` takes to
        make the full-resolution result without running the network again. ``steady``: a
        function of the network's ab ``(2, h, w)`` giving the ab to finish (a film's frame
        played: ``temporal.Steadier.step``, the export's steady colour). ``stop``: as
        ``predict_ab``'s (the app's drag preview, useless once the hand lets go)."""
        hints = list(hints)
        ab = self.predict_ab(prepared, hints, saturation=saturation, stop=stop)
        if steady is not None:
            ab = steady(ab)
        wl = prepared.work_lightness
        return finish.finish(wl, wl, ab, hints, prepared.image_hw,
                             cancelled=None if stop is None else stop.is_set), ab

    def finish_ab(self, prepared: Prepared, ab_work: np.ndarray,
                  hints: Sequence[Hint | Stroke] = (), cancelled=None) -> np.ndarray:
        """The full-resolution sRGB uint8 ``(H, W, 3)`` from a working-size ab ``(2, h, w)``
        the network already gave for these hints (``predict_ab``), without running it again:
        ``colorize(p, hints, saturation=s)`` is ``finish_ab(p, predict_ab(p, hints,
        saturation=s), hints)``, pixel for pixel (the ab comes saturated; it is not saturated
        again). ``cancelled``: a callable checked before each band of rows; once it returns
        True the work stops with ``Cancelled`` (the app's full-resolution pass, dropped when
        the user edits again)."""
        p = prepared
        return finish.finish(p.lightness, p.work_lightness, ab_work, list(hints), p.image_hw,
                             cancelled=cancelled)

    def _prepared(self, image_or_prepared, work_size: int | None) -> Prepared:
        if isinstance(image_or_prepared, Prepared):
            p = image_or_prepared
            if work_size is not None and working_shape(p.image_hw, work_size) != p.work_hw:
                raise ValueError(f"work_size {work_size} contradicts the prepared photo's "
                                 f"working size {p.work_hw}; prepare it with that work_size")
            return p
        return self.prepare(image_or_prepared, work_size)

    def describe(self) -> str:
        """A few lines for ``colouru info`` and the app's About box."""
        g = self.info.generator
        encoder = f"depth {g.depth}, " + (f"encoder {g.encoder}, " if g.encoder else "")
        lines = [one_line(f"model: {self.source}"),
                 f"architecture: {g.arch} ({encoder}width {g.width}, hint scales "
                 f"{g.hint_scales}, edge-aware hints {g.edge_hints}), "
                 f"working size {self.work_size}",
                 f"device: {self.device}",
                 describe_precision(self.device, self.precision),
                 f"runtime: ONNX Runtime ({self.onnx.threads} threads; COLOURU_RUNTIME=torch "
                 f"turns it off)" if self.onnx is not None else "runtime: torch"]
        # A model file's provenance is whatever its maker wrote (it may hold megabytes): each
        # entry is shown as one line of a readable length, and only the first few.
        items = list(self.info.provenance.items())
        for k, v in items[:PROVENANCE_LINES]:
            lines.append(one_line(f"{k}: {v}", PROVENANCE_WIDTH))
        if len(items) > PROVENANCE_LINES:
            lines.append(f"... and {len(items) - PROVENANCE_LINES} more provenance entries")
        return "\n".join(lines)
