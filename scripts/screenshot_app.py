"""Make docs/app.png: the real ColourU window, offscreen, with a photo, hints, brush strokes
and the result.

    .venv/bin/python scripts/screenshot_app.py                       # bundled model
    .venv/bin/python scripts/screenshot_app.py --model RUN/model.safetensors
    .venv/bin/python scripts/screenshot_app.py --photo P.jpg --hints P.json --out docs/app.png

Hints are placed by simulated mouse clicks on the canvas and strokes drawn by simulated drags
with the brush tool, with colours set the way the colour panel sets them, so the picture shows
what a user would see. Without ``--hints`` a set made for ``1910Bike.jpg`` is used (positions
are fractions of the photo, so any photo works). Without a
trained model (no bundled file and no ``--model``), a small random-weights model is made so the
layout can still be checked; the result then shows no real colours, and the script says so.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# (x, y) as fractions of the photo, and the hint's (a, b): house, face, shirt, trousers,
# bicycle frame.
DEFAULT_HINTS = [
    ((0.17, 0.40), (14.0, 22.0)),
    ((0.53, 0.26), (16.0, 20.0)),
    ((0.52, 0.38), (2.0, -28.0)),
    ((0.50, 0.60), (4.0, 10.0)),
    ((0.56, 0.61), (48.0, 32.0)),
]
# Brush strokes: points as fractions of the photo, (a, b), brush width in working-size px:
# sky, the trees left and right, the grass.
DEFAULT_STROKES = [
    ([(0.05, 0.05), (0.45, 0.09), (0.92, 0.04)], (-4.0, -22.0), 10),
    ([(0.06, 0.25), (0.38, 0.22)], (-28.0, 30.0), 6),
    ([(0.66, 0.21), (0.95, 0.26)], (-24.0, 26.0), 6),
    ([(0.08, 0.92), (0.45, 0.97), (0.92, 0.91)], (-24.0, 34.0), 8),
]


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--photo", default=str(ROOT / "assets" / "examples" / "1910Bike.jpg"))
    p.add_argument("--model", help="model file (default: the bundled one)")
    p.add_argument("--hints", help="a hints JSON file to place instead of the built-in set")
    p.add_argument("--out", default=str(ROOT / "docs" / "app.png"))
    p.add_argument("--size", default="1600x980", help="window size, WIDTHxHEIGHT")
    p.add_argument("--select", type=int, default=1,
                   help="index of the hint left selected (its colour shows in the panel)")
    return p.parse_args(argv)


def screen_config(folder: Path, width: int, height: int) -> str:
    """An offscreen 'screen' large enough for the window (the default one is 800 x 800)."""
    cfg = folder / "screen.json"
    cfg.write_text(json.dumps({"screens": [{"name": "shot", "x": 0, "y": 0, "width": width + 40,
                                            "height": height + 40, "logicalDpi": 96,
                                            "logicalBaseDpi": 96, "dpr": 1}]}))
    return f"offscreen:configfile={cfg}"


def placeholder_model(folder: Path) -> Path:
    """A small random-weights model at the usual working size (layout checks only)."""
    import torch

    from colouru.generator import GeneratorConfig, build_generator
    from colouru.weights import ModelInfo, save_model

    print("screenshot: no trained model; using random weights (layout check only)")
    torch.manual_seed(0)
    cfg = GeneratorConfig(width=8, depth=4, max_width=32)
    return save_model(folder / "placeholder.safetensors", build_generator(cfg).eval(),
                      ModelInfo(generator=cfg, work_size=256,
                                provenance={"note": "random weights for a layout screenshot"}))


def wait(app, condition, seconds: float = 120.0) -> None:
    end = time.monotonic() + seconds
    while not condition() and time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def open_window(tmp: Path, model: str | None, width: int, height: int, path: Path):
    """The real window (settings and recovery in ``tmp``; a placeholder model where none is
    bundled or given), shown at ``width`` x ``height`` with ``path`` opened: ``(app, window)``,
    window None if the file did not open. Call after ``screen_config`` has set the platform."""
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from colouru.assets import bundled_model_path
    from colouru.gui.main_window import MainWindow

    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(tmp / "settings"))
    app = QApplication([sys.argv[0]])
    if model is None and not bundled_model_path().is_file():
        model = str(placeholder_model(tmp))
    window = MainWindow(model=model, device="cpu", recovery_dir=tmp / "recovery")
    window.resize(width, height)
    window.show()
    window.splitter.setSizes([width // 2, width // 2])
    return app, (window if window.open_photo(path, recover=False) else None)


def main(argv=None) -> int:
    args = parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    photo = Path(args.photo)
    if not photo.is_file():
        print(f"screenshot: no photo at {photo} (pass --photo)", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="colouru-shot-"))
    os.environ["QT_QPA_PLATFORM"] = screen_config(tmp, width, height)

    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtTest import QTest

    from colouru.hints import Stroke, load_hints_doc

    app, window = open_window(tmp, args.model, width, height, photo)
    if window is None:
        return 1
    app.processEvents()
    window.canvas.fit()

    h, w = window.session.image_hw
    scale = window.session.work_size / max(h, w)  # photo px -> working-size px
    if args.hints:
        items = load_hints_doc(args.hints).hints
        placed = [((it.x, it.y), it.ab) for it in items if not isinstance(it, Stroke)]
        strokes = [(list(it.points), it.ab, max(1, round(it.width * scale)))
                   for it in items if isinstance(it, Stroke)]
    else:
        placed = [((fx * w, fy * h), ab) for (fx, fy), ab in DEFAULT_HINTS]
        strokes = [([(fx * w, fy * h) for fx, fy in pts], ab, brush)
                   for pts, ab, brush in DEFAULT_STROKES]
    vp = window.canvas.viewport()

    def at(x, y):
        return window.canvas.mapFromScene(QPointF(x + 0.5, y + 0.5))

    window.session.set_size(4)
    window.act_keep_colour.setChecked(True)  # each click takes the colour set just before it
    for (x, y), ab in placed:
        window.session.select(None)
        window.editor.set_colour(ab)
        QTest.mouseClick(vp, Qt.MouseButton.LeftButton, pos=at(x, y))
        app.processEvents()
    window.act_brush_tool.trigger()
    for points, ab, brush in strokes:  # drawn as a hand would: press, 30 moves a segment
        window.editor.set_colour(ab)
        window.editor.set_brush(brush)
        QTest.mousePress(vp, Qt.MouseButton.LeftButton, pos=at(*points[0]))
        for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
            for k in range(1, 31):
                t = k / 30
                QTest.mouseMove(vp, at(x0 + t * (x1 - x0), y0 + t * (y1 - y0)))
        QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=at(*points[-1]))
        app.processEvents()
    window.act_hint_tool.trigger()
    if 0 <= args.select < len(window.session.hints):
        window.session.select(args.select)
    wait(app, lambda: not window.service.busy)
    wait(app, lambda: bool(window._suggestions), 20)
    app.processEvents()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(out)):
        print(f"screenshot: cannot write {out}", file=sys.stderr)
        return 1
    print(f"screenshot: {out} ({window.lbl_hints.text()}, model "
          f"{Path(window.service.colorizer.source).name if window.service.colorizer else 'none'})")
    window.undo.setClean()  # nothing to ask about on close
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
