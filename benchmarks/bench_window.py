"""The app as a user sees it: a hint dragged in the real window, watched on the screen (a
benchmark, not a test).

    .venv/bin/python benchmarks/bench_window.py [--megapixels 1 12] [--busy 0 1] [--drags 5]
        [--warmup 1] [--drag-seconds 2] [--fps 30] [--rate 60] [--quiet 3] [--model PATH]
        [--json OUT.json] [--keep] [--frames DIR]

Everything is driven from outside the app (``benchmarks/bench_app.py`` drives its widgets and
reads its own signals instead): an X server of its own (``Xvfb``, no window manager), the real app
started as a user starts it (``python -m colouru.gui.app PHOTO --hints FILE``, with settings
and autosaves in a temporary folder), the mouse moved by ``xdotool`` (one process reading
commands on its standard input, so every move costs no process start), and the screen read
back with ``XGetImage`` (libX11 through ctypes: only the result pane's rectangle, a few ms a
frame). Needs Xvfb, xdotool and libX11 (Linux).

For each size a photo is made from ``assets/examples/1910Bike.jpg`` (resized to that many
megapixels) with one blue hint. The result pane is found by toggling Before/After (B) and
comparing the screen; the hint's marker on the grey photo by comparing the canvas with the
grey picture. Then, ``--warmup`` drags not counted (the first drag also makes the photo at the
drag's working size) and ``--drags`` counted ones, each with the screen quiet (the
full-resolution result shown): press on the hint, move the mouse ``--rate`` times a second
along a smooth path across the photo for ``--drag-seconds`` (a sideways sweep of 40% of its
width with a wave, towards the side further from the hint; so the next drag comes back),
release, move the pointer off the window (resting, it would bring up a tooltip), and watch
until the pane has changed and then not changed for ``--quiet`` seconds. All the while the
result pane is grabbed ``--fps`` times a second (about 1.5 ms of CPU a grab of the 520 x 720
pane, which this process and the X server take from the app as any other program would).
Measured per drag:

* ``updates_per_s``: changes of the result pane seen while the mouse moved, per second (at
  most ``--fps``: two results within one frame count once);
* ``first_change_s``: from the release to the first change of the pane after it (it can be a
  drag preview still on its way);
* ``settled_s``: from the release to the settled result, the working-size preview made at the
  full working size once the hand lets go. The app starts the full-resolution pass 0.4 s
  after that preview is shown, so it is the change followed by at least ``--settle-gap``
  (0.35 s) of quiet and then the last change; where the last change has no such gap before
  it (the full-resolution result looks the same on screen, or none came), the last change;
* ``full_s``: from the release to the last change, the full-resolution result.

``--busy N`` runs N processes spinning on a core each (at normal priority, as a browser or a
sync client would) during the drags; several values measure each in turn in the same app.
Prints one JSON line per drag and a Markdown table of medians (with the range) per size and
load; ``load`` is the machine's load average over the last minute when the drags began.
``--keep`` keeps the temporary folder (the app's, Xvfb's and xdotool's logs, the commands
sent, a screenshot before each drag); ``--frames DIR`` saves the pane at each change after a
release, to check what was counted.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import json
import math
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "assets" / "examples" / "1910Bike.jpg"
SCREEN = (1600, 1000)
HINT_RGB = "#1f5fd0"


# -- the X server, the screen and the mouse -----------------------------------------------------
class _XImage(ctypes.Structure):
    # The head of Xlib's XImage, up to the fields read here.
    _fields_ = [("width", ctypes.c_int), ("height", ctypes.c_int), ("xoffset", ctypes.c_int),
                ("format", ctypes.c_int), ("data", ctypes.c_void_p),
                ("byte_order", ctypes.c_int), ("bitmap_unit", ctypes.c_int),
                ("bitmap_bit_order", ctypes.c_int), ("bitmap_pad", ctypes.c_int),
                ("depth", ctypes.c_int), ("bytes_per_line", ctypes.c_int),
                ("bits_per_pixel", ctypes.c_int)]


class Screen:
    """Reads rectangles of an X display's root window (XGetImage, 24-bit TrueColor)."""

    def __init__(self, display: str):
        x = self._x = ctypes.CDLL("libX11.so.6")
        x.XOpenDisplay.restype = ctypes.c_void_p
        x.XOpenDisplay.argtypes = [ctypes.c_char_p]
        x.XDefaultRootWindow.restype = ctypes.c_ulong
        x.XDefaultRootWindow.argtypes = [ctypes.c_void_p]
        x.XGetImage.restype = ctypes.POINTER(_XImage)
        x.XGetImage.argtypes = [ctypes.c_void_p, ctypes.c_ulong, ctypes.c_int, ctypes.c_int,
                                ctypes.c_uint, ctypes.c_uint, ctypes.c_ulong, ctypes.c_int]
        x.XDestroyImage.argtypes = [ctypes.POINTER(_XImage)]
        x.XCloseDisplay.argtypes = [ctypes.c_void_p]
        self._display = x.XOpenDisplay(display.encode())
        if not self._display:
            raise RuntimeError(f"cannot open X display {display}")
        self._root = x.XDefaultRootWindow(self._display)

    def raw(self, box: tuple[int, int, int, int]) -> bytes:
        """The pixels of ``box`` (x0, y0, x1, y1) as the server holds them (BGRX rows)."""
        x0, y0, x1, y1 = box
        image = self._x.XGetImage(self._display, self._root, x0, y0, x1 - x0, y1 - y0,
                                  0xFFFFFFFF, 2)  # AllPlanes, ZPixmap
        if not image:
            raise RuntimeError(f"XGetImage failed for {box}")
        try:
            head = image.contents
            return ctypes.string_at(head.data, head.bytes_per_line * head.height)
        finally:
            self._x.XDestroyImage(image)

    def rgb(self, box: tuple[int, int, int, int]) -> np.ndarray:
        """``box`` as uint8 (H, W, 3) RGB."""
        x0, y0, x1, y1 = box
        a = np.frombuffer(self.raw(box), np.uint8).reshape(y1 - y0, -1, 4)[:, :x1 - x0]
        return a[..., 2::-1].copy()

    def close(self) -> None:
        if self._display:
            self._x.XCloseDisplay(self._display)
            self._display = None


class Harness:
    """Xvfb, the app, xdotool and busy processes; everything started is ended on close."""

    def __init__(self, tmp: Path):
        self.tmp = tmp
        self.procs: list[subprocess.Popen] = []  # ended in reverse order
        self.display = ""
        self.xdo: subprocess.Popen | None = None
        self.busy: list[subprocess.Popen] = []

    def start_x(self, timeout: float = 20.0) -> str:
        read, write = os.pipe()
        w, h = SCREEN
        xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write), "-screen", "0",
                                 f"{w}x{h}x24", "-nolisten", "tcp", "-noreset"],
                                pass_fds=(write,), stdout=subprocess.DEVNULL,
                                stderr=open(self.tmp / "xvfb.log", "w"), start_new_session=True)
        self.procs.append(xvfb)
        os.close(write)
        number, end = b"", time.monotonic() + timeout
        os.set_blocking(read, False)
        while not number.endswith(b"\n"):
            if xvfb.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"Xvfb did not start: {(self.tmp / 'xvfb.log').read_text()}")
            with contextlib.suppress(BlockingIOError):
                number += os.read(read, 16)
            time.sleep(0.02)
        os.close(read)
        self.display = f":{int(number)}"
        # -noreset: without it the server resets (the pointer back to the middle) whenever its
        # last client leaves, e.g. between two xdotool commands.
        self.xdo = subprocess.Popen(["xdotool", "-"], stdin=subprocess.PIPE, text=True,
                                    env=self.env(), start_new_session=True,
                                    stdout=subprocess.DEVNULL,
                                    stderr=open(self.tmp / "xdotool.log", "w"))
        self.procs.append(self.xdo)
        self.xdotool(f"mousemove {w - 5} {h - 5}")  # off the window: no hover, no tooltip
        return self.display

    def env(self, **extra) -> dict:
        env = dict(os.environ, DISPLAY=self.display, **extra)
        env.pop("QT_QPA_PLATFORM", None)
        return env

    def xdotool(self, *commands: str) -> None:
        """Send commands to the running ``xdotool -`` (executed as each line arrives)."""
        assert self.xdo is not None and self.xdo.stdin is not None
        if self.xdo.poll() is not None:
            raise RuntimeError("xdotool exited")
        self.xdo.stdin.write("".join(c + "\n" for c in commands))
        self.xdo.stdin.flush()
        with open(self.tmp / "xdotool.txt", "a") as f:
            f.write("".join(f"{time.perf_counter():.3f} {c}\n" for c in commands))

    def xdotool_out(self, *args: str) -> str:
        return subprocess.run(["xdotool", *args], env=self.env(), capture_output=True,
                              text=True, timeout=20).stdout

    def start_app(self, photo: Path, hints: Path, model: str | None) -> subprocess.Popen:
        cmd = [sys.executable, "-m", "colouru.gui.app", str(photo), "--hints", str(hints)]
        if model:
            cmd += ["--model", model]
        # Settings and autosaves in a folder of our own; the exported graphs' cache as usual.
        env = self.env(XDG_CONFIG_HOME=str(self.tmp / "config"),
                       XDG_DATA_HOME=str(self.tmp / "data"))
        app = subprocess.Popen(cmd, env=env, stdout=open(self.tmp / "app.log", "w"),
                               stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
        self.procs.append(app)
        return app

    def set_busy(self, n: int) -> None:
        while len(self.busy) > n:
            _end(self.busy.pop())
        while len(self.busy) < n:
            p = subprocess.Popen([sys.executable, "-c", "while True: pass"],
                                 start_new_session=True)
            self.busy.append(p)
            self.procs.append(p)

    def close(self) -> None:
        self.set_busy(0)
        if self.xdo and self.xdo.stdin:
            with contextlib.suppress(OSError):
                self.xdo.stdin.close()
        for p in reversed(self.procs):
            _end(p)
        self.procs.clear()


def _end(p: subprocess.Popen) -> None:
    """End a process we started (and its group: it was started in a session of its own)."""
    if p.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 3.0)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(p.pid, sig)
        try:
            p.wait(wait)
            return
        except subprocess.TimeoutExpired:
            continue


# -- finding the window, the result pane and the hint -------------------------------------------
def wait_for(what: str, check, timeout: float, every: float = 0.2):
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > end:
            raise TimeoutError(f"timed out after {timeout:g} s waiting for {what}")
        time.sleep(every)


def wait_quiet(screen: Screen, box, quiet: float, timeout: float, every: float = 0.1) -> None:
    """Until ``box`` has not changed for ``quiet`` seconds."""
    end, last, since = time.monotonic() + timeout, None, time.monotonic()
    while time.monotonic() - since < quiet:
        if time.monotonic() > end:
            raise TimeoutError(f"the screen did not settle within {timeout:g} s")
        now = zlib.crc32(screen.raw(box))
        if now != last:
            last, since = now, time.monotonic()
        time.sleep(every)


def span(mask_1d: np.ndarray) -> tuple[int, int]:
    """The longest run of True in a 1-D mask, as (start, end)."""
    best, start = (0, 0), None
    for i, v in enumerate(list(mask_1d) + [False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            if i - start > best[1] - best[0]:
                best = (start, i)
            start = None
    return best


def locate(s: Harness, screen: Screen, app: subprocess.Popen, photo_name: str,
           timeout: float) -> dict:
    """The window, the result pane's photo rectangle, the grey photo's offset on the canvas."""
    def window():
        if app.poll() is not None:
            raise RuntimeError(f"the app exited: {(s.tmp / 'app.log').read_text()[-3000:]}")
        ids = s.xdotool_out("search", "--name", photo_name).split()
        return ids[0] if ids else None

    wid = wait_for("the app's window", window, timeout)
    whole = (0, 0, *SCREEN)
    end = time.monotonic() + timeout

    def toggle(was: np.ndarray) -> np.ndarray:
        """Press B, wait for the screen to change and settle; the screen then."""
        s.xdotool(f"windowfocus --sync {wid}", "key b")
        wait_for("Before/After", lambda: not np.array_equal(screen.rgb(whole), was), 3.0,
                 every=0.05)
        wait_quiet(screen, whole, quiet=0.5, timeout=10.0)
        return screen.rgb(whole)

    while True:  # until B shows the grey photo and back, no new result meanwhile
        wait_quiet(screen, whole, quiet=2.5, timeout=max(1.0, end - time.monotonic()))
        after = screen.rgb(whole)
        before = None
        try:
            before = toggle(after)
            again = toggle(before)
        except TimeoutError:  # no result shown yet
            if before is not None:  # shown, but not back: back to the result
                s.xdotool(f"windowfocus --sync {wid}", "key b")
            if time.monotonic() > end:
                raise
            continue
        diff = np.abs(after.astype(np.int16) - before).max(axis=2) > 8
        cols, rows = diff.sum(axis=0), diff.sum(axis=1)
        x0, x1 = span(cols > 0.2 * cols.max())
        y0, y1 = span(rows > 0.2 * rows.max())
        # The canvas shows the same grey picture as the result pane's Before, further left.
        top = y0 + (y1 - y0) // 10
        strip = before[top:top + 8, x0:x1].astype(np.int16)
        errors = {d: np.abs(before[top:top + 8, x0 - d:x1 - d] - strip).mean()
                  for d in range((x1 - x0) // 2, x0 + 1)}
        shift = min(errors, key=errors.get) if errors else 0
        if (np.array_equal(after[y0:y1, x0:x1], again[y0:y1, x0:x1])
                and errors.get(shift, math.inf) <= 3):
            break
        if time.monotonic() > end:  # a loaded machine may show a half-drawn window: again
            raise TimeoutError("the result pane and the grey photo were not found")
    return {"window": wid, "result": (x0, y0, x1, y1), "canvas_shift": shift,
            "grey": before[y0:y1, x0:x1]}


def find_hint(screen: Screen, where: dict) -> tuple[float, float]:
    """The screen point of the hint's marker: where the canvas differs from the grey photo."""
    x0, y0, x1, y1 = where["result"]
    d = where["canvas_shift"]
    canvas = screen.rgb((x0 - d, y0, x1 - d, y1)).astype(np.int16)
    ys, xs = np.nonzero(np.abs(canvas - where["grey"]).max(axis=2) > 40)
    if len(xs) < 4 or np.ptp(xs) > 0.2 * (x1 - x0) or np.ptp(ys) > 0.2 * (y1 - y0):
        raise RuntimeError("the hint's marker was not found alone on the canvas")
    if not (0.1 < np.median(xs) / (x1 - x0) < 0.9 and 0.1 < np.median(ys) / (y1 - y0) < 0.9):
        raise RuntimeError("the hint's marker is near the photo's edge: a drag went astray")
    return x0 - d + float(np.median(xs)), y0 + float(np.median(ys))


# -- one drag -----------------------------------------------------------------------------------
def drag(s: Harness, screen: Screen, where: dict, args) -> dict:
    """Press on the hint, sweep it across the photo (towards the side further from it),
    release; the pane's changes, timed."""
    box = where["result"]
    width, height = box[2] - box[0], box[3] - box[1]
    if args.keep:
        Image.fromarray(screen.rgb((0, 0, *SCREEN))).save(s.tmp / f"{args.drag_index}.png")
    for attempt in range(10):  # the canvas may be mid-repaint
        try:
            hx, hy = find_hint(screen, where)
            break
        except RuntimeError:
            if attempt == 9:
                raise
            time.sleep(0.5)
    centre = (box[0] + box[2]) / 2 - where["canvas_shift"]
    dx, amp = (0.4 if hx < centre else -0.4) * width, 0.06 * height
    s.xdotool(f"mousemove {round(hx)} {round(hy)}")
    time.sleep(0.3)
    last = zlib.crc32(screen.raw(box))
    frames: list[bytes] = []  # with --frames: the pane at each change after the release
    changes: list[float] = []  # times the pane changed
    grabs = moves = 0
    t0 = time.perf_counter()
    s.xdotool("mousedown 1")
    next_move, next_grab = t0, t0
    while True:  # the drag
        now = time.perf_counter()
        if now >= next_move:
            f = min(1.0, (now - t0) / args.drag_seconds)
            y = hy + amp * math.sin(2 * math.pi * f)
            s.xdotool(f"mousemove {round(hx + f * dx)} {round(y)}")
            moves += 1
            next_move += 1 / args.rate
            if f >= 1.0:
                break
        if now >= next_grab:
            crc = zlib.crc32(screen.raw(box))
            grabs += 1
            if crc != last:
                changes.append(now)
                last = crc
            next_grab = max(next_grab + 1 / args.fps, now)
        time.sleep(max(0.0, min(next_move, next_grab) - time.perf_counter()))
    t_up = time.perf_counter()
    # Released, the pointer leaves the window: resting on it, it would bring up a tooltip,
    # which can cover the pane.
    s.xdotool("mouseup 1", f"mousemove {SCREEN[0] - 5} {SCREEN[1] - 5}")
    during = [t for t in changes if t0 < t <= t_up]
    after: list[float] = []
    quiet_since, end = t_up, t_up + args.timeout
    # Until the pane stays the same for --quiet seconds, once it has changed (a result may
    # still be on its way): a drag always ends in a new result.
    while not after or time.perf_counter() - quiet_since < args.quiet:
        now = time.perf_counter()
        if now > end:
            if after:
                raise TimeoutError(f"the result did not settle within {args.timeout:g} s")
            raise TimeoutError(f"no result within {args.timeout:g} s of the release (was "
                               f"the hint at {hx:.0f}, {hy:.0f} on the screen?)")
        raw = screen.raw(box)
        crc = zlib.crc32(raw)
        grabs += 1
        if crc != last:
            after.append(now)
            last, quiet_since = crc, now
            if args.frames:
                frames.append(raw)
        next_grab = max(next_grab + 1 / args.fps, now)
        time.sleep(max(0.0, next_grab - time.perf_counter()))
    out = {"updates_per_s": round(len(during) / (t_up - t0), 2),
           "hint_at": [round(hx), round(hy)],
           "moves_per_s": round(moves / (t_up - t0), 1),
           "first_change_s": round(after[0] - t_up, 3) if after else None,
           "settled_s": None, "full_s": round(after[-1] - t_up, 3) if after else None,
           "changes_after": len(after),
           "grabs_per_s": round(grabs / (time.perf_counter() - t0), 1)}
    if args.frames:
        folder = Path(args.frames)
        folder.mkdir(parents=True, exist_ok=True)
        for i, (raw, t) in enumerate(zip(frames, after, strict=True)):
            a = np.frombuffer(raw, np.uint8).reshape(height, -1, 4)[:, :width, 2::-1]
            Image.fromarray(np.ascontiguousarray(a)).save(
                folder / f"drag{args.drag_index}_{i}_{1000 * (t - t_up):.0f}ms.png")
    if after:
        settled = after[-1]
        if len(after) >= 2 and after[-1] - after[-2] >= args.settle_gap:
            settled = after[-2]
        out["settled_s"] = round(settled - t_up, 3)
    return out


# -- the photo, the runs, the table ---------------------------------------------------------------
def make_photo(mp: float, tmp: Path) -> tuple[Path, Path, tuple[int, int]]:
    """1910Bike.jpg resized to ``mp`` megapixels, and a hints file with one blue hint."""
    with Image.open(SOURCE) as im:
        scale = (mp * 1e6 / (im.width * im.height)) ** 0.5
        size = (round(im.width * scale), round(im.height * scale))
        photo = tmp / f"bike_{mp:g}mp.jpg"
        im.convert("L").resize(size, Image.Resampling.LANCZOS).save(photo, quality=92)
    w, h = size
    hints = tmp / f"bike_{mp:g}mp.json"
    hints.write_text(json.dumps({"version": 1, "image": {"width": w, "height": h}, "hints": [
        {"x": round(0.3 * w), "y": round(0.6 * h), "size": max(9, round(0.02 * w)),
         "rgb": HINT_RGB}]}))
    return photo, hints, size


def run_size(mp: float, args, tmp: Path) -> list[dict]:
    s = Harness(tmp)
    screen = None
    rows = []
    try:
        display = s.start_x()
        screen = Screen(display)
        photo, hints, size = make_photo(mp, tmp)
        app = s.start_app(photo, hints, args.model)
        where = locate(s, screen, app, photo.name, args.timeout * 6)
        for busy in args.busy:
            s.set_busy(busy)
            time.sleep(1.0)
            load = round(os.getloadavg()[0], 2)
            for k in range(-args.warmup, args.drags):
                if app.poll() is not None:
                    raise RuntimeError(f"the app exited: {(tmp / 'app.log').read_text()[-3000:]}")
                args.drag_index = f"{mp:g}mp_busy{busy}_{k}"
                r = drag(s, screen, where, args)
                r.update(megapixels=mp, size=f"{size[0]} x {size[1]}", busy=busy, load=load,
                         drag=k)
                print(json.dumps(r), flush=True)
                if k >= 0:  # not a warm-up drag
                    rows.append(r)
            s.set_busy(0)
    finally:
        if screen:
            screen.close()
        s.close()
    return rows


def summary(rows: list[dict]) -> list[dict]:
    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["megapixels"], r["busy"]), []).append(r)
    out = []
    for (mp, busy), rs in groups.items():
        def med(key, rs=rs):
            v = [r[key] for r in rs if r[key] is not None]
            return (statistics.median(v), min(v), max(v)) if v else None
        out.append({"megapixels": mp, "size": rs[0]["size"], "busy": busy, "drags": len(rs),
                    "load": rs[0]["load"], **{k: med(k) for k in (
                        "updates_per_s", "first_change_s", "settled_s", "full_s",
                        "grabs_per_s")}})
    return out


def table(summ: list[dict]) -> str:
    def f(v, scale=1.0, digits=1):
        if v is None:
            return "-"
        m, lo, hi = (x * scale for x in v)
        return f"{m:.{digits}f} ({lo:.{digits}f}-{hi:.{digits}f})"

    rows = ["| photo | busy cores | load | drags | results/s while dragging | release to "
            "first change (ms) | release to settled result (ms) | release to full-resolution "
            "result (ms) | grabs/s |", "|---|---|---|---|---|---|---|---|---|"]
    for r in summ:
        rows.append(f"| {r['megapixels']:g} MP ({r['size']}) | {r['busy']} | {r['load']} | "
                    f"{r['drags']} | {f(r['updates_per_s'])} | "
                    f"{f(r['first_change_s'], 1000, 0)} | {f(r['settled_s'], 1000, 0)} | "
                    f"{f(r['full_s'], 1000, 0)} | {f(r['grabs_per_s'], 1, 0)} |")
    return "\n".join(rows)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--megapixels", type=float, nargs="+", default=[1.0, 12.0])
    p.add_argument("--busy", type=int, nargs="+", default=[0],
                   help="processes spinning on a core each during the drags (several: in turn)")
    p.add_argument("--drags", type=int, default=5, help="drags per size and load")
    p.add_argument("--warmup", type=int, default=1,
                   help="drags before those counted (the first drag also makes the photo at "
                        "the drag's working size, once)")
    p.add_argument("--drag-seconds", type=float, default=2.0)
    p.add_argument("--rate", type=float, default=60.0, help="mouse moves a second")
    p.add_argument("--fps", type=float, default=30.0, help="grabs of the result pane a second")
    p.add_argument("--quiet", type=float, default=3.0,
                   help="seconds without a change that end the watch after a release")
    p.add_argument("--settle-gap", type=float, default=0.35,
                   help="quiet before the full-resolution result (the app waits 0.4 s)")
    p.add_argument("--timeout", type=float, default=60.0,
                   help="seconds a drag's result may take to settle (x6 to open the photo)")
    p.add_argument("--model", help="model file (default: the bundled model)")
    p.add_argument("--json", help="also write every drag's figures here")
    p.add_argument("--keep", action="store_true",
                   help="keep the temporary folder (logs: the app's, Xvfb's, xdotool's)")
    p.add_argument("--frames", metavar="DIR",
                   help="save the pane at each change after a release here (to check)")
    args = p.parse_args()
    missing = [t for t in ("Xvfb", "xdotool") if not shutil.which(t)]
    if missing:
        p.error(f"needs {' and '.join(missing)} on the PATH")
    # Any exit, including a SIGTERM or a Ctrl+C, goes through the finally blocks that end
    # Xvfb, the app, xdotool and the busy processes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    tmp = Path(tempfile.mkdtemp(prefix="colouru-window-bench-"))
    rows: list[dict] = []
    try:
        for mp in args.megapixels:
            rows += run_size(mp, args, tmp)
    finally:
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    summ = summary(rows)
    print(table(summ))
    if args.json:
        Path(args.json).write_text(json.dumps({"drags": rows, "summary": summ}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
