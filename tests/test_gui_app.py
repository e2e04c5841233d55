"""The desktop app driven like a user would: clicks, drags, keys, menus, dialogs (replaced)."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import gradient_photo
from PIL import Image
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QTimer, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import (
    QApplication,
    QColorDialog,
    QFileDialog,
    QInputDialog,
    QMessageBox,
)

from colouru import Hint, load_hints
from colouru.cli import main as cli_main
from colouru.gui import dialogs as gui_dialogs
from colouru.gui.colours import ab_to_rgb8
from colouru.gui.main_window import MainWindow
from colouru.hints import hint_box

pytestmark = pytest.mark.gui
Btn = QMessageBox.StandardButton
WAIT = 10_000  # ms; results normally arrive in a few


class Dialogs:
    """Stands in for every modal dialog: records calls and gives set answers."""

    def __init__(self, monkeypatch):
        self.calls: list[tuple[str, str]] = []
        self.answers = {"warning": Btn.Cancel, "question": Btn.No}
        self.open_file = self.save_file = ""
        self.colour = None
        for name in ("critical", "warning", "question", "information"):
            monkeypatch.setattr(QMessageBox, name, staticmethod(
                lambda *a, _n=name: self._box(_n, a)))
        monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(
            lambda *a, **k: self._file("open", self.open_file)))
        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(
            lambda *a, **k: self._file("save", self.save_file)))
        monkeypatch.setattr(QColorDialog, "getColor", staticmethod(lambda *a, **k: self.colour))
        monkeypatch.setattr(gui_dialogs, "_ask", lambda kind, parent, title, text, *a:
                            self._box(kind, (parent, title, text)))
        monkeypatch.setattr(QInputDialog, "getInt", staticmethod(
            lambda *a, **k: self._int(a)))
        self.quality = 80

    def _int(self, args):
        self.calls.append(("int", str(args[1])))
        return self.quality, self.quality is not None

    def _box(self, kind, args):
        self.calls.append((kind, str(args[2]) if len(args) > 2 else ""))
        return self.answers.get(kind, Btn.Ok)

    def _file(self, kind, answer):
        self.calls.append((kind, str(answer)))
        return str(answer), ""

    def kinds(self) -> list[str]:
        return [k for k, _ in self.calls]


@pytest.fixture
def dialogs(monkeypatch):
    return Dialogs(monkeypatch)


@pytest.fixture
def photo(tmp_path):
    """A 96 x 128 photo: larger than the tiny model's working size (64), so saving goes
    through the full-resolution path."""
    p = tmp_path / "photo.png"
    Image.fromarray(gradient_photo(96, 128)).save(p)
    return p


@pytest.fixture
def make_window(qtbot, gui_settings, tiny_model_path, dialogs, tmp_path):
    made = []

    def make(model=str(tiny_model_path)):
        w = MainWindow(model=model, device="cpu", settings=gui_settings,
                       recovery_dir=tmp_path / "recovery")
        w.resize(1200, 700)
        w.show()
        qtbot.waitExposed(w)
        made.append(w)
        return w

    yield make
    for w in made:
        dialogs.answers["warning"] = Btn.Discard
        w.close()
        w.service.shutdown()
        w.deleteLater()


@pytest.fixture
def window(make_window, photo, qtbot):
    w = make_window()
    with qtbot.waitSignal(w.service.previewReady, timeout=WAIT):
        assert w.open_photo(photo)
    qtbot.waitUntil(lambda: not w.service.busy, timeout=WAIT)
    return w


def keep_colour(w, keep=True):
    """Edit > New Hints Keep the Last Colour: clicks then place hints of the current colour."""
    w.act_keep_colour.setChecked(keep)


def settle(qtbot, w):
    qtbot.waitUntil(lambda: not w.service.busy, timeout=WAIT)


def vpos(view, x, y) -> QPoint:
    return view.mapFromScene(QPointF(x + 0.5, y + 0.5))


def click(qtbot, view, x, y, button=Qt.MouseButton.LeftButton):
    qtbot.mouseClick(view.viewport(), button, pos=vpos(view, x, y))


def drag(qtbot, view, start, end):
    vp = view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=vpos(view, *start))
    for t in (0.3, 0.7, 1.0):
        x = start[0] + t * (end[0] - start[0])
        y = start[1] + t * (end[1] - start[1])
        qtbot.mouseMove(vp, pos=vpos(view, x, y))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=vpos(view, *end))


# --- opening ---------------------------------------------------------------------------------
def test_open_shows_the_photo_in_grey_and_a_result(window, photo):
    w = window
    assert w.session.photo.hw == (96, 128)
    assert photo.name in w.windowTitle()
    assert w.result_view.result is not None
    assert w.settings.recent_files()[0] == str(photo.resolve())
    assert "cpu" in w.lbl_device.text() and w.lbl_update.text().startswith("Updated")
    before = w.result_view._before.pixmap().toImage()
    assert before.isGrayscale()


def test_unreadable_file_shows_an_error_and_the_app_keeps_going(window, dialogs, tmp_path, qtbot):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"this is not a PNG")
    dialogs.open_file = bad
    window.act_open.trigger()
    assert dialogs.kinds() == ["open", "critical"]
    assert "broken.png" in dialogs.calls[-1][1]
    assert window.isVisible() and window.session.photo.path.name == "photo.png"
    click(qtbot, window.canvas, 20, 20)  # still usable
    assert len(window.session.hints) == 1


def test_drop_a_photo_onto_the_window(make_window, photo, qtbot):
    w = make_window()
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo))])
    args = (Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
            Qt.KeyboardModifier.NoModifier)
    enter = QDragEnterEvent(QPoint(20, 20), *args)  # QDragEnterEvent takes an integer point
    enter.ignore()
    w.dragEnterEvent(enter)  # Qt delivers these only during a real drag, so call directly
    assert enter.isAccepted()
    w.dropEvent(QDropEvent(QPointF(20, 20), *args))
    assert w.session.photo is not None and w.session.photo.path == photo


# --- hints with the mouse --------------------------------------------------------------------
def test_click_adds_a_hint_of_the_current_colour_and_size(window, qtbot):
    w = window
    keep_colour(w)
    w.session.set_current_ab((-40.0, 50.0))
    w.colour_panel.size_slider.setValue(4)
    click(qtbot, w.canvas, 30, 40)
    (h,) = w.session.hints
    assert (h.x, h.y, h.ab) == (30, 40, (-40.0, 50.0))
    assert h.size == w.session.size_to_image(4) == 8.0
    assert w.session.selected == 0


def test_click_on_a_hint_selects_it_and_its_colour_becomes_current(window, qtbot):
    w = window
    keep_colour(w)
    w.session.set_current_ab((30.0, 30.0))
    click(qtbot, w.canvas, 30, 40)
    w.session.set_current_ab((-20.0, -20.0))
    w.session.select(None)
    click(qtbot, w.canvas, 90, 60)
    assert len(w.session.hints) == 2 and w.session.selected == 1
    click(qtbot, w.canvas, 31, 41)  # inside the first square: select, not add
    assert len(w.session.hints) == 2 and w.session.selected == 0
    assert w.session.current_ab == (30.0, 30.0)


def test_drag_moves_a_hint_in_one_undo_step(window, qtbot):
    w = window
    click(qtbot, w.canvas, 30, 40)
    steps = w.undo.count()
    drag(qtbot, w.canvas, (30, 40), (70, 20))
    (h,) = w.session.hints
    assert (h.x, h.y) == (70, 20)
    assert w.undo.count() == steps + 1
    w.act_undo.trigger()
    assert (w.session.hints[0].x, w.session.hints[0].y) == (30, 40)


def test_right_click_and_delete_key_remove_hints(window, qtbot):
    w = window
    for x in (20, 60, 100):
        click(qtbot, w.canvas, x, 50)
    click(qtbot, w.canvas, 60, 50, Qt.MouseButton.RightButton)
    assert [h.x for h in w.session.hints] == [20, 100]
    click(qtbot, w.canvas, 20, 50)  # select
    qtbot.keyClick(w.canvas, Qt.Key.Key_Delete)
    assert [h.x for h in w.session.hints] == [100]
    w.act_clear.trigger()
    assert w.session.hints == ()


def test_undo_and_redo_restore_the_exact_hint_list(window, qtbot):
    w = window
    snapshots = [w.session.hints]
    click(qtbot, w.canvas, 20, 20)
    snapshots.append(w.session.hints)
    click(qtbot, w.canvas, 80, 60)
    snapshots.append(w.session.hints)
    drag(qtbot, w.canvas, (80, 60), (90, 70))
    snapshots.append(w.session.hints)
    w.editor.set_colour((-35.5, 22.25))  # the selected (second) hint takes it
    snapshots.append(w.session.hints)
    w.colour_panel.size_slider.setValue(7)
    snapshots.append(w.session.hints)
    click(qtbot, w.canvas, 20, 20, Qt.MouseButton.RightButton)
    snapshots.append(w.session.hints)
    assert len(set(snapshots)) == len(snapshots)  # every step changed something
    for expected in reversed(snapshots[:-1]):
        qtbot.keyClick(w.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
        assert w.session.hints == expected
    assert not w.act_undo.isEnabled()
    for expected in snapshots[1:]:
        qtbot.keyClick(w.canvas, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier
                       | Qt.KeyboardModifier.ShiftModifier)
        assert w.session.hints == expected
    w.act_undo.trigger()
    qtbot.keyClick(w.canvas, Qt.Key.Key_Y, Qt.KeyboardModifier.ControlModifier)
    assert w.session.hints == snapshots[-1]


# --- colours -----------------------------------------------------------------------------------
def test_gamut_panel_changes_the_selected_hint_colour(window, qtbot):
    w = window
    click(qtbot, w.canvas, 60, 50)
    gamut = w.colour_panel.gamut
    assert gamut.lightness == pytest.approx(w.session.point_lightness())
    target = (-30.0, 40.0)
    qtbot.mouseClick(gamut, Qt.MouseButton.LeftButton, pos=gamut.ab_to_pos(target).toPoint())
    a, b = w.session.hints[0].ab
    assert a == pytest.approx(target[0], abs=3) and b == pytest.approx(target[1], abs=3)
    assert w.session.current_ab == (a, b)
    assert w.session.recent[0] == (a, b)
    w.act_undo.trigger()
    assert w.session.hints[0].ab != (a, b)


def test_gamut_snaps_an_impossible_colour_into_gamut(window, qtbot):
    from colouru.colour import in_gamut

    w = window
    click(qtbot, w.canvas, 60, 50)
    gamut = w.colour_panel.gamut
    corner = gamut.ab_to_pos((105.0, -105.0)).toPoint()
    qtbot.mouseClick(gamut, Qt.MouseButton.LeftButton, pos=corner)
    a, b = w.session.hints[0].ab
    assert in_gamut(np.array([gamut.lightness, a, b], np.float32))
    assert a > 0 and b < 0


def test_colour_dialog_swatches_and_eyedropper(window, dialogs, qtbot, tmp_path):
    from PySide6.QtGui import QColor

    w = window
    click(qtbot, w.canvas, 60, 50)
    w.apply_colour((20.0, 20.0))  # a first pick, so Recent has two colours below
    dialogs.colour = QColor(30, 140, 40)  # green
    w.act_choose.trigger()
    green = w.session.hints[0].ab
    assert green[0] < -20 and green[1] > 10
    w.colour_panel.recent.button(1).click()  # the colour used before the dialog's
    assert w.session.hints[0].ab == w.session.recent[0] != green
    ref = tmp_path / "ref.png"
    Image.fromarray(np.full((20, 30, 3), (40, 60, 200), np.uint8)).save(ref)
    assert w.open_reference(ref) and w.reference_dock.isVisible()
    w.act_eyedropper.trigger()
    qtbot.mouseClick(w.reference.viewport(), Qt.MouseButton.LeftButton,
                     pos=w.reference.mapFromScene(QPointF(10, 10)))
    blue = w.session.hints[0].ab
    assert blue[1] < -30  # blue
    assert not w.act_eyedropper.isChecked()


def test_suggestions_include_the_model_prediction(window, qtbot):
    w = window
    click(qtbot, w.canvas, 60, 50)
    qtbot.waitUntil(lambda: bool(w.colour_panel.suggested.colours()), timeout=WAIT)
    first = w.colour_panel.suggested.colours()[0]
    ab = w.service.colorizer.predict_ab(w.service.prepared, [])
    box = w.session.probe_box_work()
    x0, y0, x1, y1 = box
    assert first == pytest.approx(tuple(ab[:, y0:y1, x0:x1].reshape(2, -1).mean(1)), abs=0.01)
    w.colour_panel.suggested.button(0).click()
    assert w.session.hints[0].ab == pytest.approx(first, abs=0.5)


# --- the live result ---------------------------------------------------------------------------
def test_result_arrives_from_the_worker_and_changes_where_the_hint_is(window, qtbot):
    w = window
    keep_colour(w)
    settle(qtbot, w)
    before = w.result_view.result.copy()
    w.session.set_current_ab((-60.0, 60.0))
    with qtbot.waitSignal(w.service.previewReady, timeout=WAIT):
        click(qtbot, w.canvas, 64, 48)
    after = w.result_view.result
    hint = w.session.hints[0]
    sy, sx = after.shape[0] / 96, after.shape[1] / 128
    cy, cx = int(48 * sy), int(64 * sx)
    assert np.abs(after[cy, cx].astype(int) - before[cy, cx].astype(int)).sum() > 60
    expected = ab_to_rgb8(float(w.service.prepared.work_lightness[cy, cx]), hint.ab)
    assert np.abs(after[cy, cx].astype(int) - np.array(expected)).max() <= 2
    far = np.abs(after[:8, :8].astype(int) - before[:8, :8].astype(int)).mean()
    assert far < np.abs(after[cy - 1:cy + 2, cx - 1:cx + 2].astype(int)
                        - before[cy - 1:cy + 2, cx - 1:cx + 2].astype(int)).mean()


def test_a_burst_of_changes_ends_with_the_latest_result(window, qtbot):
    w = window
    settle(qtbot, w)
    vp = w.canvas.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=vpos(w.canvas, 10, 10))
    for k in range(1, 25):  # a fast drag: no time for results in between
        qtbot.mouseMove(vp, pos=vpos(w.canvas, 10 + 4 * k, 10 + 3 * k))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=vpos(w.canvas, 106, 82))
    settle(qtbot, w)
    assert w.service.dropped > 0
    assert w.last_shown_id == w.service._latest["preview"]
    final = w.session.hints
    assert (final[0].x, final[0].y) == (106, 82)
    shown = w.result_view.result
    if shown.shape[:2] == (96, 128):  # the full-resolution refinement came in after it
        np.testing.assert_array_equal(shown, w.service.colorize(final))
    else:
        np.testing.assert_array_equal(shown, w.service.colorizer.preview(w.service.prepared,
                                                                         final))


# --- files -------------------------------------------------------------------------------------
def test_save_equals_the_command_line_output(window, dialogs, qtbot, photo, tmp_path,
                                             tiny_model_path):
    w = window
    for (x, y), ab in [((20, 30), (-50.0, 40.0)), ((100, 70), (40.0, 30.0))]:
        w.session.set_current_ab(ab)
        click(qtbot, w.canvas, x, y)
        w.session.select(None)
    dialogs.save_file = tmp_path / "app.png"
    w.act_save.trigger()  # no file yet: asks where
    dialogs.save_file = tmp_path / "hints.json"
    w.act_export.trigger()
    saved = np.asarray(Image.open(tmp_path / "app.png"))
    assert saved.shape == (96, 128, 3)
    assert cli_main(["colorize", str(photo), "-o", str(tmp_path / "cli"), "--model",
                     str(tiny_model_path), "--hints", str(tmp_path / "hints.json"),
                     "--device", "cpu", "-q"]) == 0
    np.testing.assert_array_equal(saved, np.asarray(Image.open(tmp_path / "cli" / "photo.png")))
    w.act_save.trigger()  # known file now: saved again without asking
    assert dialogs.kinds().count("save") == 2


def test_an_open_photo_is_held_once_as_its_lightness(window, qtbot, tmp_path, monkeypatch):
    w = window
    threads = []
    real = w.service.colorizer.prepare_lightness
    monkeypatch.setattr(w.service.colorizer, "prepare_lightness", lambda *a: threads.append(
        threading.current_thread()) or real(*a))
    Image.fromarray(gradient_photo(96, 128)[..., 0]).save(tmp_path / "grey.jpg")
    with qtbot.waitSignal(w.service.previewReady, timeout=WAIT):
        assert w.open_photo(tmp_path / "grey.jpg")
    settle(qtbot, w)
    photo = w.session.photo
    assert not hasattr(photo, "image") and not photo.colour  # the decoded photo is not kept
    assert photo.lightness.shape == (96, 128) and photo.lightness.dtype == np.float32
    assert w.service.prepared.lightness is photo.lightness  # one array for both
    assert w.canvas._pixmap.pixmap().cacheKey() == w.result_view._before.pixmap().cacheKey()
    assert threads and threading.main_thread() not in threads  # prepared while loading
    assert w.result_view.result is not None


@pytest.mark.parametrize("content", ["[" * 100_000, "/dev/zero"])
def test_a_hints_file_that_cannot_be_read_is_one_error_and_nothing_changes(
        window, dialogs, qtbot, tmp_path, content):
    """Deep nesting (json's RecursionError) or a device: an error box, the hints kept."""
    w = window
    click(qtbot, w.canvas, 30, 30)
    before = w.session.hints
    path = content if content.startswith("/dev/") else tmp_path / "deep.json"
    if path != content:
        path.write_text(content)
    assert not w.import_hints(path)
    (kind, text), = [c for c in dialogs.calls if c[0] == "critical"]
    assert text.startswith(f"{path}: ") and "\n" not in text
    assert w.session.hints == before


def test_exported_hints_reimport_to_the_same_list(window, dialogs, qtbot, tmp_path):
    w = window
    w.colour_panel.size_slider.setValue(5)
    for x, y in [(10, 10), (50, 33), (120, 90)]:
        click(qtbot, w.canvas, x, y)
        w.session.select(None)
    w.editor.set_colour((12.34, -56.78))  # no hint selected: only the current colour
    click(qtbot, w.canvas, 70, 70)
    original = w.session.hints
    dialogs.save_file = tmp_path / "h.json"
    w.act_export.trigger()
    assert not w.isWindowModified()
    assert tuple(load_hints(tmp_path / "h.json")) == original
    w.act_clear.trigger()
    dialogs.open_file = tmp_path / "h.json"
    w.act_import.trigger()
    assert w.session.hints == original


def test_closing_with_unsaved_hints_asks(window, dialogs, qtbot):
    w = window
    click(qtbot, w.canvas, 40, 40)
    assert w.isWindowModified()
    dialogs.answers["warning"] = Btn.Cancel
    assert not w.close()
    assert w.isVisible() and dialogs.kinds() == ["warning"]
    dialogs.answers["warning"] = Btn.Discard
    assert w.close()
    assert w.recovery.load(w.session.photo.path) is None


def test_opening_another_photo_with_unsaved_hints_asks(window, dialogs, qtbot, tmp_path):
    w = window
    click(qtbot, w.canvas, 40, 40)
    other = tmp_path / "other.png"
    Image.fromarray(gradient_photo(30, 40, seed=2)).save(other)
    dialogs.answers["warning"] = Btn.Cancel
    assert not w.open_photo(other)
    assert w.session.photo.path.name == "photo.png" and len(w.session.hints) == 1
    dialogs.answers["warning"] = Btn.Save
    dialogs.save_file = tmp_path / "kept.json"
    assert w.open_photo(other)
    assert len(load_hints(tmp_path / "kept.json")) == 1 and w.session.hints == ()


def _crash_and_recover(w, make_window, dialogs):
    """``w`` goes without its closing steps (a crash); a new window is made and takes the
    offered recovery. Returns the new window."""
    w.undo.blockSignals(True)
    w.service.shutdown()
    w.hide()
    again = make_window()
    dialogs.answers["question"] = Btn.Yes
    assert again.offer_recovery()
    w.undo.blockSignals(False)
    return again


def test_hints_are_autosaved_and_offered_back_after_a_crash(make_window, photo, dialogs, qtbot):
    w = make_window()
    w.open_photo(photo)
    click(qtbot, w.canvas, 40, 40)
    drag(qtbot, w.canvas, (40, 40), (50, 45))
    hints = w.session.hints
    assert w.recovery.load(photo) == list(hints)  # on disk after every change
    again = _crash_and_recover(w, make_window, dialogs)
    assert again.session.hints == hints and again.isWindowModified()


def test_recovered_hints_survive_switching_from_another_photo(window, dialogs, qtbot, tmp_path):
    w = window
    click(qtbot, w.canvas, 40, 40)  # unsaved hints on the first photo
    other = tmp_path / "other.png"
    Image.fromarray(gradient_photo(30, 40, seed=2)).save(other)
    from colouru import Hint

    left_behind = [Hint(3, 4, 2, ab=(10, -10))]
    w.recovery.save(other, left_behind, (40, 30))  # from an earlier session that crashed
    dialogs.answers.update(warning=Btn.Discard, question=Btn.Yes)
    assert w.open_photo(other)
    assert list(w.session.hints) == left_behind
    assert w.recovery.load(other) == left_behind  # still unsaved, so still autosaved


# --- views, model, help ------------------------------------------------------------------------
def test_zoom_and_pan_keep_both_views_in_step(window, qtbot):
    w = window
    w.act_actual.trigger()
    assert w.canvas.zoom == 1.0 == w.result_view.zoom
    qtbot.keyClick(w.canvas, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    once = w.canvas.zoom
    qtbot.keyClick(w.canvas, Qt.Key.Key_Equal, Qt.KeyboardModifier.ControlModifier)
    assert 1.0 < once < w.canvas.zoom == w.result_view.zoom  # Ctrl+= zooms in, both views
    w.canvas.set_zoom(8.0)
    assert w.result_view.zoom == 8.0
    w.result_view.horizontalScrollBar().setValue(200)
    assert w.canvas.horizontalScrollBar().value() == 200
    vp = w.canvas.viewport()
    start = w.canvas.horizontalScrollBar().value()
    qtbot.mousePress(vp, Qt.MouseButton.MiddleButton, pos=QPoint(200, 100))
    qtbot.mouseMove(vp, pos=QPoint(150, 100))
    qtbot.mouseRelease(vp, Qt.MouseButton.MiddleButton, pos=QPoint(150, 100))
    assert w.canvas.horizontalScrollBar().value() == start + 50
    assert w.result_view.horizontalScrollBar().value() == start + 50
    assert w.session.hints == ()  # panning placed nothing
    w.act_fit.trigger()
    assert w.canvas.fitting and w.result_view.zoom == w.canvas.zoom


def test_before_after_and_split(window, qtbot):
    w = window
    qtbot.keyClick(w.canvas, Qt.Key.Key_B)
    assert w.result_view.mode == "before" and not w.result_view._clip.isVisible()
    qtbot.keyClick(w.canvas, Qt.Key.Key_V)
    assert w.result_view.mode == "split" and not w.act_before.isChecked()
    rv = w.result_view
    qtbot.mouseClick(rv.viewport(), Qt.MouseButton.LeftButton, pos=vpos(rv, 32, 40))
    assert rv.split == pytest.approx(32.5 / 128, abs=0.02)
    assert rv._clip.rect().left() == pytest.approx(rv.split * 128)
    qtbot.keyClick(w.canvas, Qt.Key.Key_V)
    assert rv.mode == "result"


def test_no_model_still_lets_the_user_place_hints(make_window, photo, qtbot, monkeypatch,
                                                  tmp_path, dialogs, tiny_model_path):
    import colouru.colorizer

    monkeypatch.setattr(colouru.colorizer, "bundled_model_path", lambda: tmp_path / "none")
    w = make_window(model=None)
    assert w.service.colorizer is None and "No model" in w.result_view.message
    assert w.open_photo(photo)
    click(qtbot, w.canvas, 40, 40)
    assert len(w.session.hints) == 1 and w.result_view.result is None
    dialogs.open_file = tiny_model_path
    with qtbot.waitSignal(w.service.previewReady, timeout=WAIT):
        w.act_model.trigger()
    assert w.result_view.message == "" and w.result_view.result is not None
    assert w.settings.model_path() == str(tiny_model_path.resolve())


def test_a_bad_model_file_is_reported_and_the_old_model_kept(window, dialogs, tmp_path):
    bad = tmp_path / "bad.safetensors"
    bad.write_bytes(b"nope")
    old = window.service.colorizer
    assert not window.load_model(bad)
    assert dialogs.kinds() == ["critical"] and window.service.colorizer is old


def test_settings_remember_colour_size_and_recent_files(window, qtbot, make_window, photo):
    w = window
    w.editor.set_colour((-11.5, 33.25))
    w.colour_panel.size_slider.setValue(6)
    w.colour_panel.brush_slider.setValue(13)
    w.close()
    again = make_window()
    assert again.session.current_ab == (-11.5, 33.25) and again.session.size == 6
    assert again.session.brush == 13 == again.colour_panel.brush_slider.value()
    assert (-11.5, 33.25) in again.session.recent
    again._fill_recent_menu()
    assert photo.name in again.recent_menu.actions()[0].text()


def test_help_lists_shortcuts_and_about_shows_the_model_card(window):
    table = window.show_shortcuts().table
    rows = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert rows["Open Photo or Film"] == "Ctrl+O"
    assert "Ctrl+Shift+Z" in rows["Redo"] and "Ctrl+Y" in rows["Redo"]
    assert rows["Save Result"] == "Ctrl+S" and rows["Delete Hint or Stroke"].startswith("Del")
    assert "Ctrl+wheel" in rows["Zoom"]
    text = window.show_about().browser.toPlainText()
    assert "random weights made by a test" in text and "cpu" in text
    assert window.act_open.toolTip().endswith("(Ctrl+O)")


def wheel(view, x, y, steps, modifiers=Qt.KeyboardModifier.NoModifier):
    from PySide6.QtCore import QPoint as P
    from PySide6.QtGui import QWheelEvent

    pos = QPointF(vpos(view, x, y))
    event = QWheelEvent(pos, QPointF(view.viewport().mapToGlobal(pos.toPoint())), P(0, 0),
                        P(0, 120 * steps), Qt.MouseButton.NoButton, modifiers,
                        Qt.ScrollPhase.NoScrollPhase, False)
    QApplication.sendEvent(view.viewport(), event)


def test_wheel_sets_the_hint_size_and_ctrl_wheel_zooms(window, qtbot):
    w = window
    click(qtbot, w.canvas, 60, 50)
    size = w.session.size
    wheel(w.canvas, 60, 50, 1)
    wheel(w.canvas, 60, 50, 1)
    assert w.session.size == size + 2 == w.colour_panel.size_slider.value()
    assert w.session.hints[0].size == w.session.size_to_image(size + 2)
    w.act_undo.trigger()  # the wheel steps on one hint are one undo step
    assert w.session.hints[0].size == w.session.size_to_image(size)
    zoom = w.canvas.zoom
    wheel(w.canvas, 60, 50, 1, Qt.KeyboardModifier.ControlModifier)
    assert w.canvas.zoom == pytest.approx(zoom * 1.25) and w.result_view.zoom == w.canvas.zoom


def test_command_line_entry_opens_the_photo_with_hints(gui_settings, tiny_model_path, photo,
                                                       tmp_path, monkeypatch, dialogs):
    from colouru import Hint, save_hints
    from colouru.gui import app

    save_hints(tmp_path / "h.json", [Hint(5, 6, 4, ab=(10, 20))])
    monkeypatch.setattr(QApplication, "exec", lambda self: 0)
    before = set(QApplication.topLevelWidgets())
    assert app.main([str(photo), "--model", str(tiny_model_path), "--device", "cpu",
                     "--hints", str(tmp_path / "h.json")]) == 0
    (w,) = [x for x in QApplication.topLevelWidgets()
            if isinstance(x, MainWindow) and x not in before]
    try:
        assert w.session.photo.path == photo and w.session.hints == (Hint(5, 6, 4, ab=(10, 20)),)
    finally:
        dialogs.answers["warning"] = Btn.Discard
        w.close()
        w.deleteLater()


# --- issue 13: the result follows the hand; the panel holds still; first launch -------------
def slow_previews(w, monkeypatch, seconds=0.03):
    """Each preview takes at least ``seconds``: a hand moving every 10 ms outpaces it, as a
    real hand outpaces a real model on a large photo."""
    import time as _time

    real = w.service.colorizer.preview_ab
    monkeypatch.setattr(w.service.colorizer, "preview_ab",
                        lambda *a, **k: _time.sleep(seconds) or real(*a, **k))


def hint_placed_with_slow_previews(w, qtbot, monkeypatch, x: int, y: int) -> list:
    """A hint at (x, y), settled, then previews slowed down; returns the list that collects
    the ids of the previews shown from now on."""
    click(qtbot, w.canvas, x, y)
    settle(qtbot, w)
    slow_previews(w, monkeypatch)
    shown = []
    w.service.previewReady.connect(lambda i, rgb, s: shown.append(i))
    return shown


def test_the_result_moves_while_a_hint_is_dragged(window, qtbot, monkeypatch):
    w = window
    shown = hint_placed_with_slow_previews(w, qtbot, monkeypatch, 10, 10)
    asked = []
    real_ask = w.service.request_suggestions
    monkeypatch.setattr(w.service, "request_suggestions",
                        lambda *a, **k: asked.append(1) or real_ask(*a, **k))
    vp = w.canvas.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=vpos(w.canvas, 10, 10))
    at_press = len(asked)  # selecting the hint asks for its suggestions
    for k in range(1, 41):  # a steady drag, a mouse event every 10 ms, never pausing
        qtbot.mouseMove(vp, pos=vpos(w.canvas, 10 + 2 * k, 10 + k))
        qtbot.wait(10)
    during = list(shown)
    assert len(asked) == at_press  # suggestions wait until the hint lands
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=vpos(w.canvas, 90, 50))
    settle(qtbot, w)
    assert len(during) >= 3, during  # the old rule (only the newest request) showed none
    assert during == sorted(during) and len(set(during)) == len(during)
    assert w.last_shown_id == w.service._latest["preview"] and len(asked) == at_press + 1


def test_the_result_moves_while_dragging_in_the_colour_plane(window, qtbot, monkeypatch):
    w = window
    shown = hint_placed_with_slow_previews(w, qtbot, monkeypatch, 60, 50)
    gamut = w.colour_panel.gamut
    qtbot.mousePress(gamut, Qt.MouseButton.LeftButton, pos=gamut.ab_to_pos((-40, 0)).toPoint())
    for k in range(40):
        qtbot.mouseMove(gamut, pos=gamut.ab_to_pos((-40 + 2 * k, 10)).toPoint())
        qtbot.wait(10)
    during = list(shown)
    qtbot.mouseRelease(gamut, Qt.MouseButton.LeftButton,
                       pos=gamut.ab_to_pos((40, 10)).toPoint())
    settle(qtbot, w)
    assert len(during) >= 3, during
    assert w.undo.undoText() == "Change hint colour"  # the whole drag is one undo step
    assert len(w.session.recent) == 1  # and one pick


def test_the_colour_panel_keeps_its_width_as_recent_colours_fill(window, qtbot):
    w = window
    qtbot.wait(50)
    panel, dock = w.colour_panel, w.colour_dock
    sizes = panel.sizeHint().width(), panel.minimumSizeHint().width(), dock.width()
    zoom = w.canvas.zoom
    plane = panel.gamut.mapTo(w, panel.gamut.plane_rect().topLeft().toPoint())
    gamut = panel.gamut
    click(qtbot, w.canvas, 60, 50)  # a hint: its suggestions fill the other row
    qtbot.waitUntil(lambda: len(panel.suggested.colours()) >= 2, timeout=WAIT)
    assert (panel.sizeHint().width(), panel.minimumSizeHint().width(), dock.width()) == sizes
    for k in range(12):  # more picks than the row has slots
        qtbot.mouseClick(gamut, Qt.MouseButton.LeftButton,
                         pos=gamut.ab_to_pos((-50 + 9 * k, 30 - 5 * k)).toPoint())
        qtbot.wait(5)
        assert len(w.session.recent) == min(k + 1, 10)
        assert len(panel.recent.colours()) == min(k + 1, 10)
        assert (panel.sizeHint().width(), panel.minimumSizeHint().width(),
                dock.width()) == sizes, k
        assert w.canvas.zoom == zoom
        assert panel.gamut.mapTo(w, gamut.plane_rect().topLeft().toPoint()) == plane


def test_recent_gets_a_colour_when_the_user_picks_it(window, qtbot):
    w = window
    for x in (20, 60, 100):  # new hints take a colour: none of them is a pick
        click(qtbot, w.canvas, x, 50)
        w.session.select(None)
    assert w.session.recent == []
    click(qtbot, w.canvas, 60, 50)
    gamut = w.colour_panel.gamut
    qtbot.mouseClick(gamut, Qt.MouseButton.LeftButton, pos=gamut.ab_to_pos((-30, 40)).toPoint())
    assert w.session.recent == [w.session.hints[1].ab]
    assert w.colour_panel.recent.colours() == w.session.recent


def test_a_new_hint_takes_the_models_colour_there_unless_kept(window, qtbot, make_window):
    from colouru.gui.colours import snap_to_gamut

    w = window
    assert not w.act_keep_colour.isChecked()
    w.session.set_current_ab((-60.0, -60.0))  # a blue that has nothing to do with the photo

    def model_colour(x, y, hints):
        probe = Hint(x, y, w.session.size_to_image(w.session.size), ab=(0, 0))
        x0, y0, x1, y1 = hint_box(probe, w.session.image_hw, w.session.work_hw)
        ab = w.service.colorizer.predict_ab(w.service.prepared, hints)
        mean = ab[:, y0:y1, x0:x1].reshape(2, -1).mean(axis=1)
        return snap_to_gamut(w.session.hint_lightness(probe), mean)

    click(qtbot, w.canvas, 60, 50)
    first = w.session.hints[0]
    assert first.ab == pytest.approx(model_colour(60, 50, []), abs=0.02)
    assert first.ab != (-60.0, -60.0) and w.session.current_ab == first.ab
    w.session.select(None)
    settle(qtbot, w)  # the result now includes the first hint
    click(qtbot, w.canvas, 110, 80)
    assert w.session.hints[1].ab == pytest.approx(model_colour(110, 80, [first]), abs=0.02)
    w.session.select(None)
    w.act_keep_colour.trigger()  # Edit > New Hints Keep the Last Colour
    w.session.set_current_ab((-60.0, -60.0))
    click(qtbot, w.canvas, 20, 80)
    assert w.session.hints[2].ab == (-60.0, -60.0)
    assert w.settings.keep_colour()
    w.close()
    assert make_window().act_keep_colour.isChecked()


def test_first_launch_says_how_to_start(make_window, qtbot):
    from colouru.gui.main_window import EXAMPLE_PHOTO

    w = make_window()
    assert w.pages.currentWidget() is w.welcome and w.welcome.isVisible()
    assert not w.canvas.isVisible() and not w.result_view.isVisible()
    text = w.welcome.label.text()
    assert "Open a photo" in text and "drop one" in text and "example" in text
    with qtbot.waitSignal(w.service.previewReady, timeout=WAIT):
        qtbot.mouseClick(w.welcome.example_button, Qt.MouseButton.LeftButton)
    assert w.session.photo.path.name == EXAMPLE_PHOTO
    assert w.pages.currentWidget() is w.photo_page and w.canvas.isVisible()
    assert w.result_view.result is not None


# --- issue 13, smaller things ----------------------------------------------------------------
def test_after_saving_the_result_quitting_asks_nothing(window, dialogs, qtbot, tmp_path):
    w = window
    click(qtbot, w.canvas, 40, 40)
    assert w.isWindowModified()
    assert w.save_result_as(tmp_path / "out.png")
    assert not w.isWindowModified()
    assert w.close() and "warning" not in dialogs.kinds()


def test_importing_hints_just_exported_leaves_the_photo_unmodified(window, dialogs, qtbot,
                                                                   tmp_path):
    w = window
    click(qtbot, w.canvas, 40, 40)
    assert w.export_hints(tmp_path / "h.json")
    w.act_clear.trigger()
    assert w.import_hints(tmp_path / "h.json")
    assert not w.isWindowModified() and len(w.session.hints) == 1
    assert w.close() and "warning" not in dialogs.kinds()


def test_the_last_colour_picked_is_on_disk_at_once(window, qtbot):
    w = window
    click(qtbot, w.canvas, 60, 50)
    w.apply_colour((-22.5, 33.75))
    text = Path(w.settings.qs.fileName()).read_text()  # a crash now loses nothing
    assert "-22.50,33.75" in text


def test_opening_a_colour_photo_says_only_its_lightness_is_used(window, qtbot, tmp_path):
    w = window
    assert "in colour" in w.statusBar().currentMessage()  # the fixture's photo is in colour
    assert w.session.photo.colour
    grey = gradient_photo(96, 128)[..., 0]
    Image.fromarray(np.dstack([grey, (grey * 0.85).astype(np.uint8),
                               (grey * 0.65).astype(np.uint8)])).save(tmp_path / "sepia.png")
    assert w.open_photo(tmp_path / "sepia.png")
    assert "toned" in w.statusBar().currentMessage()
    Image.fromarray(grey).save(tmp_path / "grey.png")
    assert w.open_photo(tmp_path / "grey.png")
    assert "lightness" not in w.statusBar().currentMessage() and not w.session.photo.colour


def test_save_dialog_type_matches_the_name_and_jpeg_asks_its_quality(window, dialogs, qtbot,
                                                                     tmp_path, monkeypatch):
    w = window
    w.session.set_photo(tmp_path / "old.jpg", lightness=w.session.photo.lightness)  # a JPEG
    seen = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(
        lambda *a: seen.append(a) or (str(tmp_path / "out.jpg"), "")))
    dialogs.quality = 40
    assert w.save_result_as()
    assert seen[0][2].endswith("old_colour.jpg") and seen[0][4] == "JPEG (*.jpg *.jpeg)"
    assert ("int", "JPEG quality") in dialogs.calls and w.settings.jpeg_quality() == 40
    small = (tmp_path / "out.jpg").stat().st_size
    dialogs.quality = 98
    assert w.save_result_as()
    assert (tmp_path / "out.jpg").stat().st_size > small
    dialogs.quality = None  # cancelled: nothing written
    (tmp_path / "out.jpg").unlink()
    assert not w.save_result_as() and not (tmp_path / "out.jpg").exists()


def test_a_name_typed_without_extension_takes_the_chosen_type(window, tmp_path, monkeypatch):
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(
        lambda *a: (str(tmp_path / "plain"), "TIFF (*.tif *.tiff)")))
    assert gui_dialogs.save_path(window, "t", "x.png", gui_dialogs.RESULT_FILTER) == \
        tmp_path / "plain.tif"


def test_question_buttons_have_mnemonics_and_undo_is_not_an_arrow(window):
    box = gui_dialogs.message_box(window, "warning", "Unsaved hints", "text",
                                  Btn.Save | Btn.Discard | Btn.Cancel, Btn.Save)
    texts = [b.text() for b in box.buttons()]
    assert sorted(texts) == sorted(["&Save", "&Don't Save", "&Cancel"])
    box.deleteLater()
    style = window.style()
    from PySide6.QtWidgets import QStyle

    back = style.standardIcon(QStyle.StandardPixmap.SP_ArrowBack).pixmap(24).toImage()
    assert window.act_undo.icon().pixmap(24).toImage() != back
    assert window.act_undo.icon().cacheKey() != window.act_redo.icon().cacheKey()


# --- issue 13: opening and saving in the background ------------------------------------------
def held_reads(monkeypatch):
    """Reading a photo waits (in its thread) until the returned event is set."""
    import colouru.gui.photo_files as mw  # where the window reads photos

    gate, real = threading.Event(), mw.read_image
    monkeypatch.setattr(mw, "read_image", lambda *a, **k: gate.wait(10) and real(*a, **k))
    return gate


def test_opening_runs_in_the_background_and_the_window_answers(window, qtbot, tmp_path,
                                                                monkeypatch):
    w = window
    other = tmp_path / "other.png"
    Image.fromarray(gradient_photo(40, 60, seed=3)).save(other)
    gate = held_reads(monkeypatch)
    seen = []

    def meanwhile():  # the GUI thread runs while the file is read
        seen.append((w.task_bar.isVisible(), w.task_bar.label.text()))
        qtbot.keyClick(w.canvas, Qt.Key.Key_B)  # a key press is answered
        gate.set()

    QTimer.singleShot(50, meanwhile)
    assert w.open_photo(other)
    assert seen == [(True, "Reading other.png")]
    assert w.result_view.mode == "before" and not w.task_bar.isVisible()
    assert w.session.photo.path == other and w.session.image_hw == (40, 60)


def test_opening_can_be_cancelled_and_the_photo_on_screen_stays(window, qtbot, tmp_path,
                                                                 monkeypatch, dialogs):
    w = window
    click(qtbot, w.canvas, 40, 40)
    hints = w.session.hints
    gate = held_reads(monkeypatch)
    QTimer.singleShot(50, w.task_bar.cancel_button.click)
    Image.fromarray(gradient_photo(40, 60)).save(tmp_path / "big.png")
    dialogs.answers["warning"] = Btn.Discard
    assert not w.open_photo(tmp_path / "big.png")
    gate.set()  # let the abandoned read end; its result is dropped
    qtbot.wait(100)
    assert w.session.photo.path.name == "photo.png" and w.session.image_hw == (96, 128)
    assert w.session.hints == hints
    assert "cancelled" in w.statusBar().currentMessage()
    assert "critical" not in dialogs.kinds() and not w.task_bar.isVisible()


def slow_bands(w, monkeypatch, seconds):
    """Each band of the full-resolution finish waits ``seconds`` first."""
    import time as _time

    c = w.service.colorizer
    real = c.finish_ab
    monkeypatch.setattr(c, "finish_ab", lambda p, ab, hints, cancelled=None: real(
        p, ab, hints, lambda: _time.sleep(seconds) or (cancelled is not None and cancelled())))


def test_saving_runs_in_the_background_with_progress(window, qtbot, tmp_path, monkeypatch):
    w = window
    click(qtbot, w.canvas, 40, 40)
    slow_bands(w, monkeypatch, 0.05)
    stages = []
    monkeypatch.setattr(w.task_bar, "show_progress", lambda stage, f: stages.append((stage, f)))
    ticks = []
    timer = QTimer(interval=10, timeout=lambda: ticks.append(1))
    timer.start()
    assert w.save_result_as(tmp_path / "out.png")
    timer.stop()
    assert len(ticks) >= 3  # the GUI thread kept running
    assert [s for s, _ in stages][:2] == ["Colorizing", "Colorizing"]
    done = [f for s, f in stages if s == "Colorizing" and f >= 0]
    assert done == sorted(done) and stages[-1] == ("Writing out.png", -1.0)
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "out.png")),
                                  w.service.colorize(w.session.hints))


def test_saving_can_be_cancelled_and_nothing_is_written(window, qtbot, tmp_path, monkeypatch):
    w = window
    click(qtbot, w.canvas, 40, 40)
    slow_bands(w, monkeypatch, 0.2)
    QTimer.singleShot(50, w.task_bar.cancel_button.click)
    assert not w.save_result_as(tmp_path / "out.png")
    assert "cancelled" in w.statusBar().currentMessage()
    qtbot.wait(700)  # the abandoned thread sees the cancel at its next band
    assert not (tmp_path / "out.png").exists() and w.isWindowModified()


def test_the_reference_image_is_large_enough_to_pick_from_and_zooms(window, qtbot, tmp_path):
    w = window
    w.resize(1400, 900)
    qtbot.wait(20)
    ref = tmp_path / "ref.png"
    Image.fromarray(gradient_photo(400, 600)).save(ref)
    assert w.open_reference(ref)
    qtbot.waitUntil(lambda: w.reference.viewport().height() >= 300, timeout=WAIT)
    assert w.reference.viewport().width() >= 300  # not a thumbnail (it was 68 px tall)
    zoom = w.reference.zoom
    wheel(w.reference, 300, 200, 1)  # the plain wheel zooms the reference
    assert w.reference.zoom == pytest.approx(zoom * 1.25)
    assert w.reference_dock.features() & w.reference_dock.DockWidgetFeature.DockWidgetFloatable


def test_actual_size_is_one_device_pixel_per_photo_pixel_at_scale_two(window, monkeypatch):
    w = window
    for view in (w.canvas, w.result_view):
        monkeypatch.setattr(view, "devicePixelRatioF", lambda: 2.0)
    w.act_actual.trigger()
    assert w.canvas.zoom == 0.5 == w.result_view.zoom  # logical pixels: half
    assert w.canvas.device_zoom == 1.0 and w.lbl_zoom.text() == "100%"


def test_a_saved_geometry_comes_back_inside_the_screen(gui_settings, tiny_model_path, tmp_path,
                                                       qtbot, dialogs):
    from PySide6.QtCore import QRect

    first = MainWindow(model=str(tiny_model_path), device="cpu", settings=gui_settings,
                       recovery_dir=tmp_path / "r")
    first.show()
    qtbot.waitExposed(first)
    first.setGeometry(QRect(5000, 4000, 3000, 2400))  # on a screen that is gone, too big
    assert first.close()
    again = MainWindow(model=str(tiny_model_path), device="cpu", settings=gui_settings,
                       recovery_dir=tmp_path / "r")
    try:
        avail = again.screen().availableGeometry()
        assert avail.contains(again.geometry()), (avail, again.geometry())
    finally:
        again.close()
        again.service.shutdown()
        first.service.shutdown()


def test_saving_reuses_the_full_result_on_screen(window, qtbot, tmp_path, monkeypatch):
    w = window
    click(qtbot, w.canvas, 40, 40)
    w.session.select(None)
    qtbot.waitUntil(lambda: w.result_view.result.shape[:2] == (96, 128), timeout=WAIT)
    settle(qtbot, w)
    c, runs = w.service.colorizer, []
    real_predict, real_finish = c.predict_ab, c.finish_ab
    monkeypatch.setattr(c, "predict_ab", lambda *a, **k: runs.append("net") or real_predict(
        *a, **k))
    monkeypatch.setattr(c, "finish_ab", lambda *a, **k: runs.append("finish") or real_finish(
        *a, **k))
    assert w.save_result_as(tmp_path / "a.png")
    assert runs == []  # the result on screen is the full-resolution result of these hints
    w.service.set_lightness(w.session.photo.lightness)  # forget it: the same photo again
    assert w.save_result_as(tmp_path / "b.png")
    assert runs == ["net", "finish"]
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "a.png")),
                                  np.asarray(Image.open(tmp_path / "b.png")))


# --- issue 17: brush strokes and the saturation slider ---------------------------------------
def draw(qtbot, view, points, steps=10):
    """Press at the first point, move through the others (``steps`` events per segment),
    release at the last: a stroke as a hand draws it."""
    vp = view.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=vpos(view, *points[0]))
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        for k in range(1, steps + 1):
            t = k / steps
            qtbot.mouseMove(vp, pos=vpos(view, x0 + t * (x1 - x0), y0 + t * (y1 - y0)))
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=vpos(view, *points[-1]))


def mean_chroma(rgb: np.ndarray) -> float:
    from colouru.colour import rgb_to_lab

    lab = rgb_to_lab(rgb.astype(np.float32) / 255)
    return float(np.hypot(lab[..., 1], lab[..., 2]).mean())


def test_the_brush_draws_one_undoable_stroke_of_the_current_colour(window, qtbot):
    from colouru.gui.session import Tool
    from colouru.hints import Stroke

    w = window
    w.session.set_current_ab((-40.0, 50.0))
    qtbot.keyClick(w.canvas, Qt.Key.Key_S)
    assert w.act_brush_tool.isChecked() and w.session.tool is Tool.BRUSH
    w.colour_panel.brush_slider.setValue(8)
    assert w.session.brush == 8 and w.colour_panel.brush_label.text().startswith("8 px")
    steps = w.undo.count()
    draw(qtbot, w.canvas, [(20, 30), (70, 30), (70, 80)], steps=30)
    (stroke,) = w.session.hints
    assert isinstance(stroke, Stroke)
    assert w.session.selected is None  # so the next colour picked is for the next stroke
    assert stroke.ab == (-40.0, 50.0) and stroke.width == w.session.brush_to_image(8) == 16.0
    assert 3 <= len(stroke.points) <= 5  # 60 mouse events around one corner, simplified
    assert stroke.points[0] == pytest.approx((20, 30), abs=0.3)
    assert stroke.points[-1] == pytest.approx((70, 80), abs=0.3)
    assert w.undo.count() == steps + 1 and w.undo.undoText() == "Draw stroke"
    assert "1 strokes" in w.lbl_hints.text() and w.isWindowModified()
    w.act_undo.trigger()
    assert w.session.hints == ()
    w.act_redo.trigger()
    assert w.session.hints == (stroke,)
    click(qtbot, w.canvas, 100, 20)  # a click with the brush is a round dab, not a hint
    dab = w.session.hints[1]
    assert isinstance(dab, Stroke) and len(dab.points) == 1
    assert w.undo.count() == steps + 2
    w.apply_colour((10.0, -40.0))  # picked for the next stroke: the strokes keep theirs
    assert w.session.hints == (stroke, dab)
    w.session.select(0)  # selected (as the hint tool does), a stroke takes a colour picked
    w.apply_colour((10.0, -40.0))
    assert w.session.hints[0].ab == w.session.current_ab != stroke.ab


def test_a_stroke_is_selected_moved_recoloured_resized_and_deleted_like_a_hint(window, qtbot):
    from colouru.gui.session import Tool

    w = window
    w.act_brush_tool.trigger()
    draw(qtbot, w.canvas, [(20, 30), (80, 30)])
    stroke = w.session.hints[0]
    qtbot.keyClick(w.canvas, Qt.Key.Key_H)  # back to the hint tool
    assert w.session.tool is Tool.HINT and w.act_hint_tool.isChecked()
    w.session.select(None)
    click(qtbot, w.canvas, 50, 32)  # on the stroke: selected, no hint added
    assert w.session.hints == (stroke,) and w.session.selected == 0
    snapshots = [(), (stroke,)]
    drag(qtbot, w.canvas, (50, 32), (60, 52))
    assert w.session.hints[0] == stroke.moved(10, 20)
    assert w.undo.undoText() == "Move stroke"
    snapshots.append(w.session.hints)
    w.apply_colour((30.0, -30.0))  # a swatch, the dialog or the eyedropper
    assert w.session.hints[0].ab == w.session.current_ab
    assert w.session.hints[0].points == snapshots[-1][0].points
    assert w.undo.undoText() == "Change stroke colour"
    snapshots.append(w.session.hints)
    size = w.session.size
    w.act_larger.trigger()  # ]: the selected stroke gets wider, the hint size stays
    w.act_larger.trigger()
    assert w.session.hints[0].width > snapshots[-1][0].width and w.session.size == size
    assert w.undo.undoText() == "Change stroke width"
    snapshots.append(w.session.hints)
    qtbot.keyClick(w.canvas, Qt.Key.Key_Delete)
    assert w.session.hints == ()
    snapshots.append(())
    for expected in reversed(snapshots[:-1]):  # every step undoes exactly
        w.act_undo.trigger()
        assert w.session.hints == expected
    click(qtbot, w.canvas, 50, 80)  # off the stroke, the hint tool adds a hint
    assert [type(h).__name__ for h in w.session.hints] == ["Hint"]


def test_right_click_deletes_a_stroke_and_the_wheel_sets_the_brush_width(window, qtbot):
    w = window
    w.act_brush_tool.trigger()
    size, brush = w.session.size, w.session.brush
    wheel(w.canvas, 60, 50, 1)
    assert w.session.brush > brush and w.session.size == size
    assert w.colour_panel.brush_slider.value() == w.session.brush
    draw(qtbot, w.canvas, [(20, 60), (110, 60)])
    assert len(w.session.hints) == 1
    click(qtbot, w.canvas, 64, 61, Qt.MouseButton.RightButton)
    assert w.session.hints == ()


def test_a_stroke_colours_the_result_under_it(window, qtbot):
    from colouru.gui.colours import rgb8_to_ab

    w = window
    settle(qtbot, w)
    before = w.result_view.result.copy()
    target = np.array([-60.0, 60.0])
    w.session.set_current_ab(tuple(target))
    w.act_brush_tool.trigger()
    with qtbot.waitSignal(w.service.previewReady, timeout=WAIT):
        draw(qtbot, w.canvas, [(16, 48), (112, 48)])
    settle(qtbot, w)
    after = w.result_view.result

    def along(rgb):  # the colours along the stroke's middle
        sy, sx = rgb.shape[0] / 96, rgb.shape[1] / 128
        return np.array([rgb8_to_ab(rgb[int(48.5 * sy), int((x + 0.5) * sx)])
                         for x in range(30, 100, 10)])

    far_before = np.linalg.norm(along(before) - target, axis=1)
    far_after = np.linalg.norm(along(after) - target, axis=1)
    assert (far_after < far_before - 20).all(), (far_before, far_after)
    assert (far_after < 25).all(), far_after
    corner = (slice(0, 4), slice(0, 4))  # far from the stroke: about as it was
    sy, sx = after.shape[0] / before.shape[0], after.shape[1] / before.shape[1]
    assert sy == sx
    assert np.abs(after[corner].astype(int) - before[corner].astype(int)).mean() < 40


def test_the_saturation_slider_scales_the_results_chroma_in_one_undo_step(window, qtbot,
                                                                         tmp_path):
    w = window
    click(qtbot, w.canvas, 60, 50)
    settle(qtbot, w)
    base = mean_chroma(w.service.colorize(w.session.hints))
    slider, steps = w.colour_panel.saturation_slider, w.undo.count()
    assert slider.value() == 100 and w.colour_panel.saturation_label.text() == "× 1.00"
    slider.setSliderDown(True)  # a drag: one undo step, the result live
    for v in (110, 130, 150, 180):
        slider.setValue(v)
    slider.setSliderDown(False)
    assert w.session.saturation == 1.8 and w.colour_panel.saturation_label.text() == "× 1.80"
    assert w.undo.count() == steps + 1 and w.undo.undoText() == "Change saturation"
    assert w.isWindowModified()
    settle(qtbot, w)
    assert w.service._shown.saturation == 1.8
    assert mean_chroma(w.result_view.result) > 1.3 * mean_chroma(
        w.service.colorizer.preview(w.service.prepared, w.session.hints))
    assert w.save_result_as(tmp_path / "out.png")  # the saved result has it too
    saved = np.asarray(Image.open(tmp_path / "out.png"))
    np.testing.assert_array_equal(saved, w.service.colorize(w.session.hints, 1.8))
    assert mean_chroma(saved) > 1.3 * base
    w.act_undo.trigger()
    assert w.session.saturation == 1.0 and slider.value() == 100
    w.act_redo.trigger()
    assert w.session.saturation == 1.8 and slider.value() == 180
    qtbot.mouseDClick(slider, Qt.MouseButton.LeftButton)  # double-click: back to 1
    assert w.session.saturation == 1.0 and w.undo.count() == steps + 2
    slider.setValue(40)  # a key or a click on the groove: a step of its own
    assert w.session.saturation == 0.4 and w.undo.count() == steps + 3
    w.colour_panel.saturation_reset.click()
    assert w.session.saturation == 1.0 and not w.colour_panel.saturation_reset.isEnabled()
    settle(qtbot, w)
    assert w.service._shown.saturation == 1.0


def test_strokes_and_saturation_round_trip_through_a_hints_file(window, dialogs, qtbot,
                                                                 tmp_path):
    import json

    from colouru.hints import load_hints_doc

    w = window
    click(qtbot, w.canvas, 100, 80)
    w.act_brush_tool.trigger()
    draw(qtbot, w.canvas, [(20, 30), (60, 40), (90, 20)])
    w.colour_panel.saturation_slider.setValue(150)
    items = w.session.hints
    dialogs.save_file = tmp_path / "h.json"
    w.act_export.trigger()
    assert not w.isWindowModified()
    raw = json.loads((tmp_path / "h.json").read_text())
    assert raw["version"] == 2 and raw["saturation"] == 1.5  # version 2: it has a stroke
    doc = load_hints_doc(tmp_path / "h.json")
    assert tuple(doc.hints) == items and doc.saturation == 1.5
    w.act_clear.trigger()
    w.editor.set_saturation(1.0)
    dialogs.open_file = tmp_path / "h.json"
    w.act_import.trigger()
    assert w.session.hints == items and w.session.saturation == 1.5
    assert w.colour_panel.saturation_slider.value() == 150
    assert not w.isWindowModified()  # just exported: nothing to ask about
    assert "1 strokes" in w.statusBar().currentMessage()
    assert "saturation 1.5" in w.statusBar().currentMessage()
    w.act_undo.trigger()  # the import was one step: items and saturation come back together
    assert w.session.hints == () and w.session.saturation == 1.0
    # Only hints, saturation 1: the version-1 file older readers know, without "saturation".
    w.act_hint_tool.trigger()
    click(qtbot, w.canvas, 30, 30)
    assert w.export_hints(tmp_path / "plain.json")
    raw = json.loads((tmp_path / "plain.json").read_text())
    assert raw["version"] == 1 and "saturation" not in raw


def test_saving_with_strokes_and_saturation_equals_the_command_line(
        window, qtbot, photo, tmp_path, tiny_model_path):
    w = window
    keep_colour(w)
    w.session.set_current_ab((40.0, 30.0))
    click(qtbot, w.canvas, 100, 70)
    w.session.set_current_ab((-50.0, 40.0))
    w.act_brush_tool.trigger()
    draw(qtbot, w.canvas, [(10, 20), (60, 25), (80, 60)])
    w.editor.set_saturation(1.5)
    assert w.save_result_as(tmp_path / "app.png")
    assert w.export_hints(tmp_path / "hints.json")
    assert cli_main(["colorize", str(photo), "-o", str(tmp_path / "cli"), "--model",
                     str(tiny_model_path), "--hints", str(tmp_path / "hints.json"),
                     "--device", "cpu", "-q"]) == 0
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "app.png")),
                                  np.asarray(Image.open(tmp_path / "cli" / "photo.png")))


def test_strokes_and_saturation_are_autosaved_and_recovered(make_window, photo, dialogs, qtbot):
    w = make_window()
    w.open_photo(photo)
    w.editor.set_saturation(0.6)  # a saturation alone is worth keeping
    assert w.isWindowModified() and w.recovery.load_doc(photo).saturation == 0.6
    w.act_brush_tool.trigger()
    draw(qtbot, w.canvas, [(20, 20), (90, 70)])
    items = w.session.hints
    doc = w.recovery.load_doc(photo)
    assert tuple(doc.hints) == items and doc.saturation == 0.6
    again = _crash_and_recover(w, make_window, dialogs)
    assert again.session.hints == items and again.session.saturation == 0.6
    assert again.isWindowModified()


def test_help_shows_the_brush_and_the_saturation_slider(window):
    table = window.show_shortcuts().table
    rows = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert rows["Brush Tool"] == "S" and rows["Hint Tool"] == "H"
    assert "brush tool" in rows["Draw stroke"].lower()
    assert "Saturation" in rows and "Brush width" in rows
    assert "Saturation Back to 1" in [a.objectName() for a in window.actions()]


def test_drags_preview_on_one_core_fewer_and_end_on_the_settled_result(window, qtbot,
                                                                       monkeypatch):
    """A hint dragged on the photo, a colour dragged over the gamut, the saturation slider
    held: the previews of the drag run on one core fewer (the GUI thread keeps a core to draw
    every step) and nothing is refined meanwhile; letting go asks once more on every core,
    and the result then on screen is the full-resolution result of that settled preview:
    what ``colorize`` makes on every core."""
    import torch

    from colouru.gui import service as service_module

    w = window
    monkeypatch.setattr(service_module, "DEFAULT_CPU_THREADS", 2)  # as on two cores
    monkeypatch.setattr(service_module, "DRAG_THREADS", 1)
    click(qtbot, w.canvas, 10, 10)
    settle(qtbot, w)
    runs = []  # torch threads and items of each preview the worker made
    real = w.service.colorizer.preview_ab
    monkeypatch.setattr(w.service.colorizer, "preview_ab", lambda p, items, **k: runs.append(
        (torch.get_num_threads(), tuple(items))) or real(p, items, **k))
    full = []
    w.service.fullReady.connect(lambda i, rgb, s: full.append(i))

    def held_then_released(hold, release):
        """``hold()`` drags and keeps the button down until the worker is idle (nothing is
        refined), then ``release()``; returns the threads of the drag's previews."""
        runs.clear()
        full.clear()
        hold()
        settle(qtbot, w)
        during = [threads for threads, _ in runs]
        assert w.dragging and during and not full
        assert runs[-1][1] == w.session.hints  # the hand's last position is on screen
        release()
        settle(qtbot, w)
        assert not w.dragging and runs[-1] == (2, w.session.hints) and len(runs) == len(during) + 1
        assert full == [w.last_shown_id] == [w.service._latest["preview"]]
        torch.set_num_threads(2)
        try:
            exact = w.service.colorize(w.session.hints, w.session.saturation)
        finally:
            torch.set_num_threads(1)
        np.testing.assert_array_equal(w.result_view.result, exact)
        return during

    vp = w.canvas.viewport()

    def move_hint():
        qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=vpos(w.canvas, 10, 10))
        for k in range(1, 11):
            qtbot.mouseMove(vp, pos=vpos(w.canvas, 10 + 8 * k, 10 + 4 * k))

    during = held_then_released(move_hint, lambda: qtbot.mouseRelease(
        vp, Qt.MouseButton.LeftButton, pos=vpos(w.canvas, 90, 50)))
    hint = w.session.hints[0]
    assert set(during) == {1} and (hint.x, hint.y) == (90, 50)

    gamut = w.colour_panel.gamut  # the hint is selected: the colour plane recolours it

    def pick_colour():
        qtbot.mousePress(gamut, Qt.MouseButton.LeftButton, pos=gamut.ab_to_pos((-40, 0)).toPoint())
        for k in range(1, 11):
            qtbot.mouseMove(gamut, pos=gamut.ab_to_pos((-40 + 6 * k, 10)).toPoint())

    during = held_then_released(pick_colour, lambda: qtbot.mouseRelease(
        gamut, Qt.MouseButton.LeftButton, pos=gamut.ab_to_pos((20, 10)).toPoint()))
    assert set(during) == {1}

    slider = w.colour_panel.saturation_slider

    def hold_slider():
        slider.setSliderDown(True)
        for v in (110, 130, 150):
            slider.setValue(v)

    during = held_then_released(hold_slider, lambda: slider.setSliderDown(False))
    assert set(during) == {1} and w.session.saturation == 1.5


# --- the recovery folder and odd names never stop the app (issue 27) ------------------------------
def test_a_photo_whose_name_is_not_utf8_opens_autosaves_and_is_offered_back(make_window, dialogs,
                                                                           qtbot, tmp_path):
    import os

    photo = tmp_path / os.fsdecode(b"caf\xe9.png")
    Image.fromarray(gradient_photo(40, 60)).save(photo)
    w = make_window()
    with qtbot.waitSignal(w.service.previewReady, timeout=WAIT):
        assert w.open_photo(photo)
    click(qtbot, w.canvas, 20, 20)
    hints = w.session.hints
    assert len(hints) == 1 and w.recovery.load(photo) == list(hints)
    again = _crash_and_recover(w, make_window, dialogs)
    assert again.session.photo.path == photo and again.session.hints == hints


def test_the_app_starts_whatever_the_recovery_folder_holds(make_window, dialogs, tmp_path):
    """A marker of bytes that are not UTF-8, one of 5 MB and a FIFO (the start waited on it
    for ever): passed over, and the one good entry is offered."""
    import os

    rec = tmp_path / "recovery"
    rec.mkdir()
    (rec / "latin.photo").write_bytes(b"/no/caf\xe9.png\n")
    (rec / "huge.photo").write_bytes(b"/" + b"a" * 5_000_000)
    os.mkfifo(rec / "fifo.photo")
    for name in ("latin", "huge", "fifo"):
        (rec / f"{name}.json").write_text('{"version": 1, "hints": []}')
    w = make_window()
    assert not w.offer_recovery() and dialogs.kinds() == []
    photo = tmp_path / "left.png"
    Image.fromarray(gradient_photo(30, 40)).save(photo)
    w.recovery.save(photo, [Hint(3, 4, 2, ab=(10, -10))], (40, 30))
    dialogs.answers["question"] = Btn.No
    assert not w.offer_recovery() and dialogs.kinds() == ["question"]


def test_a_drag_shows_quick_previews_over_the_photo_and_settles_on_release(window, qtbot,
                                                                          monkeypatch):
    """A hint dragged across the photo: the results of the drag are made at the smaller
    ``DRAG_SIZE`` and drawn over the whole photo, as any preview; letting go makes the
    settled one at the full working size, and the result then on screen is ``colorize``'s
    at full resolution."""
    from colouru.gui import service as service_module

    w = window
    monkeypatch.setattr(service_module, "DRAG_SIZE", 32)  # the tiny model's working size: 64
    click(qtbot, w.canvas, 10, 10)
    settle(qtbot, w)
    item = w.result_view._result  # the picture of the result, over the photo

    def drawn():  # the result's size as drawn, in photo pixels
        r = item.mapRectToParent(item.boundingRect())
        return round(r.width()), round(r.height())

    shapes = []
    w.service.previewReady.connect(lambda i, rgb, s: shapes.append((rgb.shape, drawn())))
    vp = w.canvas.viewport()
    qtbot.mousePress(vp, Qt.MouseButton.LeftButton, pos=vpos(w.canvas, 10, 10))
    for k in range(1, 11):
        qtbot.mouseMove(vp, pos=vpos(w.canvas, 10 + 8 * k, 10 + 4 * k))
        settle(qtbot, w)  # each step's result on screen before the next
    assert w.dragging and len(shapes) == 10
    assert set(shapes) == {((24, 32, 3), (128, 96))}
    assert w.result_view.result.shape == (24, 32, 3)
    qtbot.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=vpos(w.canvas, 90, 50))
    settle(qtbot, w)
    assert not w.dragging and shapes[-1] == ((48, 64, 3), (128, 96)) and len(shapes) == 11
    assert w.last_shown_id == w.service._latest["preview"]
    np.testing.assert_array_equal(w.result_view.result,
                                  w.service.colorize(w.session.hints, w.session.saturation))
    assert drawn() == (128, 96)
