"""The main window: builds the widgets, actions and menus and wires them to the session, the
hint editor, the undo stack and the colorizer service. It holds no colour or hint logic of its
own."""

from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication, QIcon, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from colouru import __version__
from colouru.film_settings import is_video_path
from colouru.hints import Hint, hint_box
from colouru.imageio import (
    READ_EXTENSIONS,
    ImageReadError,
    read_image,
    to_uint8,
)

from . import dialogs
from .actions import shortcut_rows
from .canvas import Canvas
from .colour_panel import ColourPanel
from .colours import ab_to_rgb8, rgb8_to_ab, snap_to_gamut
from .editor import HintEditor
from .film_controller import FilmController
from .menus import MOUSE_HELP, build_actions, build_menus
from .photo_files import EXAMPLE_PHOTO as EXAMPLE_PHOTO  # where tests and scripts look
from .photo_files import LoadedPhoto as LoadedPhoto
from .photo_files import PhotoFiles
from .photo_files import example_photo_path as example_photo_path
from .photo_files import load_photo as load_photo
from .recovery import RecoveryStore
from .reference_view import ReferenceView
from .result_view import ResultView
from .service import ColorizerService
from .session import Change, Session, Tool
from .settings import AppSettings
from .tasks import TaskBar
from .welcome import WelcomePage
from .window_model import ModelActions
from .zoom_view import ViewSync

REFERENCE_MIN_HEIGHT = 240  # px: the reference image is for picking colours, not a thumbnail


class MainWindow(PhotoFiles, ModelActions, QMainWindow):
    def __init__(self, model: str | None = None, device: str | None = None,
                 settings: AppSettings | None = None, recovery_dir: str | Path | None = None):
        super().__init__()
        self.settings = settings or AppSettings()
        self.session = Session()
        self.undo = QUndoStack(self)
        self.editor = HintEditor(self.session, self.undo, self._new_hint_colour)
        self.service = ColorizerService(self)
        app = QGuiApplication.instance()
        if app is not None:  # never leave the worker thread running at exit
            app.aboutToQuit.connect(self.service.shutdown)
        self.recovery = RecoveryStore(recovery_dir or self.settings.folder / "recovery")
        self.result_path: Path | None = None
        self.last_shown_id = 0  # number of the request whose result is on screen
        self._suggestions: list = []
        self._windows: list = []  # non-modal About / shortcuts windows

        self.session.current_ab = self.settings.colour()
        self.session.size = self.settings.size()
        self.session.brush = self.settings.brush()
        self.session.recent = self.settings.recent_colours()
        self._build_widgets()
        build_actions(self)
        self.film = FilmController(self)  # a film's timeline, frames, keyframes, export
        self.photo_page.layout().addWidget(self.film.timeline)
        self._build_welcome()
        self._build_docks()
        build_menus(self)
        self._build_status_bar()
        self._connect()
        self.setAcceptDrops(True)
        self.setWindowIcon(QIcon(str(Path(__file__).with_name("colouru.svg"))))
        self.resize(1400, 860)
        geometry, state = self.settings.window_state()
        if geometry is not None:
            self.restoreGeometry(geometry)
        self.keep_on_screen()
        if state is not None:
            self.restoreState(state)
        splitter = self.settings.qs.value("window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        self._update_title()
        self._refresh_panel()
        self._start_model(model, device)

    def keep_on_screen(self) -> None:
        """Bring the window inside its screen's free area (a geometry saved on a larger or
        a disconnected screen, or the default size on a small one), shrinking it if need be."""
        screen = self.screen() or QGuiApplication.primaryScreen()
        if screen is None:
            return
        avail, inner, frame = screen.availableGeometry(), self.geometry(), self.frameGeometry()
        dw, dh = frame.width() - inner.width(), frame.height() - inner.height()
        w, h = min(inner.width(), avail.width() - dw), min(inner.height(), avail.height() - dh)
        if (w, h) != (inner.width(), inner.height()):
            self.resize(max(w, 200), max(h, 200))
        frame = self.frameGeometry()
        x = min(max(frame.x(), avail.x()), avail.x() + avail.width() - frame.width())
        y = min(max(frame.y(), avail.y()), avail.y() + avail.height() - frame.height())
        if (x, y) != (frame.x(), frame.y()):
            self.move(x, y)

    # == building ==============================================================================
    def _build_widgets(self) -> None:
        self.canvas = Canvas(self.session, self.editor)
        self.result_view = ResultView()
        for v in (self.canvas, self.result_view):
            v.setAcceptDrops(False)
            v.viewport().setAcceptDrops(False)
        self.sync = ViewSync(self.canvas, self.result_view)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.canvas)
        self.splitter.addWidget(self.result_view)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([1000, 1000])  # equal halves until the user moves the handle
        self.photo_page = QWidget()  # the views, and a film's timeline under them
        QVBoxLayout(self.photo_page).addWidget(self.splitter, 1)
        self.photo_page.layout().setContentsMargins(0, 0, 0, 0)
        self.pages = QStackedWidget()
        self.pages.addWidget(self.photo_page)
        self.setCentralWidget(self.pages)

    def _build_welcome(self) -> None:
        """Until a photo is open the central area says how to start."""
        self.welcome = WelcomePage(self.act_open, self.act_example)
        self.pages.addWidget(self.welcome)
        self.pages.setCurrentWidget(self.welcome)

    def _build_docks(self) -> None:
        self.colour_panel = ColourPanel(self.act_choose, self.act_eyedropper)
        self.colour_dock = QDockWidget("Colour", self)
        self.colour_dock.setObjectName("colour_dock")
        self.colour_dock.setWidget(self.colour_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.colour_dock)
        self.reference = ReferenceView()
        self.reference_dock = QDockWidget("Reference image", self)
        self.reference_dock.setObjectName("reference_dock")
        self.reference_dock.setWidget(self.reference)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.reference_dock)
        self.reference_dock.hide()

    def _build_status_bar(self) -> None:
        sb = self.statusBar()
        self.task_bar = TaskBar()
        sb.addPermanentWidget(self.task_bar)
        self.lbl_pos, self.lbl_zoom, self.lbl_hints = QLabel(), QLabel(), QLabel()
        self.lbl_device, self.lbl_update = QLabel(), QLabel("No result yet")
        self.lbl_device.setToolTip("Where the model runs (Model > Device)")
        self.lbl_update.setToolTip("When the result last changed, and how long it took")
        for w in (self.lbl_pos, self.lbl_zoom, self.lbl_hints, self.lbl_device, self.lbl_update):
            sb.addPermanentWidget(w)

    def _connect(self) -> None:
        self.session.subscribe(self._on_session)
        u = self.undo
        u.canUndoChanged.connect(self.act_undo.setEnabled)
        u.canRedoChanged.connect(self.act_redo.setEnabled)
        u.undoTextChanged.connect(lambda t: self.act_undo.setText(f"&Undo {t}".strip()))
        u.redoTextChanged.connect(lambda t: self.act_redo.setText(f"&Redo {t}".strip()))
        u.cleanChanged.connect(lambda _clean: self._update_title())
        u.indexChanged.connect(lambda _i: self._autosave())
        s = self.service
        s.previewReady.connect(self._on_preview)
        s.fullReady.connect(self._on_full)
        s.suggestionsReady.connect(self._on_suggestions)
        s.jobFailed.connect(lambda msg: self.statusBar().showMessage(f"Colorizing failed: {msg}"))
        s.modelChanged.connect(self._on_model_changed)
        p = self.colour_panel
        p.colourPicked.connect(lambda ab, dragging: self.editor.set_colour(
            ab, continuing=dragging, final=False))
        p.pickFinished.connect(self.editor.finish_colour)
        p.pickFinished.connect(self.request_update)  # the drag's end: the settled result
        p.colourChosen.connect(self.apply_colour)
        p.sizeChanged.connect(self.editor.set_size)
        p.brushChanged.connect(self.editor.set_brush)
        p.saturationChanged.connect(lambda value, dragging: self.editor.set_saturation(
            value, continuing=dragging))
        p.saturationFinished.connect(self.editor.finish_saturation)
        p.saturationFinished.connect(self.request_update)
        self.canvas.hovered.connect(self._show_position)
        self.canvas.zoomChanged.connect(
            lambda _z: self.lbl_zoom.setText(f"{self.canvas.device_zoom * 100:.0f}%"))
        self.result_view.colourSampled.connect(self._on_sampled)
        self.reference.colourSampled.connect(self._on_sampled)

    def show_reference(self) -> None:
        """Show the reference dock large enough to pick colours from: the colour panel keeps
        only the height it needs, the reference takes the rest of the column (it can also be
        floated and resized, and zoomed with the wheel)."""
        if not self.reference_dock.isHidden():
            return
        self.reference_dock.show()
        if self.reference_dock.isFloating() or self.colour_dock.isHidden():
            return
        need = self.colour_panel.minimumSizeHint().height() + 24  # + the dock's title bar
        column = self.colour_dock.height() + max(self.reference_dock.height(), 0)
        self.resizeDocks([self.colour_dock, self.reference_dock],
                         [need, max(column - need, REFERENCE_MIN_HEIGHT)],
                         Qt.Orientation.Vertical)

    def choose_reference(self) -> None:
        path = dialogs.open_path(self, "Open reference image",
                                 self.settings.last_folder("reference"), dialogs.PHOTO_FILTER)
        if path is not None:
            self.open_reference(path)

    def open_reference(self, path: str | Path) -> bool:
        try:
            rgb = to_uint8(read_image(path))
        except ImageReadError as e:
            dialogs.error(self, "Cannot open reference image", str(e))
            return False
        self.settings.set_last_folder("reference", path)
        self.reference_dock.setWindowTitle(f"Reference: {Path(path).name}")
        self.reference.set_image(rgb)
        self.show_reference()
        return True

    # == tools ==================================================================================
    def set_tool(self, tool: Tool | str) -> None:
        """The hint tool (click to add or select, drag to move) or the brush (drag to draw a
        stroke)."""
        tool = Tool(tool)
        if tool is not self.session.tool:
            self.session.set_tool(tool)
        if tool is Tool.BRUSH:  # colours picked now are for the next stroke, not a selection
            self.session.select(None)
            self.statusBar().showMessage("Brush: drag on the photo to draw a stroke of the "
                                         "current colour (wheel or [ ]: width; H: hint tool)",
                                         5000)
        else:
            self.statusBar().showMessage("Hints: click to add or select a hint or stroke, drag "
                                         "to move it (S: brush)", 5000)

    # == colours ===============================================================================
    def apply_colour(self, ab) -> None:
        """A colour from a swatch, the dialog or the eyedropper: snapped into gamut at the
        point's lightness, then made current (and given to the selected hint)."""
        self.editor.set_colour(snap_to_gamut(self.session.point_lightness(), ab))

    def _new_hint_colour(self, x: int, y: int) -> tuple[float, float] | None:
        """A new hint's colour: the result's colour at that point (the model's suggestion,
        as in Zhang et al. 2017), unless the user keeps the last colour; None: the current."""
        if self.act_keep_colour.isChecked():
            return None
        s = self.session
        probe = Hint(x, y, s.size_to_image(s.size), ab=(0.0, 0.0))
        ab = self.service.predicted_ab(hint_box(probe, s.image_hw, s.work_hw))
        return None if ab is None else snap_to_gamut(s.hint_lightness(probe), ab)

    def _set_keep_colour(self, keep: bool) -> None:
        self.settings.set_keep_colour(keep)

    def choose_colour(self) -> None:
        rgb = dialogs.choose_colour(self, ab_to_rgb8(self.session.point_lightness(),
                                                     self.session.current_ab))
        if rgb is not None:
            self.apply_colour(rgb8_to_ab(rgb))

    def _set_eyedropper(self, on: bool) -> None:
        self.result_view.eyedropper = on
        if on:
            self.result_view.viewport().setCursor(Qt.CursorShape.CrossCursor)
        else:
            self.result_view.restore_cursor()
        if on and self.reference.image is not None:
            self.show_reference()
            self.statusBar().showMessage("Eyedropper: click the reference image or the result")
        elif on:
            self.statusBar().showMessage("Eyedropper: click the result, or open a reference "
                                         "image (Ctrl+Shift+O) to take colours from")

    def _on_sampled(self, rgb) -> None:
        self.apply_colour(rgb8_to_ab(rgb))
        self.act_eyedropper.setChecked(False)

    # == session changes =======================================================================
    def _on_session(self, what: Change) -> None:
        s = self.session
        if what in (Change.HINTS, Change.SELECTION, Change.PHOTO, Change.SIZE):
            self.canvas.refresh()
            strokes = len(s.strokes)
            self.lbl_hints.setText(f"{len(s.hints) - strokes} hints"
                                   + (f" · {strokes} strokes" if strokes else ""))
        if what in (Change.HINTS, Change.SATURATION):
            self.request_update()
            self._update_title()
        if what is Change.TOOL:
            (self.act_brush_tool if s.tool is Tool.BRUSH else self.act_hint_tool).setChecked(True)
            self.canvas.show_tool()
        if what in (Change.SELECTION, Change.FOCUS, Change.PHOTO, Change.SATURATION):
            self._suggestions = []  # they were for another point, or another saturation
        moved = what in (Change.HINTS, Change.SELECTION, Change.FOCUS, Change.PHOTO,
                         Change.SATURATION)
        if moved and not self.editor.dragging:
            self.request_suggestions()  # while a hint is dragged: once, when it lands
        if what is Change.COLOUR:
            self.settings.set_colour(s.current_ab)
        if what is Change.SIZE:
            self.settings.set_size(s.size)
            self.settings.set_brush(s.brush)
        if what is Change.RECENT:  # a colour was picked: on disk now, so it survives a crash
            self.settings.set_colour(s.current_ab)
            self.settings.set_recent_colours(s.recent)
            self.settings.sync()
        self._refresh_panel()

    def _refresh_panel(self) -> None:
        s = self.session
        light = s.point_lightness()
        suggestion = self._suggestions[0] if self._suggestions else None
        self.colour_panel.show_state(light, s.current_ab, s.size, s.size_to_image(s.size),
                                     suggestion, s.brush, s.brush_to_image(s.brush),
                                     s.saturation)
        self.colour_panel.show_swatches(light, s.recent, self._suggestions)

    @property
    def dragging(self) -> bool:
        """A drag is under way: a hint or stroke moved or drawn on the photo, a colour
        dragged over the gamut, the saturation slider held."""
        return self.editor.dragging or self.colour_panel.dragging

    def request_update(self) -> int | None:
        """Ask for the result of the session as it is now (during a drag: a quick one; once
        the drag ends, the settled one; see ``ColorizerService.request_preview``; a film's
        frame played: its steady colour, ``FilmController.steady``). None while a film's
        frame is on its way (its picture and hints would not match)."""
        if self.film.pending:
            return None
        return self.service.request_preview(self.session.hints, self.session.saturation,
                                            dragging=self.dragging, steady=self.film.steady)

    def request_suggestions(self) -> int | None:
        if self.film.pending:
            return None
        s = self.session
        return self.service.request_suggestions(s.hints, s.probe_box_work(), s.selected,
                                                s.saturation)

    def _on_preview(self, request_id: int, rgb: np.ndarray, seconds: float) -> None:
        self.last_shown_id = request_id
        self.result_view.set_result(rgb)
        self.lbl_update.setText(f"Updated {time.strftime('%H:%M:%S')} · {seconds * 1000:.0f} ms")

    def _on_full(self, request_id: int, rgb: np.ndarray, seconds: float) -> None:
        self.result_view.set_result(rgb, self.service.full_image)
        self.lbl_update.setText(f"Updated {time.strftime('%H:%M:%S')} · full size in "
                                f"{seconds:.1f} s")

    def _on_suggestions(self, _request_id: int, colours) -> None:
        self._suggestions = list(colours)
        self._refresh_panel()

    def _autosave(self) -> None:
        photo, film = self.session.photo, self.session.film
        if photo is None:
            return
        if film is not None and self.needs_saving:
            try:
                self.recovery.save_film(film.path, film.keyframes, (film.width, film.height),
                                        self.session.saturation,
                                        (film.range_start, film.range_end))
            except OSError as e:
                self.statusBar().showMessage(f"Autosave failed: {e}")
        elif self.needs_saving:
            h, w = photo.hw
            try:
                self.recovery.save(photo.path, self.session.hints, (w, h),
                                   self.session.saturation)
            except OSError as e:
                self.statusBar().showMessage(f"Autosave failed: {e}")
        else:
            self.recovery.discard(photo.path)

    # == view ==================================================================================
    def _set_compare(self, mode: str) -> None:
        self.result_view.set_mode(mode)
        for act, m in ((self.act_before, "before"), (self.act_split, "split")):
            act.blockSignals(True)
            act.setChecked(mode == m)
            act.blockSignals(False)

    def _show_position(self, x: float, y: float) -> None:
        photo = self.session.photo
        if photo is None:
            return
        h, w = photo.hw
        if 0 <= x < w and 0 <= y < h:
            self.lbl_pos.setText(f"{int(x)}, {int(y)} · L {photo.lightness[int(y), int(x)]:.0f}")
        else:
            self.lbl_pos.setText("")

    def _update_title(self) -> None:
        photo = self.session.photo
        name = photo.path.name if photo is not None else "no photo"
        self.setWindowTitle(f"{name}[*] — ColourU")
        self.setWindowModified(self.needs_saving)

    @contextmanager
    def _busy(self):
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            yield
        finally:
            QGuiApplication.restoreOverrideCursor()

    # == help ==================================================================================
    def show_shortcuts(self) -> dialogs.ShortcutsWindow:
        w = dialogs.ShortcutsWindow(self, shortcut_rows(self.actions()), MOUSE_HELP)
        self._windows.append(w)
        w.show()
        return w

    def show_about(self) -> dialogs.TextWindow:
        c = self.service.colorizer
        card = None
        if c is not None:  # the card lives beside the model: MODEL.md or README.md
            for cand in (Path(c.source).with_suffix(".md"), Path(c.source).with_name("README.md")):
                if cand.is_file():
                    card = cand.read_text(encoding="utf-8", errors="replace")
                    break
        text = dialogs.about_markdown(__version__, c.describe() if c else None, card,
                                      self.service.model_error)
        w = dialogs.TextWindow(self, "About ColourU", text)
        self._windows.append(w)
        w.show()
        return w

    # == drag and drop, closing ================================================================
    def dragEnterEvent(self, event):
        if any(u.isLocalFile() for u in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event):
        paths = [Path(u.toLocalFile()) for u in event.mimeData().urls() if u.isLocalFile()]
        if not paths:
            return
        event.acceptProposedAction()
        self.open_dropped(paths[0])

    def open_dropped(self, path: Path) -> bool:
        ext = path.suffix.lower()
        if ext == ".json":
            return self.import_hints(path)
        if ext == ".safetensors":
            return self.load_model(path)
        if ext not in READ_EXTENSIONS and not is_video_path(path):
            self.statusBar().showMessage(f"Trying {path.name} as a photo", 3000)
        return self.open_photo(path)

    def closeEvent(self, event: QCloseEvent):
        if self.task_bar.task is not None:  # opening or saving: stop it, then close
            self.task_bar.cancel_button.click()
        if not self.confirm_discard():
            event.ignore()
            return
        self.film.close()
        self.settings.set_window_state(self.saveGeometry(), self.saveState())
        self.settings.qs.setValue("window/splitter", self.splitter.saveState())
        self.settings.sync()
        if self.session.photo is not None:
            self.recovery.discard(self.session.photo.path)
        self.service.shutdown()
        self.undo.blockSignals(True)  # its teardown must not call back into a closed window
        for w in self._windows:
            w.close()
        event.accept()
