"""Long file work (opening, saving) off the GUI thread, with progress and a Cancel button.

A ``Task`` runs ``fn(report, cancelled)`` in a thread of its own: ``report(stage, fraction)``
says what it is doing (``fraction`` 0..1, or None when unknown) and ``cancelled()`` tells it to
stop. Its signals reach the window through Qt's queued connections. ``TaskBar`` (in the status
bar) shows the stage, a progress bar and Cancel. ``run_task`` waits for a task in a local event
loop, so the window keeps answering input (and can cancel) while its caller reads as ordinary
blocking code; a cancelled task's thread is abandoned and its result thrown away.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QEventLoop, QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QToolButton, QWidget


class Task(QObject):
    progress = Signal(str, float)  # stage, fraction 0..1 (-1: unknown)
    done = Signal(object, object)  # value, exception (None: it worked)

    def __init__(self, fn: Callable, parent: QObject | None = None):
        super().__init__(parent)
        self.fn = fn
        self._cancel = threading.Event()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name="colouru-task", daemon=True)
        self.thread.start()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def _report(self, stage: str, fraction: float | None = None) -> None:
        self.progress.emit(stage, -1.0 if fraction is None else float(fraction))

    def _run(self) -> None:
        try:
            value, error = self.fn(self._report, self._cancel.is_set), None
        except BaseException as e:  # handed to the window, never lost in the thread
            value, error = None, e
        self.done.emit(value, error)


_abandoned: set[Task] = set()  # cancelled tasks still running: kept alive until they end


class TaskBar(QWidget):
    """What a running task is doing, and a button to cancel it (hidden when idle)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.label = QLabel()
        self.bar = QProgressBar()
        self.bar.setFixedWidth(160)
        self.bar.setTextVisible(False)
        self.cancel_button = QToolButton()
        self.cancel_button.setText("Cancel")
        self.cancel_button.setToolTip("Stop this and keep working")
        self.task: Task | None = None  # the task shown
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        for w in (self.label, self.bar, self.cancel_button):
            lay.addWidget(w)
        self.hide()

    def show_progress(self, stage: str, fraction: float) -> None:
        self.label.setText(stage)
        if fraction < 0:
            self.bar.setRange(0, 0)  # busy, amount unknown
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(round(fraction * 1000)))


def run_task(bar: TaskBar, fn: Callable, stage: str) -> tuple[object, BaseException | None,
                                                              bool]:
    """Run ``fn(report, cancelled)`` in a ``Task`` while ``bar`` shows its progress; wait in a
    local event loop (the window answers input meanwhile). Returns ``(value, error,
    cancelled)``; a cancelled task returns at once, its late result dropped."""
    task = Task(fn)
    loop = QEventLoop()
    out: dict = {}

    def finished(value, error):
        out.update(value=value, error=error)
        loop.quit()

    def cancel():
        _abandoned.add(task)  # released on the GUI thread once its thread ends
        task.done.connect(lambda *_: _abandoned.discard(task))
        task.cancel()
        loop.quit()

    task.progress.connect(bar.show_progress)
    task.done.connect(finished, Qt.ConnectionType.QueuedConnection)
    bar.cancel_button.clicked.connect(cancel)
    bar.show_progress(stage, -1.0)
    bar.show()
    bar.task = task
    try:
        task.start()
        if "value" not in out:
            loop.exec()
    finally:
        bar.cancel_button.clicked.disconnect(cancel)
        task.progress.disconnect(bar.show_progress)
        bar.task = None
        bar.hide()
    if "value" not in out:  # cancelled: the thread may still be busy; what it gives is dropped
        return None, None, True
    return out["value"], out["error"], False
