"""Work on a full-resolution image in bands of rows, several bands at once.

A 12-megapixel photo is converted band by band (a few hundred kilobytes each, so the data stays
in the CPU cache and the extra memory is small), and the bands run in a small pool of threads:
numpy, OpenCV and zlib release the GIL while they compute, so the threads use every core.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor

BAND_PIXELS = 1 << 18  # pixels per band: 1 MB of float32, cache-sized

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()
_inside = threading.local()  # set in pool threads: nested calls run serially (no deadlock)


def cpu_count() -> int:
    """CPUs this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def workers() -> int:
    """Threads used for bands (``COLOURU_THREADS`` overrides; at most 8)."""
    env = os.environ.get("COLOURU_THREADS", "")
    return max(1, int(env)) if env.isdigit() else min(8, cpu_count())


def row_bands(height: int, width: int, pixels: int = BAND_PIXELS) -> list[tuple[int, int]]:
    """``(r0, r1)`` row ranges of about ``pixels`` pixels each, covering ``height`` rows."""
    rows = max(1, pixels // max(width, 1))
    return [(r, min(height, r + rows)) for r in range(0, height, rows)]


def _mark_inside() -> None:
    _inside.flag = True


def _get_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=workers(), thread_name_prefix="colouru-band",
                                       initializer=_mark_inside)
        return _pool


def _forget_pool_after_fork() -> None:
    # A forked child (e.g. a data-loader worker) has the pool object but not its threads.
    global _pool, _pool_lock
    _pool, _pool_lock = None, threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool_after_fork)


def map_bands(fn: Callable, items: Iterable) -> list:
    """``[fn(item) for item in items]``, run in the band threads (results in order; the first
    exception is raised). Runs serially when there is one item, one worker, or when called
    from a band thread itself."""
    items = list(items)
    if len(items) <= 1 or workers() == 1 or getattr(_inside, "flag", False):
        return [fn(item) for item in items]
    return list(_get_pool().map(fn, items))
