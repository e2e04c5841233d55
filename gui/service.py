"""The one object the widgets talk to about colorizing: it owns the ``Colorizer`` and runs its
work on a worker thread so the window never freezes.

Every request gets a number. Only the newest request of each kind is kept waiting while the
worker is busy (older waiting ones are dropped unrun), and a result that comes back after a
newer request of its kind was made is dropped too, so while the user drags a hint the view
only ever moves forward. Kinds, in the order the worker takes them:

* ``preview`` - the working-size result (``Colorizer.preview``), after every change;
* ``suggest`` - suggested colours for the selected point (``Colorizer.predict_ab``);
* ``full``    - the full-resolution result (``Colorizer.colorize``), once the user pauses.

Saving does not use the worker: ``colorize`` calls ``Colorizer.colorize`` directly, the same
call as ``colouru colorize``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QObject, QThread, QTimer, Signal, Slot

from colouru.colorizer import Colorizer
from colouru.device import resolve_device
from colouru.hints import Hint

from .colours import suggest_colours

KINDS = ("preview", "suggest", "full")  # the worker's order of preference


@dataclass
class Job:
    kind: str
    id: int
    epoch: int  # photo/model generation the job belongs to
    fn: Callable[[], object] = field(repr=False)
    for_id: int = 0  # a full job: the preview whose hints it renders


@dataclass
class JobResult:
    job: Job
    value: object
    seconds: float
    error: str | None


class _Worker(QObject):
    finished = Signal(object)

    @Slot(object)
    def run(self, job: Job) -> None:
        t0 = time.perf_counter()
        try:
            value, error = job.fn(), None
        except Exception as e:  # any failure is reported to the window, never raised here
            value, error = None, f"{e.__class__.__name__}: {e}"
        self.finished.emit(JobResult(job, value, time.perf_counter() - t0, error))


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


class ColorizerService(QObject):
    previewReady = Signal(int, object, float)  # request id, uint8 (h, w, 3), seconds
    fullReady = Signal(int, object, float)  # preview id it matches, uint8 (H, W, 3), seconds
    suggestionsReady = Signal(int, object)  # request id, list of (a, b)
    jobFailed = Signal(str)
    idle = Signal()  # nothing running and nothing waiting
    modelChanged = Signal()
    _submit = Signal(object)

    def __init__(self, parent: QObject | None = None, refine_delay_ms: int = 400):
        super().__init__(parent)
        self.colorizer: Colorizer | None = None
        self.model_error: str | None = None
        self.dropped = 0  # results or waiting requests dropped as stale (shown in tests)
        self._image: np.ndarray | None = None
        self._prepared = None
        self._epoch = 0
        self._seq = 0
        self._latest: dict[str, int] = {}
        self._pending: dict[str, Job] = {}
        self._busy = False
        self._refine_hints: tuple[Hint, ...] | None = None
        self._refine_timer = QTimer(self, singleShot=True, interval=refine_delay_ms)
        self._refine_timer.timeout.connect(self._queue_full)
        self._thread = QThread(self)
        self._thread.setObjectName("colouru-inference")
        self._worker = _Worker()
        self._worker.moveToThread(self._thread)
        self._submit.connect(self._worker.run)
        self._worker.finished.connect(self._on_finished)
        self._thread.start()

    # -- model and photo ----------------------------------------------------------------------
    def load_model(self, path: str | None, device: str = "auto") -> None:
        """Load a model file (None: the bundled one). Raises ``NoModelError``,
        ``ModelFileError`` or ``ValueError`` (bad device); the old model stays on failure."""
        colorizer = Colorizer.load(path, device=device)
        self.set_colorizer(colorizer)

    def set_colorizer(self, colorizer: Colorizer | None, error: str | None = None) -> None:
        self.colorizer, self.model_error = colorizer, error
        self._new_epoch()
        self.modelChanged.emit()

    def set_image(self, image: np.ndarray | None) -> None:
        self._image = image
        self._new_epoch()

    def _new_epoch(self) -> None:
        self._epoch += 1
        self._pending.clear()
        self._refine_timer.stop()
        self._prepared = None
        if self.colorizer is not None and self._image is not None:
            self._prepared = self.colorizer.prepare(self._image)

    @property
    def ready(self) -> bool:
        return self._prepared is not None

    @property
    def work_size(self) -> int | None:
        return None if self.colorizer is None else self.colorizer.work_size

    @property
    def device_name(self) -> str:
        return "no model" if self.colorizer is None else str(self.colorizer.device)

    @property
    def busy(self) -> bool:
        return self._busy or bool(self._pending) or self._refine_timer.isActive()

    # -- requests -----------------------------------------------------------------------------
    def _queue(self, kind: str, fn: Callable[[], object], for_id: int = 0) -> int:
        self._seq += 1
        self._latest[kind] = self._seq
        if kind in self._pending:
            self.dropped += 1  # replaced before it ran
        self._pending[kind] = Job(kind, self._seq, self._epoch, fn, for_id)
        self._dispatch()
        return self._seq

    def request_preview(self, hints: Sequence[Hint]) -> int | None:
        """Ask for a working-size result; returns the request number (None: no model/photo)."""
        if not self.ready:
            return None
        c, p, hints = self.colorizer, self._prepared, tuple(hints)
        self._refine_timer.stop()
        self._pending.pop("full", None)
        self._refine_hints = hints
        return self._queue("preview", lambda: c.preview(p, hints))

    def request_suggestions(self, hints: Sequence[Hint], box, exclude: int | None) -> int | None:
        """Suggested colours for the working-grid ``box``: what the model predicts there
        without the hint ``exclude`` (the one being coloured), then nearby alternatives."""
        if not self.ready or box is None:
            return None
        c, p = self.colorizer, self._prepared
        others = tuple(h for i, h in enumerate(hints) if i != exclude)
        return self._queue("suggest", lambda: suggest_colours(c.predict_ab(p, others), box))

    def _queue_full(self) -> None:
        p, hints = self._prepared, self._refine_hints
        if p is None or hints is None or p.work_hw == p.image_hw:
            if not self.busy:  # nothing to gain: the preview already is full size
                self.idle.emit()
            return
        c = self.colorizer
        self._queue("full", lambda: c.colorize(p, hints), for_id=self._latest.get("preview", 0))

    def colorize(self, hints: Sequence[Hint]) -> np.ndarray:
        """The full-resolution result, exactly as ``colouru colorize`` makes it (blocking)."""
        if self.colorizer is None or self._image is None:
            raise RuntimeError("no model or no photo")
        return self.colorizer.colorize(self._image, list(hints))

    # -- worker -------------------------------------------------------------------------------
    def _dispatch(self) -> None:
        if self._busy or not self._pending:
            return
        kind = next(k for k in KINDS if k in self._pending)
        self._busy = True
        self._submit.emit(self._pending.pop(kind))

    def _is_current(self, job: Job) -> bool:
        if job.epoch != self._epoch or job.id != self._latest.get(job.kind):
            return False
        return job.kind != "full" or job.for_id == self._latest.get("preview")

    @Slot(object)
    def _on_finished(self, result: JobResult) -> None:
        self._busy = False
        job = result.job
        if not self._is_current(job):
            self.dropped += 1
        elif result.error is not None:
            self.jobFailed.emit(result.error)
        elif job.kind == "preview":
            self.previewReady.emit(job.id, result.value, result.seconds)
            self._refine_timer.start()
        elif job.kind == "suggest":
            self.suggestionsReady.emit(job.id, result.value)
        else:
            self.fullReady.emit(job.for_id, result.value, result.seconds)
        self._dispatch()
        if not self.busy:
            self.idle.emit()

    def shutdown(self) -> None:
        """Stop the worker thread (waits for a running job to finish)."""
        self._refine_timer.stop()
        self._pending.clear()
        if self._thread.isRunning():
            self._thread.quit()
            self._thread.wait()
