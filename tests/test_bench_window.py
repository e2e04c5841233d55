"""Smoke tests of benchmarks/bench_window.py (the real-window drag benchmark): its pure parts,
and one short run under Xvfb where Xvfb and xdotool are installed (slow; no timing asserted)."""

from __future__ import annotations

import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_window.py"


@pytest.fixture(scope="module")
def bench():
    spec = importlib.util.spec_from_file_location("bench_window", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_span_is_the_longest_run(bench):
    assert bench.span(np.array([0, 1, 1, 0, 1, 1, 1, 0], bool)) == (4, 7)
    assert bench.span(np.array([1, 1, 0], bool)) == (0, 2)
    assert bench.span(np.array([0, 0], bool)) == (0, 0)


def test_photo_and_hint_file(bench, tmp_path):
    photo, hints, (w, h) = bench.make_photo(0.25, tmp_path)
    with Image.open(photo) as im:
        assert im.size == (w, h) and im.mode == "L"
    assert abs(w * h - 0.25e6) < 0.01e6
    doc = json.loads(hints.read_text())
    (hint,) = doc["hints"]
    assert 0 < hint["x"] < w and 0 < hint["y"] < h and hint["rgb"] == bench.HINT_RGB


def test_summary_and_table(bench):
    rows = [{"megapixels": 1.0, "size": "849 x 1177", "busy": b, "load": 1.0, "drag": k,
             "updates_per_s": 10.0 + k, "first_change_s": 0.05, "settled_s": None if k else 0.2,
             "full_s": 0.9, "grabs_per_s": 30.0} for b in (0, 1) for k in range(3)]
    summ = bench.summary(rows)
    assert [(s["busy"], s["drags"]) for s in summ] == [(0, 3), (1, 3)]
    assert summ[0]["updates_per_s"] == (11.0, 10.0, 12.0)
    assert summ[0]["settled_s"] == (0.2, 0.2, 0.2)  # the drags without one are left out
    text = bench.table(summ)
    assert text.count("\n") == 3 and "| 11.0 (10.0-12.0) |" in text and "| 200 (200-200) |" in text


@pytest.mark.slow
@pytest.mark.skipif(not (shutil.which("Xvfb") and shutil.which("xdotool")),
                    reason="needs Xvfb and xdotool")
def test_one_drag_in_a_real_window(tmp_path):
    out = tmp_path / "drags.json"
    done = subprocess.run([sys.executable, str(SCRIPT), "--megapixels", "0.3", "--drags", "1",
                           "--warmup", "0", "--drag-seconds", "1", "--quiet", "1.5",
                           "--json", str(out)], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    (drag,) = json.loads(out.read_text())["drags"]
    assert drag["changes_after"] >= 1 and drag["full_s"] is not None
    assert "| 0.3 MP" in done.stdout
