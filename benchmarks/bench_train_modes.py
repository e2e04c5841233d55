"""How to spend two cores on training (not a test): one torch thread, two threads, or two
processes under torchrun (gloo, DistributedDataParallel), with the real ``colouru train`` loop.

    .venv/bin/python benchmarks/bench_train_modes.py --data ../shared/data/train/bsds
        [--sizes 128,256] [--steps 40]

Each mode runs ``colouru train --stages pretrain-g`` for ``--steps`` steps at the same global
batch (16 at 128 px, 8 at 256 px; under torchrun each of the two processes takes half), in a
fresh run folder sharing one photo cache. The figure is the run's own ``samples_per_s`` logged
over the last ``log_every`` (20) steps, so start-up and the first steps are left out, beside
its data wait. Run it with the machine otherwise idle: the modes compete for the same cores.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

BATCH = {128: 16, 256: 8}  # global batch per crop size, as the recipes use


def run_mode(mode: str, data: str, size: int, steps: int, root: Path) -> dict:
    run = root / f"{mode}-{size}"
    batch = BATCH.get(size, 16)
    common = ["--data", data, "--stages", "pretrain-g", "--steps", str(steps), "--size",
              str(size), "--val-every", "100000", "--ckpt-every", "100000", "--device", "cpu"]
    exe = str(Path(sys.executable).parent / "colouru")
    env = dict(os.environ)
    if mode == "torchrun-2":
        cmd = [str(Path(sys.executable).parent / "torchrun"), "--nproc_per_node", "2",
               "--master_port", "29517", "-m", "colouru", "train", "--out", str(run),
               "--batch-size", str(batch // 2), "--threads", "1", *common]
        env["OMP_NUM_THREADS"] = "1"
    else:
        threads = mode.split("-")[1]
        cmd = [exe, "train", "--out", str(run), "--batch-size", str(batch), "--threads",
               threads, *common]
    # One shared photo cache: copied in, so no mode pays for decoding.
    if (root / "cache").exists():
        shutil.copytree(root / "cache", run / "cache")
    r = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    if r.returncode != 0:
        raise SystemExit(f"{mode} at {size} px failed:\n{r.stderr[-2000:]}")
    if not (root / "cache").exists():
        shutil.copytree(run / "cache", root / "cache")
    records = [json.loads(x) for x in (run / "log.jsonl").read_text().splitlines()]
    last = [x for x in records if x["kind"] == "train"][-1]
    return {"mode": mode, "size": size, "global_batch": batch,
            "samples_per_s": last["samples_per_s"], "data_share": last["data_share"]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", required=True)
    ap.add_argument("--sizes", default="128,256")
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--modes", default="threads-1,threads-2,torchrun-2")
    args = ap.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            root = Path(tmp) / str(size)
            root.mkdir()
            for mode in args.modes.split(","):
                rows.append(run_mode(mode, args.data, size, args.steps, root))
                print(json.dumps(rows[-1]), flush=True)
    print()
    print("| crop | mode | global batch | samples/s | data wait |")
    print("|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['size']} px | {r['mode']} | {r['global_batch']} | "
              f"{r['samples_per_s']:.1f} | {100 * r['data_share']:.1f}% |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
