"""Play shows the export's colour: the frames played in the window are steadied from frame to
frame as the export steadies them (``temporal.Steadier`` in play order, at the working size),
not coloured each on its own; with frames dropped the colour is carried from the last frame
shown, never through a frame coloured and not shown; a frame moved to afterwards is coloured
on its own. The views show one frame at a time: the grey picture, the hint marks and the
timeline are those of the frame whose colour is shown. Carrying the hints slower than the
film's rate, Play shows the frames carried to, each further on, rather than wait. A real tiny
film whose exposure flickers, the real window offscreen, and a clock the test moves on
(nothing timed).
"""

from __future__ import annotations

import threading

import numpy as np
import pytest
from PySide6.QtGui import QImage
from test_gui_app import WAIT, dialogs, make_window  # noqa: F401 (fixtures)
from test_video import make_film

from colouru import temporal
from colouru.colour import srgb_image_lightness
from colouru.gui import film_frames
from colouru.gui.colours import lightness_to_grey
from colouru.hints import Hint
from colouru.video import colorize_video
from colouru.video_read import grey_frame

av = pytest.importorskip("av")
pytestmark = pytest.mark.gui

FRAMES = 10
RATE = 24  # make_film's frames a second
# 64 x 48: the tiny model's working size (64) is the film's size, so the preview played and
# the export's frames are the same pixels
SIZE = (64, 48)


@pytest.fixture
def film(tmp_path):
    path = tmp_path / "flicker.mp4"
    make_film(path, frames=FRAMES, size=SIZE, acodec=None, gains=[1.0, 1.2] * (FRAMES // 2))
    return path


@pytest.fixture
def film_window(make_window, film, qtbot):  # noqa: F811
    w = make_window()
    assert w.open_photo(film)
    qtbot.waitUntil(lambda: w.film.shown_frame == 0 and not w.service.busy, timeout=WAIT)
    return w


def lightness_frames(path) -> list[np.ndarray]:
    """Each frame's L, as the window decodes it."""
    with av.open(str(path)) as c:
        return [srgb_image_lightness(grey_frame(f)) for f in c.decode(video=0)]


def prepared_frames(path, colorizer) -> list:
    return [colorizer.prepare_lightness(lt) for lt in lightness_frames(path)]


def grey_on_screen(w) -> np.ndarray:
    """The grey pane's picture, uint8 ``(H, W)`` (the result view's "before" is the same)."""
    pixmap = w.canvas._pixmap.pixmap()
    assert pixmap.cacheKey() == w.result_view._before.pixmap().cacheKey()
    img = pixmap.toImage().convertToFormat(QImage.Format.Format_Grayscale8)
    rows = np.frombuffer(img.constBits(), np.uint8).reshape(img.height(), img.bytesPerLine())
    return rows[:, :img.width()].copy()


def on_screen(w) -> tuple[int, bool]:
    """The frame the views show, and whether they all show it: the timeline is there, the
    grey pane shows its picture and the service holds that picture (the colour that comes
    is that frame's)."""
    frame = w.session.film.frame
    return frame, bool(
        w.film.shown_frame == frame and w.film.timeline.slider.value() == frame
        and w.service.prepared.lightness is w.session.photo.lightness
        and np.array_equal(grey_on_screen(w), lightness_to_grey(w.session.photo.lightness)))


class Watch:
    """What the views show while a film plays: at each colour that arrives (``coloured``:
    frame, views agree, hints shown, colour), and at each frame played that arrives from the
    decoder (``decoded``: frame, frame on screen, grey pane unchanged, no preview asked for by
    the window), checked after the play (an assertion in a slot would not fail the test)."""

    def __init__(self, w, on_colour=None):
        self.w, self.on_colour, self.watching = w, on_colour, True
        self.coloured, self.decoded = [], []
        # Functions that hold the watch: PySide holds a bound method's object weakly, and
        # a frame sent by the decoder's thread may arrive once the watch is gone.
        w.service.previewReady.connect(lambda *args: self.arrived(*args))
        w.film.source.frameReady.connect(lambda *args: self.frame(*args))  # after the window

    def arrived(self, _id, rgb, _seconds) -> None:
        w = self.w
        if self.watching and w.film.playing:
            self.coloured.append((*on_screen(w), tuple(w.session.hints), rgb))
            if self.on_colour is not None:
                self.on_colour(len(self.coloured))

    def frame(self, index, *_args) -> None:
        w = self.w
        if self.watching and w.film.playing and self.coloured:
            grey = np.array_equal(grey_on_screen(w), lightness_to_grey(w.session.photo.lightness))
            self.decoded.append((index, w.session.film.frame, grey, w.request_update() is None))

    def close(self) -> None:
        """Stop watching (left connected: a frame the decoder's thread has sent is still
        delivered, and PySide may crash delivering it to a slot disconnected meanwhile)."""
        self.watching = False

    def check(self) -> list[int]:
        """The frames shown in colour, checked to be shown one at a time, each in full, in
        order; a frame decoded to play leaves the views on the last frame shown."""
        played = [f for f, _same, _hints, _rgb in self.coloured]
        assert all(same for _f, same, _hints, _rgb in self.coloured)
        assert played == sorted(set(played))
        assert played, "no frame was shown in colour"
        shown = iter(played)
        last = next(shown)
        for index, on, grey, quiet in self.decoded:
            assert on == last and grey and quiet and index > last
            last = next(shown, last)
        return played


def play(w, qtbot, step: int) -> dict[int, np.ndarray]:
    """Play the film from frame 0, the play's clock moving ``step`` frames on each time a
    frame's colour arrives (``step`` 1: nothing dropped; 2: every other frame dropped);
    returns the colour shown of each frame played (its working-size sRGB), the views checked
    to show one frame at a time (``Watch``)."""
    now = [0.0]
    w.film.player.clock = lambda: now[0]
    watch = Watch(w, lambda count: now.__setitem__(0, (count * step + 0.5) / RATE))
    w.act_play.trigger()
    qtbot.waitUntil(lambda: not w.film.playing, timeout=WAIT)
    watch.close()
    watch.check()
    return {f: rgb for f, _same, _hints, rgb in watch.coloured}


def steadied(colorizer, frames: list, played, hints=None) -> np.ndarray:
    """The colour of the last of the frames ``played`` (numbers into ``frames``, prepared),
    steadied over them alone in that order, as the export steadies (each with its
    ``hints[i]``)."""
    steadier = temporal.Steadier()
    for i in played:
        p = frames[i]
        rgb = colorizer.preview_ab(p, () if hints is None else hints[i],
                                   steady=lambda ab, p=p: steadier.step(ab, p.work_lightness))[0]
    return rgb


def off(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(int) - b).mean())


def test_the_frames_played_have_the_exports_steady_colour(film_window, film, qtbot, tmp_path,
                                                          tiny_colorizer):
    w = film_window
    colorize_video(film, tmp_path / "master.mp4", tiny_colorizer, chroma="444", crf=0)
    with av.open(str(tmp_path / "master.mp4")) as c:
        exported = [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]
    w.film.go_to(FRAMES - 1)  # at the end: Play starts from frame 0, not on screen yet
    qtbot.waitUntil(lambda: w.film.shown_frame == FRAMES - 1 and not w.service.busy,
                    timeout=WAIT)
    shown = play(w, qtbot, step=1)
    assert sorted(shown) == list(range(FRAMES))  # the clock waited for each: none dropped
    for i in range(FRAMES):
        assert shown[i].shape == exported[i].shape
        assert np.abs(shown[i].astype(int) - exported[i]).max() <= 3  # the master's rounding
    # Each frame on its own (what Play showed before, and scrubbing shows) is another colour.
    own = [tiny_colorizer.preview(p) for p in prepared_frames(film, tiny_colorizer)]
    assert np.mean([off(own[i], exported[i]) for i in range(1, FRAMES)]) > 1.5
    assert "Played 10 of 10 frames" in w.statusBar().currentMessage()


def test_a_frame_after_dropped_ones_is_carried_from_the_last_shown(film_window, film, qtbot,
                                                                   tiny_colorizer):
    w = film_window
    last = []
    w.service.previewReady.connect(lambda _id, rgb, _s: last.append(rgb))
    shown = play(w, qtbot, step=2)  # from frame 0, on screen: its colour is asked again
    assert sorted(shown) == [0, 2, 4, 6, 8]  # frames 1, 3, 5 and 7 dropped, 9 due at the end
    frames = prepared_frames(film, tiny_colorizer)
    for i in sorted(shown):  # the export's steadying, given only the frames shown
        steady = steadied(tiny_colorizer, frames, [j for j in sorted(shown) if j <= i])
        assert np.abs(shown[i].astype(int) - steady).max() <= 1
    qtbot.waitUntil(lambda: w.film.shown_frame == FRAMES - 1 and not w.service.busy,
                    timeout=WAIT)  # the last frame, shown once the time was up
    steady = steadied(tiny_colorizer, frames, [0, 2, 4, 6, 8, FRAMES - 1])
    assert np.abs(last[-1].astype(int) - steady).max() <= 1
    assert off(last[-1], tiny_colorizer.preview(frames[FRAMES - 1])) > 1.5
    w.film.go_to(5)  # moving on: the frame on its own, as an export starting there
    qtbot.waitUntil(lambda: w.film.shown_frame == 5 and not w.service.busy, timeout=WAIT)
    assert w.film.steady is None
    assert np.abs(last[-1].astype(int) - tiny_colorizer.preview(frames[5])).max() <= 1


def test_a_frame_coloured_and_never_shown_steadies_nothing(film_window, film, qtbot,
                                                           tiny_colorizer):
    """The time is up while frame 6's colour is being made (on the service's worker, its
    steadying done): 6 is never shown, and the frame play ends on is steadied from the last
    frame shown, 4, not through 6."""
    w = film_window
    frames = prepared_frames(film, tiny_colorizer)
    colorizer, hold, last = w.service.colorizer, threading.Event(), []
    real = colorizer.preview_ab

    def slow_preview(prepared, *args, **kwargs):  # on the worker
        out = real(prepared, *args, **kwargs)
        if w.film.playing and np.array_equal(prepared.work_lightness, frames[6].work_lightness):
            w.film.player.clock = lambda: 100.0  # the time is up before its colour is shown
            hold.wait(WAIT / 1000)
        return out

    colorizer.preview_ab = slow_preview
    w.service.previewReady.connect(lambda _id, rgb, _s: last.append(rgb))
    try:
        shown = play(w, qtbot, step=2)
    finally:
        hold.set()
    assert sorted(shown) == [0, 2, 4]
    qtbot.waitUntil(lambda: w.film.shown_frame == FRAMES - 1 and not w.service.busy,
                    timeout=WAIT)
    assert w.film.steady[0].steadier.last_key == FRAMES - 1
    steady = steadied(tiny_colorizer, frames, [0, 2, 4, FRAMES - 1])
    assert np.abs(last[-1].astype(int) - steady).max() <= 1
    through = steadied(tiny_colorizer, frames, [0, 2, 4, 6, FRAMES - 1])
    assert off(last[-1], through) > 1.5  # what steadying through 6 would have shown


def test_stopped_while_a_frame_is_coloured_the_last_frame_shown_stays(film_window, film,
                                                                     qtbot, tiny_colorizer):
    """P pressed while frame 4's colour is being made: playing stops on frame 2, the last
    shown, whose picture and steady colour stay; 4 is never shown."""
    w = film_window
    frames = prepared_frames(film, tiny_colorizer)
    colorizer, hold, stopped, last = w.service.colorizer, threading.Event(), [], []
    real = colorizer.preview_ab

    def slow_preview(prepared, *args, **kwargs):  # on the worker
        out = real(prepared, *args, **kwargs)
        if not stopped and np.array_equal(prepared.work_lightness, frames[4].work_lightness):
            stopped.append(4)
            hold.wait(WAIT / 1000)
        return out

    colorizer.preview_ab = slow_preview
    w.service.previewReady.connect(lambda _id, rgb, _s: last.append(rgb))
    qtbot.waitUntil(lambda: not w.service.busy, timeout=WAIT)
    try:
        w.film.player.clock = lambda: 0.0
        watch = Watch(w, lambda count: setattr(w.film.player, "clock",
                                               lambda: (count * 2 + 0.5) / RATE))
        w.act_play.trigger()
        qtbot.waitUntil(lambda: bool(stopped), timeout=WAIT)
        w.act_play.trigger()  # Stop
        assert not w.film.playing and w.session.film.frame == 2 and not w.film.pending
    finally:
        hold.set()
    watch.close()
    assert watch.check() == [0, 2]
    qtbot.waitUntil(lambda: not w.service.busy, timeout=WAIT)
    assert on_screen(w) == (2, True) and w.film.steady[0].steadier.last_key == 2
    assert np.abs(last[-1].astype(int) - steadied(tiny_colorizer, frames, [0, 2])).max() <= 1
    assert "Played 2 of 5 frames" in w.statusBar().currentMessage()  # 0 to 4 were due


def test_without_a_model_play_shows_the_grey_frames(
        make_window, film, qtbot, monkeypatch, tmp_path):  # noqa: F811
    import colouru.colorizer

    monkeypatch.setattr(colouru.colorizer, "bundled_model_path", lambda: tmp_path / "none")
    w = make_window(model=None)
    assert w.open_photo(film)
    qtbot.waitUntil(lambda: w.film.shown_frame == 0, timeout=WAIT)
    ticks = iter(range(10_000))
    w.film.player.clock = lambda: next(ticks) / RATE  # a frame on at each look
    w.film.go_to(3)
    qtbot.waitUntil(lambda: w.film.shown_frame == 3, timeout=WAIT)
    w.act_play.trigger()
    qtbot.waitUntil(lambda: not w.film.playing, timeout=WAIT)
    qtbot.waitUntil(lambda: w.film.shown_frame == FRAMES - 1, timeout=WAIT)
    assert w.session.film.frame == FRAMES - 1
    assert f"of {FRAMES - 3} frames in colour" in w.statusBar().currentMessage()


PAN = 36  # frames of the film played while the hints are carried slowly


def test_play_shows_frames_while_the_hints_are_carried_slower_than_the_film(
        make_window, tmp_path, qtbot, monkeypatch, tiny_colorizer):  # noqa: F811
    """Carrying the hints takes longer than the film's time (here one frame carried while
    three are due, the carrying held back by the test): Play asks for the newest frame the
    hints are carried to rather than wait for the frame due, so it shows frame after frame,
    each further on, each with its own grey picture and hint marks; the frame it ends on is
    steadied over the frames shown."""
    path = tmp_path / "pan.mp4"
    make_film(path, frames=PAN, size=SIZE, acodec=None)
    gate, opened = threading.Semaphore(0), threading.Event()
    real = film_frames.FrameSource._carry_step

    def slow_carry(source, *args):
        """A frame carried for each frame shown; a step not begun gives way to a frame asked
        for meanwhile (the frame asked for is sent first)."""
        while not opened.is_set() and not gate.acquire(timeout=0.01):
            if source._wanted is not None:
                return
        real(source, *args)

    monkeypatch.setattr(film_frames.FrameSource, "_carry_step", slow_carry)
    w = make_window()
    try:
        assert w.open_photo(path)
        key = (Hint(8, 8, 6, (-30.0, 40.0)),)
        w.session.put_keyframes({0: key}, 0)
        qtbot.waitUntil(lambda: w.film.shown_frame == 0 and not w.service.busy, timeout=WAIT)
        now, last = [0.0], []
        w.film.player.clock = lambda: now[0]
        w.service.previewReady.connect(lambda _id, rgb, _s: last.append(rgb))

        def on_colour(_count):  # three frames due while one is carried
            now[0] += 3 / RATE
            gate.release()

        watch = Watch(w, on_colour)
        w.act_play.trigger()
        qtbot.waitUntil(lambda: not w.film.playing, timeout=WAIT)
        watch.close()
        assert f"of {PAN} frames in colour" in w.statusBar().currentMessage()
    finally:
        opened.set()
    played = watch.check()
    assert len(played) >= 6 and played[0] == 0 and len(watch.decoded) == len(played) - 1
    # The hint marks are the frame's own: the keyframe's carried there as the export does.
    lightness = lightness_frames(path)
    frames = [tiny_colorizer.prepare_lightness(lt) for lt in lightness]
    carried, flow = [key], temporal.new_flow()
    for i in range(1, PAN):
        motion = temporal.estimate_motion(frames[i - 1].work_lightness,
                                          frames[i].work_lightness, flow)
        carried.append(tuple(temporal.move_hints(list(carried[-1]), motion, lightness[i].shape)))
    for i, _same, hints, rgb in watch.coloured:
        assert hints == carried[i]
        steady = steadied(tiny_colorizer, frames, [j for j in played if j <= i], carried)
        assert np.abs(rgb.astype(int) - steady).max() <= 1
    qtbot.waitUntil(lambda: w.film.shown_frame == PAN - 1 and not w.service.busy,
                    timeout=WAIT)  # the hints carried on to the end once the time is up
    assert w.film.steady[0].steadier.last_key == PAN - 1
    steady = steadied(tiny_colorizer, frames, [*played, PAN - 1], carried)
    assert np.abs(last[-1].astype(int) - steady).max() <= 1
