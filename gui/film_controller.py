"""Films in the window: opening one, moving along its timeline, keyframes, playing, exporting.

The window shows a film as it shows a photo (grey on the left, colour on the right, the same
editing); the film adds the timeline under it. Moving to a frame shows its keyframe's hints at
once (``Session.go_to_frame``) while ``FrameSource`` decodes the frame in the background, with
the hints carried along the motion there as the export carries them; when it arrives it
becomes the photo the service colours (``ColorizerService.set_lightness``), so scrubbing
never waits for the decoder or the network. Hints placed on a frame make it a keyframe
holding the hints shown there (undoable, ``commands.py``); keyframes are added, moved (a
command, or their mark dragged on the timeline), copied (their hints pasted onto another
frame) and deleted, each one undo step. While a frame's picture is on its way no preview is
asked for (it would colour the last frame's picture with this frame's hints).

Playing (the range, when one is set) is ``film_play.FilmPlayer``'s: in colour at the film's
rate, as fast as the machine allows, the views showing one frame at a time (its picture,
hints and colour together), in the export's steady colour.

Export runs ``colorize_video`` (``film_service.py``) in the background with progress and
Cancel: the command line's film, pixel for pixel; Export Range writes the range set on the
timeline as ``--start``/``--end`` do.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtGui import QPixmap

from colouru.colour import srgb_image_lightness
from colouru.hints import HintsFileError
from colouru.video_hints import load_video_hints, save_video_hints

from . import dialogs
from .commands import KeyframesCommand, SaturationCommand
from .film_frames import FrameReader, FrameSource
from .film_play import FilmPlayer
from .film_service import FilmError, export_film, probe_film
from .session import Change
from .tasks import run_task
from .timeline import Timeline


def _first_frame(path: Path, report, cancelled, prepare):
    """Probe the film and decode its first frame (in the background): ``(film, L, grey
    image, prepared)`` or None if cancelled."""
    from .colours import lightness_to_grey
    from .qt_images import to_rgb32

    report(f"Checking {path.name}", None)
    film = probe_film(path)
    if cancelled():
        return None
    report(f"Opening {path.name}: first frame", None)
    reader = FrameReader(path)
    try:
        film.frames = max(1, min(film.frames, reader.count))
        lightness = srgb_image_lightness(reader.grey(0))
    finally:
        reader.close()
    return film, lightness, to_rgb32(lightness_to_grey(lightness)), prepare(lightness)


def _work_of(prepared) -> np.ndarray | None:
    """The working-size L in ``ColorizerService.preparer()``'s result (None: no model)."""
    return None if prepared is None else prepared[1].work_lightness


class FilmController(QObject):
    """The window's film: ``w`` is the ``MainWindow`` (its session, service, views, undo)."""

    def __init__(self, w):
        super().__init__(w)
        self.w = w
        self.source: FrameSource | None = None
        self.timeline = Timeline(w.act_play)
        self.timeline.frameChanged.connect(self.go_to)
        self.timeline.keyMoved.connect(self.move_key)
        self.copied: tuple | None = None  # hints copied from a frame, to paste onto another
        self.timeline.hide()
        self.shown_frame: int | None = None  # the frame whose picture the views show
        self.shown_how = "none"  # how its hints came: key, carried, held (too far), none
        self._asked: tuple | None = None  # (frame, keyframes) last asked of the source
        self.export_path: Path | None = None
        self.player = FilmPlayer(self)  # Play: before the window hears of each preview
        w.session.subscribe(self._on_session)
        w.service.modelChanged.connect(self._on_model_changed)

    @property
    def film(self):
        return self.w.session.film

    @property
    def steady(self) -> tuple | None:
        """What ``request_preview`` steadies the frame shown with (``FilmPlayer.steady``)."""
        return self.player.steady

    @property
    def pending(self) -> bool:
        """A film's frame is shown whose picture has not arrived yet, or a frame played is
        being coloured (the service has its picture, the views the last one's)."""
        return self.film is not None and (self.shown_frame != self.film.frame
                                          or self.player.colouring)

    # -- opening --------------------------------------------------------------------------------
    def open(self, path: str | Path, recover: bool | None = None) -> bool:
        """Open a film (checked as the command line checks it), in the background with
        Cancel; its first frame is shown. ``recover``: take its autosaved keyframes (None:
        ask if there are some). False if nothing changed."""
        w, path = self.w, Path(path)
        if w._task_running() or not w.confirm_discard():
            return False
        saved = w.recovery.load_film(path)  # before the undo stack is reset for the film
        saved_range = w.recovery.load_film_range(path)
        prepare = w.service.preparer()
        got = w.run_opening(path, lambda report, cancelled: _first_frame(
            path, report, cancelled, prepare), FilmError, "film")
        if got is None:
            return False
        film, lightness, grey, prepared = got
        self.close()
        self.source = FrameSource(path, self)
        self.source.frameReady.connect(self._on_frame)
        self.source.frameFailed.connect(self._on_frame_failed)
        w.pages.setCurrentWidget(w.photo_page)
        self._asked = (0, {})  # frame 0 is decoded already
        w.session.set_film(film, lightness)
        w.service.set_lightness(lightness, prepared)
        w.undo.clear()
        w.result_path, self.export_path, w._suggestions = None, None, []
        self._show_picture(0, grey, keep_result=False)
        w.canvas.fit()
        self.timeline.set_range(film.frames, film.second, longest=film.time_text(film.last)
                                + f" · hints of keyframe {film.last} carried along the motion")
        self.timeline.set_keys(())
        self.timeline.set_span(None)
        self._show_position()
        self.timeline.show()
        self.enable(True)
        w.settings.add_recent_file(path)
        w.settings.set_last_folder("photo", path)
        w._update_title()
        w.statusBar().showMessage(
            f"Opened {path.name} ({film.width} x {film.height}, {film.frames} frames at "
            f"{film.rate:g}/s). Hints placed on a frame make it a keyframe; between "
            f"keyframes the last one's hints are held here (the export carries them along "
            f"the motion)", 10000)
        if saved is not None and (saved.frames or saved.saturation != 1):
            if recover is None:
                recover = dialogs.ask_recover(w, path, sum(map(len, saved.frames.values())))
            if recover:
                self._take_hints(saved, "Recover hints")
                self.film.set_range(*saved_range)
                self._show_range(quiet=True)
            else:
                w.recovery.discard(path)
        w.request_update()
        return True

    def close(self) -> None:
        """Forget the film (another photo or film opens, or the window closes)."""
        self.player.stop(recolour=False)
        self.player.end_steady()
        if self.source is not None:
            self.source.close()
            self.source.deleteLater()
            self.source = None
        self.shown_frame, self._asked, self.copied = None, None, None
        self.timeline.hide()
        self.enable(False)

    def enable(self, on: bool) -> None:
        for act in self.w.film_actions:
            act.setEnabled(on)

    # -- moving along the film ------------------------------------------------------------------
    def go_to(self, frame: int) -> None:
        """Show ``frame``: its hints now, its picture when decoded, coloured on its own
        (playing stops; the colour steadied by playing ends)."""
        self.player.stop(recolour=False)
        self.player.end_steady()
        self._go(frame)

    def _go(self, frame: int) -> None:
        film = self.film
        if film is None:
            return
        frame = film.clamp(frame)
        if frame != film.frame:
            self.w.session.go_to_frame(frame)
        self._show_position()
        self._ask()

    def _ask(self) -> None:
        """Ask the source for the frame shown (playing: the frame to play next) and its
        hints, unless asked already."""
        film, frame = self.film, self.player.fetching
        frame = film.frame if frame is None else frame
        asked = (frame, dict(film.keyframes))
        if self.source is None or asked == self._asked:
            return
        self._asked = asked
        self.source.request(frame, self.w.service.preparer(), film.keyframes, _work_of,
                            self.player.ahead(frame))

    def step(self, frames: int) -> None:
        if self.film is not None:
            self.go_to(self.film.frame + frames)

    def step_seconds(self, seconds: int) -> None:
        if self.film is not None:
            self.go_to(self.film.frame + seconds * self.film.second)

    def to_end(self, end: bool) -> None:
        if self.film is not None:
            self.go_to(self.film.last if end else 0)

    def to_keyframe(self, step: int) -> None:
        film = self.film
        key = None if film is None else film.neighbour_key(film.frame, step)
        if key is not None:
            self.go_to(key)

    def _on_frame(self, index: int, lightness, image, prepared, _seconds: float, hints,
                  how: str) -> None:
        film = self.film
        if film is None or (index, film.keyframes) != self._asked:
            return  # the user has moved on, or changed a keyframe: newer is on its way
        if self.player.playing:
            if index == self.player.fetching:
                self.player.colour(index, lightness, image, prepared, hints, how)
            return
        if index != film.frame:
            return
        w = self.w
        w.session.set_frame_lightness(lightness)
        self._show_picture(index, image, keep_result=True)
        w.service.set_lightness(lightness, prepared)
        self.shown_how = how
        if how == "carried":
            w.session.show_carried(hints)
        self._show_position()
        w.request_update()

    def _on_model_changed(self) -> None:
        """Another model: the frame is asked for again (prepared for it, hints carried at
        its working size); playing stops."""
        self.player.model_changed()
        if self.source is not None and self.film is not None:
            self.source.forget_carried()
            self._asked, self.shown_frame = None, None
            self._ask()

    def _on_frame_failed(self, index: int, message: str) -> None:
        self.w.statusBar().showMessage(f"Frame {index} cannot be decoded: {message}", 5000)
        self.player.stop()

    def _show_picture(self, index: int, image, keep_result: bool) -> None:
        pixmap = QPixmap.fromImage(image)  # one pixmap, shared by both views
        self.w.canvas.set_photo(pixmap)
        self.w.result_view.set_before(pixmap, keep_result=keep_result)
        self.shown_frame = index

    def _show_position(self) -> None:
        film = self.film
        if film is None:
            return
        key = film.key_of(film.frame)
        if key == film.frame:
            note = " · keyframe"
        elif key is None:
            note = " · no hints yet"
        elif self.shown_frame != film.frame:
            note = f" · hints of keyframe {key}, being carried here"
        elif self.shown_how == "carried":
            note = f" · hints of keyframe {key} carried along the motion"
        else:
            note = f" · hints of keyframe {key} (held where placed)"
        self.timeline.show_frame(film.frame, film.time_text(film.frame) + note)

    def _on_session(self, what: Change) -> None:
        if self.film is None:
            return
        if what is Change.HINTS:
            self.timeline.set_keys(self.film.keyframes)
            self._show_position()
            self._ask()  # a keyframe changed: the hints carried here may too
        elif what is Change.FRAME:
            self._show_position()
            self._ask()

    # -- keyframes ------------------------------------------------------------------------------
    def _replace_keys(self, keys: dict, text: str) -> None:
        self.w.undo.push(KeyframesCommand(self.w.session, keys, self.film.frame, text))

    def add_keyframe(self) -> None:
        """Make this frame a keyframe holding the hints shown, as they lie here (carried or
        held): a copy of the last keyframe's, from which the export starts afresh here."""
        film = self.film
        if film is None or film.keyframe(film.frame) is not None:
            return
        self._replace_keys({**film.keyframes, film.frame: tuple(self.w.session.hints)},
                           f"Add keyframe {film.frame}")

    def move_keyframe(self) -> None:
        """Move the keyframe whose hints are shown here (the last one before this frame) to
        this frame, its hints as they were placed."""
        film = self.film
        key = None if film is None else film.key_of(film.frame)
        if key is None or key == film.frame:
            self.w.statusBar().showMessage("No keyframe before this frame to move here", 3000)
            return
        keys = dict(film.keyframes)
        keys[film.frame] = keys.pop(key)
        self._replace_keys(keys, f"Move keyframe {key} to {film.frame}")

    def move_key(self, key: int, to: int) -> None:
        """Move keyframe ``key`` to frame ``to`` (its mark dragged on the timeline), its hints
        as they were placed; refused onto another keyframe."""
        film = self.film
        if film is None or film.keyframe(key) is None or key == to:
            return
        to = film.clamp(to)
        if film.keyframe(to) is not None:
            self.w.statusBar().showMessage(f"Frame {to} is a keyframe already: delete it "
                                           f"first to move keyframe {key} there", 4000)
            return
        keys = dict(film.keyframes)
        keys[to] = keys.pop(key)
        self.w.undo.push(KeyframesCommand(self.w.session, keys, to,
                                          f"Move keyframe {key} to {to}"))

    def copy_hints(self) -> None:
        """Copy the hints shown on this frame (a keyframe's own, or carried here) to paste
        onto another frame."""
        if self.film is None:
            return
        self.copied = tuple(self.w.session.hints)
        self.w.statusBar().showMessage(f"Copied the {len(self.copied)} hints of frame "
                                       f"{self.film.frame}", 3000)

    def paste_hints(self) -> None:
        """Make this frame a keyframe holding the copied hints (its own replaced)."""
        film = self.film
        if film is None or self.copied is None:
            self.w.statusBar().showMessage("Nothing copied: Copy Hints on a frame first", 3000)
            return
        self._replace_keys({**film.keyframes, film.frame: self.copied},
                           f"Paste hints on frame {film.frame}")

    def delete_keyframe(self) -> None:
        """Delete this frame's keyframe (its hints go; the last keyframe's are held here)."""
        film = self.film
        if film is None or film.keyframe(film.frame) is None:
            self.w.statusBar().showMessage("This frame is no keyframe", 3000)
            return
        keys = dict(film.keyframes)
        del keys[film.frame]
        self._replace_keys(keys, f"Delete keyframe {film.frame}")

    # -- hints files ----------------------------------------------------------------------------
    def export_hints(self, path: str | Path | None = None) -> bool:
        """File > Export Hints for a film: its keyframes as the film's hints file that
        ``colouru colorize FILM --hints FILE`` reads."""
        w, film = self.w, self.film
        if path is None:
            path = dialogs.save_path(w, "Export film hints", str(film.path.with_suffix(".json")),
                                     dialogs.HINTS_FILTER)
            if path is None:
                return False
        try:
            save_video_hints(path, film.keyframes, (film.width, film.height),
                             w.session.saturation)
        except OSError as e:
            dialogs.error(w, "Cannot save hints", f"{path}: {e.strerror or e}")
            return False
        w.undo.setClean()
        w.recovery.discard(film.path)
        w.statusBar().showMessage(f"Hints of {len(film.keyframes)} keyframes saved to {path}",
                                  5000)
        return True

    def import_hints(self, path: str | Path) -> bool:
        """File > Import Hints for a film: a film's hints file (or a photo's: frame 0's)
        replaces the keyframes and the saturation, as one undo step."""
        w, film = self.w, self.film
        try:
            doc = load_video_hints(path)
        except (HintsFileError, OSError, ValueError, RecursionError, MemoryError) as e:
            dialogs.error(w, "Cannot import hints", str(e))
            return False
        keys, past = self._take_hints(doc, "Import hints")
        w.undo.setClean()  # the hints are in a file: nothing to ask about on closing
        w.recovery.discard(film.path)
        note = f" ({past} keyframes past the film's end left out)" if past else ""
        w.statusBar().showMessage(f"Imported {len(keys)} keyframes from {Path(path).name}"
                                  f"{note}", 5000)
        return True

    def _take_hints(self, doc, text: str) -> tuple[dict, int]:
        """A film's hints file's keyframes and saturation, as one undo step; returns the
        keyframes taken and how many lay past the film's end (left out)."""
        w, film = self.w, self.film
        keys = {k: tuple(v) for k, v in doc.frames.items() if k <= film.last}
        w.undo.beginMacro(text)
        self._replace_keys(keys, text)
        if doc.saturation != w.session.saturation:
            w.undo.push(SaturationCommand(w.session, w.session.saturation, doc.saturation,
                                          text))
        w.undo.endMacro()
        return keys, len(doc.frames) - len(keys)

    # -- the range to export ------------------------------------------------------------------
    def set_range_start(self) -> None:
        """This frame starts the range to export (and to play)."""
        if self.film is not None:
            self.film.set_range(self.film.frame, self.film.range_end)
            self._show_range()

    def set_range_end(self) -> None:
        """This frame ends the range to export (included)."""
        if self.film is not None:
            self.film.set_range(self.film.range_start, self.film.frame)
            self._show_range()

    def clear_range(self) -> None:
        if self.film is not None:
            self.film.set_range(None, None)
            self._show_range()

    def _show_range(self, quiet: bool = False) -> None:
        """The range on the timeline (and autosaved with the keyframes); ``quiet``: no
        message."""
        film = self.film
        if not quiet:
            self.w._autosave()
        if not film.has_range:
            self.timeline.set_span(None)
            if not quiet:
                self.w.statusBar().showMessage("No range: Export Film writes the whole film, "
                                               "P plays to its end", 3000)
            return
        first, stop = film.export_range()
        self.timeline.set_span((first, stop - 1))
        if not quiet:
            self.w.statusBar().showMessage(
                f"Range: frames {first} to {stop - 1} ({stop - first} frames); P plays them, "
                f"Export Range writes them as 'colouru colorize --start {first} --end {stop}'",
                5000)

    # -- export ---------------------------------------------------------------------------------
    def export_range(self, path: str | Path | None = None) -> bool:
        """Film > Export Range: the range set on the timeline (Shift+I, Shift+O), as
        ``colouru colorize FILM --hints FILE --start FIRST --end STOP`` writes it."""
        film = self.film
        if film is None:
            return False
        if not film.has_range:
            self.w.statusBar().showMessage("Set a range first: Shift+I at its first frame, "
                                           "Shift+O at its last", 4000)
            return False
        return self.export(path, film.export_range())

    def export(self, path: str | Path | None = None,
               frames: tuple[int, int] | None = None) -> bool:
        """Film > Export Film: the whole film (or ``frames``: ``(first, stop)``, ``stop``
        excluded) in colour through the command line's own function, in the background with
        progress and Cancel."""
        w, film = self.w, self.film
        if film is None:
            return False
        colorizer = w.service.colorizer
        if colorizer is None:
            dialogs.error(w, "No model", "Load a model (Model menu) before exporting a film.")
            return False
        if w._task_running():
            return False
        first, stop = frames or (0, film.frames)
        if path is None:
            part = f"_{first}-{stop - 1}" if frames else ""
            suggested = (self.export_path if self.export_path and not frames else
                         film.path.with_name(f"{film.path.stem}_colour{part}"
                                             f"{film.path.suffix.lower()}"))
            path = dialogs.save_path(w, "Export range" if frames else "Export film",
                                     str(suggested), dialogs.FILM_FILTER)
            if path is None:
                return False
        path = Path(path)
        self.stop()
        hints, src = film.video_hints(w.session.saturation), film.path
        t0 = time.perf_counter()
        done, error, cancelled = run_task(w.task_bar, lambda report, cancelled: export_film(
            src, path, colorizer, hints, report, cancelled, first, stop if frames else None),
            f"Exporting {path.name}")
        if cancelled or (error is None and not done):
            w.statusBar().showMessage(f"Exporting {path.name} cancelled", 5000)
            return False
        if error is not None:
            text = str(error) if isinstance(error, FilmError) else f"{path}: {error!r}"
            dialogs.error(w, "Cannot export film", text)
            return False
        if not frames:
            self.export_path = path
        w.statusBar().showMessage(f"Exported {path.name} ({stop - first} frames in "
                                  f"{time.perf_counter() - t0:.1f} s)", 5000)
        return True

    # -- playing (film_play.FilmPlayer) --------------------------------------------------------
    def toggle_play(self) -> None:
        if self.player.playing:
            self.player.stop()
        else:
            self.player.play()

    def play_to_keyframe(self) -> None:
        """Play the range from this frame to the next keyframe (or the film's end)."""
        film = self.film
        if self.player.playing:
            self.player.stop()
        elif film is not None:
            self.player.play(film.neighbour_key(film.frame, 1))

    def stop(self) -> None:
        self.player.stop()

    @property
    def playing(self) -> bool:
        return self.player.playing
