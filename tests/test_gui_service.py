"""The colorizer service: work on a worker thread, numbered and coalesced requests, every
result newer than the one on screen shown, the full-resolution pass cancellable."""

from __future__ import annotations

import threading

import numpy as np
import pytest
from conftest import gradient_photo

from colouru import Colorizer, Hint

pytestmark = pytest.mark.gui



def from_qimage(image) -> np.ndarray:
    """A QImage -> uint8 RGB ``(H, W, 3)`` (a copy): what the screen will show."""
    from PySide6.QtGui import QImage

    img = image.convertToFormat(QImage.Format.Format_RGB888)
    h, w, bpl = img.height(), img.width(), img.bytesPerLine()
    buf = np.frombuffer(img.constBits(), dtype=np.uint8, count=h * bpl).reshape(h, bpl)
    return buf[:, : w * 3].reshape(h, w, 3).copy()

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
    real = service.colorizer.preview_ab
    monkeypatch.setattr(service.colorizer, "preview_ab", lambda *a, **k: threads.append(
        threading.current_thread()) or real(*a, **k))
    with qtbot.waitSignal(service.previewReady, timeout=10_000) as blocker:
        rid = service.request_preview([Hint(10, 10, 4, ab=(40, 40))])
    got_id, rgb, seconds = blocker.args
    assert got_id == rid and rgb.shape == (48, 64, 3) and rgb.dtype == np.uint8
    assert isinstance(seconds, float) and seconds > 0  # the time it took, measured
    assert threads and threads[0] is not threading.main_thread()


def test_a_burst_is_coalesced_and_a_newer_but_not_newest_result_is_shown(qtbot, service):
    shown = []
    service.previewReady.connect(lambda i, rgb, s: shown.append((i, rgb)))
    hints = []
    ids = []
    for k in range(8):  # no events are processed in between, as during a fast drag
        hints = [Hint(10 + 5 * k, 20, 4, ab=(-50, 50))]
        ids.append(service.request_preview(hints))
    assert ids == sorted(ids) and len(set(ids)) == 8
    qtbot.waitUntil(lambda: not service.busy, timeout=10_000)
    # The first was running when the others came: it is newer than the blank screen, so it
    # is shown (the result moves during the drag); the six that waited were replaced unrun.
    assert [i for i, _ in shown] == [ids[0], ids[-1]]
    assert service.dropped == 6
    expected = service.colorizer.preview(service.prepared, hints)
    np.testing.assert_array_equal(shown[-1][1], expected)


def test_results_keep_coming_while_requests_keep_coming(qtbot, service):
    """Requests in pairs, as a drag makes them: the first of each pair is running when the
    second arrives, and its result, no longer the newest, is still shown (every result newer
    than the one on screen is). Each pair waits for the worker to be free, so the first of it
    runs at once: waiting only for a result left that to a race between two calls."""
    shown = []
    service.previewReady.connect(lambda i, rgb, s: shown.append(i))
    ids = [service.request_preview([Hint(10, 20, 4, ab=(-50, 50))])]
    for k in range(1, 30):
        qtbot.waitUntil(lambda: not service.busy, timeout=10_000)
        ids.append(service.request_preview([Hint(10 + 3 * k, 20, 4, ab=(-50, 50))]))
        ids.append(service.request_preview([Hint(11 + 3 * k, 20, 4, ab=(-50, 50))]))
    qtbot.waitUntil(lambda: not service.busy, timeout=10_000)
    assert shown == sorted(shown) and shown[-1] == ids[-1]
    assert len(shown) >= 25  # about one per pair of requests, none of them the newest then
    assert len(set(shown) & set(ids[1::2])) >= 5  # not the newest when made (old rule: 0)


def test_an_old_result_arriving_after_a_newer_one_is_dropped(qtbot, service):
    from colouru.gui.service import Job, JobResult

    shown = []
    service.previewReady.connect(lambda i, rgb, s: shown.append(i))
    with qtbot.waitSignal(service.previewReady, timeout=10_000):
        rid = service.request_preview([])
    qtbot.waitUntil(lambda: not service.busy, timeout=10_000)
    old = Job("preview", rid - 1, service._epoch, lambda: None)
    service._on_finished(JobResult(old, (np.zeros((2, 2, 3), np.uint8), None), 0.0, None))
    assert shown == [rid] and service.dropped == 1


def test_full_resolution_result_follows_a_pause(qtbot, service, monkeypatch):
    calls = []
    real = service.colorizer.predict_ab
    monkeypatch.setattr(service.colorizer, "predict_ab", lambda *a, **k: calls.append(a[1:])
                        or real(*a, **k))
    hints = [Hint(30, 40, 6, ab=(20, -30))]
    with qtbot.waitSignal(service.fullReady, timeout=10_000) as blocker:
        rid = service.request_preview(hints)
    for_id, rgb, _ = blocker.args
    assert for_id == rid and rgb.shape == (96, 128, 3)
    assert len(calls) == 1  # the full pass finished the preview's colour: no second network run
    np.testing.assert_array_equal(rgb, service.colorize(hints))

    # made for the screen in the worker, so showing a 48 MP result costs the GUI thread nothing
    assert service.full_image.format() == service.full_image.Format.Format_RGB32
    np.testing.assert_array_equal(from_qimage(service.full_image), rgb)


def test_full_pass_waits_for_a_pause(qtbot, service):
    service._refine_timer.setInterval(60_000)
    full = []
    service.fullReady.connect(lambda *a: full.append(a))
    with qtbot.waitSignal(service.previewReady, timeout=10_000):
        service.request_preview([Hint(30, 40, 6, ab=(20, -30))])
    assert service._refine_timer.isActive() and "full" not in service._pending
    service.request_preview([Hint(40, 40, 6, ab=(20, -30))])  # not a pause: timer stopped
    assert not service._refine_timer.isActive()
    qtbot.waitUntil(lambda: service._shown is not None and service._shown.id == service._latest[
        "preview"], timeout=10_000)
    assert service._refine_timer.isActive() and not full


def test_a_new_edit_cancels_the_full_pass_and_is_shown_first(qtbot, service, monkeypatch):
    c = service.colorizer
    started, go = threading.Event(), threading.Event()
    runs, network = [], []
    real_finish, real_predict = c.finish_ab, c.predict_ab

    def slow_finish(p, ab, hints, cancelled=None):
        runs.append(tuple(hints))
        if len(runs) == 1:  # the first full pass: hold it until the user has edited again
            started.set()
            go.wait(10)
        return real_finish(p, ab, hints, cancelled)

    monkeypatch.setattr(c, "finish_ab", slow_finish)
    monkeypatch.setattr(c, "predict_ab", lambda *a, **k: network.append(1) or real_predict(
        *a, **k))
    events = []
    service.previewReady.connect(lambda i, rgb, s: events.append(("preview", i)))
    service.fullReady.connect(lambda i, rgb, s: events.append(("full", i, rgb)))
    first = [Hint(30, 40, 6, ab=(20, -30))]
    second = [Hint(60, 40, 6, ab=(-40, 30))]
    a = service.request_preview(first)
    qtbot.waitUntil(started.is_set, timeout=10_000)  # the full pass for `first` is running
    b = service.request_preview(second)
    go.set()
    qtbot.waitUntil(lambda: any(e[0] == "full" for e in events), timeout=10_000)
    qtbot.waitUntil(lambda: not service.busy, timeout=10_000)
    assert [e[:2] for e in events] == [("preview", a), ("preview", b), ("full", b)]
    assert service.cancelled == 1 and runs == [tuple(first), tuple(second)]
    assert len(network) == 2  # one network run per preview, none for the full passes
    np.testing.assert_array_equal(events[-1][2], service.colorize(second))


def test_cancelled_finish_raises_and_uncancelled_equals_colorize(tiny_colorizer):
    from colouru.cancel import Cancelled

    p = tiny_colorizer.prepare(gradient_photo(300, 500))
    hints = [Hint(100, 80, 12, ab=(30, 20))]
    ab = tiny_colorizer.predict_ab(p, hints)
    np.testing.assert_array_equal(tiny_colorizer.finish_ab(p, ab, hints),
                                  tiny_colorizer.colorize(p, hints))
    rgb, ab2 = tiny_colorizer.preview_ab(p, hints)
    np.testing.assert_array_equal(rgb, tiny_colorizer.preview(p, hints))
    np.testing.assert_array_equal(ab2, ab)
    checks = []
    with pytest.raises(Cancelled):
        tiny_colorizer.finish_ab(p, ab, hints, cancelled=lambda: checks.append(1) or True)
    assert len(checks) >= 1


def test_suggestions_begin_with_the_prediction_without_the_point_own_hint(qtbot, service):
    hint = Hint(60, 50, 6, ab=(-60, 60))
    with qtbot.waitSignal(service.suggestionsReady, timeout=10_000) as blocker:
        service.request_suggestions([hint], (28, 23, 31, 26), exclude=0)
    _, colours = blocker.args
    ab = service.colorizer.predict_ab(service.prepared, [])
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


def test_asking_again_for_the_same_hints_runs_nothing_and_keeps_the_full_pass(qtbot, service):
    hints = [Hint(30, 40, 6, ab=(20, -30))]
    with qtbot.waitSignal(service.previewReady, timeout=10_000):
        rid = service.request_preview(hints)
    qtbot.waitUntil(lambda: "full" in service._pending or service._running is not None
                    or service._full_for == rid, timeout=10_000)
    assert service.request_preview(list(hints)) == rid  # a drag's release: nothing new
    assert service.cancelled == 0
    qtbot.waitUntil(lambda: service._full_for == rid, timeout=10_000)
    assert service.request_preview([]) > rid  # other hints: a new request


def test_images_for_the_screen_hold_the_same_pixels(qtbot):
    from colouru.gui.qt_images import to_rgb32

    rgb = gradient_photo(301, 517, seed=4)
    image = to_rgb32(rgb, band_rows=7)
    assert image.format() == image.Format.Format_RGB32
    np.testing.assert_array_equal(from_qimage(image), rgb)
    grey = rgb[..., 1]
    np.testing.assert_array_equal(from_qimage(to_rgb32(grey)), np.dstack([grey] * 3))


def test_the_gui_thread_keeps_one_torch_thread_and_inference_gets_them_all(qtbot, service,
                                                                           monkeypatch):
    """OpenMP keeps a thread team per thread: one made in the GUI thread (loading a model)
    slowed every preview of the inference thread about ten times on two cores."""
    import torch

    from colouru.device import DEFAULT_CPU_THREADS

    seen = []
    real = service.colorizer.preview_ab
    monkeypatch.setattr(service.colorizer, "preview_ab", lambda *a, **k: seen.append(
        torch.get_num_threads()) or real(*a, **k))
    with qtbot.waitSignal(service.previewReady, timeout=10_000):
        service.request_preview([Hint(10, 10, 4, ab=(40, 40))])
    assert torch.get_num_threads() == 1
    assert seen == [DEFAULT_CPU_THREADS]


def test_strokes_and_saturation_reach_the_preview_the_full_pass_and_the_render(qtbot, service):
    from colouru.hints import Stroke

    items = [Hint(100, 70, 6, ab=(40, 30)), Stroke([(10, 20), (60, 25), (80, 60)], 12,
                                                   ab=(-50, 40))]
    with qtbot.waitSignal(service.fullReady, timeout=10_000) as full:
        with qtbot.waitSignal(service.previewReady, timeout=10_000) as preview:
            rid = service.request_preview(items, saturation=1.7)
    _, rgb, _ = preview.args
    np.testing.assert_array_equal(rgb, service.colorizer.preview(service.prepared, items,
                                                                 saturation=1.7))
    assert full.args[0] == rid
    exact = service.colorize(items, 1.7)  # what `colouru colorize` makes
    np.testing.assert_array_equal(full.args[1], exact)
    assert service.render(items, saturation=1.7) is full.args[1]  # the one on screen
    assert not np.array_equal(service.render(items), exact)  # another saturation: made anew
    assert service.request_preview(items, saturation=1.7) == rid  # nothing new asked
    assert service.request_preview(items, saturation=1.0) > rid  # the slider moved


def two_cores(monkeypatch, service) -> list:
    """The service as on a two-core machine (the tests run torch on one thread): previews
    run on 2 CPU threads, a drag's on 1. Returns the list that collects the torch threads
    each preview ran on."""
    import torch

    from colouru.gui import service as service_module

    monkeypatch.setattr(service_module, "DEFAULT_CPU_THREADS", 2)
    monkeypatch.setattr(service_module, "DRAG_THREADS", 1)
    seen = []
    real = service.colorizer.preview_ab
    monkeypatch.setattr(service.colorizer, "preview_ab", lambda *a, **k: seen.append(
        torch.get_num_threads()) or real(*a, **k))
    return seen


def colorize_on(service, threads: int, hints):
    """``service.colorize`` with the GUI thread's torch on ``threads`` threads (then 1 again)."""
    import torch

    torch.set_num_threads(threads)
    try:
        return service.colorize(hints)
    finally:
        torch.set_num_threads(1)


def test_a_drag_leaves_the_gui_a_core_and_its_end_settles_the_result(qtbot, service,
                                                                     monkeypatch):
    """During a drag the network runs on one core fewer (the GUI thread draws every step on
    the other) and no full-resolution pass starts; the drag's end asks once more on every
    core, and that settled preview is the one the full pass finishes: the result is what
    ``colorize`` makes on every core."""
    seen = two_cores(monkeypatch, service)
    full = []
    service.fullReady.connect(lambda i, rgb, s: full.append((i, rgb)))
    hints = [Hint(30, 40, 6, ab=(20, -30))]
    with qtbot.waitSignal(service.previewReady, timeout=10_000):
        dragged = service.request_preview(hints, dragging=True)
    assert seen == [1]
    assert not service.busy and not full  # the pause in a drag refines nothing
    assert service.request_preview(hints, dragging=True) == dragged  # nothing new asked
    with qtbot.waitSignal(service.fullReady, timeout=10_000):
        with qtbot.waitSignal(service.previewReady, timeout=10_000) as settled:
            released = service.request_preview(hints)  # the drag ends where it was
    assert released > dragged and settled.args[0] == released and seen == [1, 2]
    assert [i for i, _ in full] == [released]
    np.testing.assert_array_equal(full[0][1], colorize_on(service, 2, hints))
    assert service.request_preview(hints) == released  # settled: asking again runs nothing
    assert service.request_preview(hints, dragging=True) == released
    assert seen == [1, 2]


def test_a_drag_previews_at_the_drag_size_and_its_end_settles_at_the_working_size(
        qtbot, service, monkeypatch):
    """During a drag the preview runs on the photo at ``DRAG_SIZE`` (made once per photo, on
    the worker); nothing is refined and a new hint's colour still comes from the settled
    preview. The drag's end runs the preview at the full working size, and that is what the
    full pass finishes and the suggestions read: the result is ``colorize``'s."""
    from colouru.gui import service as service_module

    monkeypatch.setattr(service_module, "DRAG_SIZE", 32)  # the tiny model's working size: 64
    c = service.colorizer
    sizes, made = [], []
    real_preview, real_prepare = c.preview_ab, c.prepare_lightness
    monkeypatch.setattr(c, "preview_ab", lambda p, *a, **k: sizes.append(
        (p.work_hw, threading.current_thread() is threading.main_thread()))
        or real_preview(p, *a, **k))
    monkeypatch.setattr(c, "prepare_lightness", lambda *a: made.append(a[1:])
                        or real_prepare(*a))
    full = []
    service.fullReady.connect(lambda i, rgb, s: full.append(i))
    box = (20, 10, 30, 20)
    with qtbot.waitSignal(service.fullReady, timeout=10_000):
        settled = service.request_preview([Hint(30, 40, 6, ab=(20, -30))])
    before = service.predicted_ab(box)
    shown = []
    service.previewReady.connect(lambda i, rgb, s: shown.append((i, rgb.shape)))
    hints = []
    for k in range(1, 4):  # three steps of a drag, each shown
        hints = [Hint(30 + 10 * k, 40, 6, ab=(20, -30))]
        with qtbot.waitSignal(service.previewReady, timeout=10_000):
            dragged = service.request_preview(hints, dragging=True)
    assert [s for _, s in shown] == [(24, 32, 3)] * 3 and shown[-1][0] == dragged
    assert made == [(32,)]  # the photo at the drag size: made once, at the first drag
    assert sizes[1:] == [((24, 32), False)] * 3  # on the worker
    assert not service.busy and full == [settled]  # nothing refined during the drag
    assert service.predicted_ab(box) == before  # read from the settled preview
    with qtbot.waitSignal(service.fullReady, timeout=10_000):
        with qtbot.waitSignal(service.previewReady, timeout=10_000) as end:
            released = service.request_preview(hints)  # the drag ends where it was
    assert end.args[0] == released > dragged and end.args[1].shape == (48, 64, 3)
    assert sizes[-1] == ((48, 64), False) and full == [settled, released]
    np.testing.assert_array_equal(service.render(hints), service.colorize(hints))
    assert service.predicted_ab(box) == suggest_at(service, hints, box)
    with qtbot.waitSignal(service.previewReady, timeout=10_000):
        service.request_preview([Hint(70, 40, 6, ab=(20, -30))], dragging=True)
    assert made == [(32,)]  # the same photo: not made again
    service.set_image(gradient_photo(80, 100).astype(np.float32) / 255)
    with qtbot.waitSignal(service.previewReady, timeout=10_000) as other:
        service.request_preview(hints, dragging=True)
    assert made == [(32,), (), (32,)]  # the new photo, then the new photo at the drag size
    assert other.args[1].shape == (26, 32, 3)


def suggest_at(service, hints, box):
    """The colour the model gives ``box`` for ``hints`` at the full working size."""
    from colouru.gui.colours import suggest_colours

    return suggest_colours(service.colorizer.predict_ab(service.prepared, hints), box,
                           count=1)[0]


def test_the_drag_end_stops_the_drag_preview_under_way(qtbot, service, monkeypatch):
    """A drag's preview still on the worker when the hand lets go would be shown only to be
    replaced: the settling request stops it (its ``Stop``) and the settled preview runs at
    once; it is never shown. Newer drag requests do not stop it (the result follows the
    hand), nor does a settled preview get stopped."""
    from colouru.gui import service as service_module

    monkeypatch.setattr(service_module, "DRAG_SIZE", 32)  # the tiny model's working size: 64
    c = service.colorizer
    real, started, stops = c.preview_ab, threading.Event(), []

    def preview_ab(p, *args, stop=None, **kwargs):
        stops.append(stop)
        if stop is not None and len(stops) == 1:  # the first drag preview: slow
            started.set()
            stop.wait(timeout=10)
        return real(p, *args, stop=stop, **kwargs)

    monkeypatch.setattr(c, "preview_ab", preview_ab)
    shown = []
    service.previewReady.connect(lambda i, rgb, s: shown.append((i, rgb.shape)))
    hints = [Hint(30, 40, 6, ab=(20, -30))]
    first = service.request_preview(hints, dragging=True)
    assert started.wait(timeout=10)
    moved = [Hint(40, 40, 6, ab=(20, -30))]
    service.request_preview(moved, dragging=True)  # the hand moves on: nothing stopped
    assert not stops[0].is_set()
    dropped = service.dropped
    with qtbot.waitSignal(service.fullReady, timeout=10_000):
        settled = service.request_preview(moved)  # released
    assert stops[0].is_set() and stops[1:] == [None]  # the waiting drag request: replaced
    assert shown == [(settled, (48, 64, 3))] and first not in [i for i, _ in shown]
    assert service.dropped == dropped + 2 and service.cancelled == 0
    np.testing.assert_array_equal(service.render(moved), service.colorize(moved))
