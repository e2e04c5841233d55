"""A hint dragged on the photo at the speed of the hand (issue 26): what the window redraws at
each step of the drag, driven like a user (real widgets, offscreen). No timings: what is
drawn, and when, in terms of the mouse events and the window's own timers."""

from __future__ import annotations

import pytest
from conftest import gradient_photo
from PIL import Image
from PySide6.QtCore import QEvent, QObject, QPoint, QPointF, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from colouru.gui.colours import ab_to_rgb8
from colouru.gui.main_window import MainWindow

pytestmark = pytest.mark.gui
WAIT = 10_000  # ms; results normally arrive in a few


@pytest.fixture
def window(qtbot, gui_settings, tiny_model_path, tmp_path):
    """The window on a 96 x 128 photo whose lightness rises from left to right, with one
    hint of a fixed colour at (30, 40)."""
    photo = tmp_path / "photo.png"
    Image.fromarray(gradient_photo(96, 128)).save(photo)
    w = MainWindow(model=str(tiny_model_path), device="cpu", settings=gui_settings,
                   recovery_dir=tmp_path / "recovery")
    w.resize(1200, 700)
    w.show()
    qtbot.waitExposed(w)
    with qtbot.waitSignal(w.service.previewReady, timeout=WAIT):
        assert w.open_photo(photo)
    w.act_keep_colour.setChecked(True)
    w.editor.set_colour((20.0, -30.0))
    QTest.mouseClick(w.canvas.viewport(), Qt.MouseButton.LeftButton, pos=at(w.canvas, 30, 40))
    qtbot.waitUntil(lambda: not w.service.busy, timeout=WAIT)
    yield w
    w.undo.setClean()  # nothing to ask about on closing
    w.close()
    w.deleteLater()


def at(view, x: float, y: float) -> QPoint:
    return view.mapFromScene(QPointF(x + 0.5, y + 0.5))


def on_screen(view):
    """What the screen shows of ``view``'s viewport: the window's backing store (the offscreen
    platform grabs it), not the widget drawn afresh."""
    vp = view.viewport()
    top = vp.window()
    p = vp.mapTo(top, QPoint(0, 0))
    return top.screen().grabWindow(top.winId(), p.x(), p.y(), vp.width(), vp.height()).toImage()


class Paints(QObject):
    """The rectangles a widget is asked to paint (an event filter: it changes nothing)."""

    def __init__(self, widget):
        super().__init__()
        self.rects = []
        widget.installEventFilter(self)

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            self.rects.append(event.region().boundingRect())
        return False


def test_a_dragged_hint_redraws_only_its_old_and_new_places(window, qtbot):
    """Each step of a drag repaints the hint's old and new boxes, not the whole photo, and
    the screen is then what a full repaint draws, step by step and after the release."""
    w, canvas = window, window.canvas
    vp = canvas.viewport()
    paints = Paints(vp)
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, pos=at(canvas, 30, 40))
    QApplication.processEvents()
    for k in range(1, 8):
        paints.rects.clear()
        QTest.mouseMove(vp, pos=at(canvas, 30 + 6 * k, 40 + 3 * k))
        QApplication.processEvents()  # the canvas paints what changed
        assert paints.rects, k
        biggest = max(r.width() * r.height() for r in paints.rects)
        assert biggest < vp.width() * vp.height() / 4, (k, paints.rects, vp.size())
        step = on_screen(canvas)
        vp.repaint()  # everything drawn again
        assert on_screen(canvas) == step, k
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=at(canvas, 72, 61))
    QApplication.processEvents()
    assert (w.session.hints[0].x, w.session.hints[0].y) == (72, 61)
    landed = on_screen(canvas)
    vp.repaint()
    assert on_screen(canvas) == landed


def panel_shows(w) -> tuple:
    """What the colour panel shows of the point: its lightness (the plane's) and the current
    colour's swatch."""
    p = w.colour_panel
    return p.gamut.lightness, p.current.styleSheet()


def panel_for(w) -> tuple:
    """What the colour panel shows for the session as it is now."""
    s = w.session
    light = s.point_lightness()
    return float(light), f"background-color: rgb{ab_to_rgb8(light, s.current_ab)};"


def test_the_colour_panel_follows_a_drag_on_its_own_turn_and_lands_exact(window, qtbot,
                                                                         monkeypatch):
    """Dragged on the photo, the hint moves at every mouse event and the panel (the plane at
    its lightness, the current colour there) follows at its turn (``PANEL_DRAG_MS``): a burst
    of events redraws it once, its timer then shows the newest place, and the release shows
    exactly where the hint landed. Dragging in the colour plane, the panel follows every
    event."""
    w, canvas = window, window.canvas
    vp = canvas.viewport()
    refreshed = []
    real = w._refresh_panel
    monkeypatch.setattr(w, "_refresh_panel", lambda: refreshed.append(1) or real())
    QTest.mousePress(vp, Qt.MouseButton.LeftButton, pos=at(canvas, 30, 40))
    qtbot.waitUntil(lambda: not w.service.busy, timeout=WAIT)  # the pressed hint's suggestions
    refreshed.clear()
    w._panel_timer.setInterval(600_000)  # the panel's next turn comes when the test says
    for k in range(1, 9):  # a burst of events within one turn
        QTest.mouseMove(vp, pos=at(canvas, 30 + 8 * k, 40))
    assert w.session.hints[0].x == 94 and len(refreshed) == 1  # the first at once
    assert panel_shows(w) != panel_for(w)  # (the photo is lighter to the right)
    w._panel_timer.setInterval(0)  # its turn (the running timer starts again with it)
    qtbot.waitUntil(lambda: len(refreshed) == 2, timeout=WAIT)  # the newest place
    assert panel_shows(w) == panel_for(w)
    QTest.mouseMove(vp, pos=at(canvas, 100, 44))
    QTest.mouseRelease(vp, Qt.MouseButton.LeftButton, pos=at(canvas, 100, 44))
    assert (w.session.hints[0].x, w.session.hints[0].y) == (100, 44)
    assert panel_shows(w) == panel_for(w)  # the release: at once, where it landed
    qtbot.waitUntil(lambda: not w.service.busy, timeout=WAIT)
    gamut, before = w.colour_panel.gamut, len(refreshed)
    QTest.mousePress(gamut, Qt.MouseButton.LeftButton, pos=gamut.ab_to_pos((-40, 0)).toPoint())
    for k in range(1, 6):
        QTest.mouseMove(gamut, pos=gamut.ab_to_pos((-40 + 10 * k, 10)).toPoint())
        assert panel_shows(w) == panel_for(w)
    QTest.mouseRelease(gamut, Qt.MouseButton.LeftButton, pos=gamut.ab_to_pos((10, 10)).toPoint())
    assert len(refreshed) >= before + 5
