"""The main window: builds the widgets, actions and menus and wires them to the session, the
hint editor, the undo stack and the colorizer service. It holds no colour or hint logic of its
own."""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QCloseEvent, QGuiApplication, QIcon, QImage, QPixmap, QUndoStack
from PySide6.QtWidgets import QDockWidget, QLabel, QMainWindow, QSplitter, QStackedWidget

from colouru import __version__
from colouru.colour import srgb_image_lightness
from colouru.hints import Hint, HintsFileError, Stroke, hint_box, load_hints_doc, save_hints
from colouru.imageio import (
    READ_EXTENSIONS,
    SAVE_FORMATS,
    ImageReadError,
    ImageWriteError,
    read_image,
    to_uint8,
)

from . import dialogs
from .actions import shortcut_rows
from .canvas import Canvas
from .colour_panel import ColourPanel
from .colours import ab_to_rgb8, lightness_to_grey, photo_tone, rgb8_to_ab, snap_to_gamut
from .editor import HintEditor
from .menus import MOUSE_HELP, build_actions, build_menus
from .qt_images import to_rgb32
from .recovery import RecoveryStore
from .reference_view import ReferenceView
from .result_view import ResultView
from .service import ColorizerService, ModelError
from .session import DEFAULT_WORK_SIZE, Change, Session, Tool
from .settings import AppSettings
from .tasks import TaskBar, run_task
from .welcome import WelcomePage
from .zoom_view import ViewSync

REFERENCE_MIN_HEIGHT = 240  # px: the reference image is for picking colours, not a thumbnail
EXAMPLE_PHOTO = "1890Surfer.png"  # a black-and-white photograph, public domain by age


def example_photo_path() -> Path:
    """The example photo that ships with ColourU (File > Open Example Photo)."""
    return Path(str(resources.files("colouru.assets"))) / "examples" / EXAMPLE_PHOTO


@dataclass
class LoadedPhoto:
    lightness: np.ndarray  # (H, W) float32 L 0..100
    tone: str  # "grey", "toned" or "colour" (colours.photo_tone)
    grey: QImage  # the photo as shown before colour, in the screen's format (RGB32)
    prepared: object = None  # ColorizerService.preparer()'s, for set_lightness


def load_photo(path: Path, report, cancelled, prepare=None) -> LoadedPhoto | None:
    """Read a photo and make all the window needs of it (runs off the GUI thread, which then
    only swaps it in; None if cancelled): its L, prepared for the model (``prepare``: the
    service's ``preparer()``), and the grey
    image already in the pixmap's format (so making the pixmap copies nothing). The decoded
    photo is dropped once its L is known."""
    report(f"Reading {path.name}", None)
    # a grey photo in one channel, an 8-bit one as its codes: as colouru colorize reads it
    image = read_image(path, keep_grey=True, keep_8bit=True)
    tone = photo_tone(image)
    if cancelled():
        return None
    report(f"Opening {path.name}: lightness", None)
    lightness = srgb_image_lightness(image)
    del image
    if cancelled():
        return None
    grey = to_rgb32(lightness_to_grey(lightness))
    if cancelled():
        return None
    return LoadedPhoto(lightness, tone, grey, None if prepare is None else prepare(lightness))


class MainWindow(QMainWindow):
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
        self.pages = QStackedWidget()
        self.pages.addWidget(self.splitter)
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

    # == model =================================================================================
    def _start_model(self, model: str | None, device: str | None) -> None:
        device = device or self.settings.device()
        if device not in self.device_actions:
            device = "auto"
        self.device = device
        self.device_actions[device].setChecked(True)
        if model is not None:
            self.load_model(model)
            return
        remembered = self.settings.model_path()
        if remembered and Path(remembered).is_file():
            self.load_model(remembered, quiet=True)
        else:
            self.load_model(None, quiet=True)

    def load_model(self, path: str | Path | None, quiet: bool = False) -> bool:
        """Load a model file (None: the bundled one) on the chosen device. A missing bundled
        model is not an error: the app works without results until one is chosen."""
        try:
            with self._busy():
                self.service.load_model(None if path is None else str(path), self.device)
        except ModelError as e:
            if e.missing or quiet or self.service.colorizer is None:
                self.service.set_colorizer(None, str(e))
            if not quiet:
                dialogs.error(self, "No model" if e.missing else "Cannot load model", str(e))
            return False
        self.settings.set_model_path(None if path is None else str(Path(path).resolve()))
        return True

    def choose_model(self) -> None:
        path = dialogs.open_path(self, "Open model file", self.settings.last_folder("model"),
                                 dialogs.MODEL_FILTER)
        if path is not None:
            self.settings.set_last_folder("model", path)
            self.load_model(path)

    def set_device(self, device: str) -> None:
        if device == self.device:
            return
        old, self.device = self.device, device
        c = self.service.colorizer
        if c is not None and not self.load_model(c.source if self.settings.model_path() else None):
            self.device = old  # the model stays where it was
            self.device_actions[old].setChecked(True)
            return
        self.settings.set_device(device)

    def _on_model_changed(self) -> None:
        c = self.service.colorizer
        self.session.set_work_size(self.service.work_size or DEFAULT_WORK_SIZE)
        if c is None:
            self.lbl_device.setText("No model")
            self.result_view.set_message(
                "No model loaded, so there is no result yet.\n\n"
                f"{self.service.model_error or ''}\n\n"
                "Choose one with Model > Open Model File… (Ctrl+M). You can still open photos "
                "and place hints.")
            self.result_view.clear_result()
        else:
            self.lbl_device.setText(f"Device: {c.device} · {Path(c.source).name}")
            self.result_view.set_message("")
            self.request_update()

    # == photo =================================================================================
    def choose_photo(self) -> None:
        path = dialogs.open_path(self, "Open photo", self.settings.last_folder("photo"),
                                 dialogs.PHOTO_FILTER)
        if path is not None:
            self.open_photo(path)

    def _task_running(self) -> bool:
        if self.task_bar.task is None:
            return False
        self.statusBar().showMessage(f"Busy: {self.task_bar.label.text()} (Cancel stops it)",
                                     3000)
        return True

    def open_photo(self, path: str | Path, recover: bool | None = None) -> bool:
        """Open a photo (asking first about unsaved hints). ``recover``: take autosaved hints
        for it (None: ask if there are some). Returns False if nothing changed.

        The file is read in the background with progress in the status bar and a Cancel
        button; the window answers input meanwhile."""
        path = Path(path)
        if self._task_running() or not self.confirm_discard():
            return False
        saved = self.recovery.load_doc(path)  # before the undo stack is reset for the new photo
        prepare = self.service.preparer()
        loaded, error, cancelled = run_task(self.task_bar, lambda report, cancelled: load_photo(
            path, report, cancelled, prepare), f"Opening {path.name}")
        if error is not None:
            text = str(error) if isinstance(error, ImageReadError) else f"{path}: {error!r}"
            dialogs.error(self, "Cannot open photo", text)
            return False
        if cancelled or loaded is None:
            self.statusBar().showMessage(f"Opening {path.name} cancelled", 5000)
            return False
        self.pages.setCurrentWidget(self.splitter)
        self.session.set_photo(path, lightness=loaded.lightness, colour=loaded.tone != "grey")
        # the same array: L is held once; prepared for another model, it is made again
        self.service.set_lightness(loaded.lightness, loaded.prepared)
        self.undo.clear()
        self.result_path = None
        self._suggestions = []
        grey = QPixmap.fromImage(loaded.grey)  # one pixmap, shared by both views
        self.canvas.set_photo(grey)
        self.result_view.set_before(grey)
        self.canvas.fit()
        self.settings.add_recent_file(path)
        self.settings.set_last_folder("photo", path)
        self._update_title()
        h, w = self.session.image_hw
        note = {"colour": "; it is in colour, so only its lightness is used (its colours are "
                          "replaced)",
                "toned": "; it is toned (sepia or a tint), so only its lightness is used (the "
                         "tone is replaced by the colours you give)"}.get(loaded.tone, "")
        self.statusBar().showMessage(f"Opened {path.name} ({w} x {h}){note}",
                                     10000 if note else 5000)
        if saved is not None and (saved.hints or saved.saturation != 1):
            if recover is None:
                recover = dialogs.ask_recover(self, path, len(saved.hints))
            if recover:
                self.editor.replace_all(saved.hints, "Recover hints", saved.saturation)
            else:
                self.recovery.discard(path)
        self.request_update()
        return True

    def open_example(self) -> bool:
        """Open the bundled example photo (a black-and-white photograph from 1890)."""
        return self.open_photo(example_photo_path())

    def offer_recovery(self) -> bool:
        """At start without a photo: offer the newest photo that has autosaved hints."""
        pending = self.recovery.pending()
        if not pending:
            return False
        doc = self.recovery.load_doc(pending[0])
        if dialogs.ask_recover(self, pending[0], len(doc.hints) if doc else 0):
            return self.open_photo(pending[0], recover=True)
        self.recovery.discard(pending[0])
        return False

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        files = self.settings.recent_files()
        for i, f in enumerate(files):
            act = self.recent_menu.addAction(f"&{(i + 1) % 10} {Path(f).name}")
            act.setToolTip(f)
            act.triggered.connect(lambda _=False, f=f: self.open_photo(f))
        if not files:
            self.recent_menu.addAction("(none)").setEnabled(False)
        self.recent_menu.addSeparator()
        self.recent_menu.addAction("Clear Recent", self.settings.clear_recent_files)

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

    # == hints files ===========================================================================
    @property
    def needs_saving(self) -> bool:
        """Hints, strokes or the saturation changed since they were last exported (or opened)
        and something is left to keep (an item, or a saturation other than 1)."""
        s = self.session
        return not self.undo.isClean() and (bool(s.hints) or s.saturation != 1)

    def confirm_discard(self) -> bool:
        """Ask about unsaved hints before they are dropped; True means go ahead."""
        if self.session.photo is None or not self.needs_saving:
            return True
        answer = dialogs.ask_unsaved(self, self.session.photo.path.name)
        if answer == "save":
            return self.export_hints()
        if answer == "discard":
            self.recovery.discard(self.session.photo.path)
            return True
        return False

    def export_hints(self, path: str | Path | None = None) -> bool:
        photo = self.session.photo
        if photo is None:
            return False
        if path is None:
            path = dialogs.save_path(self, "Export hints", str(photo.path.with_suffix(".json")),
                                     dialogs.HINTS_FILTER)
            if path is None:
                return False
        h, w = photo.hw
        try:
            save_hints(path, self.session.hints, image_size=(w, h),
                       saturation=self.session.saturation)
        except OSError as e:
            dialogs.error(self, "Cannot save hints", f"{path}: {e.strerror or e}")
            return False
        self.undo.setClean()
        self.recovery.discard(photo.path)
        self.statusBar().showMessage(f"Hints saved to {path}", 5000)
        return True

    def choose_hints(self) -> None:
        folder = str(self.session.photo.path.parent) if self.session.photo else ""
        path = dialogs.open_path(self, "Import hints", folder, dialogs.HINTS_FILTER)
        if path is not None:
            self.import_hints(path)

    def import_hints(self, path: str | Path) -> bool:
        if self.session.photo is None:
            dialogs.error(self, "Import hints", "Open the photo the hints belong to first.")
            return False
        try:
            doc = load_hints_doc(path)
        except (HintsFileError, OSError, ValueError, RecursionError, MemoryError) as e:
            # load_hints_doc says all in a HintsFileError; whatever else a file can do to a
            # reader, the app shows it and keeps going.
            dialogs.error(self, "Cannot import hints", str(e))
            return False
        hints = doc.hints
        self.editor.replace_all(hints, saturation=doc.saturation)
        self.undo.setClean()  # the hints are in a file: nothing to ask about on closing
        self.recovery.discard(self.session.photo.path)
        outside = sum(not self.session.on_photo(h) for h in hints)
        note = f" ({outside} lie outside this photo)" if outside else ""
        strokes = sum(isinstance(h, Stroke) for h in hints)
        what = f"{len(hints) - strokes} hints" + (f", {strokes} strokes" if strokes else "")
        if doc.saturation != 1:
            what += f" and saturation {doc.saturation:g}"
        self.statusBar().showMessage(f"Imported {what} from {Path(path).name}{note}")
        return True

    # == saving the result =====================================================================
    def _suggested_result_path(self) -> Path:
        src = self.session.photo.path
        ext = src.suffix.lower() if src.suffix.lower() in SAVE_FORMATS else ".png"
        return src.with_name(f"{src.stem}_colour{ext}")

    def save_result(self) -> bool:
        return self.save_result_as(self.result_path) if self.result_path else self.save_result_as()

    def save_result_as(self, path: str | Path | None = None) -> bool:
        """Colorize at full resolution with ``Colorizer.colorize`` and write with
        ``save_image``: the same calls, so the same pixels, as ``colouru colorize``."""
        photo = self.session.photo
        if photo is None:
            return False
        if self.service.colorizer is None:
            dialogs.error(self, "No model", "Load a model (Model menu) before saving a result.")
            return False
        if self._task_running():
            return False
        if path is None:
            path = dialogs.save_path(self, "Save result", str(self._suggested_result_path()),
                                     dialogs.RESULT_FILTER)
            if path is None:
                return False
            path = Path(path)
            if path.suffix.lower() in (".jpg", ".jpeg"):
                quality = dialogs.jpeg_quality(self, self.settings.jpeg_quality())
                if quality is None:
                    return False
                self.settings.set_jpeg_quality(quality)
        path = Path(path)
        if not path.suffix:
            path = path.with_suffix(".png")
        hints, quality, service = self.session.hints, self.settings.jpeg_quality(), self.service
        saturation = self.session.saturation

        def work(report, cancelled):  # in the background
            return service.save_result(path, hints, saturation, (photo.path,), quality, report,
                                       cancelled)

        written, error, cancelled = run_task(self.task_bar, work, "Colorizing")
        if cancelled or (error is None and not written):
            self.statusBar().showMessage(f"Saving {path.name} cancelled", 5000)
            return False
        if error is not None:
            text = str(error) if isinstance(error, ImageWriteError) else f"{path}: {error!r}"
            dialogs.error(self, "Cannot save result", text)
            return False
        self.result_path = path
        self.undo.setClean()  # saved: quitting now asks nothing
        self.recovery.discard(photo.path)
        h, w = photo.hw
        self.statusBar().showMessage(f"Saved {path.name} ({w} x {h})", 5000)
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
        the drag ends, the settled one; see ``ColorizerService.request_preview``)."""
        return self.service.request_preview(self.session.hints, self.session.saturation,
                                            dragging=self.dragging)

    def request_suggestions(self) -> int | None:
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
        photo = self.session.photo
        if photo is None:
            return
        if self.needs_saving:
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
        if ext not in READ_EXTENSIONS:
            self.statusBar().showMessage(f"Trying {path.name} as a photo", 3000)
        return self.open_photo(path)

    def closeEvent(self, event: QCloseEvent):
        if self.task_bar.task is not None:  # opening or saving: stop it, then close
            self.task_bar.cancel_button.click()
        if not self.confirm_discard():
            event.ignore()
            return
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
