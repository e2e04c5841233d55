"""Row bands and the band threads."""

from __future__ import annotations

import multiprocessing
import threading

import numpy as np
import pytest

from colouru import parallel
from colouru.colour import srgb_image_lightness


def test_row_bands_cover_every_row_once():
    for h, w in [(1, 1), (1, 10**6), (3000, 4000), (7, 3), (1000, 1)]:
        bands = parallel.row_bands(h, w)
        rows = np.concatenate([np.arange(r0, r1) for r0, r1 in bands])
        np.testing.assert_array_equal(rows, np.arange(h))
        assert all((r1 - r0) * w <= max(parallel.BAND_PIXELS, w) for r0, r1 in bands)


def test_map_bands_keeps_order_and_raises():
    assert parallel.map_bands(lambda i: i * i, range(50)) == [i * i for i in range(50)]

    def boom(i):
        if i == 7:
            raise ValueError("band 7")
        return i

    with pytest.raises(ValueError, match="band 7"):
        parallel.map_bands(boom, range(20))


def test_nested_calls_do_not_deadlock():
    def outer(i):
        return sum(parallel.map_bands(lambda j: i * j, range(10)))

    result = []
    t = threading.Thread(target=lambda: result.append(parallel.map_bands(outer, range(8))))
    t.start()
    t.join(timeout=30)
    assert not t.is_alive() and result == [[45 * i for i in range(8)]]


def _lightness_in_child(q):
    q.put(float(srgb_image_lightness(np.full((600, 600), 255, np.uint8)).mean()))


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="no fork here")
def test_works_in_a_forked_child():
    srgb_image_lightness(np.zeros((600, 600), np.uint8))  # the parent's pool exists now
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_lightness_in_child, args=(q,))
    p.start()
    p.join(timeout=60)
    assert p.exitcode == 0 and abs(q.get(timeout=5) - 100.0) < 1e-3


def test_thread_count_override(monkeypatch):
    monkeypatch.setenv("COLOURU_THREADS", "1")
    assert parallel.workers() == 1
    monkeypatch.setenv("COLOURU_THREADS", "junk")
    assert 1 <= parallel.workers() <= 8
