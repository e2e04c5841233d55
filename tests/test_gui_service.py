"""The colorizer service: work on a worker thread, numbered requests, stale results dropped."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from conftest import gradient_photo

from colouru import Colorizer, Hint

pytestmark = pytest.mark.gui


@pytest.fixture
def service(qtbot, gui_settings, tiny_model_path):
    from colouru.gui.service import ColorizerService

    s = ColorizerService(refine_delay_ms=10)
    s.set_colorizer(Colorizer.load(tiny_model_path, device="cpu"))
    s.set_image(gradient_photo(96, 128).astype(np.float32) / 255)
    yield s
    s.shutdown()


def test_preview_runs_off_the_gui_thread(qtbot, service, monkeypatch):
    threads = []
    real = service.colorizer.preview
    monkeypatch.setattr(service.colorizer, "preview", lambda *a: threads.append(
        threading.current_thread()) or real(*a))
    with qtbot.waitSignal(service.previewReady, timeout=10_000) as blocker:
        rid = service.request_preview([Hint(10, 10, 4, ab=(40, 40))])
    got_id, rgb, seconds = blocker.args
    assert got_id == rid and rgb.shape == (48, 64, 3) and rgb.dtype == np.uint8
    assert seconds >= 0
    assert threads and threads[0] is not threading.main_thread()


def test_only_the_latest_of_a_burst_is_shown(qtbot, service):
    shown = []
    service.previewReady.connect(lambda i, rgb, s: shown.append((i, rgb)))
    hints = []
    ids = []
    for k in range(8):  # no events are processed in between, as during a fast drag
        hints = [Hint(10 + 5 * k, 20, 4, ab=(-50, 50))]
        ids.append(service.request_preview(hints))
    assert ids == sorted(ids) and len(set(ids)) == 8
    qtbot.waitUntil(lambda: not service.busy, timeout=10_000)
    assert [i for i, _ in shown] == [ids[-1]]
    assert service.dropped >= 7  # six replaced while waiting, the first dropped on arrival
    expected = service.colorizer.preview(service._prepared, hints)
    np.testing.assert_array_equal(shown[-1][1], expected)


def test_full_resolution_result_follows_a_pause(qtbot, service):
    with qtbot.waitSignal(service.fullReady, timeout=10_000) as blocker:
        rid = service.request_preview([Hint(30, 40, 6, ab=(20, -30))])
    for_id, rgb, _ = blocker.args
    assert for_id == rid and rgb.shape == (96, 128, 3)
    np.testing.assert_array_equal(rgb, service.colorize([Hint(30, 40, 6, ab=(20, -30))]))


def test_suggestions_begin_with_the_prediction_without_the_point_own_hint(qtbot, service):
    hint = Hint(60, 50, 6, ab=(-60, 60))
    with qtbot.waitSignal(service.suggestionsReady, timeout=10_000) as blocker:
        service.request_suggestions([hint], (28, 23, 31, 26), exclude=0)
    _, colours = blocker.args
    ab = service.colorizer.predict_ab(service._prepared, [])
    expected = ab[:, 23:26, 28:31].reshape(2, -1).mean(axis=1)
    assert colours[0] == pytest.approx(tuple(expected), abs=0.01)
    assert colours[0] != pytest.approx((-60, 60), abs=5)


def test_a_new_photo_drops_results_for_the_old_one(qtbot, service):
    shown = []
    service.previewReady.connect(lambda i, rgb, s: shown.append(rgb.shape))
    service.request_preview([])
    service.set_image(gradient_photo(40, 40).astype(np.float32) / 255)
    rid = service.request_preview([])
    qtbot.waitUntil(lambda: not service.busy, timeout=10_000)
    assert shown == [(40, 40, 3)] and rid is not None


def test_without_a_model_nothing_is_requested(qtbot, service):
    service.set_colorizer(None, "no model here")
    assert not service.ready
    assert service.request_preview([]) is None
    assert service.device_name == "no model"
