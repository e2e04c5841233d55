"""Training throughput benchmark (not a test): samples/s, the share of a step spent waiting for
data, and achieved GFLOP/s of the generator's training step against a matrix-multiply
reference measured in the same process.

    .venv/bin/python benchmarks/bench_train.py [--data DIR] [--threads N] [--steps 20]
        [--size 128] [--precision fp32|bf16|both] [--arch unet|unet-semantic]

Prints a JSON document and a markdown table. Without --data it uses generated photos. With
``--precision both`` each stage is timed in fp32 and under bf16 autocast in the same process.
The generator is laid out channels-last, as ``colouru train`` lays it out on the CPU.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from colouru.flops import count_flops
from colouru.generator import GeneratorConfig
from colouru.training.data import batch_indices, cached_array, crops, list_photos, make_batch
from colouru.training.discriminators import build_discriminator
from colouru.training.gan import Trainer
from colouru.training.train import TrainConfig


def matmul_gflops(n: int = 1024, repeats: int = 10) -> float:
    a, b = torch.randn(n, n), torch.randn(n, n)
    for _ in range(3):
        a @ b
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t)
    return 2 * n**3 / statistics.median(times) / 1e9


def fake_photos(root: Path, n: int = 64) -> Path:
    from PIL import Image

    rng = np.random.default_rng(0)
    for i in range(n):
        img = (rng.random((8, 8, 3)) * 255).astype(np.uint8)
        Image.fromarray(img).resize((150, 150)).save(root / f"{i}.png")
    return root


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", help="photo folder (default: generated photos)")
    ap.add_argument("--threads", type=int, default=torch.get_num_threads())
    ap.add_argument("--steps", type=int, default=20, help="timed steps per stage (after 3 warm-up)")
    ap.add_argument("--size", type=int)
    ap.add_argument("--batch-size", type=int)
    ap.add_argument("--width", type=int)
    ap.add_argument("--arch", choices=["unet", "unet-semantic"])
    ap.add_argument("--precision", choices=["fp32", "bf16", "both"], default="fp32")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    cfg = TrainConfig()
    if args.size:
        cfg.size = args.size
    if args.batch_size:
        cfg.batch_size = args.batch_size
    if args.arch == "unet":
        cfg.generator = GeneratorConfig(width=16, depth=5, hint_scales=3, edge_hints=2)
    if args.arch == "unet-semantic":
        cfg.generator = GeneratorConfig(arch="unet-semantic", encoder="efficientnet-lite0",
                                        width=16, depth=5, hint_scales=3, edge_hints=2)
    if args.width:
        cfg.generator = replace(cfg.generator, width=args.width)
    precisions = ["fp32", "bf16"] if args.precision == "both" else [args.precision]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(args.data) if args.data else fake_photos(Path(tmp))
        paths = list_photos(root)[:2000]
        data = cached_array(paths, cfg.size + cfg.size // 4, Path(tmp) / "cache", progress=False)
        from colouru.generator import build_generator

        G = build_generator(cfg.generator).to(memory_format=torch.channels_last)
        D = build_discriminator(cfg.disc, cfg.disc_width)
        trainer = Trainer(G, D, cfg.gan)
        fwd = count_flops(G, cfg.size, cfg.size)
        fwd_trained = count_flops(G, cfg.size, cfg.size, trainable_only=True)
        ref = matmul_gflops()
        results = {
            "threads": args.threads,
            "size": cfg.size,
            "batch_size": cfg.batch_size,
            "generator": cfg.generator.to_dict(),
            "disc": cfg.disc,
            "matmul_reference_gflops": ref,
            "stages": {},
        }
        for stage, precision in [(s, p) for p in precisions for s in ("pretrain-g", "gan")]:
            trainer.precision = precision
            data_t, step_t = [], []
            for step in range(args.steps + 3):
                t0 = time.perf_counter()
                rng = np.random.default_rng([0, step])
                idx = batch_indices(len(data), cfg.batch_size, step, 0, 0)
                batch = make_batch(
                    crops(data.images, idx, cfg.size, rng), rng, cfg.hints, torch.device("cpu")
                )
                t1 = time.perf_counter()
                if stage == "pretrain-g":
                    trainer.pretrain_g_step(batch)
                else:
                    trainer.gan_step(batch, rng)
                t2 = time.perf_counter()
                if step >= 3:
                    data_t.append(t1 - t0)
                    step_t.append(t2 - t0)
            med = statistics.median(step_t)
            # Training FLOPs of the generator: forward + backward (about twice the forward of
            # the layers that train; a frozen encoder has none)
            g_flops = (fwd + 2 * fwd_trained) * cfg.batch_size
            compute = med - statistics.median(data_t)
            results["stages"][f"{stage} {precision}"] = {
                "step_s_median": med,
                "samples_per_s": cfg.batch_size / med,
                "data_wait_share": statistics.median(data_t) / med,
                "generator_gflops": g_flops / compute / 1e9 if stage == "pretrain-g" else None,
                "precision": precision,
            }
        pg = results["stages"][f"pretrain-g {precisions[0]}"]
        results["generator_vs_matmul"] = pg["generator_gflops"] / ref
    print(json.dumps(results, indent=1))
    print()
    print("| stage | samples/s | step (median) | data wait | GFLOP/s (G) | matmul ref | ratio |")
    print("|---|---|---|---|---|---|---|")
    for stage, r in results["stages"].items():
        gf = f"{r['generator_gflops']:.1f}" if r["generator_gflops"] else "-"
        ratio = f"{r['generator_gflops'] / ref:.2f}" if r["generator_gflops"] else "-"
        print(
            f"| {stage} | {r['samples_per_s']:.1f} | {r['step_s_median'] * 1000:.0f} ms | "
            f"{r['data_wait_share'] * 100:.1f}% | {gf} | {ref:.1f} | {ratio} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
