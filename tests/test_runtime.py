"""The network in ONNX Runtime (colouru/runtime.py): the same colours as torch's network on a
real photo, exported once and found again in the cache, and torch where it is turned off."""

from __future__ import annotations

import threading
from types import SimpleNamespace

import numpy as np
import pytest
import torch

pytest.importorskip("onnxruntime")

from colouru import runtime
from colouru.assets import bundled_model_path
from colouru.colorizer import Colorizer
from colouru.generator import GeneratorConfig
from colouru.hints import Hint, Stroke
from colouru.imageio import read_image

PHOTO = bundled_model_path().parent.parent / "examples" / "1910Bike.jpg"
# Tolerances against torch's network on the same photo and hints: ab in CIE units (the two
# runtimes sum in another order; measured worst about 1e-4 before the finishing step) and the
# finished sRGB preview in uint8 levels.
AB_TOLERANCE = 0.05
RGB_TOLERANCE = 1


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def pair(cache):
    """The bundled model in torch and in ONNX Runtime (exported into a temporary cache)."""
    mp = pytest.MonkeyPatch()
    mp.setenv(runtime.CACHE_ENV, str(cache))
    torch_c = Colorizer.load(None, device="cpu")
    onnx_c = Colorizer.load(None, device="cpu", runtime="onnx")
    yield torch_c, onnx_c
    mp.undo()


def hints_for(hw):
    h, w = hw
    rng = np.random.default_rng(3)
    items = [Hint(float(x), float(y), 12, ab=(float(a), float(b)))
             for x, y, a, b in zip(rng.uniform(0, w, 6), rng.uniform(0, h, 6),
                                   rng.uniform(-40, 40, 6), rng.uniform(-40, 40, 6),
                                   strict=True)]
    items.append(Stroke(((w * 0.2, h * 0.7), (w * 0.6, h * 0.75)), 8, ab=(30.0, 40.0)))
    return items


def test_same_colours_as_torch_on_a_real_photo(pair):
    torch_c, onnx_c = pair
    assert onnx_c.onnx is not None and torch_c.onnx is None
    assert "runtime: ONNX Runtime" in onnx_c.describe()
    image = read_image(PHOTO)
    p = torch_c.prepare(image)
    for hints in ([], hints_for(p.image_hw)):  # the encoder's kept features, then new hints
        ab_t = torch_c.predict_ab(p, hints)
        ab_o = onnx_c.predict_ab(p, hints)
        assert np.abs(ab_o - ab_t).max() <= AB_TOLERANCE
        rgb_t, rgb_o = torch_c.preview(p, hints), onnx_c.preview(p, hints)
        assert np.abs(rgb_o.astype(int) - rgb_t.astype(int)).max() <= RGB_TOLERANCE


def test_other_sizes_share_the_graph_and_narrow_strips_run_in_torch(pair, recwarn):
    """A square photo and a 2:1 one share the 4:3 photo's graphs (every padded side above
    128); a panorama whose short side skips a pass of the spread (112 x 256, padded to 128)
    has graphs of its own; one whose padded short side is under the largest hint cell (80 x
    256, padded to 96) runs in torch, silently."""
    torch_c, onnx_c = pair
    image = read_image(PHOTO)
    for hw, served in (((640, 640), True), ((330, 640), True), ((280, 640), True),
                       ((200, 640), False)):
        crop = np.ascontiguousarray(image[:hw[0], :hw[1]])
        p = torch_c.prepare(crop)
        assert onnx_c.onnx.serves(p.work_hw) == served
        hints = hints_for(p.image_hw)
        got, want = onnx_c.predict_ab(p, hints), torch_c.predict_ab(p, hints)
        assert np.abs(got - want).max() <= AB_TOLERANCE
        assert served or np.array_equal(got, want)
    files = sorted(f.name for f in onnx_c.onnx.folder.glob("*.onnx"))
    # the encoder; the edge weights and the network for every photo above, and the panorama's
    assert len(files) == 5, files
    assert onnx_c.onnx is not None and not recwarn.list


def test_a_photo_at_two_working_sizes_keeps_both(pair, monkeypatch):
    """The app's drag runs the photo at a smaller working size between previews at the full
    one: what L alone gives is kept for both sizes, so switching runs the network alone."""
    torch_c, onnx_c = pair
    image = read_image(PHOTO)
    big, small = torch_c.prepare(image), torch_c.prepare(image, work_size=160)
    assert max(small.work_hw) == 160 and onnx_c.onnx.serves(small.work_hw)
    hints = hints_for(big.image_hw)
    for p in (big, small):
        got = onnx_c.predict_ab(p, hints)
        assert got.shape[1:] == p.work_hw
        assert np.abs(got - torch_c.predict_ab(p, hints)).max() <= AB_TOLERANCE
    ran = count_runs(monkeypatch)
    for p in (big, small, big):
        onnx_c.predict_ab(p, hints)
    assert ran == ["network"] * 3


def count_runs(monkeypatch) -> list[str]:
    """The parts of the graphs run from now on, in order (a list that fills)."""
    ran = []
    real = runtime.OnnxGenerator._session

    def counted(self, part, cls=()):
        s = real(self, part, cls)
        return SimpleNamespace(run=lambda *a: ran.append(part) or s.run(*a),
                               get_inputs=s.get_inputs)

    monkeypatch.setattr(runtime.OnnxGenerator, "_session", counted)
    return ran


def test_what_depends_on_l_alone_runs_once_per_photo(pair, monkeypatch):
    """While only the hints change (a drag), the encoder and edge-weight graphs are not run
    again: each call is the network graph alone; another photo runs them again."""
    torch_c, onnx_c = pair
    image = read_image(PHOTO)
    p = torch_c.prepare(image)
    onnx_c.predict_ab(p)  # exported (or found), L's graphs run
    ran = count_runs(monkeypatch)
    for hints in (hints_for(p.image_hw), hints_for(p.image_hw)[:3]):
        got = onnx_c.predict_ab(p, hints)
        assert np.abs(got - torch_c.predict_ab(p, hints)).max() <= AB_TOLERANCE
    assert ran == ["network", "network"]
    onnx_c.predict_ab(torch_c.prepare(np.ascontiguousarray(image[::-1])))
    assert sorted(ran[2:]) == ["edges", "encoder", "network"]


def test_the_exported_spread_is_torchs(tiny_model_path):
    """The exported pass (zero-padded weights, a neighbour as one shifting pad) sums as
    torch's pass does, on either axis; given a single weight tensor (torch's network on
    another thread while an export traces) it is torch's pass."""
    from colouru import propagation

    g = torch.Generator().manual_seed(0)
    light = torch.rand(1, 1, 1, 20, 27, generator=g) * 2 - 1
    st = torch.rand(1, 2, 3, 20, 27, generator=g)
    inv = propagation.edge_inv(propagation.EDGE_SIGMAS, light)
    weights = propagation.edge_weights(light, inv)
    edges = runtime._Edges(SimpleNamespace(config=GeneratorConfig(edge_hints=2)))
    padded = edges(light[:, 0])
    passes = propagation.edge_passes(light.shape[-2:])
    assert len(padded) == 2 * len(passes) == 2 * len(weights)
    for k, (step, dim) in enumerate(passes):
        want = propagation._edge_pass(weights[k], st, step, dim)
        got = runtime._edge_pass_export(padded[2 * k:2 * k + 2], st, step, dim)
        assert torch.allclose(got, want, rtol=1e-6, atol=0)
        assert torch.equal(runtime._edge_pass_export(weights[k], st, step, dim), want)
    x = torch.cat([light[:, 0], torch.zeros(1, 2, 20, 27)], 1)
    x[:, 1:, 5:8, 5:8] = 0.3
    for sigmas in (propagation.EDGE_SIGMAS, propagation.EDGE_SIGMAS[1:]):
        plain = propagation.edge_aware_hints(x, sigmas)
        given = propagation.edge_aware_hints(
            x, sigmas, propagation.edge_weights(x[:, None, :1], propagation.edge_inv(sigmas, x)))
        for (a, c), (b, d) in zip(plain, given, strict=True):
            assert torch.equal(a, b) and torch.equal(c, d)


def test_cached_graphs_are_not_exported_again(pair, monkeypatch):
    torch_c, onnx_c = pair
    p = torch_c.prepare(read_image(PHOTO))
    onnx_c.predict_ab(p)  # exported (or found) by now
    monkeypatch.setattr(runtime, "export", lambda *a: pytest.fail("exported again"))
    again = Colorizer.load(None, device="cpu", runtime="onnx")
    assert again.onnx.key == onnx_c.onnx.key
    assert np.array_equal(again.predict_ab(p), onnx_c.predict_ab(p))


def test_turned_off_by_the_environment(pair, monkeypatch):
    torch_c, _ = pair
    monkeypatch.setenv(runtime.RUNTIME_ENV, "torch")
    assert torch_c.use_runtime("auto") == "torch" and torch_c.onnx is None
    monkeypatch.setenv(runtime.RUNTIME_ENV, "junk")
    with pytest.raises(ValueError, match="COLOURU_RUNTIME"):
        torch_c.use_runtime("auto")
    with pytest.raises(ValueError, match="unknown runtime"):
        torch_c.use_runtime("tensorrt")


def test_a_failing_session_falls_back_to_torch(pair, tiny_model_path, tmp_path, monkeypatch):
    monkeypatch.setenv(runtime.CACHE_ENV, str(tmp_path))
    c = Colorizer.load(tiny_model_path, device="cpu", runtime="onnx")
    want = Colorizer.load(tiny_model_path, device="cpu").predict_ab(
        c.prepare(np.full((48, 64), 128, np.uint8)))

    def broken(*args):
        raise RuntimeError("no session")

    monkeypatch.setattr(runtime, "session", broken)
    with pytest.warns(RuntimeWarning, match="runs in torch"):
        got = c.predict_ab(c.prepare(np.full((48, 64), 128, np.uint8)))
    assert c.onnx is None and np.array_equal(got, want)


def test_background_export_runs_torch_meanwhile(tiny_model_path, tmp_path, monkeypatch):
    """The app's way: graphs not yet cached are exported on a thread of their own while
    torch answers; once they are there, ONNX Runtime does."""
    monkeypatch.setenv(runtime.CACHE_ENV, str(tmp_path))
    c = Colorizer.load(tiny_model_path, device="cpu")
    p = c.prepare(np.full((48, 64), 128, np.uint8))
    hints = [Hint(20.0, 20.0, 5, ab=(30.0, -20.0))]
    want = c.predict_ab(p, hints)
    assert c.use_runtime("onnx", background=True) == "onnx"
    meanwhile = c.predict_ab(p, hints)  # torch's (the follow step may sum in the export's order)
    assert np.abs(meanwhile - want).max() <= AB_TOLERANCE and not c.onnx._sessions
    c.onnx.exporting.join(timeout=600)
    assert c.onnx.export_error is None
    assert len(list((tmp_path / "onnx").glob("*.onnx"))) == 1  # a plain U-Net: one graph
    got = c.predict_ab(p, hints)
    assert c.onnx._sessions and np.abs(got - want).max() <= AB_TOLERANCE


def test_a_stop_ends_the_run_and_the_session_serves_on(tiny_model_path, tmp_path, monkeypatch):
    """The app's drag preview, useless once the hand lets go: a ``Stop`` set from another
    thread while ONNX Runtime runs ends that run (its terminate flag) with ``Cancelled``; one
    set before the call ends it too. ONNX Runtime stays in use and gives the same colours."""
    from colouru.cancel import Cancelled, Stop

    monkeypatch.setenv(runtime.CACHE_ENV, str(tmp_path))
    c = Colorizer.load(tiny_model_path, device="cpu", runtime="onnx")
    p = c.prepare(np.full((48, 64), 128, np.uint8))
    hints = [Hint(20.0, 20.0, 5, ab=(30.0, -20.0))]
    want = c.predict_ab(p, hints)
    real, runs, ended = runtime.run, [], []

    class SetMeanwhile:  # the session, its run begun when the other thread sets the stop
        def __init__(self, session, stop):
            self.session, self.stop = session, stop

        def run(self, names, feed, options=None):
            setter = threading.Thread(target=self.stop.set)
            setter.start()
            setter.join()
            try:
                return self.session.run(names, feed, options)
            except Exception:  # ONNX Runtime's own: it saw the terminate flag
                ended.append(self.stop)
                raise

    def run(session, feed, stop=None):
        runs.append(stop)
        return real(SetMeanwhile(session, stop) if stop is not None else session, feed, stop)

    monkeypatch.setattr(runtime, "run", run)
    stop = Stop()
    with pytest.raises(Cancelled):
        c.predict_ab(p, hints, stop=stop)
    assert runs == ended == [stop] and stop.is_set()
    monkeypatch.setattr(runtime, "run", real)
    with pytest.raises(Cancelled):
        c.preview_ab(p, hints, stop=stop)  # already set: nothing runs to the end
    assert c.onnx is not None and c.onnx.export_error is None
    assert np.array_equal(c.predict_ab(p, hints, stop=Stop()), want)


def test_a_stop_calls_its_hooks_only_while_they_are_held():
    from colouru.cancel import Cancelled, Stop

    stop, calls = Stop(), []
    with stop.hook(lambda: calls.append("a")):
        assert calls == []
        stop.check()  # not set: nothing raised
        stop.set()
        assert calls == ["a"]
    stop.set()
    assert calls == ["a"]  # the block is over: its hook is gone
    with stop.hook(lambda: calls.append("b")):
        assert calls == ["a", "b"]  # already set: at once
    with pytest.raises(Cancelled):
        stop.check()
