"""The generator in ONNX Runtime: each preview's network is one native call that releases the
GIL, so the app's interface thread never holds it up between a few hundred torch calls.

The inference network (``generator.inference_copy``: batch norms folded) is exported once per
model by torch's exporter into up to three graphs, cached in a user folder (``cache_folder``)
under the hash of the network's weights and config, written atomically; nothing is downloaded:

* ``encoder``: normalised L ``(1, 1, H', W')``, padded -> the frozen encoder's features at
  strides 8, 16, 32 (``unet-semantic`` only);
* ``edges``: the same L -> the edge-aware hint spread's weights, two tensors per pass
  (``propagation.edge_weights`` padded, ``_Edges``; models with ``edge_hints`` only);
* ``network``: the padded input ``(1, 4, H', W')`` (and those features and weights) -> ab
  ``(1, 2, H', W')`` in -1..1, hint features and edge-aware spread included.

What the first two give depends on L alone, so it is kept between calls while only the hints
change (the app's drag), L compared by value as the torch path does: a drag runs the network
graph alone, whose spread is then two pads, three multiplications and two additions per pass
(``_edge_pass_export``) instead of about twice as many operations.

``H'``, ``W'`` are the working size padded (replicated) to the network's multiple, as the
network pads it itself, so the output cropped to ``(h, w)`` is the network's. The graphs take
any size of a ``shape_class``: the edge-aware filter's passes are chosen from the long side
while tracing, so each class gets its own file (one for every photo at working size 256; a
side that skips a pass, as a panorama's or the app's smaller working size while dragging
has, gets one for that side); a side shorter than the largest hint-feature cell is traced as
a kernel size the exporter refuses, so such sizes run in torch (``serves``).

Sessions run on ``threads`` intra-op threads that sleep when idle (``allow_spinning`` off): a
busy core then costs the rate a share, not most of it as spinning OpenMP threads do. A run
can be ended from another thread (``cancel.Stop``, through ONNX Runtime's terminate flag,
checked between nodes): the app's drag preview once the hand lets go.
Set ``COLOURU_RUNTIME=torch`` to run the torch network instead (``runtime_choice``).
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
import os
import threading
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from colouru import propagation
from colouru.atomic import publish, temporary_beside
from colouru.cancel import Cancelled, Stop
from colouru.device import DEFAULT_CPU_THREADS
from colouru.encoders import grey_input
from colouru.generator import SEMANTIC_LEVELS, SemanticUNet, UNet
from colouru.propagation import EDGE_SIGMAS

RUNTIME_ENV = "COLOURU_RUNTIME"  # "torch": never ONNX Runtime; "onnx" (default): where installed
CACHE_ENV = "COLOURU_CACHE"  # the cache folder (default: $XDG_CACHE_HOME/colouru or ~/.cache)
EXPORT_VERSION = 2  # bumped when what is exported changes: old cached files are not used
OPSET = 17
KEPT_SHAPES = 2  # OnnxGenerator keeps what L alone gives for this many sizes of L


def onnx_installed() -> bool:
    """Whether ONNX Runtime can be imported."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def runtime_choice() -> str:
    """What ``COLOURU_RUNTIME`` asks ``auto`` for: ``onnx`` (the default) or ``torch``."""
    choice = os.environ.get(RUNTIME_ENV, "").strip().lower() or "onnx"
    if choice not in ("onnx", "torch"):
        raise ValueError(f"{RUNTIME_ENV}={choice!r}: use onnx or torch")
    return choice


def onnx_runs(network: nn.Module, device: torch.device, precision: str) -> bool:
    """The generators, devices and precisions the ONNX path runs: the U-Nets on the CPU in
    fp32 (a GPU and bf16 stay with torch)."""
    return device.type == "cpu" and precision == "fp32" and type(network) in (UNet, SemanticUNet)


def cache_folder() -> Path:
    """Where exported graphs are kept: ``COLOURU_CACHE``, else ``$XDG_CACHE_HOME/colouru``,
    else ``~/.cache/colouru``; the ``onnx`` folder inside."""
    root = os.environ.get(CACHE_ENV) or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.join(Path.home(), ".cache"), "colouru")
    return Path(root) / "onnx"


def model_key(network: nn.Module) -> str:
    """A hash of what the export depends on: the network's config and every weight, the
    versions of torch and of this export."""
    h = hashlib.sha256()
    h.update(json.dumps([network.config.to_dict(), torch.__version__, EXPORT_VERSION]).encode())
    for name, t in network.state_dict().items():
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()[:24]


def shape_class(hw: tuple[int, int], network: nn.Module) -> tuple[int, int, int]:
    """The sizes one exported graph serves: ``(passes, h, w)``, ``passes`` the edge-aware
    filter's (from the long side) and each side itself where it changes what is traced (a
    pass it skips, or a hint-feature cell it clips), else 0. ``hw``: the padded size."""
    passes = max(1, math.ceil(math.log2(max(hw))))
    big = max(2 ** (passes - 1) + 1, largest_cell(network))
    return passes, *(0 if n >= big else n for n in hw)


def largest_cell(network: nn.Module) -> int:
    """The side of the largest hint-feature cell (``propagation.hint_features``): a padded
    side shorter than it clips the cell, which the exporter cannot trace."""
    return 8 * 4 ** max(network.config.hint_scales - 1, 0)


class _Encoder(nn.Module):
    """Graph 1: normalised L ``(1, 1, H', W')`` -> the encoder's features at its levels."""

    def __init__(self, network: SemanticUNet):
        super().__init__()
        self.semantic = network.semantic

    def forward(self, light: torch.Tensor):
        feats = self.semantic(grey_input(light, self.semantic.spec))
        return tuple(feats[k] for k in SEMANTIC_LEVELS)


class _Edges(nn.Module):
    """Graph 2: normalised L ``(1, 1, H', W')`` -> the edge-aware spread's weights of every
    pass (``propagation.edge_weights``), each padded with zeros to the full size on either
    side: ``(ahead, behind)``, ``(1, S, 1, H', W')`` each, the weights of the neighbour
    ``step`` ahead and of the one ``step`` behind (``_edge_pass_export``)."""

    def __init__(self, network: UNet):
        super().__init__()
        self.sigmas = EDGE_SIGMAS[:network.config.edge_hints]

    def forward(self, light: torch.Tensor):
        lightness = light[:, None]
        weights = propagation.edge_weights(lightness, propagation.edge_inv(self.sigmas, light))
        out = []
        for w, (step, dim) in zip(weights, propagation.edge_passes(light.shape[-2:]),
                                  strict=True):
            out += [_shift(w, dim, 0, step), _shift(w, dim, step, 0)]
        return tuple(out)


class _Network(nn.Module):
    """Graph 3: the padded input ``(1, 4, H', W')``, the encoder's features and the edge
    weights -> ab."""

    def __init__(self, network: UNet):
        super().__init__()
        self.network = network
        self.semantic = isinstance(network, SemanticUNet)

    def forward(self, x: torch.Tensor, *kept: torch.Tensor) -> torch.Tensor:
        n = len(SEMANTIC_LEVELS) if self.semantic else 0
        joins = dict(zip(SEMANTIC_LEVELS, kept[:n], strict=True)) if self.semantic else None
        edges = [kept[i:i + 2] for i in range(n, len(kept), 2)] or None  # (ahead, behind)
        return self.network(x, joins=joins, edges=edges)


def _shift(t: torch.Tensor, dim: int, begin: int, end: int) -> torch.Tensor:
    """``t`` padded with zeros along ``dim``, ``begin`` and ``end`` elements (negative ones
    crop): one Pad of constant sizes in the graph."""
    return F.pad(t, (0, 0) * (-dim - 1) + (begin, end))


_torch_edge_pass = propagation._edge_pass


def _edge_pass_export(w, st, step, dim):
    """``propagation._edge_pass`` as the exported graph runs it: without writes into views
    (which torch's ONNX exporter traces wrongly) and with ``w`` the ``(ahead, behind)``
    weights of ``_Edges``, so each neighbour is one Pad that shifts ``st`` (zeros where it
    runs out) and one multiplication; the same sums in the same order. A single tensor ``w``
    is torch's network, run on another thread while an export traces: torch's pass."""
    if not isinstance(w, tuple):
        return _torch_edge_pass(w, st, step, dim)
    ahead, behind = w
    return (st * 0.5 + ahead * _shift(st, dim, -step, step)
            + behind * _shift(st, dim, step, -step))


def _atanh(g, x):
    return g.op("Atanh", x)


_export_lock = threading.Lock()  # the exporter patches module state while it traces


def export(module: nn.Module, inputs: tuple, names: list[str], path: Path) -> None:
    """Export ``module`` on ``inputs`` to ``path`` (atomically), each side dynamic."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = temporary_beside(path)
    os.close(fd)
    axes = {n: {t.dim() - 2: f"{n}_h", t.dim() - 1: f"{n}_w"}
            for n, t in zip(names, inputs, strict=True)}
    kept = propagation._edge_pass
    try:
        with _export_lock, torch.no_grad(), warnings.catch_warnings():
            # The TorchScript-based exporter is deprecated in favour of torch.export's, which
            # needs onnxscript and took 10 times as long here; its tracer warns of every size
            # read in Python, which shape_class accounts for.
            warnings.simplefilter("ignore")
            torch.onnx.register_custom_op_symbolic("aten::atanh", _atanh, 9)
            # (module-wide while it traces: torch's network run meanwhile on another thread
            # passes its own weights, and _edge_pass_export hands them to torch's pass)
            propagation._edge_pass = _edge_pass_export
            torch.onnx.export(module, inputs, tmp, dynamo=False, opset_version=OPSET,
                              input_names=names, dynamic_axes=axes)
        publish(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        propagation._edge_pass = kept


def session(path: Path, threads: int):
    """An ONNX Runtime session on the CPU: ``threads`` intra-op threads that do not spin,
    denormal floats flushed to zero."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.inter_op.allow_spinning", "0")
    # Far from every hint the edge-aware spread's hint mass decays into denormal floats, far
    # below CONFIDENCE_FLOOR: flushed to zero they change no output (the bundled model's ab was
    # the same bit for bit) and the network ran 12% faster (docs/benchmarks.md).
    options.add_session_config_entry("session.set_denormal_as_zero", "1")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def run(session, feed: dict, stop: Stop | None = None) -> list[np.ndarray]:
    """``session.run`` of all outputs; ``stop`` (``cancel.Stop``) ends it early from another
    thread with ``Cancelled`` (ONNX Runtime's terminate flag, checked between nodes)."""
    if stop is None:
        return session.run(None, feed)
    import onnxruntime as ort

    options = ort.RunOptions()
    with stop.hook(lambda: setattr(options, "terminate", True)):
        try:
            return session.run(None, feed, options)
        except Exception:
            if stop.is_set():  # ONNX Runtime's own error: "Exiting due to terminate flag"
                raise Cancelled from None
            raise


class OnnxGenerator:
    """Runs ``network`` (an inference copy: eval, batch norms folded) in ONNX Runtime.

    ``network(x)`` and ``self(x)`` agree within float rounding for an input ``(1, 4, h, w)``;
    graphs are exported on first use of a size's class (seconds) and cached in ``folder``.
    ``threads``: intra-op threads (default ``DEFAULT_CPU_THREADS``, every core).
    ``background``: export on a thread of its own at the lowest priority while calls return
    None (the caller runs torch meanwhile), so the app's first preview does not wait for it;
    an export that fails leaves ``export_error`` set and the calls returning None. Safe to call
    from one thread at a time per instance (the kept features and edge weights)."""

    def __init__(self, network: nn.Module, threads: int | None = None,
                 folder: str | os.PathLike | None = None, background: bool = False):
        self.network = network
        self.semantic = isinstance(network, SemanticUNet)
        self.edges = bool(network.config.edge_hints)
        self.threads = int(threads or DEFAULT_CPU_THREADS)
        self.folder = Path(folder) if folder is not None else cache_folder()
        self.background = background
        self.key = model_key(network)
        self.exporting: threading.Thread | None = None
        self.export_error: str | None = None
        self._sessions: dict[tuple, object] = {}
        # By L's shape: padded L and what the graphs of L alone gave for it, by (part, class);
        # the newest KEPT_SHAPES shapes (the app's working size and its drag size)
        self._kept: dict[tuple, tuple[np.ndarray, dict[tuple, list[np.ndarray]]]] = {}

    def path(self, part: str, cls: tuple = ()) -> Path:
        suffix = "-".join(str(n) for n in cls)
        return self.folder / f"{self.key}-{part}{'-' + suffix if suffix else ''}.onnx"

    def _session(self, part: str, cls: tuple = ()):
        s = self._sessions.get((part, cls))
        if s is None:
            s = self._sessions[(part, cls)] = session(self.path(part, cls), self.threads)
        return s

    def light_parts(self, cls: tuple) -> list[tuple[str, tuple]]:
        """The graphs of L alone that the network graph of class ``cls`` hears, in the order
        of its inputs: ``(part, class)`` each."""
        return [("encoder", ())] * self.semantic + [("edges", cls)] * self.edges

    def _exports(self, xp: np.ndarray, cls: tuple) -> list[tuple]:
        """The graphs missing from the cache for the padded input ``xp``: export's arguments."""
        parts = [*self.light_parts(cls), ("network", cls)]
        if all(p in self._sessions for p in parts):
            return []
        light = torch.from_numpy(np.ascontiguousarray(xp[:, :1]))
        network = not self.path("network", cls).is_file()
        jobs, kept, names = [], [], ["x"]
        for part, key in parts[:-1]:
            module = {"encoder": _Encoder, "edges": _Edges}[part](self.network).eval()
            if not self.path(part, key).is_file():
                jobs.append((module, (light,), ["light"], self.path(part, key)))
            if network:
                with torch.no_grad():
                    out = module(light)
                kept += out
                names += [f"{part}{i}" for i in range(len(out))]
        if network:
            jobs.append((_Network(self.network).eval(), (torch.from_numpy(xp), *kept), names,
                         self.path("network", cls)))
        return jobs

    def _export_behind(self, jobs: list[tuple]) -> None:
        """Export ``jobs`` on a thread of the lowest priority (copies of the modules: the
        caller's network keeps running)."""
        if self.exporting is not None and self.exporting.is_alive():
            return
        jobs = [(copy.deepcopy(m), tuple(t.clone() for t in i), n, p) for m, i, n, p in jobs]

        def run():
            with contextlib.suppress(OSError, AttributeError):  # Linux: a thread's own nice
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
            try:
                for job in jobs:
                    export(*job)
            except Exception as e:  # reported by export_error; the caller stays on torch
                self.export_error = f"{e.__class__.__name__}: {e}"

        self.exporting = threading.Thread(target=run, name="colouru-onnx-export", daemon=True)
        self.exporting.start()

    def pad(self, x: torch.Tensor) -> torch.Tensor:
        """The input padded (replicated) to the network's multiple, as ``forward`` pads it."""
        m = self.network.multiple
        ph, pw = (-x.shape[-2]) % m, (-x.shape[-1]) % m
        return F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x

    def of_light(self, light: np.ndarray, cls: tuple, stop: Stop | None = None
                 ) -> list[np.ndarray]:
        """What the graphs of L alone (``light_parts``) give for padded normalised L
        ``(1, 1, H', W')``, in order: the kept outputs when L is the last call's of its shape,
        compared by value (one photo at two working sizes keeps both). ``stop``: as
        ``__call__``'s."""
        kept = self._kept.pop(light.shape, None)
        if kept is None or not np.array_equal(kept[0], light):
            kept = (light.copy(), {})
        self._kept[light.shape] = kept  # the newest last
        while len(self._kept) > KEPT_SHAPES:
            del self._kept[next(iter(self._kept))]
        out = []
        for part in self.light_parts(cls):
            got = kept[1].get(part)
            if got is None:
                got = kept[1][part] = run(self._session(*part), {"light": light}, stop)
            out += got
        return out

    def serves(self, hw: tuple[int, int]) -> bool:
        """Whether a working size ``(h, w)`` runs here: both padded sides at least the
        largest hint-feature cell (see the module docstring); otherwise the caller runs
        torch."""
        m = self.network.multiple
        return -(-min(hw) // m) * m >= largest_cell(self.network)

    def __call__(self, x: torch.Tensor, stop: Stop | None = None) -> torch.Tensor | None:
        """``x``: the normalised input ``(1, 4, h, w)`` -> ab ``(1, 2, h, w)`` in -1..1;
        None where ``serves`` says no. ``stop``: once set (from any thread) the run ends
        between two of the graph's nodes with ``Cancelled``; the session serves on."""
        if x.dim() != 4 or x.shape[0] != 1:
            raise ValueError(f"input must have shape (1, 4, h, w), got {tuple(x.shape)}")
        h, w = x.shape[-2:]
        if not self.serves((h, w)):
            return None
        xp = np.ascontiguousarray(self.pad(x.float()).numpy())
        cls = shape_class(xp.shape[-2:], self.network)
        jobs = self._exports(xp, cls)
        if jobs and self.background:
            if self.export_error is None:
                self._export_behind(jobs)
            return None
        for job in jobs:
            export(*job)
        network = self._session("network", cls)
        kept = self.of_light(np.ascontiguousarray(xp[:, :1]), cls, stop)
        names = [i.name for i in network.get_inputs()]
        feed = {"x": xp, **dict(zip(names[1:], kept, strict=True))}
        ab = run(network, feed, stop)[0]
        return torch.from_numpy(ab[..., :h, :w])
