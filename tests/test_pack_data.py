"""scripts/pack_data.py: training photos packed to travel to a GPU machine."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
from conftest import gradient_photo
from PIL import Image

SCRIPT = Path(__file__).parents[1] / "scripts" / "pack_data.py"


def _pack(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *map(str, args)], capture_output=True,
                          text=True, timeout=120)


def test_packs_squares_class_by_class_within_the_budget_and_never_replaces(tmp_path):
    data = tmp_path / "train"
    for c, n in (("cats", 6), ("dogs", 2)):
        (data / c).mkdir(parents=True)
        for i in range(n):
            Image.fromarray(gradient_photo(90, 120, seed=10 * len(c) + i)).save(
                data / c / f"p{i}.png")
    Image.fromarray(np.full((80, 80), 99, np.uint8)).save(data / "dogs" / "grey.png")
    (data / "dogs" / "broken.jpg").write_bytes(b"\xff\xd8 not a jpeg")
    out = tmp_path / "packed"
    done = _pack(data, out, "--side", "64")
    assert done.returncode == 0, done.stderr
    assert "packed 8 of 10 photos" in done.stdout and "2 skipped" in done.stdout
    packed = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.jpg"))
    assert len(packed) == 8 and sum(p.startswith("dogs/") for p in packed) == 2
    with Image.open(out / packed[0]) as im:
        assert im.size == (64, 64) and im.format == "JPEG"
    manifest = (out / "MANIFEST.tsv").read_text().splitlines()
    assert manifest[0] == "packed\tsource" and len(manifest) == 9
    # a budget of two photos still takes one of each class (class by class in turn)
    small = tmp_path / "small"
    one = (out / packed[0]).stat().st_size
    done = _pack(data, small, "--side", "64", "--budget-mb", 2.5 * one / 1e6)
    assert done.returncode == 0, done.stderr
    assert {p.parent.name for p in small.rglob("*.jpg")} == {"cats", "dogs"}
    # never into an existing folder
    again = _pack(data, out)
    assert again.returncode == 2 and "exists" in again.stderr
    assert len(list(out.rglob("*.jpg"))) == 8
