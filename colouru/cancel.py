"""Work stopped early: ``Cancelled``, and ``Stop``, the way another thread asks for it.

Long steps take a ``cancelled`` callable, checked between their parts (``finish.finish``
between bands of rows), or a ``Stop``, which also ends a native call under way that can be
interrupted (``runtime.run``: ONNX Runtime's terminate flag).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import contextmanager


class Cancelled(Exception):
    """A long step stopped early because its ``cancelled`` callable (or its ``Stop``) said so."""


class Stop(threading.Event):
    """Work under way, stopped from another thread (the app's preview that a newer request
    makes useless): ``set()`` asks for it, ``is_set`` tells (a ``cancelled`` callable for
    ``finish``), ``check()`` raises ``Cancelled`` once it is set. A native call that can be
    interrupted (ONNX Runtime's) hangs its way of stopping on it while it runs (``hook``),
    so ``set()`` ends that call too, not only the steps after it."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.Lock()
        self._hooks: list[Callable[[], None]] = []

    def set(self) -> None:
        with self._lock:
            super().set()
            hooks = list(self._hooks)
        for stop_it in hooks:
            stop_it()

    def check(self) -> None:
        if self.is_set():
            raise Cancelled

    @contextmanager
    def hook(self, stop_it: Callable[[], None]):
        """While the block runs, ``set()`` calls ``stop_it()`` (at once if already set)."""
        with self._lock:
            self._hooks.append(stop_it)
            now = self.is_set()
        if now:
            stop_it()
        try:
            yield
        finally:
            with self._lock:
                self._hooks.remove(stop_it)
