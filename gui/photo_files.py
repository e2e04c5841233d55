"""The window's files: opening photos (in the background, with Cancel), the recent files,
importing and exporting hints files, and saving the result at full resolution. A mixin of
``MainWindow`` (the window split by job)."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage, QPixmap

from colouru.colour import srgb_image_lightness
from colouru.film_settings import is_video_path
from colouru.hints import HintsFileError, Stroke, load_hints_doc, save_hints
from colouru.imageio import SAVE_FORMATS, ImageReadError, ImageWriteError, read_image

from . import dialogs
from .colours import lightness_to_grey, photo_tone
from .qt_images import to_rgb32
from .tasks import run_task

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


class PhotoFiles:
    """File > Open, Open Recent, Import / Export Hints, Save Result; ``self`` is the
    ``MainWindow``."""

    def choose_photo(self) -> None:
        path = dialogs.open_path(self, "Open photo or film", self.settings.last_folder("photo"),
                                 dialogs.OPEN_FILTER)
        if path is not None:
            self.open_photo(path)

    def _task_running(self) -> bool:
        if self.task_bar.task is None:
            return False
        self.statusBar().showMessage(f"Busy: {self.task_bar.label.text()} (Cancel stops it)",
                                     3000)
        return True

    def run_opening(self, path: Path, job, readable: type[Exception], what: str):
        """Open ``path`` by ``job(report, cancelled)`` in the background with the task bar's
        Cancel: its result, or None after an error dialog (``readable`` errors say their own
        line) or a cancel (said in the status bar)."""
        got, error, cancelled = run_task(self.task_bar, job, f"Opening {path.name}")
        if error is not None:
            text = str(error) if isinstance(error, readable) else f"{path}: {error!r}"
            dialogs.error(self, f"Cannot open {what}", text)
            return None
        if cancelled or got is None:
            self.statusBar().showMessage(f"Opening {path.name} cancelled", 5000)
            return None
        return got

    def open_photo(self, path: str | Path, recover: bool | None = None) -> bool:
        """Open a photo (asking first about unsaved hints). ``recover``: take autosaved hints
        for it (None: ask if there are some). Returns False if nothing changed.

        The file is read in the background with progress in the status bar and a Cancel
        button; the window answers input meanwhile. A film (by its extension) opens as a
        film (``film_controller.FilmController.open``)."""
        path = Path(path)
        if is_video_path(path):
            return self.film.open(path, recover)
        if self._task_running() or not self.confirm_discard():
            return False
        saved = self.recovery.load_doc(path)  # before the undo stack is reset for the new photo
        prepare = self.service.preparer()
        loaded = self.run_opening(path, lambda report, cancelled: load_photo(
            path, report, cancelled, prepare), ImageReadError, "photo")
        if loaded is None:
            return False
        self.film.close()
        self.pages.setCurrentWidget(self.photo_page)
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
        if is_video_path(pending[0]):  # a film: its keyframes' hints, counted together
            film = self.recovery.load_film(pending[0])
            count = sum(len(v) for v in film.frames.values()) if film else 0
        else:
            doc = self.recovery.load_doc(pending[0])
            count = len(doc.hints) if doc else 0
        if dialogs.ask_recover(self, pending[0], count):
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


    # == hints files ===========================================================================
    @property
    def needs_saving(self) -> bool:
        """Hints, strokes or the saturation changed since they were last exported (or opened)
        and something is left to keep (an item, a film's keyframe, or a saturation other
        than 1)."""
        s = self.session
        keys = s.film is not None and bool(s.film.keyframes)
        return not self.undo.isClean() and (bool(s.hints) or keys or s.saturation != 1)

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
        if self.session.film is not None:  # the film's hints file: hints by keyframe
            return self.film.export_hints(path)
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
        if self.session.film is not None:  # a film's hints file (or a photo's: frame 0)
            return self.film.import_hints(path)
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
