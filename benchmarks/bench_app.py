"""The app's interactive speed, measured by driving the real window (a benchmark, not a test).

    .venv/bin/python benchmarks/bench_app.py [--megapixels 1 12 48] [--model PATH]
        [--drag-seconds 2] [--moves 8] [--drag-size N] [--json OUT.json]

For each size a grey 4:3 photo (textured gradients plus noise, saved as JPEG) is made, then a
child process opens it in the real ``MainWindow`` and drives it with mouse events sent to the
widgets (``QTest``), as a user would. The window runs on an X server when there is one
(``DISPLAY`` set, or ``xvfb-run`` installed, which starts one), else on Qt's offscreen
platform (the same widgets, drawn into memory). Measured:

* ``open_s``: from File > Open to the photo and its first result on screen; ``open_gap_ms``:
  the longest the window went without handling an event meanwhile (the biggest gap between
  ticks of a 5 ms timer), i.e. how long it froze;
* ``drag_updates_per_s``: results shown per second while a hint is dragged with a mouse event
  every 16 ms for ``--drag-seconds`` (goal: at least 10 on a 1 MP photo); at best one per
  preview the worker makes, so compare it with ``1 / drag_preview_s``, the median time the
  worker took per preview shown during the drag (at the service's ``DRAG_SIZE``, or
  ``--drag-size``: 256 or more turns the smaller size off; ``colouru.gui.service``);
  ``drag_event_ms``: the GUI thread's time per mouse event (the median); ``drag_gui_cpu``:
  the GUI thread's CPU time over the drag's time (events, painting the canvas, the panel
  and each result), i.e. the share of a core it takes;
* ``move_median_s`` / ``move_worst_s``: hint-move-to-visible latency (press, move, release;
  until the result of that move is on screen), over ``--moves`` moves, each after a pause
  long enough for the full-resolution pass to start, so a pass that held previews up would
  show here; ``preview_s``: the median time the worker took per preview, for comparison;
  ``pause_gap_ms``: the longest freeze during those pauses (full results arriving);
* ``save_s`` and ``save_gap_ms``: saving the full-resolution result (JPEG) in the background;
* ``peak_mb``: the child's peak resident memory (``ru_maxrss``: interpreter, torch, model,
  photo and all), and ``open_mb`` after opening;
* ``load``: the machine's load average over the last minute when the child started (other
  processes on the cores make every figure slower: compare runs made under the same load).

Run it on an idle core (``OMP_NUM_THREADS=1 taskset -c 1``) for figures that mean something;
it prints one JSON object per size and a Markdown table for the README.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MAKE = """
import sys
import numpy as np
from PIL import Image
h, w, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
rng = np.random.default_rng(0)
y = np.linspace(0, 1, h, dtype=np.float32)[:, None]
x = np.linspace(0, 1, w, dtype=np.float32)[None, :]
p = 127 + 64 * np.sin(x * 40) * np.cos(y * 30) + 50 * (x - y)
p += rng.normal(0, 6, (h, w)).astype(np.float32)
Image.fromarray(np.clip(p, 0, 255).astype(np.uint8)).save(path, quality=90)
"""


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def child(args) -> dict:
    """Runs in the child process: open, drag, move, save; returns the figures."""
    from PySide6.QtCore import QElapsedTimer, QEventLoop, QPointF, QSettings, Qt, QTimer
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    def pause(ms: int) -> None:
        """Run the window's event loop for ``ms`` milliseconds, as ``app.exec()`` runs it.
        Not ``QTest.qWait``: PySide6's keeps the GIL while it waits, so the inference thread
        waited for the GIL after each of its many small torch calls (a preview took 246 ms
        against 35 ms with the event loop running, on this project's 2-core machine)."""
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    from colouru.gui import service as service_module
    from colouru.gui.main_window import MainWindow

    if args.drag_size:
        service_module.DRAG_SIZE = args.drag_size
    tmp = Path(args.tmp)
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp / "set"))
    app = QApplication([sys.argv[0]])
    w = MainWindow(model=args.model, device="cpu", recovery_dir=tmp / "recovery")
    w.resize(1400, 900)
    w.show()
    QTest.qWaitForWindowExposed(w)
    if w.service.colorizer is None:
        raise SystemExit(f"no model: {w.service.model_error}")
    clock = QElapsedTimer()
    clock.start()
    ticks: list[float] = []
    ticker = QTimer(interval=5, timeout=lambda: ticks.append(clock.elapsed() / 1000))
    ticker.start()
    shown: list[tuple[int, float]] = []  # (request id, time) of each preview on screen
    seconds: list[float] = []
    w.service.previewReady.connect(lambda i, rgb, s: (shown.append((i, clock.elapsed() / 1000)),
                                                      seconds.append(s)))

    def gap_ms(t0: float, t1: float) -> float:
        inside = [t0] + [t for t in ticks if t0 <= t <= t1] + [t1]
        return 1000 * max(b - a for a, b in zip(inside, inside[1:], strict=False))

    def wait_idle(limit: float = 300.0) -> None:
        end = time.monotonic() + limit
        while w.service.busy and time.monotonic() < end:
            pause(5)

    photo = Path(args.photo)
    t0 = clock.elapsed() / 1000
    assert w.open_photo(photo, recover=False), "the photo did not open"
    while w.result_view.result is None:
        pause(2)
    t1 = clock.elapsed() / 1000
    out = {"megapixels": args.megapixels, "platform": app.platformName(),
           "load": round(os.getloadavg()[0], 2),
           "open_s": round(t1 - t0, 3), "open_gap_ms": round(gap_ms(t0, t1), 1),
           "open_mb": round(rss_mb(), 1)}
    wait_idle()

    h, w_ = w.session.image_hw
    canvas, vp = w.canvas, w.canvas.viewport()

    def at(x: float, y: float):
        return canvas.mapFromScene(QPointF(x, y))

    cx, cy = w_ / 2, h / 2
    w.act_keep_colour.setChecked(True)
    w.editor.set_colour((30.0, 40.0))
    QTest.mouseClick(vp, Qt.MouseButton.LeftButton, pos=at(cx, cy))
    wait_idle()

    # Drag: a mouse event every 16 ms, along a circle, never pausing.
    radius = 0.15 * min(w_, h)
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, pos=at(cx, cy))
    n0, d0 = len(shown), clock.elapsed() / 1000
    k, pos, handling = 0, at(cx, cy), []
    gui_cpu0 = time.thread_time()
    while clock.elapsed() / 1000 - d0 < args.drag_seconds:
        k += 1
        angle = k * 0.08
        pos = at(cx + radius * (1 - math.cos(angle)), cy + radius * math.sin(angle))
        e0 = time.perf_counter()
        QTest.mouseMove(vp, pos=pos)  # handled at once: hint moved, view and panel redrawn
        handling.append(time.perf_counter() - e0)
        pause(16)
    d1 = clock.elapsed() / 1000
    gui_cpu = time.thread_time() - gui_cpu0
    during = len(shown) - n0
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=pos)
    out["drag_updates_per_s"] = round(during / (d1 - d0), 1)
    out["drag_events_per_s"] = round(k / (d1 - d0), 1)
    out["drag_event_ms"] = round(1000 * statistics.median(handling), 2)
    out["drag_preview_s"] = round(statistics.median(seconds[n0:n0 + during]), 3) if during else None
    out["drag_gui_cpu"] = round(gui_cpu / (d1 - d0), 2)
    wait_idle()

    # Moves after a pause: press the hint, move it 3% of the width, release.
    latencies, pause_gaps = [], []
    for i in range(args.moves):
        p0 = clock.elapsed() / 1000
        pause(int(args.pause * 1000))  # the full-resolution pass starts meanwhile
        pause_gaps.append(gap_ms(p0, clock.elapsed() / 1000))
        hint = w.session.hints[0]
        x0, y0 = hint.x, hint.y
        dx = (1 if i % 2 == 0 else -1) * max(2.0, 0.03 * w_)
        QTest.mousePress(vp, Qt.MouseButton.LeftButton, pos=at(x0 + 0.5, y0 + 0.5))
        QTest.mouseMove(vp, pos=at(x0 + dx + 0.5, y0 + 0.5))
        t_move = clock.elapsed() / 1000
        wanted = w.service._latest["preview"]
        QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=at(x0 + dx + 0.5, y0 + 0.5))
        while not any(j >= wanted for j, _ in shown):
            pause(1)
        latencies.append(next(t for j, t in shown if j >= wanted) - t_move)
    out["move_median_s"] = round(statistics.median(latencies), 3)
    out["move_worst_s"] = round(max(latencies), 3)
    out["preview_s"] = round(statistics.median(seconds), 3)
    out["full_passes_cancelled"] = w.service.cancelled
    out["pause_gap_ms"] = round(max(pause_gaps), 1)
    wait_idle()

    t0 = clock.elapsed() / 1000
    assert w.save_result_as(tmp / "out.jpg"), "saving failed"
    t1 = clock.elapsed() / 1000
    out["save_s"] = round(t1 - t0, 3)
    out["save_gap_ms"] = round(gap_ms(t0, t1), 1)
    ticker.stop()
    out["peak_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    w.undo.setClean()
    w.close()
    return out


def run_size(mp: float, args, tmp: Path) -> dict:
    width = int(round((mp * 1e6 * 4 / 3) ** 0.5))
    height = int(round(width * 3 / 4))
    photo = tmp / f"photo_{mp:g}mp.jpg"
    subprocess.run([sys.executable, "-c", MAKE, str(height), str(width), str(photo)],
                   check=True)
    cmd = [sys.executable, __file__, "--child", "--photo", str(photo), "--tmp", str(tmp),
           "--megapixels", str(mp), "--drag-seconds", str(args.drag_seconds),
           "--moves", str(args.moves), "--pause", str(args.pause)]
    if args.model:
        cmd += ["--model", args.model]
    if args.drag_size:
        cmd += ["--drag-size", str(args.drag_size)]
    env = dict(os.environ)
    if not env.get("DISPLAY") and shutil.which("xvfb-run"):
        cmd = ["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24"] + cmd
    elif not env.get("DISPLAY"):
        env["QT_QPA_PLATFORM"] = "offscreen"
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{mp} MP: the child failed:\n{done.stderr[-4000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    result["size"] = f"{width} x {height}"
    return result


def table(results: list[dict]) -> str:
    rows = ["| photo | results/s while dragging | one preview (s) | hint move to visible, "
            "median / worst (s) | open (s) | save (s) | longest freeze, ms (open / full "
            "result / save) | peak memory (MB) |",
            "|---|---|---|---|---|---|---|---|"]
    for r in results:
        rows.append(f"| {r['megapixels']:g} MP ({r['size']}) | {r['drag_updates_per_s']} | "
                    f"{r['preview_s']} | {r['move_median_s']} / {r['move_worst_s']} | "
                    f"{r['open_s']} | {r['save_s']} | {r['open_gap_ms']:.0f} / "
                    f"{r['pause_gap_ms']:.0f} / {r['save_gap_ms']:.0f} | {r['peak_mb']:.0f} |")
    return "\n".join(rows)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--megapixels", type=float, nargs="+", default=[1.0, 12.0, 48.0])
    p.add_argument("--model", help="model file (default: the bundled model)")
    p.add_argument("--drag-seconds", type=float, default=2.0)
    p.add_argument("--moves", type=int, default=8)
    p.add_argument("--pause", type=float, default=0.8,
                   help="seconds between moves (longer than the 0.4 s before the full pass)")
    p.add_argument("--drag-size", type=int,
                   help="the working size of previews during a drag (default: the app's)")
    p.add_argument("--json", help="also write the results here")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--photo", help=argparse.SUPPRESS)
    p.add_argument("--tmp", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child:
        args.megapixels = args.megapixels[0]
        print(json.dumps(child(args)))
        return 0
    tmp = Path(tempfile.mkdtemp(prefix="colouru-app-bench-"))
    results = []
    try:
        for mp in args.megapixels:
            r = run_size(mp, args, tmp)
            print(json.dumps(r), flush=True)
            results.append(r)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(table(results))
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
