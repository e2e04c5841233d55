"""Make a screenshot of a film in the app: the real ColourU window, offscreen, with a short
film made here (a camera panning over an example photograph, in grey), hints placed by mouse
clicks on two keyframes, and a frame between them, its hints carried along the motion.

    .venv/bin/python scripts/screenshot_film.py                       # -> docs/film-app.png
    .venv/bin/python scripts/screenshot_film.py --out /tmp/film.png --model M.safetensors
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))

from screenshot_app import open_window, screen_config, wait  # noqa: E402

FRAMES, RATE = 72, 24  # three seconds
SIZE = (640, 400)  # the film's frame (width, height)
# Keyframe -> hints: (x, y) as fractions of the frame, (a, b): the 1910 bicycle photograph's
# sky, trees, face and jacket; at frame 48 the trees on the right, which came into view.
KEYS = {0: [((0.35, 0.12), (-4.0, -22.0)), ((0.12, 0.62), (-28.0, 30.0)),
            ((0.645, 0.74), (16.0, 20.0)), ((0.60, 0.93), (2.0, -12.0))],
        48: [((0.90, 0.52), (-24.0, 26.0))]}


def make_pan(photo: Path, out: Path) -> None:
    """A grey film panning right and down over ``photo`` (H.264 in MP4)."""
    import av
    from PIL import Image

    w, h = SIZE
    img = Image.open(photo).convert("L")
    scale = max((w + FRAMES * 2) / img.width, (h + FRAMES) / img.height)
    big = np.asarray(img.resize((round(img.width * scale), round(img.height * scale))))
    with av.open(str(out), "w") as c:
        v = c.add_stream("libx264", rate=RATE, options={"crf": "18"})
        v.width, v.height, v.pix_fmt = w, h, "yuv420p"
        for t in range(FRAMES):
            g = big[t // 2: t // 2 + h, t * 2 // 2: t * 2 // 2 + w]
            f = av.VideoFrame.from_ndarray(np.repeat(g[..., None], 3, 2), format="rgb24")
            f.pts = t
            c.mux(v.encode(f))
        c.mux(v.encode())


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--photo", default=str(ROOT / "assets" / "examples" / "1910Bike.jpg"))
    p.add_argument("--model", help="model file (default: the bundled one)")
    p.add_argument("--out", default=str(ROOT / "docs" / "film-app.png"))
    p.add_argument("--frame", type=int, default=30, help="the frame shown (between keyframes)")
    args = p.parse_args(argv)
    width, height = 1600, 980
    tmp = Path(tempfile.mkdtemp(prefix="colouru-film-shot-"))
    os.environ["QT_QPA_PLATFORM"] = screen_config(tmp, width, height)
    film = tmp / "bike.mp4"
    make_pan(Path(args.photo), film)

    from PySide6.QtCore import QPointF, Qt
    from PySide6.QtTest import QTest

    app, window = open_window(tmp, args.model, width, height, film)
    if window is None:
        return 1
    window.session.set_size(4)
    window.act_keep_colour.setChecked(True)
    w, h = SIZE
    for key, hints in KEYS.items():
        window.film.go_to(key)
        wait(app, lambda key=key: window.film.shown_frame == key)
        for (fx, fy), ab in hints:
            window.session.select(None)
            window.editor.set_colour(ab)
            pos = window.canvas.mapFromScene(QPointF(fx * w + 0.5, fy * h + 0.5))
            QTest.mouseClick(window.canvas.viewport(), Qt.MouseButton.LeftButton, pos=pos)
            app.processEvents()
    window.film.go_to(args.frame)
    wait(app, lambda: window.film.shown_frame == args.frame)
    wait(app, lambda: not window.service.busy)
    app.processEvents()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    if not window.grab().save(str(out)):
        print(f"screenshot: cannot write {out}", file=sys.stderr)
        return 1
    print(f"screenshot: {out} ({window.film.timeline.label.text()})")
    window.undo.setClean()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
