"""Peak memory of ``colouru colorize`` on one large photo (a benchmark, not a test).

    .venv/bin/python benchmarks/bench_memory.py [--megapixels 100] [--colour] [--format jpg]
        [--model PATH] [--keep]

Makes a photo of about ``--megapixels`` (4:3; greyscale 8-bit JPEG, or colour with
``--colour``: textured gradients plus noise, so it compresses like a scan), then runs
``colouru colorize PHOTO -o OUT --format FORMAT -q`` as a child process and reports the child's
peak resident set (``ru_maxrss`` of the waited-for child: everything counts, the interpreter,
torch, the model, the photo, its L and the result) and its wall time, as JSON. Run it on an
idle core, e.g. ``OMP_NUM_THREADS=1 taskset -c 1``; the photo is made in a separate process so
its making does not count. Goal: a 100-megapixel greyscale photo under 1.5 GB.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from colouru.parallel import workers

GOAL_MB = 1536.0

MAKE = """
import sys
import numpy as np
from PIL import Image
h, w, colour, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
rng = np.random.default_rng(0)
y = np.linspace(0, 1, h, dtype=np.float32)[:, None]
x = np.linspace(0, 1, w, dtype=np.float32)[None, :]
def plane(a, b):
    p = 127 + 64 * np.sin(x * a) * np.cos(y * b) + 50 * (x - y)
    p += rng.normal(0, 6, (h, w)).astype(np.float32)
    return np.clip(p, 0, 255).astype(np.uint8)
if colour:
    Image.fromarray(np.dstack([plane(40, 30), plane(23, 51), plane(61, 17)])).save(path, quality=90)
else:
    Image.fromarray(plane(40, 30)).save(path, quality=90)
"""


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--megapixels", type=float, default=100.0)
    p.add_argument("--colour", action="store_true", help="a colour photo instead of a grey one")
    p.add_argument("--format", default="jpg", choices=("jpg", "png", "tif", "webp"))
    p.add_argument("--model", help="model file (default: the bundled model)")
    p.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = p.parse_args()
    w = int(round((args.megapixels * 1e6 * 4 / 3) ** 0.5))
    h = int(round(w * 3 / 4))
    tmp = Path(tempfile.mkdtemp(prefix="colouru-mem-"))
    photo = tmp / "photo.jpg"
    subprocess.run([sys.executable, "-c", MAKE, str(h), str(w), "1" if args.colour else "0",
                    str(photo)], check=True)
    cmd = [sys.executable, "-m", "colouru.cli", "colorize", str(photo), "-o", str(tmp / "out"),
           "--format", args.format, "-q"] + (["--model", args.model] if args.model else [])
    t = time.perf_counter()
    child = subprocess.Popen(cmd)
    _, status, usage = os.wait4(child.pid, 0)  # the child's own rusage, not this process's
    seconds = time.perf_counter() - t
    peak_mb = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / 2**20
    result = {"photo": f"{w} x {h} ({w * h / 1e6:.1f} MP) {'colour' if args.colour else 'grey'}"
                       f" JPEG", "output": args.format,
              "exit": os.waitstatus_to_exitcode(status), "peak_mb": round(peak_mb, 1),
              "goal_mb": GOAL_MB, "wall_s": round(seconds, 1),
              "threads": workers()}
    print(json.dumps(result, indent=1))
    if args.keep:
        print(f"kept {tmp}", file=sys.stderr)
    else:
        for f in sorted(tmp.rglob("*"), reverse=True):
            f.rmdir() if f.is_dir() else f.unlink()
        tmp.rmdir()
    return 0 if result["exit"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
