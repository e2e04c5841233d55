"""The one object the widgets talk to about colorizing: it owns the ``Colorizer`` and runs its
work on a worker thread so the window never freezes.

Every request gets a number. Requests are coalesced: while the worker is busy only the newest
request of each kind waits (older waiting ones are dropped unrun). A result is shown when it is
newer than the one on screen, even if newer requests are still waiting, so while the user
drags a hint the result follows the hand at the worker's own pace and only ever moves forward.
Kinds, in the order the worker takes them:

* ``preview`` - the working-size result (``Colorizer.preview_ab``), after every change (of the
  hints and strokes, or of the saturation: the network runs again, at working size, so the
  preview is exactly what ``colorize`` makes with that saturation). While the user drags
  (``request_preview(..., dragging=True)``) it is a quick one: made at the smaller working
  size ``DRAG_SIZE`` (a second ``Prepared`` of the photo, made once, on the worker, at the
  first drag) and shown scaled over the photo as any preview, on ``DRAG_THREADS`` CPU threads
  (all cores by default, the faster on an idle machine; one fewer leaves the GUI thread a
  core of its own, the faster when other processes load the cores). When the drag ends the
  window asks once more without ``dragging``: the settled result, at the full working size
  on all cores, as ``colouru colorize`` makes it; a drag's preview still on the worker then
  is stopped (``cancel.Stop``: ONNX Runtime ends its run between two nodes), so the settled
  one starts at once. A film's frame being played comes with the play's steadier and its
  number (``steady``): its colour is steadied from the frames shown before it, as the film's
  export steadies it;
* ``suggest`` - suggested colours for the selected point (``Colorizer.predict_ab``, at the
  full working size);
* ``full``    - the full-resolution result, once the user pauses (``refine_delay_ms`` after
  the newest preview is on screen; after a drag, only once its settled preview is). It
  finishes the working-size colour of that settled preview (``Colorizer.finish_ab``: no
  second network run) and is cancelled, band by band, as soon as anything else is asked
  for, so it never delays a preview. ``predicted_ab`` (a new hint's colour) also reads the
  newest settled preview, never a drag's.

The network of a preview, a suggestion and a save runs in ONNX Runtime where it is installed
(``Colorizer.use_runtime("auto")``, ``colouru.runtime``): one native call that releases the
GIL, so the GUI thread's Python does not hold it up, on threads that sleep rather than spin
when another program has a core. A model whose graphs are not yet in the user's cache folder
runs in torch while a thread of the lowest priority exports them (once per model);
``COLOURU_RUNTIME=torch`` runs torch's network instead.

Saving does not use the worker: ``colorize`` (blocking) and ``render`` (cancellable, with
progress, for the window's background save) make the full-resolution result as ``colouru
colorize`` does, pixel for pixel.

The service keeps only the photo's L (``set_lightness``; the window shares the same array),
not the decoded photo.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from colouru.cancel import Cancelled, Stop
from colouru.colorizer import Colorizer, NoModelError
from colouru.colour import srgb_image_lightness
from colouru.device import DEFAULT_CPU_THREADS, resolve_device, set_cpu_threads
from colouru.geometry import working_shape
from colouru.hints import Hint, Stroke
from colouru.imageio import save_image
from colouru.parallel import row_bands
from colouru.weights import ModelFileError

from .colours import suggest_colours
from .qt_images import to_rgb32

KINDS = ("preview", "suggest", "full")  # the worker's order of preference


class SteadyStep(Protocol):
    """What steadies a played frame's colour (``temporal.Steadier``, the play's
    ``film_service.PlaySteadier``): the colour steadied from the frames before ``key``."""

    def step(self, pred, work, key=None): ...

# The working size (long side) of a preview asked for during a drag; the settled preview at
# the drag's end runs at the model's (256). On this project's 2-core machine the preview at
# 160 (120 x 160 for a 4:3 photo) took about half the time of one at 256 (docs/benchmarks.md,
# issue 26). Not below 128 padded on the short side: ONNX Runtime does not serve it.
DRAG_SIZE = 160
# CPU threads of a preview asked for during a drag. All cores: on this project's idle 2-core
# machine 1 and 2 threads gave the same drag rate (14.4 and 11.0 results a second with 1
# against 11.9 and 14.0 with 2, benchmarks/bench_app.py --megapixels 1, alternated; measured
# before DRAG_SIZE); with other processes on the cores, 1 thread did better (3 to 5 against
# 0 to 1). The drag's end runs the preview once more, at the full working size on all cores
# (the settled result), when DRAG_SIZE or DRAG_THREADS differ from the settled preview's.
DRAG_THREADS = DEFAULT_CPU_THREADS
Items = tuple[Hint | Stroke, ...]


@dataclass
class Job:
    kind: str
    id: int
    epoch: int  # photo/model generation the job belongs to
    fn: Callable[[], object] = field(repr=False)
    for_id: int = 0  # a full job: the preview whose working-size colour it finishes
    hints: Items = field(default=(), repr=False)
    saturation: float = 1.0
    dragging: bool = False  # a preview asked for during a drag
    threads: int = DEFAULT_CPU_THREADS  # the CPU threads its torch work runs on
    key: object = field(default=None, repr=False)  # a suggest job: what it was asked
    cancel: Stop | None = field(default=None, repr=False)  # a full pass, a drag's preview


@dataclass
class JobResult:
    job: Job
    value: object
    seconds: float
    error: str | None
    cancelled: bool = False


class _Worker(QObject):
    finished = Signal(object)
    threads = 0  # the CPU threads this thread's torch work runs on now (0: not set yet)

    @Slot(object)
    def run(self, job: Job) -> None:
        if job.threads != self.threads:  # every core, or one fewer during a drag
            set_cpu_threads(job.threads)
            self.threads = job.threads
        t0 = time.perf_counter()
        cancelled = False
        try:
            value, error = job.fn(), None
        except Cancelled:
            value, error, cancelled = None, None, True
        except Exception as e:  # any failure is reported to the window, never raised here
            value, error = None, f"{e.__class__.__name__}: {e}"
        self.finished.emit(JobResult(job, value, time.perf_counter() - t0, error, cancelled))


@dataclass
class _Shown:
    """The preview on screen: its request number, hints, saturation and working-size ab
    (already saturated)."""

    id: int
    hints: Items
    ab: np.ndarray
    saturation: float = 1.0
    settled: bool = True  # not made during a drag: at full working size, on every core


def available_devices() -> list[str]:
    """Device names this machine can use (``auto`` first)."""
    out = ["auto", "cpu"]
    for name in ("cuda", "mps"):
        try:
            resolve_device(name)
            out.append(name)
        except ValueError:
            pass
    return out


class ModelError(Exception):
    """A model that cannot be loaded, in one line; ``missing``: the bundled model is absent
    (the app works without results until one is chosen)."""

    def __init__(self, message: str, missing: bool = False):
        super().__init__(message)
        self.missing = missing


class ColorizerService(QObject):
    previewReady = Signal(int, object, float)  # request id, uint8 (h, w, 3), seconds
    fullReady = Signal(int, object, float)  # preview id it matches, uint8 (H, W, 3), seconds
    suggestionsReady = Signal(int, object)  # request id, list of (a, b)
    jobFailed = Signal(str)
    modelChanged = Signal()
    _submit = Signal(object)

    def __init__(self, parent: QObject | None = None, refine_delay_ms: int = 400):
        super().__init__(parent)
        self.colorizer: Colorizer | None = None
        self.model_error: str | None = None
        # waiting requests replaced, results older than the one shown, drag previews stopped
        # at the drag's end
        self.dropped = 0
        self.cancelled = 0  # full-resolution passes stopped by a newer request
        self.full_image = None  # the last full result as a QImage ready for the screen
        self._full_result: tuple[tuple[Items, float], np.ndarray] | None = None  # asked, rgb
        self._lightness: np.ndarray | None = None  # (H, W) float32, full resolution
        self._prepared = None
        self._drag_prepared = None  # the photo at DRAG_SIZE, made at the first drag
        self._epoch = 0
        self._seq = 0
        self._latest: dict[str, int] = {}  # newest request of each kind
        self._shown_ids: dict[str, int] = {}  # newest result of each kind handed out
        self._shown: _Shown | None = None
        self._settled: _Shown | None = None  # the newest settled preview shown
        self._full_for = 0  # the preview whose full-resolution result is on screen
        self._suggest_key = None  # the newest suggestion question
        # hints, saturation, (steadier, frame) of a film played: the newest preview asked for
        self._asked: tuple | None = None
        self._asked_dragging = False  # the newest preview was asked for during a drag
        self._suggested = None  # (question, answer) last handed out
        self._pending: dict[str, Job] = {}
        self._running: Job | None = None
        self._refine_timer = QTimer(self, singleShot=True, interval=refine_delay_ms)
        self._refine_timer.timeout.connect(self._queue_full)
        # Torch work in the GUI thread (loading a model) stays on one thread, so it makes no
        # OpenMP team that would slow down the inference thread's (colouru.device).
        set_cpu_threads(1)
        self._thread = QThread(self)
        self._thread.setObjectName("colouru-inference")
        self._worker = _Worker()
        self._worker.moveToThread(self._thread)
        self._submit.connect(self._worker.run)
        self._worker.finished.connect(self._on_finished)
        self._thread.start()

    # -- model and photo ----------------------------------------------------------------------
    def load_model(self, path: str | None, device: str = "auto") -> None:
        """Load a model file (None: the bundled one). Raises ``ModelError`` (``missing``: no
        bundled model, not a fault of a file); the old model stays on failure."""
        try:
            colorizer = Colorizer.load(path, device=device)
            colorizer.use_runtime("auto", background=True)
        except NoModelError as e:
            raise ModelError(str(e), missing=True) from None
        except (ModelFileError, ValueError, OSError, RuntimeError) as e:
            raise ModelError(str(e)) from None
        self.set_colorizer(colorizer)

    def preparer(self) -> Callable[[np.ndarray], object]:
        """A function for a background thread: a photo's L ``(H, W)`` -> what ``set_lightness``
        takes as ``prepared`` for the model loaded now (None without one). Made ahead, off the
        GUI thread, so opening a photo swaps it in at once."""
        colorizer = self.colorizer
        if colorizer is None:
            return lambda lightness: None
        return lambda lightness: (colorizer, colorizer.prepare_lightness(lightness))

    def set_colorizer(self, colorizer: Colorizer | None, error: str | None = None) -> None:
        self.colorizer, self.model_error = colorizer, error
        self._new_epoch()
        self.modelChanged.emit()

    def set_image(self, image: np.ndarray | None) -> None:
        """A new photo, decoded (sRGB ``(H, W, 3)`` or grey ``(H, W)``); only its L is kept."""
        self.set_lightness(None if image is None else srgb_image_lightness(image))

    def set_lightness(self, lightness: np.ndarray | None, prepared=None) -> None:
        """A new photo given by its L ``(H, W)`` float32 0..100 (kept, not copied).
        ``prepared``: ``preparer()``'s result, made off the GUI thread; used only if it was
        made for the model loaded now."""
        self._lightness = lightness
        made_for, prepared = prepared if prepared is not None else (None, None)
        self._new_epoch(prepared if made_for is self.colorizer else None)

    def _new_epoch(self, prepared=None) -> None:
        self._epoch += 1
        self._pending.clear()
        self._cancel_full()
        self._refine_timer.stop()
        self._shown_ids.clear()
        self._shown, self._full_for, self._suggest_key, self._suggested = None, 0, None, None
        self._settled = None
        self._asked, self._asked_dragging = None, False
        self.full_image, self._full_result = None, None
        self._prepared = self._drag_prepared = None
        if self.colorizer is not None and self._lightness is not None:
            self._prepared = prepared or self.colorizer.prepare_lightness(self._lightness)

    @property
    def ready(self) -> bool:
        return self._prepared is not None

    @property
    def prepared(self):
        """The photo as the colorizer holds it (``colouru.colorizer.Prepared``), or None."""
        return self._prepared

    @property
    def work_size(self) -> int | None:
        return None if self.colorizer is None else self.colorizer.work_size

    @property
    def device_name(self) -> str:
        return "no model" if self.colorizer is None else str(self.colorizer.device)

    @property
    def busy(self) -> bool:
        return (self._running is not None or bool(self._pending)
                or self._refine_timer.isActive())

    def predicted_ab(self, box) -> tuple[float, float] | None:
        """The colour the newest settled result has in the working-grid ``box`` (mean ab):
        the model's suggestion for a new hint there. None before the first settled preview."""
        if self._settled is None or box is None:
            return None
        return suggest_colours(self._settled.ab, box, count=1)[0]

    def _drag_size(self) -> int:
        """The working size of a drag's preview: ``DRAG_SIZE``, or the model's if smaller."""
        return min(DRAG_SIZE, self.colorizer.work_size)

    def _drag_smaller(self) -> bool:
        """A drag's preview runs at a smaller working size than the settled one."""
        p = self._prepared
        return working_shape(p.image_hw, self._drag_size()) != p.work_hw

    def _drag_photo(self):
        """The photo at ``_drag_size`` (``Colorizer.prepare_lightness``), made on the first
        call for this photo (on the worker: a big photo's resize takes a while)."""
        c, p, epoch, size = self.colorizer, self._prepared, self._epoch, self._drag_size()

        def made():
            d = self._drag_prepared
            if d is None or d[0] != epoch:
                d = self._drag_prepared = (epoch, c.prepare_lightness(p.lightness, size))
            return d[1]

        return made

    # -- requests -----------------------------------------------------------------------------
    def _queue(self, kind: str, fn: Callable[[], object], **job) -> int:
        self._seq += 1
        self._latest[kind] = self._seq
        if kind in self._pending:
            self.dropped += 1  # replaced before it ran
        self._pending[kind] = Job(kind, self._seq, self._epoch, fn, **job)
        self._dispatch()
        return self._seq

    def _cancel_full(self) -> None:
        """Stop the full-resolution pass: dropped if waiting, cancelled if running."""
        self._refine_timer.stop()
        self._pending.pop("full", None)
        self._stop_running("full")

    def _stop_running(self, kind: str, dragging: bool = False) -> None:
        """Stop the job on the worker if it is of ``kind`` (and a drag's, if ``dragging``)."""
        job = self._running
        if (job is not None and job.kind == kind and job.cancel is not None
                and (job.dragging or not dragging)):
            job.cancel.set()

    def request_preview(self, hints: Sequence[Hint | Stroke], saturation: float = 1.0,
                        dragging: bool = False,
                        steady: tuple[SteadyStep, int] | None = None) -> int | None:
        """Ask for a working-size result of these hints and strokes at this saturation;
        returns the request number (None: no model/photo). ``dragging``: the user is in the
        middle of a drag, so the preview runs at ``DRAG_SIZE`` on ``DRAG_THREADS`` and no
        full-resolution pass follows until a request without it (the drag's end) settles
        the result. ``steady``: ``(steadier, frame)``, the photo is the film's frame
        ``frame`` being played: its colour is steadied from the frames played before it as
        the export steadies it (``steadier.step`` on the worker, not during a drag; the play's
        ``film_service.PlaySteadier`` only proposes there and moves on once the frame is
        shown), and the full-resolution pass finishes that colour. The same as the
        newest request again asks nothing new (its number comes back and a full-resolution
        pass under way goes on), unless the newest was asked during a drag and this one
        settles it. A request that settles a drag stops the drag's preview on the worker (it
        would be shown only to be replaced), so the settled preview runs at once."""
        if not self.ready:
            return None
        c, p, hints, saturation = self.colorizer, self._prepared, tuple(hints), float(saturation)
        # else the drag's preview would be the settled one
        dragging = dragging and (DRAG_THREADS != DEFAULT_CPU_THREADS or self._drag_smaller())
        asked = (hints, saturation, steady)
        if asked == self._asked and (dragging or not self._asked_dragging):
            return self._latest["preview"]
        self._asked, self._asked_dragging = asked, dragging
        self._cancel_full()
        if not dragging:
            self._stop_running("preview", dragging=True)
        photo = self._drag_photo() if dragging else lambda: p
        then = (None if steady is None or dragging else
                lambda ab: steady[0].step(ab, p.work_lightness, key=steady[1]))
        stop = Stop() if dragging else None
        return self._queue("preview", lambda: c.preview_ab(photo(), hints, saturation=saturation,
                                                           steady=then, stop=stop),
                           hints=hints, saturation=saturation, dragging=dragging,
                           threads=DRAG_THREADS if dragging else DEFAULT_CPU_THREADS, cancel=stop)

    def request_suggestions(self, hints: Sequence[Hint | Stroke], box, exclude: int | None,
                            saturation: float = 1.0) -> int | None:
        """Suggested colours for the working-grid ``box``: what the model predicts there
        (at the result's ``saturation``) without the item ``exclude`` (the one being
        coloured), then nearby alternatives. The same question again runs nothing: answered
        at once from the last answer, or left to the one on its way (None)."""
        if not self.ready or box is None:
            return None
        c, p, saturation = self.colorizer, self._prepared, float(saturation)
        others = tuple(h for i, h in enumerate(hints) if i != exclude)
        key = (others, tuple(box), saturation)
        if self._suggested is not None and self._suggested[0] == key:
            self._pending.pop("suggest", None)
            self._seq += 1
            self._latest["suggest"] = self._shown_ids["suggest"] = self._seq
            self._suggest_key = key
            self.suggestionsReady.emit(self._seq, self._suggested[1])
            return self._seq
        if key == self._suggest_key:
            return None
        self._suggest_key = key
        self._cancel_full()
        return self._queue("suggest", lambda: suggest_colours(
            c.predict_ab(p, others, saturation=saturation), box), key=key)

    def _wants_full(self) -> bool:
        """The newest preview is on screen, settled (not made during a drag), smaller than
        the photo, and not yet refined."""
        shown, p = self._shown, self._prepared
        return (shown is not None and p is not None and p.work_hw != p.image_hw
                and shown.settled and shown.id == self._latest.get("preview")
                and self._full_for != shown.id)

    def _queue_full(self) -> None:
        if self._wants_full():
            c, p, shown, cancel = self.colorizer, self._prepared, self._shown, Stop()

            def full():  # the result, and its image for the screen made here, not on the GUI
                rgb = c.finish_ab(p, shown.ab, shown.hints, cancel.is_set)
                return rgb, to_rgb32(rgb)

            self._queue("full", full, for_id=shown.id, cancel=cancel)

    def save_result(self, path, hints: Sequence[Hint | Stroke], saturation: float, protect,
                    quality: int, report=None, cancelled=None) -> bool:
        """Colorize at full resolution (``render``) and write ``path`` with ``save_image``: the
        same calls, so the same pixels, as ``colouru colorize``. False if ``cancelled()``
        stopped it (nothing written); errors as ``render`` and ``save_image`` raise them."""
        try:
            rgb = self.render(hints, report, cancelled, saturation=saturation)
        except Cancelled:
            return False
        if cancelled is not None and cancelled():
            return False
        if report is not None:
            report(f"Writing {path.name}", None)
        save_image(path, rgb, protect=protect, overwrite=True, quality=quality)
        return True

    def colorize(self, hints: Sequence[Hint | Stroke], saturation: float = 1.0) -> np.ndarray:
        """The full-resolution result, exactly as ``colouru colorize`` makes it (blocking)."""
        if not self.ready:
            raise RuntimeError("no model or no photo")
        return self.colorizer.colorize(self._prepared, list(hints), saturation=saturation)

    def render(self, hints: Sequence[Hint | Stroke], report=None, cancelled=None,
               saturation: float = 1.0) -> np.ndarray:
        """``colorize``, callable from any thread, with progress and a way out: ``report(stage,
        fraction)`` hears how far it is, ``cancelled()`` (checked between bands of rows) stops
        it with ``Cancelled``. The same pixels as ``colorize``; when the full result on screen
        is for these hints and saturation, it is that result (nothing runs again)."""
        if not self.ready:
            raise RuntimeError("no model or no photo")
        c, p, hints, saturation = self.colorizer, self._prepared, list(hints), float(saturation)
        report = report or (lambda stage, fraction=None: None)
        done_for = self._full_result  # the full result on screen: the same pixels, made
        if done_for is not None and done_for[0] == (tuple(hints), saturation):
            report("Colorizing", 1.0)
            return done_for[1]
        report("Colorizing", 0.0)
        ab = c.predict_ab(p, hints, saturation=saturation)
        bands, done = len(row_bands(*p.image_hw)), [0]

        def check() -> bool:  # called once before the bands and once per band
            report("Colorizing", min(1.0, done[0] / (bands + 1)))
            done[0] += 1
            return cancelled is not None and cancelled()

        return c.finish_ab(p, ab, hints, check)

    # -- worker -------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        if self._running is not None or not self._pending:
            return
        kind = next(k for k in KINDS if k in self._pending)
        self._running = self._pending.pop(kind)
        self._submit.emit(self._running)

    def _is_news(self, job: Job) -> bool:
        """Newer than what is on screen (and for this photo and model)."""
        if job.epoch != self._epoch:
            return False
        if job.kind == "full":  # only for the preview on screen, with no newer edit asked for
            return (self._shown is not None and job.for_id == self._shown.id
                    and job.for_id == self._latest.get("preview"))
        return job.id > self._shown_ids.get(job.kind, 0)

    @Slot(object)
    def _on_finished(self, result: JobResult) -> None:
        self._running = None
        job = result.job
        if result.cancelled and job.kind == "full":
            self.cancelled += 1
        elif result.cancelled:  # a drag's preview, stopped at the drag's end
            self.dropped += 1
        elif not self._is_news(job):
            self.dropped += 1
        elif result.error is not None:
            if job.kind == "suggest":
                self._suggest_key = None  # may be asked again
            elif job.kind == "preview" and job.id == self._latest.get("preview"):
                self._asked = None
            self.jobFailed.emit(result.error)
        else:
            self._shown_ids[job.kind] = job.id
            if job.kind == "preview":
                rgb, ab = result.value
                self._shown = _Shown(job.id, job.hints, ab, job.saturation,
                                     settled=not job.dragging)
                if self._shown.settled:
                    self._settled = self._shown
                # The view drops the full result for this preview: let its memory go too.
                self.full_image, self._full_result = None, None
                self.previewReady.emit(job.id, rgb, result.seconds)
            elif job.kind == "suggest":
                self._suggested = (job.key, result.value)
                self.suggestionsReady.emit(job.id, result.value)
            else:
                self._full_for = job.for_id
                rgb, self.full_image = result.value
                self._full_result = ((self._shown.hints, self._shown.saturation), rgb)
                self.fullReady.emit(job.for_id, rgb, result.seconds)
        self._dispatch()
        if self._running is None and self._wants_full():
            self._refine_timer.start()  # after a pause: the user has not asked for more

    def shutdown(self) -> None:
        """Stop the worker thread (a running full-resolution pass is cancelled; any other
        running job is waited for)."""
        self._cancel_full()
        self._pending.clear()
        if self._thread.isRunning():
            self._thread.quit()
            self._thread.wait()
        set_cpu_threads(None)  # no inference thread left: this thread may use every core
