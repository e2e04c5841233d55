"""Core benchmark (not a test): preview latency, 12-megapixel export time and peak memory,
batch throughput on 1-megapixel photos, and achieved GFLOP/s of the generator against a
matrix-multiply reference measured in the same run.

    .venv/bin/python benchmarks/bench_core.py [--model PATH | --arch unet-semantic
        --encoder efficientnet-lite0 --width 16 --hint-scales 3 --edge-hints 2] [--threads N]

Timing does not depend on the weights' values, so with an architecture flag (or no model file) an
untrained generator of the given architecture is timed; the output says which. Prints a JSON
document and a markdown table. Goals on the 2-core CPU: preview <= 60 ms, 12 MP export <= 2 s
and <= 1.5 GB peak memory.

How each figure is measured:
* preview: ``Colorizer.preview`` on a prepared 4:3 photo with 10 hints (working size 256, so
  the network runs at 192 x 256), median of 20 after 3 warm-up calls: the same photo each
  time, as while hints are dragged (``unet-semantic`` keeps its encoder's features of the
  photo). Beside it, the first preview of a photo (two photos in turn, so every call runs
  the whole network), and the median time of ``follow_hints`` alone on the same hints and
  its share of the preview.
* export: in a fresh process, after a small warm-up, ``Colorizer.colorize`` of a 4000 x 3000
  photo (float32 sRGB, as ``read_image`` gives it) with 10 hints, then ``save_image`` to a PNG
  in a temporary folder (the same call as the app and the command line). Peak memory is the
  process's peak resident set (Linux ``VmHWM``, reset after set-up through
  ``/proc/self/clear_refs``; elsewhere ``ru_maxrss``, which includes set-up), and it counts
  everything: the Python interpreter, torch, the photo itself and the result.
* batch: ``colouru colorize`` (in process) on 8 generated 1152 x 864 JPEG files, JPEG out, after
  a one-photo warm-up; photos per second of wall time.
* GFLOP/s: ``count_flops`` of one forward pass at 256 x 256 over the median time of the bare
  network (20 runs, two photos in turn: the whole network each time); the reference is a
  1024 x 1024 float32 ``torch.mm`` in the same process.
* runtime: the preview (the same photo and hints, the encoder's features kept) and the bare
  network with the network in torch and in ONNX Runtime (``colouru.runtime``, graphs exported
  into the user's cache first), called in turn in this process: medians and the median of
  each pair's ratio; the ONNX preview at smaller working sizes (``--drag-size``, as the app
  while a hint is dragged; torch where ONNX Runtime does not serve the size) and on
  one intra-op thread; and, with ``--busy N``, all of it again while N processes each keep a
  core busy (a spinning loop at the same priority). ``--runtime-only`` measures only this.
* precision: where the CPU has bf16, the preview and the bare network again in fp32 and under
  bf16 autocast, one after the other in this process, and the mean and worst change of the
  preview's ab (CIE units) that bf16 makes.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import itertools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from colouru.assets import bundled_model_path
from colouru.colorizer import Colorizer
from colouru.colour import normalize_ab, normalize_l
from colouru.device import autocast, bf16_supported
from colouru.flops import count_flops
from colouru.generator import build_generator
from colouru.hints import Hint
from colouru.imageio import save_image
from colouru.inputs import make_input
from colouru.propagation import follow_hints
from colouru.rasterize import rasterize_hints
from colouru.training.train import TrainConfig
from colouru.weights import ModelInfo, save_model

ARCH_FLAGS = ("arch", "encoder", "width", "depth", "hint_scales", "edge_hints")  # overrides
GOALS = {"preview_ms": 60.0, "export_s": 2.0, "export_peak_mb": 1536.0}


# --- set-up ---------------------------------------------------------------------------------------
def make_colorizer(args) -> tuple[Colorizer, str]:
    """The model to time and a line saying what it is."""
    path = args.model or (bundled_model_path() if bundled_model_path().is_file() else None)
    arch = {f: getattr(args, f) for f in ARCH_FLAGS if getattr(args, f) is not None}
    if path is not None and not arch:
        return Colorizer.load(path, device="cpu"), f"model file {path}"
    # Default: the architecture `colouru train` builds, with the flags given.
    if arch.get("arch") == "unet":
        arch = {"encoder": "", **arch}
    cfg = dataclasses.replace(TrainConfig().generator, **arch)
    torch.manual_seed(0)
    what = (
        f"untrained generator ({cfg.arch}{', ' + cfg.encoder if cfg.encoder else ''}, width "
        f"{cfg.width}, hint scales {cfg.hint_scales}, edge hints {cfg.edge_hints}): timing "
        f"does not depend on the weights"
    )
    with tempfile.TemporaryDirectory() as tmp:  # loaded like any model file
        path = save_model(
            Path(tmp) / "untrained.safetensors",
            build_generator(cfg),
            ModelInfo(cfg, work_size=256, provenance={"note": what}),
        )
        return Colorizer.load(path, device="cpu"), what


def photo(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A photo-like sRGB uint8 image: broad gradients, edges, texture and sensor noise (so the
    PNG encoder and the gamut mapping see realistic work). Built in bands to stay small."""
    rng = np.random.default_rng(seed)
    out = np.empty((h, w, 3), dtype=np.uint8)
    xx = np.arange(w, dtype=np.float32)[None, :] / w
    blocks = rng.random((8, 8, 3)).astype(np.float32)
    for r0 in range(0, h, 256):
        yy = np.arange(r0, min(h, r0 + 256), dtype=np.float32)[:, None] / h
        base = np.stack(
            [
                0.2 + 0.6 * xx * np.ones_like(yy),
                0.3 + 0.5 * yy * np.ones_like(xx),
                0.5 + 0.3 * np.sin(12 * xx + 7 * yy),
            ],
            axis=-1,
        )
        tile = blocks[np.ix_((yy[:, 0] * 8).astype(int) % 8, (xx[0] * 8).astype(int) % 8)]
        texture = 0.06 * np.sin(180 * xx + 90 * yy)[..., None]
        noise = rng.normal(0, 0.012, base.shape).astype(np.float32)
        band = 0.55 * base + 0.45 * tile + texture + noise
        out[r0 : r0 + 256] = (np.clip(band, 0, 1) * 255 + 0.5).astype(np.uint8)
    return out


def hints_for(h: int, w: int, n: int = 10) -> list[Hint]:
    rng = np.random.default_rng(1)
    return [
        Hint(float(x), float(y), s, ab=(float(a), float(b)))
        for x, y, s, a, b in zip(
            rng.uniform(0, w, n),
            rng.uniform(0, h, n),
            rng.integers(3, 30, n),
            rng.uniform(-40, 40, n),
            rng.uniform(-40, 40, n),
            strict=True,
        )
    ]


def median_time(fn, repeats: int, warmup: int = 3) -> tuple[float, list[float], float]:
    """Median wall time, all wall times, and median CPU time of the process (all threads) per
    call: on a busy machine CPU time shows the work itself, wall time what was waited."""
    for _ in range(warmup):
        fn()
    times, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        fn()
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(times), times, statistics.median(cpu)


# --- the measurements -----------------------------------------------------------------------------
def bench_preview(colorizer: Colorizer, repeats: int) -> dict:
    img = photo(768, 1024)
    prepared = colorizer.prepare(img, work_size=256)
    hints = hints_for(768, 1024)
    med, times, cpu = median_time(lambda: colorizer.preview(prepared, hints), repeats)
    other = colorizer.prepare(photo(768, 1024, seed=1), work_size=256)
    new, _, _ = median_time(in_turn(lambda p=p: colorizer.preview(p, hints)
                                    for p in (prepared, other)), repeats)
    hint_ab, mask = rasterize_hints(hints, prepared.image_hw, prepared.work_hw)
    lightness = normalize_l(torch.from_numpy(prepared.work_lightness)[None, None])
    hint_ab = normalize_ab(torch.from_numpy(hint_ab)[None])
    mask = torch.from_numpy(mask)[None, None]
    ab = torch.zeros_like(hint_ab)
    follow, _, _ = median_time(lambda: follow_hints(ab, lightness, hint_ab, mask), repeats)
    return {
        "preview_ms": 1000 * med,
        "preview_new_photo_ms": 1000 * new,
        "follow_hints_ms": 1000 * follow,
        "preview_p90_ms": 1000 * float(np.percentile(times, 90)),
        "preview_cpu_ms": 1000 * cpu,
        "preview_work_hw": list(prepared.work_hw),
    }


def bench_precision(colorizer: Colorizer, repeats: int) -> dict:
    """The preview and the bare network in fp32 and under bf16 autocast, in this process (the
    ratio is what bf16 buys here), and what bf16 changes in the preview's ab."""
    if not bf16_supported(colorizer.device):
        return {"bf16": "not supported by this CPU"}
    prepared = colorizer.prepare(photo(768, 1024), work_size=256)
    hints = hints_for(768, 1024)
    net = in_turn(lambda x=x: colorizer.network(x) for x in network_inputs(colorizer))
    out, ab = {}, {}
    kept = colorizer.precision
    try:
        for precision in ("fp32", "bf16"):
            colorizer.precision = precision
            med, _, _ = median_time(lambda: colorizer.preview(prepared, hints), repeats)
            out[f"preview_{precision}_ms"] = 1000 * med
            with torch.inference_mode(), autocast(colorizer.device, precision):
                med, _, _ = median_time(net, repeats)
            out[f"network_{precision}_ms"] = 1000 * med
            ab[precision] = colorizer.predict_ab(prepared, hints)
    finally:
        colorizer.precision = kept
    d = np.abs(ab["bf16"] - ab["fp32"])
    out.update(bf16_mean_dab=float(d.mean()), bf16_max_dab=float(d.max()))
    return out


def _spin() -> None:  # a busy core: another program's work
    while True:
        pass


def bench_runtime(colorizer: Colorizer, repeats: int, drag_sizes: list[int],
                  busy: int = 0) -> dict:
    """The preview and the bare network in torch and in ONNX Runtime, in turn (see the module
    docstring); ``busy``: processes kept spinning meanwhile."""
    import multiprocessing

    from colouru.runtime import OnnxGenerator

    prepared = colorizer.prepare(photo(768, 1024), work_size=256)
    hints = hints_for(768, 1024)
    # One runtime per photo and thread count: each keeps what depends on its photo's L alone
    # (the encoder's features, the edge weights), as the app's does while hints are dragged;
    # and one colorizer (a copy of the network) per smaller size, for torch's kept features
    # where ONNX Runtime does not serve the size.
    onnx, onnx1 = OnnxGenerator(colorizer.network), OnnxGenerator(colorizer.network, threads=1)
    drags = {}
    for size in drag_sizes:
        c = copy.copy(colorizer)
        c.network = copy.deepcopy(colorizer.network)
        drags[size] = (c.prepare(photo(768, 1024), work_size=size), OnnxGenerator(c.network), c)
    hint_ab, _ = rasterize_hints(hints, prepared.image_hw, prepared.work_hw)
    x = make_input(torch.from_numpy(prepared.work_lightness)[None, None],
                   torch.from_numpy(hint_ab)[None])
    x_cl = x.contiguous(memory_format=torch.channels_last)
    kept = colorizer.onnx

    def preview(gen, p=prepared, c=colorizer):
        c.onnx = gen
        c.preview(p, hints)

    def network_torch():
        with torch.inference_mode():
            colorizer.network(x_cl)

    calls = {
        "preview_torch": lambda: preview(None),
        "preview_onnx": lambda: preview(onnx),
        "preview_onnx_1thread": lambda: preview(onnx1),
        **{f"preview_onnx_drag{size}": lambda p=p, g=g, c=c: preview(g, p, c)
           for size, (p, g, c) in drags.items()},
        "network_torch": network_torch,
        "network_onnx": lambda: onnx(x),
    }
    t0 = time.perf_counter()
    for fn in calls.values():  # exports (or finds) the graphs, warms up
        fn()
        fn()
    setup = time.perf_counter() - t0
    spinners = [multiprocessing.Process(target=_spin, daemon=True) for _ in range(busy)]
    for sp in spinners:
        sp.start()
    times: dict[str, list[float]] = {k: [] for k in calls}
    try:
        for _ in range(repeats):
            for k, fn in calls.items():
                t = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t)
    finally:
        for sp in spinners:
            sp.terminate()
            sp.join()
        colorizer.onnx = kept
    out = {f"{k}_ms": 1000 * statistics.median(v) for k, v in times.items()}
    for what in ("preview", "network"):
        t, o = times[f"{what}_torch"], times[f"{what}_onnx"]
        out[f"{what}_torch_over_onnx"] = statistics.median(a / b for a, b in zip(t, o, strict=True))
    out.update(runtime_busy=busy, runtime_setup_s=setup, runtime_load=os.getloadavg()[0],
               drags=[{"size": size, "work_hw": list(p.work_hw), "onnx": g.serves(p.work_hw),
                       "ms": out[f"preview_onnx_drag{size}_ms"]}
                      for size, (p, g, _) in drags.items()])
    return out


def runtime_table(r: dict) -> str:
    busy = f", {r['runtime_busy']} busy core(s)" if r["runtime_busy"] else ""
    lines = [f"| Measure ({r['threads']} threads{busy}; median of {r['repeats']}, in turn) "
             f"| torch | ONNX Runtime | torch / ONNX (median of pairs) |", "|---|---|---|---|"]
    for what, label in (("preview", "Preview at 256, the same photo (features kept)"),
                        ("network", "Bare network at 192 x 256 (features kept)")):
        lines.append(f"| {label} | {r[what + '_torch_ms']:.1f} ms | {r[what + '_onnx_ms']:.1f} ms "
                     f"| x{r[what + '_torch_over_onnx']:.2f} |")
    lines.append(f"| Preview, ONNX on 1 intra-op thread | | "
                 f"{r['preview_onnx_1thread_ms']:.1f} ms | |")
    for d in r["drags"]:
        torch_col, onnx_col = ("", f"{d['ms']:.1f} ms") if d["onnx"] else (f"{d['ms']:.1f} ms",
                                                                          "")
        lines.append("| Preview at working size {} ({} x {}){} | {} | {} | |".format(
            d["size"], *d["work_hw"], "" if d["onnx"] else ", not served by ONNX Runtime",
            torch_col, onnx_col))
    return "\n".join(lines)


def network_inputs(colorizer: Colorizer) -> list[torch.Tensor]:
    """Real network inputs at 256 x 256 (two photos' L and 10 hints), channels-last as in
    ``predict_ab``. Random values would time something else: the edge-aware hint features
    fill with denormal numbers on noise (about 3x slower)."""
    out = []
    for seed in (0, 1):
        prepared = colorizer.prepare(photo(256, 256, seed=seed), work_size=256)
        hint_ab, _ = rasterize_hints(hints_for(256, 256), prepared.image_hw, prepared.work_hw)
        x = make_input(torch.from_numpy(prepared.work_lightness)[None, None],
                       torch.from_numpy(hint_ab)[None])
        out.append(x.contiguous(memory_format=torch.channels_last))
    return out


def in_turn(calls) -> Callable[[], None]:
    """One call that makes the given calls in turn, one each time it is called."""
    turn = itertools.cycle(list(calls))
    return lambda: next(turn)()


def bench_network(colorizer: Colorizer, repeats: int) -> dict:
    model = colorizer.network  # what predict_ab runs
    with torch.inference_mode():
        med, _, _ = median_time(in_turn(lambda x=x: model(x)
                                        for x in network_inputs(colorizer)), repeats)
    flops = count_flops(model, 256, 256)
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    mm, _, _ = median_time(lambda: torch.mm(a, b), repeats)
    net_gflops, ref_gflops = flops / med / 1e9, 2 * 1024**3 / mm / 1e9
    return {
        "network_256_ms": 1000 * med,
        "network_gflop": flops / 1e9,
        "network_gflops": net_gflops,
        "matmul_gflops": ref_gflops,
        "network_vs_matmul": net_gflops / ref_gflops,
    }


def _peak_reset() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024 if sys.platform == "darwin" else 1024)


def export_child(args) -> dict:
    """Runs in a fresh process: one 12 MP export, timed, with the process's peak memory."""
    colorizer, _ = make_colorizer(args)
    h, w = args.export_hw
    small = photo(300, 400).astype(np.float32) / 255
    colorizer.colorize(small, hints_for(300, 400))  # warm-up: first-call costs of torch
    img8 = photo(h, w)
    img = np.empty(img8.shape, dtype=np.float32)  # what read_image gives: float32 0..1
    np.multiply(img8, np.float32(1 / 255), out=img)
    del img8
    hints = hints_for(h, w)
    with tempfile.TemporaryDirectory() as tmp:
        baseline = _peak_mb()
        exact = _peak_reset()
        t0, c0 = time.perf_counter(), time.process_time()
        result = colorizer.colorize(img, hints)
        t1 = time.perf_counter()
        out = save_image(Path(tmp) / "export.png", result)
        t2, c2 = time.perf_counter(), time.process_time()
        size = out.stat().st_size
    return {
        "export_s": t2 - t0,
        "export_colorize_s": t1 - t0,
        "export_png_s": t2 - t1,
        "export_cpu_s": c2 - c0,
        "export_png_mb": size / 1e6,
        "export_peak_mb": _peak_mb(),
        "export_rss_before_mb": baseline,
        "export_peak_exact": exact,
        "export_hw": [h, w],
    }


def bench_export(args) -> dict:
    cmd = [sys.executable, __file__, "--_export-child", "--threads", str(args.threads)]
    if args.model:
        cmd += ["--model", str(args.model)]
    for flag in ARCH_FLAGS:
        if getattr(args, flag) is not None:
            cmd += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
    cmd += ["--export-hw", *map(str, args.export_hw)]
    r = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise SystemExit(f"export child failed:\n{r.stderr}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def bench_batch(colorizer: Colorizer, n: int) -> dict:
    from PIL import Image

    from colouru.cli import main as colouru

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src, warm = tmp / "in", tmp / "warm"
        src.mkdir()
        warm.mkdir()
        for i in range(n):
            Image.fromarray(photo(864, 1152, seed=i)).save(src / f"p{i}.jpg", quality=90)
        Image.fromarray(photo(864, 1152, seed=99)).save(warm / "w.jpg", quality=90)
        model = tmp / "model.safetensors"
        save_model(model, colorizer.model, colorizer.info)
        args = ["--model", str(model), "--device", "cpu", "--quiet"]
        colouru(["colorize", str(warm), "-o", str(tmp / "warm-out"), *args])
        t = time.perf_counter()
        code = colouru(["colorize", str(src), "-o", str(tmp / "out"), *args])
        dt = time.perf_counter() - t
    if code != 0:
        raise SystemExit("batch run failed")
    return {"batch_photos_per_s": n / dt, "batch_photos": n, "batch_hw": [864, 1152]}


# --- report ---------------------------------------------------------------------------------------
def table(r: dict) -> str:
    ok = lambda v, goal: "yes" if v <= goal else "**no**"
    rows = [
        (
            "Preview at working size 256 ({} x {}), median of {}".format(
                *r["preview_work_hw"], r["repeats"]
            ),
            f"{r['preview_ms']:.1f} ms (p90 {r['preview_p90_ms']:.1f}; "
            f"CPU {r['preview_cpu_ms']:.1f})",
            "<= 60 ms",
            ok(r["preview_ms"], GOALS["preview_ms"]),
        ),
        (
            "First preview of a photo (two photos in turn)",
            f"{r['preview_new_photo_ms']:.1f} ms",
            "",
            "",
        ),
        (
            "... of which follow_hints (hints spread onto the network's colour)",
            f"{r['follow_hints_ms']:.1f} ms ({100 * r['follow_hints_ms'] / r['preview_ms']:.0f}%)",
            "",
            "",
        ),
        (
            "12 MP export: colorize + PNG ({} x {})".format(*r["export_hw"]),
            f"{r['export_s']:.2f} s ({r['export_colorize_s']:.2f} + {r['export_png_s']:.2f}; "
            f"CPU {r['export_cpu_s']:.2f} s)",
            "<= 2 s",
            ok(r["export_s"], GOALS["export_s"]),
        ),
        (
            "12 MP export: peak memory of the process",
            f"{r['export_peak_mb']:.0f} MB (before: {r['export_rss_before_mb']:.0f} MB)",
            "<= 1.5 GB",
            ok(r["export_peak_mb"], GOALS["export_peak_mb"]),
        ),
        (
            "Batch, 1 MP JPEG photos (colouru colorize)",
            f"{r['batch_photos_per_s']:.2f} photos/s",
            "",
            "",
        ),
        (
            "Generator at 256 x 256",
            f"{r['network_256_ms']:.1f} ms, {r['network_gflop']:.2f} GFLOP",
            "",
            "",
        ),
        (
            "Achieved GFLOP/s vs matmul reference",
            f"{r['network_gflops']:.1f} vs {r['matmul_gflops']:.1f} "
            f"({100 * r['network_vs_matmul']:.0f}%)",
            "",
            "",
        ),
    ]
    if "preview_bf16_ms" in r:
        rows.insert(3, (
            "Preview fp32 / bf16 autocast (same process)",
            f"{r['preview_fp32_ms']:.1f} / {r['preview_bf16_ms']:.1f} ms "
            f"(bf16 x{r['preview_fp32_ms'] / r['preview_bf16_ms']:.2f}); network at 256: "
            f"{r['network_fp32_ms']:.1f} / {r['network_bf16_ms']:.1f} ms",
            "", ""))
        rows.insert(4, (
            "bf16 vs fp32: change of the preview's ab",
            f"mean {r['bf16_mean_dab']:.3f}, worst {r['bf16_max_dab']:.2f} CIE units", "", ""))
    lines = ["| Measure | Result | Goal | Met |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="model file (default: the bundled model if present)")
    ap.add_argument("--arch", choices=["unet", "unet-semantic"],
                    help="time an untrained generator of this architecture "
                    "(default: colouru train's)")
    ap.add_argument("--encoder", help="... with this encoder (default efficientnet-lite0)")
    ap.add_argument("--width", type=int, help="... of this width (default 16)")
    ap.add_argument("--depth", type=int, help="... and this depth (plain unet, default 5)")
    ap.add_argument("--hint-scales", type=int, help="... and hint scales (default 3)")
    ap.add_argument("--edge-hints", type=int, help="... and edge-aware hints (default 2)")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--repeats", type=int, default=20)
    ap.add_argument("--batch", type=int, default=8, help="number of 1 MP photos")
    ap.add_argument("--export-hw", type=int, nargs=2, default=[3000, 4000], metavar=("H", "W"))
    ap.add_argument("--drag-size", type=int, nargs="+", default=[160],
                    help="the smaller working sizes the runtime rows time")
    ap.add_argument("--busy", type=int, default=0,
                    help="also time the runtime rows with this many cores kept busy")
    ap.add_argument("--runtime-only", action="store_true",
                    help="only the torch / ONNX Runtime rows")
    ap.add_argument("--_export-child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if args._export_child:
        print(json.dumps(export_child(args)))
        return 0
    colorizer, what = make_colorizer(args)
    if args.runtime_only:
        result = {"model": what, "threads": args.threads, "repeats": args.repeats,
                  "cpus": os.cpu_count(), "load_average": os.getloadavg()[0]}
        rows = []
        for busy in sorted({0, args.busy}):
            r = {**result, **bench_runtime(colorizer, args.repeats, args.drag_size, busy)}
            print(json.dumps(r, indent=1))
            rows.append(runtime_table(r))
        print(f"\nModel: {what}; load average at start {result['load_average']:.2f}.\n")
        print("\n\n".join(rows))
        return 0
    result = {
        "model": what,
        "threads": args.threads,
        "cpus": os.cpu_count(),
        "repeats": args.repeats,
        "torch": torch.__version__,
        "load_average": os.getloadavg()[0],
    }
    result.update(bench_preview(colorizer, args.repeats))
    result.update(bench_network(colorizer, args.repeats))
    result.update(bench_precision(colorizer, args.repeats))
    runtime = bench_runtime(colorizer, args.repeats, args.drag_size)
    result.update(runtime)
    result.update(bench_export(args))
    result.update(bench_batch(colorizer, args.batch))
    print(json.dumps(result, indent=1))
    print()
    print(
        f"Model: {what}; {args.threads} torch threads on {os.cpu_count()} CPUs "
        f"(load average at start {result['load_average']:.2f})."
    )
    print()
    print(table(result))
    print()
    print(runtime_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
