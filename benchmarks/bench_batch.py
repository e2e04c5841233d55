"""Archive benchmark (not a test): photos per second of ``colouru colorize`` on 1-megapixel
JPEG photos, run the ways an archive is run on one machine.

    .venv/bin/python benchmarks/bench_batch.py [--photos 48] [--model PATH] [--repeats 3]

Rows, each a fresh set of processes over the same photos into an empty folder (so model
loading and start-up count, as they do for a real job), median of ``--repeats``:

* one process, ``--batch-size 1`` and the default ``--batch-size 8``;
* two shards (``--shard 0/2`` and ``--shard 1/2``) started together, one torch thread each;
* ``torchrun --nproc_per_node 2`` (RANK / WORLD_SIZE give the shards), one thread each.

The photos are generated (smooth noise with edges, 1152 x 864, JPEG) once, in a temporary
folder. Prints a markdown table with photos/s and the ratio to the one-process row.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

BIN = Path(sys.executable).parent


def make_photos(folder: Path, n: int) -> None:
    rng = np.random.default_rng(0)
    for i in range(n):
        small = rng.random((27, 36, 3))
        img = np.asarray(Image.fromarray((small * 255).astype(np.uint8)).resize(
            (1152, 864), Image.BICUBIC))
        Image.fromarray(img).save(folder / f"{i:04d}.jpg", quality=90)


def timed(cmds: list[list[str]], env: dict) -> float:
    t = time.perf_counter()
    procs = [subprocess.Popen(c, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for c in cmds]
    for p in procs:
        _, err = p.communicate()
        if p.returncode != 0:
            raise SystemExit(f"failed: {err.decode()[-500:]}")
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--photos", type=int, default=48)
    ap.add_argument("--model", help="model file (default: the bundled model)")
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    model = ["--model", args.model] if args.model else []
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in"
        src.mkdir()
        make_photos(src, args.photos)
        colouru = [str(BIN / "colouru"), "colorize", str(src), "-q", "--format", "jpg", *model]
        torchrun = [str(BIN / "torchrun"), "--standalone", "--nproc_per_node", "2", "-m",
                    "colouru", "colorize", str(src), "-q", "--format", "jpg", *model]
        env2 = {**os.environ}
        env1 = {**os.environ, "OMP_NUM_THREADS": "1", "COLOURU_THREADS": "1"}
        ways = {
            "one process, batch 1 (2 threads)": (
                env2, lambda o: [colouru + ["-o", o, "--batch-size", "1"]]),
            "one process, batch 8, the default (2 threads)": (
                env2, lambda o: [colouru + ["-o", o]]),
            "two shards at once (1 thread each)": (env1, lambda o: [
                colouru + ["-o", o, "--shard", f"{k}/2"] for k in range(2)]),
            "torchrun, 2 ranks (1 thread each)": (env1, lambda o: [torchrun + ["-o", o]]),
        }
        rows = []
        for name, (env, cmds) in ways.items():
            times = []
            for r in range(args.repeats):
                out = str(Path(tmp) / f"out-{len(rows)}-{r}")
                times.append(timed(cmds(out), env))
            rows.append((name, args.photos / statistics.median(times)))
    ref = rows[0][1]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.photos} photos of 1152 x 864 (1 MP) JPEG, JPEG out; {os.cpu_count()} CPUs; "
          f"median of {args.repeats}; load average at the end {load:.2f}\n")
    print("| Way | photos/s | vs one process |\n|---|---|---|")
    for name, rate in rows:
        print(f"| {name} | {rate:.2f} | x{rate / ref:.2f} |")


if __name__ == "__main__":
    main()
