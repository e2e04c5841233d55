"""Where a drag's update spends its time: the real window, instrumented (a profile, not a test).

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/profile_drag.py [--megapixels 1]
        [--updates 30] [--size 1400 860] [--model PATH] [--json OUT.json]

Opens ``assets/examples/1910Bike.jpg`` resized to ``--megapixels`` (as ``bench_window.py``
does) in the real ``MainWindow``, adds one hint and drags it with mouse events sent to the
canvas every 16 ms (``QTest``, as ``bench_app.py``). The GUI thread's steps and the worker's
are wrapped to record each call's thread CPU time (``time.thread_time``: what the thread itself
ran, not the time it waited for a core, so a machine loaded by other programs inflates it
little) and wall time:

* GUI thread: ``move`` (a mouse move: the hint moved, the session's listeners, the preview
  asked for; of it ``panel``, the colour panel's refresh), ``result`` (the window's slot for
  a preview), ``paint_result`` / ``paint_canvas`` / ``paint_gamut`` (the views' and the
  colour plane's paint events), and ``gui_total``, all the GUI thread's CPU during the drag
  (the other widgets' painting, Qt's own work and this script's included);
* worker: ``job`` (a drag preview from start to end), of it ``network`` (``predict_ab``)
  and ``finish`` (the working-size colour and image), and the hand-offs: ``to_gui``, from the
  worker's end of a job to the window's handling of its result, ``to_worker``, from a job's
  submission to its start (wall clock). The worker's CPU is its own thread's: ONNX Runtime's
  and torch's other threads are not counted (and threads that spin while they wait for a
  core another program holds count that wait as CPU).

The drag goes on until ``--updates`` previews were shown, however long the machine takes.
Prints the median of each step, its CPU per update (the step's total over the drag over
the number of updates) and the GUI thread's CPU per mouse move, then the same for the
release (to the settled preview on screen), as JSON. Offscreen there is no X server to
flush the window to, so painting costs a little less than on a screen.
"""

from __future__ import annotations

import argparse
import functools
import json
import math
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "assets" / "examples" / "1910Bike.jpg"

RECORDS: list[tuple[str, float, float, float]] = []  # (step, start, wall s, thread CPU s)


def timed(name: str, fn):
    """``fn`` wrapped to append ``(name, start, wall, thread CPU)`` to ``RECORDS``."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        c0, t0 = time.thread_time(), time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            RECORDS.append((name, t0, time.perf_counter() - t0, time.thread_time() - c0))

    return wrapper


def instrument() -> None:
    """Wrap the steps of a drag's update (before the window is made, so its connections
    reach the wrappers; slots are left alone: a slot replaced by a plain function would be
    called in the sender's thread)."""
    from colouru import colorizer as colorizer_module
    from colouru.gui import service
    from colouru.gui.canvas import Canvas
    from colouru.gui.gamut_panel import GamutPanel
    from colouru.gui.main_window import MainWindow
    from colouru.gui.result_view import ResultView

    Canvas.mouseMoveEvent = timed("move", Canvas.mouseMoveEvent)
    Canvas.paintEvent = timed("paint_canvas", Canvas.paintEvent)
    ResultView.paintEvent = timed("paint_result", ResultView.paintEvent)
    GamutPanel.paintEvent = timed("paint_gamut", GamutPanel.paintEvent)
    MainWindow._refresh_panel = timed("panel", MainWindow._refresh_panel)
    c = colorizer_module.Colorizer
    c.predict_ab = timed("network", c.predict_ab)
    finish = colorizer_module.finish.finish

    def finish_timed(*args, **kwargs):  # the working-size ones only (a preview's)
        big = args[0].shape != args[1].shape
        return timed("x" if big else "finish", finish)(*args, **kwargs)

    colorizer_module.finish.finish = finish_timed
    cls = service.ColorizerService
    queue, dispatch = cls._queue, cls._dispatch
    handed: dict[int, float] = {}  # job id -> submitted; -id -> done on the worker

    def queue_timed(self, kind, fn, **job):
        name = f"job_{kind}{'_drag' if job.get('dragging') else ''}"

        def fn_timed():
            RECORDS.append(("to_worker", 0.0, time.perf_counter() - handed.pop(number, math.nan),
                            math.nan))
            try:
                return timed(name, fn)()
            finally:
                handed[-number] = time.perf_counter()

        number = self._seq + 1
        return queue(self, kind, fn_timed, **job)

    def dispatch_timed(self):
        dispatch(self)
        if self._running is not None and self._running.id not in handed:
            handed[self._running.id] = time.perf_counter()

    on_preview = timed("result", MainWindow._on_preview)

    def on_preview_timed(self, request_id, *args):  # the window's slot for a preview
        RECORDS.append(("to_gui", 0.0, time.perf_counter() - handed.pop(-request_id, math.nan),
                        math.nan))
        return on_preview(self, request_id, *args)

    cls._queue, cls._dispatch = queue_timed, dispatch_timed
    MainWindow._on_preview = on_preview_timed


def make_photo(mp: float, tmp: Path) -> Path:
    from PIL import Image

    with Image.open(SOURCE) as im:
        scale = math.sqrt(mp * 1e6 / (im.width * im.height))
        size = (round(im.width * scale), round(im.height * scale))
        photo = tmp / f"bike_{mp:g}mp.jpg"
        im.convert("L").resize(size, Image.Resampling.LANCZOS).save(photo, quality=92)
    return photo


def summarise(records, updates: int, moves: int, gui_cpu: float) -> dict:
    """Per step: calls, median wall and thread CPU (ms), and CPU per update (its total over
    the updates shown); the GUI thread's whole CPU per update and per mouse move."""
    out: dict = {"updates": updates, "moves": moves,
                 "gui_total_cpu_ms_per_update": round(1000 * gui_cpu / max(updates, 1), 2),
                 "gui_total_cpu_ms_per_move": round(1000 * gui_cpu / max(moves, 1), 2)}
    for name in sorted({r[0] for r in records}):
        rs = [r for r in records if r[0] == name]
        walls = [r[2] for r in rs if not math.isnan(r[2])]
        cpus = [r[3] for r in rs if not math.isnan(r[3])]
        row = {"calls": len(rs)}
        if walls:
            row["wall_ms_median"] = round(1000 * statistics.median(walls), 2)
        if cpus:
            row["cpu_ms_median"] = round(1000 * statistics.median(cpus), 2)
            row["cpu_ms_per_update"] = round(1000 * sum(cpus) / max(updates, 1), 2)
        out[name] = row
    return out


def open_window(args, tmp: Path):
    """The real window on a photo of ``args.megapixels``, its first results in."""
    from PySide6.QtCore import QSettings
    from PySide6.QtTest import QTest

    from colouru.gui.main_window import MainWindow

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp / "set"))
    w = MainWindow(model=args.model, device="cpu", recovery_dir=tmp / "recovery")
    w.resize(*args.size)
    w.show()
    QTest.qWaitForWindowExposed(w)
    assert w.open_photo(make_photo(args.megapixels, tmp), recover=False)
    return w


def pause(ms: int) -> None:
    """Run the event loop as ``app.exec()`` runs it (see ``bench_app.py``)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def drag(w, updates: int, max_moves: int) -> dict:
    """Press the hint at the photo's centre, move it every 16 ms along a circle until
    ``updates`` previews were shown (or ``max_moves``), release; the figures of the drag and
    of the release (to the settled preview on screen)."""
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtTest import QTest

    h, w_ = w.session.image_hw
    vp, s = w.canvas.viewport(), w.service

    def at(x: float, y: float):
        return w.canvas.mapFromScene(QPointF(x, y))

    cx, cy, radius = w_ / 2, h / 2, 0.15 * min(w_, h)
    shown: list[tuple[int, float]] = []
    s.previewReady.connect(lambda i, *_: shown.append((i, time.perf_counter())))
    while s.busy:
        pause(10)
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, pos=at(cx, cy))
    del RECORDS[:]
    cpu0, t0, k = time.thread_time(), time.perf_counter(), 0
    while len(shown) < updates and k < max_moves:
        k += 1
        pos = at(cx + radius * (1 - math.cos(k * 0.08)), cy + radius * math.sin(k * 0.08))
        QTest.mouseMove(vp, pos=pos)
        pause(16)
    gui_cpu, wall, n = time.thread_time() - cpu0, time.perf_counter() - t0, len(shown)
    records = [r for r in RECORDS if r[0] not in ("job_full", "x")]
    in_flight = s._running is not None and s._running.dragging
    del RECORDS[:]
    cpu0, t0 = time.thread_time(), time.perf_counter()
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=pos)
    wanted = s._latest["preview"]
    while not shown or shown[-1][0] < wanted:
        pause(1)
    release = {"drag_preview_in_flight": in_flight,
               "wall_ms": round(1000 * (shown[-1][1] - t0), 1),
               "gui_cpu_ms": round(1000 * (time.thread_time() - cpu0), 2),
               "steps": summarise(RECORDS, 1, 0, 0.0)}
    return {"updates_per_s": round(n / wall, 1),
            **summarise(records, n, k, gui_cpu), "release": release}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--megapixels", type=float, default=1.0)
    p.add_argument("--updates", type=int, default=30, help="previews shown in the drag")
    p.add_argument("--size", type=int, nargs=2, default=(1400, 860), help="window size")
    p.add_argument("--model", help="model file (default: the bundled model)")
    p.add_argument("--json", help="also write the figures here")
    args = p.parse_args()
    instrument()
    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    tmp = Path(tempfile.mkdtemp(prefix="colouru-profile-"))
    app = QApplication([sys.argv[0]])
    w = open_window(args, tmp)
    while w.service.busy or w.result_view.result is None:
        pause(10)
    h, w_ = w.session.image_hw
    w.act_keep_colour.setChecked(True)
    w.editor.set_colour((-10.0, -40.0))
    QTest.mouseClick(w.canvas.viewport(), Qt.MouseButton.LeftButton,
                     pos=w.canvas.mapFromScene(QPointF(w_ / 2, h / 2)))
    drag(w, 3, 10_000)  # warm-up: the first drag makes the photo at the drag's size
    out = {"megapixels": args.megapixels, "image": f"{w_} x {h}", "platform": app.platformName(),
           "result_pane": f"{w.result_view.viewport().width()} x "
                          f"{w.result_view.viewport().height()}",
           "load": round(os.getloadavg()[0], 2), **drag(w, args.updates, 10_000)}
    print(json.dumps(out, indent=1))
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1) + "\n")
    w.undo.setClean()
    w.close()
    w.service.shutdown()
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
