"""Play shows the export's colour: the frames played in the window are steadied from frame to
frame as the export steadies them (``temporal.Steadier`` in play order, at the working size),
not coloured each on its own; with frames dropped the colour is carried from the last frame
shown; a frame moved to afterwards is coloured on its own. A real tiny film whose exposure
flickers, the real window offscreen, and a clock the test moves on (nothing timed)."""

from __future__ import annotations

import numpy as np
import pytest
from test_gui_app import WAIT, dialogs, make_window  # noqa: F401 (fixtures)
from test_video import make_film

from colouru import temporal
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


def prepared_frames(path, colorizer) -> list:
    with av.open(str(path)) as c:
        return [colorizer.prepare(grey_frame(f)) for f in c.decode(video=0)]


def play(w, qtbot, step: int) -> dict[int, np.ndarray]:
    """Play the film from frame 0, the play's clock moving ``step`` frames on each time a
    frame's colour arrives (``step`` 1: nothing dropped; 2: every other frame dropped);
    returns the colour shown of each frame played (its working-size sRGB)."""
    now, shown = [0.0], {}
    w.film.clock = lambda: now[0]

    def arrived(_id, rgb, _seconds):
        if w.film.playing and w.film.shown_frame == w.session.film.frame:
            shown[w.session.film.frame] = rgb
            now[0] = (len(shown) * step + 0.5) / RATE

    w.service.previewReady.connect(arrived)
    w.act_play.trigger()
    qtbot.waitUntil(lambda: not w.film.playing, timeout=WAIT)
    w.service.previewReady.disconnect(arrived)
    return shown


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
    steadier = temporal.Steadier()

    def steady(i):  # the export's steadying, given only the frames shown
        p = frames[i]
        return tiny_colorizer.preview_ab(p, steady=lambda ab: steadier.step(
            ab, p.work_lightness))[0]

    for i in sorted(shown):
        assert np.abs(shown[i].astype(int) - steady(i)).max() <= 1
    qtbot.waitUntil(lambda: w.film.shown_frame == FRAMES - 1 and not w.service.busy,
                    timeout=WAIT)  # the last frame, shown once the time was up
    assert np.abs(last[-1].astype(int) - steady(FRAMES - 1)).max() <= 1
    assert off(last[-1], tiny_colorizer.preview(frames[FRAMES - 1])) > 1.5
    w.film.go_to(5)  # moving on: the frame on its own, as an export starting there
    qtbot.waitUntil(lambda: w.film.shown_frame == 5 and not w.service.busy, timeout=WAIT)
    assert w.film.steady is None
    assert np.abs(last[-1].astype(int) - tiny_colorizer.preview(frames[5])).max() <= 1
