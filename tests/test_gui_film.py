"""Films in the app, driven like a user would on a real tiny film made here: open it, scrub the
timeline (keys and the slider), place a hint on a frame (a keyframe, undoable), play, export
the hints and the film; the exported film equals the command line's on the same hints file."""

from __future__ import annotations

import time

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication
from test_gui_app import WAIT, click, dialogs, make_window  # noqa: F401 (fixtures)
from test_video import make_film

from colouru.cli import main as cli_main
from colouru.hints import Hint
from colouru.video_hints import load_video_hints

av = pytest.importorskip("av")
pytestmark = pytest.mark.gui

FRAMES = 30  # at 24 frames/s: Shift+arrows step a second (24 frames)


@pytest.fixture
def film(tmp_path):
    path = tmp_path / "film.mp4"
    make_film(path, frames=FRAMES, size=(96, 72), acodec=None)
    return path


def settle(qtbot, w):
    qtbot.waitUntil(lambda: not w.service.busy, timeout=WAIT)


def shown(qtbot, w, frame: int) -> None:
    """Wait until ``frame`` is on screen (its picture decoded) and its colour is settled."""
    qtbot.waitUntil(lambda: w.film.shown_frame == frame, timeout=WAIT)
    settle(qtbot, w)


@pytest.fixture
def film_window(make_window, film, qtbot):  # noqa: F811
    w = make_window()
    assert w.open_photo(film)  # File > Open takes films too
    shown(qtbot, w, 0)
    return w


def decoded(path) -> list[np.ndarray]:
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def test_a_film_opens_with_its_timeline_and_a_result(film_window, film):
    w = film_window
    assert w.session.film is not None and w.session.film.frames == FRAMES
    assert w.film.timeline.isVisible() and w.film.timeline.slider.maximum() == FRAMES - 1
    assert w.session.image_hw == (72, 96)
    assert w.result_view.result is not None  # the first frame in colour
    assert "frame 0 / 29" in w.film.timeline.label.text()
    assert w.act_export_film.isEnabled() and w.act_play.isEnabled()


def test_scrubbing_with_keys_and_the_slider_decodes_in_the_background(film_window, qtbot):
    w = film_window
    first = w.session.photo.lightness.copy()
    w.canvas.setFocus()
    qtbot.keyClick(w.canvas, Qt.Key.Key_Right)
    assert w.session.film.frame == 1  # at once: the picture follows from the decoder
    shown(qtbot, w, 1)
    assert not np.array_equal(w.session.photo.lightness, first)  # the film pans
    qtbot.keyClick(w.canvas, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert w.session.film.frame == 25  # a second on (24 frames)
    qtbot.keyClick(w.canvas, Qt.Key.Key_End)
    assert w.session.film.frame == FRAMES - 1
    qtbot.keyClick(w.canvas, Qt.Key.Key_Left)
    assert w.session.film.frame == FRAMES - 2
    qtbot.keyClick(w.canvas, Qt.Key.Key_Home)
    assert w.session.film.frame == 0
    for value in (3, 9, 17, 12):  # a drag along the slider: only the newest frame matters
        w.film.timeline.slider.setValue(value)
    assert w.session.film.frame == 12
    shown(qtbot, w, 12)
    assert w.film.timeline.slider.value() == 12 and "frame 12 / 29" in (
        w.film.timeline.label.text())


def test_a_hint_makes_a_keyframe_held_until_the_next_and_undo_removes_it(film_window, qtbot):
    w = film_window
    w.act_keep_colour.setChecked(True)
    w.film.go_to(5)
    shown(qtbot, w, 5)
    w.session.set_current_ab((-40.0, 30.0))
    click(qtbot, w.canvas, 30, 30)
    assert set(w.session.film.keyframes) == {5} and len(w.session.hints) == 1
    assert w.film.timeline.slider.keys == [5]
    placed = w.session.hints[0]
    w.film.go_to(12)
    assert w.session.hints == (placed,)  # at once: keyframe 5's, held where placed
    shown(qtbot, w, 12)  # then carried along the motion, as the export carries them
    assert "keyframe 5 carried along the motion" in w.film.timeline.label.text()
    (moved,) = w.session.hints
    # The picture pans 2 px left and 1 up a frame: 7 frames on, about 14 and 7 px.
    assert abs(moved.x - (placed.x - 14)) <= 2 and abs(moved.y - (placed.y - 7)) <= 2
    assert set(w.session.film.keyframes) == {5}  # carrying changes no keyframe
    w.film.go_to(2)
    assert w.session.hints == ()  # before the first keyframe: none
    w.act_undo.trigger()  # the hint was placed on frame 5: undo goes back there
    assert w.session.film.frame == 5 and w.session.film.keyframes == {}
    w.act_redo.trigger()
    assert set(w.session.film.keyframes) == {5}
    w.film.go_to(20)
    w.act_add_key.trigger()  # K: frame 20 holds keyframe 5's hints as its own
    assert set(w.session.film.keyframes) == {5, 20}
    w.act_delete_key.trigger()
    assert set(w.session.film.keyframes) == {5}
    w.act_undo.trigger()
    assert set(w.session.film.keyframes) == {5, 20}
    w.act_prev_key.trigger()
    assert w.session.film.frame == 5
    w.film.go_to(8)
    w.act_move_key.trigger()  # keyframe 5 moves to frame 8, its hints as placed
    assert w.session.film.keyframes == {8: (placed,), 20: w.session.film.keyframes[20]}
    w.act_undo.trigger()
    assert set(w.session.film.keyframes) == {5, 20} and w.session.film.frame == 8


def test_play_shows_colour_frames_in_order_and_keeps_time(film_window, qtbot):
    w = film_window
    frames_seen = []
    w.service.previewReady.connect(lambda *_: frames_seen.append(w.session.film.frame))
    t0 = time.perf_counter()
    w.act_play.trigger()
    assert w.film.playing
    qtbot.waitUntil(lambda: not w.film.playing, timeout=WAIT)
    # On time whatever the machine: frames it cannot colour in time are dropped.
    assert time.perf_counter() - t0 < FRAMES / 24 + 2
    assert frames_seen == sorted(frames_seen)
    assert w.session.film.frame == FRAMES - 1  # the last frame stays on screen
    # the count says every frame of the range was due, those shown and those dropped
    assert f"of {FRAMES} frames in colour" in w.statusBar().currentMessage()
    shown(qtbot, w, FRAMES - 1)
    w.film.go_to(10)
    w.act_add_key.trigger()
    w.act_first_frame.trigger()
    w.act_play_key.trigger()  # the range from here to the next keyframe
    qtbot.waitUntil(lambda: not w.film.playing, timeout=WAIT)
    assert w.session.film.frame == 10


def test_exported_film_equals_the_command_line_on_the_same_hints_file(
        film_window, film, dialogs, qtbot, tmp_path, tiny_model_path):  # noqa: F811
    w = film_window
    w.act_keep_colour.setChecked(True)
    for frame, (x, y), ab in [(0, (20, 20), (-50.0, 40.0)), (15, (70, 50), (40.0, 30.0))]:
        w.film.go_to(frame)
        shown(qtbot, w, frame)
        w.session.set_current_ab(ab)
        click(qtbot, w.canvas, x, y)
        w.session.select(None)
    dialogs.save_file = tmp_path / "hints.json"
    w.act_export.trigger()  # File > Export Hints: the film's hints file
    doc = load_video_hints(tmp_path / "hints.json")
    assert sorted(doc.frames) == [0, 15] and isinstance(doc.frames[15][0], Hint)
    dialogs.save_file = tmp_path / "app.mp4"
    w.act_export_film.trigger()
    assert (tmp_path / "app.mp4").is_file(), dialogs.calls
    assert cli_main(["colorize", str(film), "-o", str(tmp_path / "cli"), "--model",
                     str(tiny_model_path), "--hints", str(tmp_path / "hints.json"),
                     "--device", "cpu", "-q"]) == 0
    app, cli = decoded(tmp_path / "app.mp4"), decoded(tmp_path / "cli" / "film.mp4")
    assert len(app) == len(cli) == FRAMES
    for a, c in zip(app, cli, strict=True):
        np.testing.assert_array_equal(a, c)
    assert float(np.abs(app[0].astype(int) - app[0].mean(2, keepdims=True)).mean()) > 1


def test_importing_a_film_hints_file_is_one_undo_step(film_window, tmp_path):
    w = film_window
    from colouru.video_hints import save_video_hints

    save_video_hints(tmp_path / "h.json", {3: [Hint(10, 10, 5, ab=(20.0, 20.0))], 40: []},
                     (96, 72), saturation=1.5)
    assert w.import_hints(tmp_path / "h.json")
    assert set(w.session.film.keyframes) == {3} and w.session.saturation == 1.5
    w.act_undo.trigger()
    assert w.session.film.keyframes == {} and w.session.saturation == 1.0


def test_a_film_dropped_on_the_window_opens_and_a_photo_after_it_ends_the_film(
        make_window, film, qtbot, tmp_path):  # noqa: F811
    from conftest import gradient_photo
    from PIL import Image

    w = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(film))])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(QPoint(20, 20), *args)
    w.dragEnterEvent(enter)
    w.dropEvent(QDropEvent(QPointF(20, 20), *args))
    assert w.session.film is not None and w.film.timeline.isVisible()
    photo = tmp_path / "p.png"
    Image.fromarray(gradient_photo(40, 60)).save(photo)
    assert w.open_photo(photo)
    assert w.session.film is None and not w.film.timeline.isVisible()
    assert not w.act_export_film.isEnabled()


def test_a_file_that_is_no_film_is_one_error(make_window, dialogs, tmp_path):  # noqa: F811
    w = make_window()
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\0" * 100)
    assert not w.open_photo(bad)
    assert dialogs.kinds() == ["critical"] and w.session.film is None


def test_keyframes_are_autosaved_and_offered_back_after_a_crash(
        film_window, make_window, film, dialogs, qtbot):  # noqa: F811
    from test_gui_app import _crash_and_recover

    w = film_window
    w.act_keep_colour.setChecked(True)
    w.film.go_to(7)
    shown(qtbot, w, 7)
    click(qtbot, w.canvas, 40, 30)
    keys = dict(w.session.film.keyframes)
    assert set(keys) == {7}
    again = _crash_and_recover(w, make_window, dialogs)
    assert again.session.film is not None and again.session.film.keyframes == keys
    again.act_undo.trigger()  # the recovery is one undo step
    assert again.session.film.keyframes == {}


def test_cancelling_an_export_leaves_nothing(film_window, qtbot, tmp_path, monkeypatch):
    import threading

    import colouru.gui.film_service as film_service
    from colouru.video import parts_folder

    w = film_window
    real, cancelled = film_service.colorize_video, threading.Event()

    def held(*args, progress, **kwargs):  # the export waits after its first frame
        def slow(done, total):
            progress(done, total)
            cancelled.wait(10)
        return real(*args, progress=slow, **kwargs)

    monkeypatch.setattr(film_service, "colorize_video", held)
    dst = tmp_path / "out.mp4"
    seen = []

    def cancel():
        if "frame" not in w.task_bar.label.text():  # the first frame is not written yet
            QTimer.singleShot(50, cancel)
            return
        seen.append(w.task_bar.label.text())
        w.task_bar.cancel_button.click()
        cancelled.set()

    QTimer.singleShot(100, cancel)
    assert not w.film.export(dst)
    assert "cancelled" in w.statusBar().currentMessage()
    assert seen[0].startswith("Exporting out.mp4: frame 1 of 30, ") and seen[0].endswith("left")
    qtbot.waitUntil(lambda: not parts_folder(dst).exists(), timeout=WAIT)
    assert not dst.exists()


def test_another_model_colours_the_frame_shown_again(film_window, qtbot, tiny_model_path):
    w = film_window
    w.film.go_to(6)
    shown(qtbot, w, 6)
    with qtbot.waitSignal(w.service.previewReady, timeout=WAIT):
        assert w.load_model(tiny_model_path)
    shown(qtbot, w, 6)
    assert w.session.film.frame == 6 and w.result_view.result is not None


def test_a_slow_decoder_never_holds_up_the_window(film_window, qtbot, monkeypatch):
    import threading

    from colouru.gui import film_frames

    w = film_window
    gate, real = threading.Event(), film_frames.FrameReader.grey
    monkeypatch.setattr(film_frames.FrameReader, "grey",
                        lambda self, i: gate.wait(10) and real(self, i))
    w.film.go_to(10)  # returns at once: the frame is decoded on the source's thread
    w.canvas.setFocus()
    qtbot.keyClick(w.canvas, Qt.Key.Key_Right)  # the window answers meanwhile
    assert w.session.film.frame == 11 and w.film.shown_frame == 0
    gate.set()
    shown(qtbot, w, 11)  # the newest frame asked for is the one shown


def test_the_export_runs_the_network_in_torch_as_the_command_line_does(
        make_window, dialogs, qtbot, tmp_path, tiny_model_path):  # noqa: F811
    """The app's previews may run in ONNX Runtime, and a film's batch of one frame would too
    (the command line's runs torch): the export runs torch. (With the tiny model the two
    runtimes happen to give the same film, so this guards the equality, not the cause.)"""
    pytest.importorskip("onnxruntime")
    path = tmp_path / "nine.mp4"  # a batch of 8 frames, then one of 1
    make_film(path, frames=9, size=(96, 72), acodec=None)
    w = make_window()
    assert w.open_photo(path)
    shown(qtbot, w, 0)
    if w.service.colorizer.use_runtime("onnx") != "onnx":
        pytest.skip("ONNX Runtime does not run this network here")
    w.film.go_to(8)
    shown(qtbot, w, 8)
    w.act_keep_colour.setChecked(True)
    w.session.set_current_ab((30.0, -30.0))
    click(qtbot, w.canvas, 40, 30)
    w.film.export_hints(tmp_path / "h.json")
    assert w.film.export(tmp_path / "app.mp4")
    assert w.service.colorizer.onnx is not None  # the previews keep their runtime
    assert cli_main(["colorize", str(path), "-o", str(tmp_path / "cli"), "--model",
                     str(tiny_model_path), "--hints", str(tmp_path / "h.json"), "--device",
                     "cpu", "-q"]) == 0
    for a, c in zip(decoded(tmp_path / "app.mp4"), decoded(tmp_path / "cli" / "nine.mp4"),
                    strict=True):
        np.testing.assert_array_equal(a, c)


def test_keyframes_are_copied_pasted_and_dragged_on_the_timeline_all_undoable(film_window,
                                                                              qtbot):
    w = film_window
    w.act_keep_colour.setChecked(True)
    w.film.go_to(5)
    shown(qtbot, w, 5)
    click(qtbot, w.canvas, 30, 30)
    placed = w.session.film.keyframes[5]
    w.canvas.setFocus()
    qtbot.keyClick(w.canvas, Qt.Key.Key_C, Qt.KeyboardModifier.ControlModifier)  # Copy Hints
    w.film.go_to(20)
    qtbot.keyClick(w.canvas, Qt.Key.Key_V, Qt.KeyboardModifier.ControlModifier)  # Paste
    assert w.session.film.keyframes == {5: placed, 20: placed}
    assert w.session.hints == placed and w.film.timeline.slider.keys == [5, 20]
    w.act_undo.trigger()
    assert w.session.film.keyframes == {5: placed}
    # Keyframe 5's mark dragged along the timeline to frame 12: it moves there.
    slider = w.film.timeline.slider
    y = slider.height() - 3
    qtbot.mousePress(slider, Qt.MouseButton.LeftButton, pos=QPoint(slider.x_of(5), y))
    qtbot.mouseMove(slider, QPoint(slider.x_of(12), y))
    qtbot.mouseRelease(slider, Qt.MouseButton.LeftButton, pos=QPoint(slider.x_of(12), y))
    assert w.session.film.keyframes == {12: placed} and w.session.film.frame == 12
    w.act_undo.trigger()
    assert w.session.film.keyframes == {5: placed}
    w.act_redo.trigger()
    assert w.session.film.keyframes == {12: placed}
    # A press on the groove away from the marks still moves along the film.
    qtbot.mouseClick(slider, Qt.MouseButton.LeftButton, pos=QPoint(slider.x_of(25), 4))
    assert w.session.film.keyframes == {12: placed}


def test_a_frame_on_its_way_is_not_coloured_and_the_label_keeps_its_width(film_window, qtbot):
    w = film_window
    w.act_keep_colour.setChecked(True)
    click(qtbot, w.canvas, 30, 30)  # keyframe 0
    width = w.film.timeline.slider.width()
    w.film.go_to(12)
    # The last frame's picture is still there: no preview of it with this frame's hints,
    # and the label says the hints are on their way, not held.
    assert w.film.pending and w.request_update() is None
    assert "keyframe 0, being carried here" in w.film.timeline.label.text()
    shown(qtbot, w, 12)
    assert "keyframe 0 carried along the motion" in w.film.timeline.label.text()
    w.film.go_to(0)
    shown(qtbot, w, 0)
    assert w.film.timeline.label.text().endswith("keyframe")
    assert w.film.timeline.slider.width() == width  # the handle does not jump


def test_an_exported_range_equals_the_command_lines_range(
        film_window, film, dialogs, qtbot, tmp_path, tiny_model_path):  # noqa: F811
    w = film_window
    w.act_keep_colour.setChecked(True)
    w.session.set_current_ab((-50.0, 40.0))
    click(qtbot, w.canvas, 20, 20)  # keyframe 0: carried into the range
    w.film.export_hints(tmp_path / "hints.json")
    assert not w.film.export_range(tmp_path / "none.mp4")  # no range set yet
    w.film.go_to(17)
    w.act_range_end.trigger()  # Shift+O
    w.film.go_to(6)
    w.act_range_start.trigger()  # Shift+I
    assert w.film.timeline.slider.span == (6, 17)
    assert "--start 6 --end 18" in w.statusBar().currentMessage()
    dialogs.save_file = tmp_path / "app.mp4"
    w.act_export_range.trigger()
    assert (tmp_path / "app.mp4").is_file(), dialogs.calls
    assert cli_main(["colorize", str(film), "-o", str(tmp_path / "cli"), "--model",
                     str(tiny_model_path), "--hints", str(tmp_path / "hints.json"),
                     "--start", "6", "--end", "18", "--device", "cpu", "-q"]) == 0
    app, cli = decoded(tmp_path / "app.mp4"), decoded(tmp_path / "cli" / "film.mp4")
    assert len(app) == len(cli) == 12
    for a, c in zip(app, cli, strict=True):
        np.testing.assert_array_equal(a, c)
    w.act_range_clear.trigger()
    assert w.film.timeline.slider.span is None and not w.session.film.has_range


def test_while_playing_the_hints_are_carried_ahead_as_they_would_be_afresh(film, qtbot,
                                                                         monkeypatch):
    """Playing asks for a frame with ``ahead``: the source goes on carrying the hints through
    the frames after it while the window colours that one, so a frame asked for later (the
    ones between dropped) needs no carrying, and its hints are those carried afresh."""
    from colouru.gui import film_frames

    def prepare(lightness):
        return lightness[::2, ::2].copy()

    keys = {3: (Hint(70, 50, 12, (-30.0, 20.0)),)}
    got = {}

    def ready(index, _l, _i, _p, _s, hints, how):
        got[index] = (hints, how)

    flows = []
    real = film_frames.estimate_motion
    monkeypatch.setattr(film_frames, "estimate_motion", lambda *a: flows.append(1) or real(*a))
    playing = film_frames.FrameSource(film)
    playing.frameReady.connect(ready)
    playing.request(5, prepare, keys, lambda p: p, ahead=20)
    qtbot.waitUntil(lambda: playing.carried_to() == 25, timeout=WAIT)
    assert got[5][1] == "carried" and len(flows) == 22  # frames 4 to 25
    playing.request(19, prepare, keys, lambda p: p, ahead=6)
    qtbot.waitUntil(lambda: 19 in got, timeout=WAIT)
    assert len(flows) == 22  # frame 19 was carried already: no flow more
    playing.stop_ahead()
    playing.close()
    afresh = film_frames.FrameSource(film)
    afresh.frameReady.connect(lambda index, *a: got.__setitem__(("afresh", index), a[-2:]))
    afresh.request(19, prepare, keys, lambda p: p)
    qtbot.waitUntil(lambda: ("afresh", 19) in got, timeout=WAIT)
    afresh.close()
    assert afresh.carried_to() == 19  # nothing asked ahead: carried no further
    assert got[19] == got[("afresh", 19)] and got[19][1] == "carried" and got[19][0]
    # Ahead stops before the next keyframe: it starts afresh there.
    keys2 = {**keys, 10: (Hint(10, 10, 12, (20.0, 20.0)),)}
    source = film_frames.FrameSource(film)
    source.request(4, prepare, keys2, lambda p: p, ahead=20)
    qtbot.waitUntil(lambda: source.carried_to() == 9, timeout=WAIT)
    source.close()


def test_play_plays_the_range_when_one_is_set(film_window, qtbot):
    w = film_window
    w.film.go_to(8)
    w.act_range_start.trigger()
    w.film.go_to(14)
    w.act_range_end.trigger()
    w.film.go_to(20)  # outside the range: P plays it from its first frame
    frames = []
    w.session.subscribe(lambda _what: frames.append(w.session.film.frame))
    x = w.film.timeline.slider.x()
    w.act_play.trigger()  # the frames move on as their colour arrives: frame 20 until then
    assert w.film.playing and w.session.film.frame == 20
    QApplication.processEvents()  # the button says Stop: the slider stays where it was
    assert w.film.timeline.slider.x() == x
    qtbot.waitUntil(lambda: not w.film.playing, timeout=WAIT)
    assert w.session.film.frame == 14 and min(frames) == 8 and max(frames) == 14
    assert "of 7 frames in colour" in w.statusBar().currentMessage()
    w.film.go_to(11)  # inside it: from here to its end
    w.act_play.trigger()
    assert w.session.film.frame == 11
    qtbot.waitUntil(lambda: not w.film.playing, timeout=WAIT)
    assert w.session.film.frame == 14
    w.act_range_clear.trigger()
    w.film.go_to(20)
    w.act_play.trigger()  # no range: to the film's end
    qtbot.waitUntil(lambda: not w.film.playing, timeout=WAIT)
    assert w.session.film.frame == FRAMES - 1


def test_the_range_is_autosaved_with_the_keyframes(
        film_window, make_window, dialogs, qtbot):  # noqa: F811
    from test_gui_app import _crash_and_recover

    w = film_window
    w.act_keep_colour.setChecked(True)
    click(qtbot, w.canvas, 40, 30)  # keyframe 0
    w.film.go_to(4)
    w.act_range_start.trigger()
    w.film.go_to(9)
    w.act_range_end.trigger()
    again = _crash_and_recover(w, make_window, dialogs)
    film = again.session.film
    assert (film.range_start, film.range_end) == (4, 9) and set(film.keyframes) == {0}
    assert again.film.timeline.slider.span == (4, 9)
    again.act_range_clear.trigger()  # cleared: gone from the autosave too
    assert again.recovery.load_film_range(film.path) == (None, None)
