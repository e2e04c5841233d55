"""The Colorizer: keeps the photo's L, puts hint ab exactly inside hint squares, works at the
photo's full resolution, and brings colour up to it along the photo's edges."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from conftest import gradient_photo

from colouru import Colorizer, Hint, NoModelError
from colouru import colorizer as colorizer_module
from colouru.colorizer import Prepared
from colouru.colour import linear_to_srgb, rgb_to_lab
from colouru.colour import srgb_image_lightness as image_lightness
from colouru.colour_torch import rgb_to_lab_torch
from colouru.device import resolve_device
from colouru.generator import GeneratorConfig
from colouru.geometry import working_shape
from colouru.hints import Stroke, hint_box
from colouru.upsample import GuidedUpsampler, guided_upsample
from colouru.weights import ModelInfo


def _lightness_and_tolerance(rgb8: np.ndarray):
    """L of a uint8 sRGB image, and per pixel how far uint8 rounding can move it.

    Each channel was rounded by at most half a code (plus at most 0.05 code from the lookup
    table of the fast path), so |dL| <= sum_c |dL/dv_c| * 0.55 / 255; 0.01 more covers the
    gamut tolerance (see colour.in_gamut)."""
    rgb = torch.tensor(rgb8 / 255.0, dtype=torch.float64).permute(2, 0, 1)[None]
    rgb.requires_grad_(True)
    lightness = rgb_to_lab_torch(rgb)[0, 0]
    lightness.sum().backward()  # each pixel's L depends on its own RGB only
    slope = rgb.grad[0].abs().sum(0).numpy()
    return lightness.detach().numpy(), slope * 0.55 / 255 + 0.01


# --- L is the photo's own ------------------------------------------------------------------
@pytest.mark.parametrize("hw", [(97, 131), (64, 64), (33, 250)])
def test_output_keeps_the_photos_lightness(tiny_colorizer, hw):
    img = gradient_photo(*hw, seed=hw[0])
    img[: hw[0] // 5] //= 8  # a dark band too: where L is most sensitive to rounding
    hints = [Hint(5, 5, 9, ab=(60, 60)), Hint(hw[1] // 2, hw[0] // 2, 5, rgb="#2040ff")]
    out = tiny_colorizer.colorize(img, hints)
    got, tol = _lightness_and_tolerance(out)
    want = image_lightness(img)
    assert np.all(np.abs(got - want) <= tol), np.abs(got - want).max()
    # The result is really coloured (the check above is not passed by a grey image alone).
    assert np.abs(rgb_to_lab(out / 255.0)[..., 1:]).mean() > 3


def test_colorize_lab_keeps_l_exactly(tiny_colorizer):
    img = gradient_photo(81, 67)
    lab = tiny_colorizer.colorize_lab(img, [Hint(10, 10, 3, ab=(5, 5))])
    assert lab.shape == (81, 67, 3) and lab.dtype == np.float32
    np.testing.assert_array_equal(lab[..., 0], image_lightness(img))


# --- hints reach their colour at their centre, at full resolution ---------------------------
def test_hint_ab_is_exact_at_each_hint_centre(tiny_colorizer):
    img = gradient_photo(150, 211)
    hints = [Hint(30, 40, 9, ab=(20, -30)), Hint(0, 0, 5, ab=(-10, 10)),  # clipped corner
             Hint(210, 149, 4, rgb="#c03020"), Hint(100, 75, 15, ab=(1, 1)),
             Hint(100, 75, 3, ab=(-50, 40)),  # blended over the previous one: later wins
             Hint(500, 500, 9, ab=(99, 99))]  # outside the photo: ignored
    lab = tiny_colorizer.colorize_lab(img, hints)
    for h in hints[:-1]:
        if h is hints[3]:  # its centre is under the later hint
            continue
        np.testing.assert_allclose(lab[int(h.y), int(h.x), 1:], np.float32(h.ab), atol=1e-4)
    # The central third of a 15 px square has its colour too (where no later hint lies).
    np.testing.assert_allclose(lab[75, 98, 1:], np.float32(hints[3].ab), atol=1e-4)
    # In the uint8 result the in-gamut hint colours survive up to rounding.
    out = tiny_colorizer.colorize(img, hints)
    got = rgb_to_lab(out / 255.0)
    assert np.abs(got[40, 30, 1:] - np.float32(hints[0].ab)).max() < 1.5


def test_hints_change_the_prediction_around_them(tiny_colorizer):
    img = gradient_photo(64, 64)
    p = tiny_colorizer.prepare(img)
    plain = tiny_colorizer.predict_ab(p)
    hinted = tiny_colorizer.predict_ab(p, [Hint(32, 32, 9, ab=(80, -80))])
    assert plain.shape == (2, *p.work_hw) and plain.dtype == np.float32
    assert np.abs(plain).max() <= 110.0 + 1e-3
    assert not np.allclose(plain, hinted)


# --- sizes and kinds of input ------------------------------------------------------------------
@pytest.mark.parametrize("hw", [(1, 1), (1, 300), (300, 1), (2, 3), (37, 53), (123, 457),
                                (257, 64)])
def test_full_resolution_for_any_shape(tiny_colorizer, hw):
    img = gradient_photo(*hw)
    out = tiny_colorizer.colorize(img)
    assert out.shape == (*hw, 3) and out.dtype == np.uint8


def test_greyscale_uint16_and_float_inputs_agree(tiny_colorizer):
    img = gradient_photo(60, 90)
    grey = img[..., 1]
    ref = tiny_colorizer.colorize(grey)  # (H, W) grey input
    # As three equal channels, L differs by float rounding only (0.2127 R + 0.7152 G + ...).
    as_rgb = tiny_colorizer.colorize(np.repeat(grey[..., None], 3, axis=2))
    assert np.abs(as_rgb.astype(int) - ref).max() <= 1
    np.testing.assert_array_equal(tiny_colorizer.colorize(grey.astype(np.uint16) * 257), ref)
    as_float = tiny_colorizer.colorize(grey.astype(np.float32) / 255.0)
    assert np.abs(as_float.astype(int) - ref).max() <= 1


@pytest.mark.parametrize("hw", [(37, 53), (700, 450)])  # one band of rows, and several
def test_a_grey_photo_in_one_channel_gives_the_same_bits(tiny_colorizer, hw):
    """A grey photo held in one channel (what ``read_image(keep_grey=True)`` gives: uint8 for
    8-bit photos, else float32) is colorized bit for bit as its float sRGB three-channel form
    (what ``read_image`` gives), so holding greys in one channel changes no result."""
    g8 = gradient_photo(*hw)[..., 1]
    g32 = g8.astype(np.float32) / 255.0
    rgb = np.repeat(g32[..., None], 3, axis=2)
    hints = [Hint(hw[1] // 3, hw[0] // 2, 5, ab=(30, -20))]
    for grey in (g8, g32):
        np.testing.assert_array_equal(image_lightness(grey), image_lightness(rgb))
        np.testing.assert_array_equal(tiny_colorizer.colorize(grey, hints),
                                      tiny_colorizer.colorize(rgb, hints))


def test_colour_photo_is_reduced_to_its_lightness(tiny_colorizer):
    img = gradient_photo(50, 70)
    lightness = image_lightness(img)
    # A grey photo of the same L, made from L directly (Y = f^-1((L + 16) / 116)).
    fy = (lightness.astype(np.float64) + 16) / 116
    y = np.where(fy > 6 / 29, fy**3, (fy - 4 / 29) * 3 * (6 / 29) ** 2)
    grey = linear_to_srgb(y.astype(np.float32))
    np.testing.assert_allclose(image_lightness(grey), lightness, atol=1e-3)
    diff = tiny_colorizer.colorize(img).astype(int) - tiny_colorizer.colorize(grey)
    assert np.abs(diff).max() <= 1


def test_rejects_images_of_the_wrong_shape(tiny_colorizer):
    for bad in [np.zeros((8, 8, 4), np.uint8), np.zeros((8, 8, 1), np.uint8), np.zeros(8)]:
        with pytest.raises(ValueError, match=r"\(H, W\) or \(H, W, 3\)"):
            tiny_colorizer.colorize(bad)


def test_deterministic(tiny_colorizer):
    img = gradient_photo(40, 50)
    hints = [Hint(10, 10, 3, ab=(30, 30))]
    np.testing.assert_array_equal(tiny_colorizer.colorize(img, hints),
                                  tiny_colorizer.colorize(img, hints))


# --- working size, preview -------------------------------------------------------------------
def test_working_shape():
    assert working_shape((3000, 4000), 256) == (192, 256)
    assert working_shape((4000, 3000), 256) == (256, 192)
    assert working_shape((100, 50), 256) == (100, 50)  # never upscaled
    assert working_shape((1, 5000), 256) == (1, 256)
    assert working_shape((5000, 3), 256) == (256, 1)  # at least one pixel


def test_work_size_argument_and_preview(tiny_colorizer):
    img = gradient_photo(120, 200)
    p = tiny_colorizer.prepare(img, work_size=32)
    assert p.image_hw == (120, 200) and p.work_hw == (19, 32)
    assert tiny_colorizer.prepare(img).work_hw == (38, 64)  # the model's own working size
    hint = Hint(100, 60, 30, ab=(40, 20))
    prev = tiny_colorizer.preview(p, [hint])
    assert prev.shape == (19, 32, 3) and prev.dtype == np.uint8
    x0, y0, x1, y1 = hint_box(hint, p.image_hw, p.work_hw)
    got = rgb_to_lab(prev[(y0 + y1) // 2, (x0 + x1) // 2] / 255.0)[1:]  # its centre
    assert np.abs(got - np.float32(hint.ab)).max() < 2.0
    assert tiny_colorizer.colorize(p, [hint]).shape == (120, 200, 3)
    assert tiny_colorizer.colorize(img, work_size=32).shape == (120, 200, 3)


# --- edge-aware upsampling -------------------------------------------------------------------
class _SidesByLightness(torch.nn.Module):
    """A stand-in network: ab = (+44, +44) where L is above mid-grey, (-44, -44) below."""

    def forward(self, x):
        side = torch.where(x[:, 0:1] > 0, 0.4, -0.4)
        return side.expand(-1, 2, -1, -1).clone()


@pytest.mark.parametrize("edge", [129, 137, 145])
def test_guided_upsampling_bleeds_less_than_bilinear(edge):
    # A dark left part and a bright right part; at working size 32 one working pixel is
    # about 9.4 photo pixels, so the edge falls inside a working pixel.
    h, w = 120, 301
    img = np.full((h, w), 60, dtype=np.uint8)
    img[:, edge:] = 200
    c = Colorizer(_SidesByLightness(), ModelInfo(GeneratorConfig(), work_size=32),
                  torch.device("cpu"))
    p = c.prepare(img)
    side = np.where(np.arange(w) < edge, -1.0, 1.0)[None, :].repeat(h, 0)
    guided = c.colorize_lab(p)[..., 1]
    bilinear = cv2.resize(c.predict_ab(p)[0], (w, h), interpolation=cv2.INTER_LINEAR)
    # Bleeding: colour of the far side of the edge showing on this side.
    bleed_guided = np.maximum(0, -side * guided).sum()
    bleed_bilinear = np.maximum(0, -side * bilinear).sum()
    assert bleed_bilinear > 30 * h and bleed_guided < bleed_bilinear / 100
    assert (np.sign(guided) == side).all()  # every pixel keeps its own side's colour
    assert np.abs(guided - 44 * side).mean() <= np.abs(bilinear - 44 * side).mean() + 0.05


def test_guided_upsample_follows_cv2_resize_geometry():
    # The banded implementation equals the textbook one written with whole-image cv2.resize.
    rng = np.random.default_rng(0)
    g_lo = rng.random((19, 25)).astype(np.float32)
    src = rng.normal(0, 30, (19, 25)).astype(np.float32)
    g_hi = rng.random((300, 401)).astype(np.float32)
    box = lambda x: cv2.boxFilter(x, -1, (5, 5), borderType=cv2.BORDER_REFLECT)
    mg, mp = box(g_lo), box(src)
    a = (box(g_lo * src) - mg * mp) / (box(g_lo * g_lo) - mg * mg + 1e-3)
    b = mp - a * mg
    size = (401, 300)
    ref = (cv2.resize(box(a), size, interpolation=cv2.INTER_LINEAR) * g_hi
           + cv2.resize(box(b), size, interpolation=cv2.INTER_LINEAR))
    np.testing.assert_allclose(guided_upsample(g_lo, src, g_hi), ref, atol=1e-3)
    up = GuidedUpsampler(g_lo, np.stack([src, -src], axis=2), (300, 401))
    a_rows, b_rows = up.rows(100, 140, g_hi[100:140])
    np.testing.assert_allclose(a_rows, ref[100:140], atol=1e-3)
    np.testing.assert_allclose(b_rows, -ref[100:140], atol=2e-3)


# --- loading and devices ---------------------------------------------------------------------
def test_no_bundled_model_says_how_to_train(monkeypatch, tmp_path):
    missing = tmp_path / "assets" / "models" / "colouru-default.safetensors"
    monkeypatch.setattr(colorizer_module, "bundled_model_path", lambda: missing)
    with pytest.raises(NoModelError) as e:
        Colorizer.load(None)
    msg = str(e.value)
    assert str(missing) in msg and "colouru train" in msg and "--model" in msg
    assert "\n" not in msg


def test_bundled_model_is_used_when_present(monkeypatch, tiny_model_path):
    monkeypatch.setattr(colorizer_module, "bundled_model_path", lambda: tiny_model_path)
    c = Colorizer.load()
    assert c.source == str(tiny_model_path) and c.work_size == 64


def test_device_auto_and_explicit(tiny_model_path):
    has_mps = getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available()
    if not torch.cuda.is_available() and not has_mps:
        assert resolve_device("auto") == torch.device("cpu")
        assert Colorizer.load(tiny_model_path, device="auto").device.type == "cpu"
        with pytest.raises(ValueError, match="no CUDA GPU"):
            resolve_device("cuda")
    assert resolve_device("cpu") == torch.device("cpu")
    with pytest.raises(ValueError, match="unknown device 'tpu'; use auto, cpu, cuda"):
        resolve_device("tpu")


def test_cpu_model_runs_channels_last_with_the_same_result(tiny_model_path):
    from colouru.weights import load_model

    loaded = Colorizer.load(tiny_model_path, device="cpu")
    assert next(loaded.model.parameters()).dim() == 4
    assert loaded.model.downs[0][0].weight.is_contiguous(memory_format=torch.channels_last)
    model, info = load_model(tiny_model_path)  # default layout, given to the constructor
    plain = Colorizer(model, info, torch.device("cpu"))
    assert model.downs[0][0].weight.is_contiguous()  # a model handed in is not changed
    p = loaded.prepare(gradient_photo(50, 70))
    ab = loaded.predict_ab(p, [Hint(10, 10, 5, ab=(30, -30))])
    assert ab.flags.c_contiguous
    np.testing.assert_allclose(ab, plain.predict_ab(p, [Hint(10, 10, 5, ab=(30, -30))]),
                               atol=1e-3)


def test_describe(tiny_colorizer):
    text = tiny_colorizer.describe()
    assert "unet (depth 3, width 4, hint scales 0, edge-aware hints 0)" in text
    assert "working size 64" in text
    assert "device: cpu" in text and "random weights made by a test" in text
    assert "runtime: torch" in text


def test_prepared_is_reusable(tiny_colorizer):
    p = tiny_colorizer.prepare(gradient_photo(30, 40))
    assert isinstance(p, Prepared) and p.lightness.dtype == np.float32
    a = tiny_colorizer.colorize(p, [Hint(5, 5, 3, ab=(50, 0))])
    b = tiny_colorizer.colorize(p, [Hint(5, 5, 3, ab=(-50, 0))])
    assert a.shape == b.shape == (30, 40, 3) and not np.array_equal(a, b)
    # follow_hints' edge weights are computed once per photo and kept: the same pixels as a
    # photo prepared afresh
    kept = p._follow
    assert len(kept) == 1
    weights = next(iter(kept.values()))
    again = tiny_colorizer.colorize(p, [Hint(5, 5, 3, ab=(50, 0))])
    assert next(iter(kept.values())) is weights
    assert np.array_equal(again, a)
    fresh = tiny_colorizer.colorize(gradient_photo(30, 40), [Hint(5, 5, 3, ab=(50, 0))])
    assert np.array_equal(fresh, a)


def test_a_hint_colours_its_region_even_where_the_network_does_not(tiny_colorizer):
    # A flat photo is one region: follow_hints brings the whole of it to the hint's colour,
    # plus what the network varies around it. The untrained network alone (follow=False)
    # stays far from the hint, so the first check is follow_hints' doing.
    img = np.full((64, 64), 128, dtype=np.uint8)
    p = tiny_colorizer.prepare(img)
    hint = Hint(32, 32, 5, ab=(40, -30))

    def typical_distance(follow):
        ab = tiny_colorizer.predict_ab(p, [hint], follow=follow)
        return np.median(np.abs(ab - np.float32(hint.ab)[:, None, None]))

    assert typical_distance(True) < 3.0
    assert typical_distance(False) > 10.0


def test_a_work_size_that_contradicts_the_prepared_photo_is_refused(tiny_model_path):
    c = Colorizer.load(tiny_model_path, device="cpu")
    p = c.prepare(np.full((60, 80), 0.5, np.float32), work_size=64)
    assert c.colorize(p, work_size=64).shape == (60, 80, 3)
    with pytest.raises(ValueError, match="contradicts"):
        c.colorize(p, work_size=32)


# --- the global saturation, and strokes (issue 17) -----------------------------------------------
def _chroma(lab: np.ndarray) -> np.ndarray:
    return np.hypot(lab[..., 1], lab[..., 2])


def test_saturation_1_is_the_result_without_it_bit_for_bit(tiny_colorizer):
    """Saturation 1 changes nothing: the result is the one the pipeline gave before the
    saturation existed (network, follow, fill the squares, finish), byte for byte."""
    from colouru import finish
    from colouru.colour import denormalize_ab
    from colouru.rasterize import rasterize_hints

    c = tiny_colorizer
    img = gradient_photo(70, 90)
    hints = [Hint(20, 30, 7, ab=(40, -30)), Stroke([(50, 10), (80, 60)], 5, rgb="#2040ff")]
    p = c.prepare(img)
    hint_ab, mask = rasterize_hints(hints, p.image_hw, p.work_hw)
    with torch.inference_mode():
        x, net = c._network(p.work_lightness[None], hint_ab[None])
        followed = finish.follow(net, x, mask)
    before = finish.fill_squares(np.ascontiguousarray(denormalize_ab(followed[0]).numpy()), mask)
    want = finish.finish(p.lightness, p.work_lightness, before, hints, p.image_hw)
    np.testing.assert_array_equal(c.colorize(p, hints, saturation=1.0), want)
    np.testing.assert_array_equal(c.colorize(p, hints), want)
    preview, ab = c.preview_ab(p, hints, saturation=1.0)
    np.testing.assert_array_equal(ab, before)
    np.testing.assert_array_equal(c.predict_ab_batch([(p, hints, 1.0)])[0], before)
    np.testing.assert_array_equal(c.predict_ab_batch([(p, hints)])[0], before)


def test_saturation_scales_the_chroma_and_keeps_l(tiny_colorizer):
    c = tiny_colorizer
    img = gradient_photo(81, 67)
    p = c.prepare(img)
    # Without hints the working-size ab is the network's, scaled exactly.
    np.testing.assert_array_equal(c.predict_ab(p, saturation=1.5), c.predict_ab(p) * 1.5)
    assert not c.predict_ab(p, saturation=0.0).any()
    plain, vivid = c.colorize_lab(p), c.colorize_lab(p, saturation=1.5)
    np.testing.assert_array_equal(vivid[..., 0], plain[..., 0])  # L is the photo's own
    np.testing.assert_array_equal(vivid[..., 0], image_lightness(img))
    # the guided upsampling is linear in ab: the full-resolution ab is scaled too
    np.testing.assert_allclose(vivid[..., 1:], plain[..., 1:] * 1.5, atol=1e-3)
    assert _chroma(vivid).mean() > 1.4 * _chroma(plain).mean()
    grey = c.colorize(p, saturation=0.0)
    assert np.abs(rgb_to_lab(grey / 255.0)[..., 1:]).max() < 1.0  # 0: a grey result


def test_saturation_keeps_the_hints_own_colours(tiny_colorizer):
    c = tiny_colorizer
    img = gradient_photo(150, 211)
    hints = [Hint(30, 40, 9, ab=(20, -30)), Hint(150, 100, 15, ab=(-25, 10))]
    plain = c.colorize_lab(img, hints)
    for s in (0.0, 0.6, 2.0):
        lab = c.colorize_lab(img, hints, saturation=s)
        for h in hints:  # each hint's own colour at its centre, whatever the saturation
            np.testing.assert_allclose(lab[int(h.y), int(h.x), 1:], np.float32(h.ab), atol=1e-4)
        far = (slice(120, 150), slice(0, 60))  # away from both hints: scaled
        np.testing.assert_allclose(_chroma(lab[far]), s * _chroma(plain[far]), rtol=0.02,
                                   atol=0.05)


def test_the_preview_ab_is_saturated_once(tiny_colorizer):
    """The app's path: the preview's ab goes to finish_ab, which does not saturate again; the
    result is colorize's with the same saturation, pixel for pixel."""
    c = tiny_colorizer
    p = c.prepare(gradient_photo(90, 120))
    hints = [Hint(60, 45, 9, ab=(30, 30)), Stroke([(5, 80), (100, 70)], 4, ab=(-30, 20))]
    preview, ab = c.preview_ab(p, hints, saturation=1.7)
    np.testing.assert_array_equal(ab, c.predict_ab(p, hints, saturation=1.7))
    np.testing.assert_array_equal(preview, c.preview(p, hints, saturation=1.7))
    np.testing.assert_array_equal(c.finish_ab(p, ab, hints), c.colorize(p, hints, saturation=1.7))
    np.testing.assert_array_equal(c.predict_ab_batch([(p, hints, 1.7)])[0], ab)
    # each photo of a batch has its own saturation (a batch of three rounds differently)
    batch = c.predict_ab_batch([(p, hints, 1.7), (p, hints), (p, [], 0.5)])
    np.testing.assert_allclose(batch[0], ab, atol=1e-3)
    np.testing.assert_allclose(batch[1], c.predict_ab(p, hints), atol=1e-3)
    np.testing.assert_allclose(batch[2], c.predict_ab(p, saturation=0.5), atol=1e-3)


@pytest.mark.parametrize("bad", [-1.0, 3.5, float("nan")])
def test_a_saturation_out_of_range_is_refused(tiny_colorizer, bad):
    with pytest.raises(ValueError, match="saturation"):
        tiny_colorizer.colorize(gradient_photo(20, 30), saturation=bad)


def test_a_stroke_colours_the_region_it_crosses(tiny_colorizer):
    # A flat photo is one region: the stroke's colour spreads over it (follow_hints), at full
    # resolution, where the network alone gives another colour.
    c = tiny_colorizer
    img = np.full((90, 120), 128, dtype=np.uint8)
    stroke = Stroke([(10, 45), (60, 20), (110, 70)], 5, ab=(45, -35))
    plain, stroked = c.colorize_lab(img), c.colorize_lab(img, [stroke])
    want = np.float32(stroke.ab)
    assert np.median(np.abs(plain[..., 1:] - want)) > 10
    assert np.median(np.abs(stroked[..., 1:] - want)) < 3
    # along the stroke itself too (its pixels are filled from what surrounds them)
    for x, y in stroke.points:
        assert np.abs(stroked[int(y), int(x), 1:] - want).max() < 5
    out = c.colorize(img, [stroke])
    assert out.shape == (90, 120, 3)


# --- the network's output is checked (issue 27) --------------------------------------------------
def _broken_model_file(path, how: str):
    """The tiny model with finite but wrong weights, saved as a real model file."""
    from conftest import make_tiny_model
    from safetensors import safe_open
    from safetensors.torch import load_file, save_file

    make_tiny_model(path)
    with safe_open(str(path), "pt") as f:
        meta = f.metadata()
    state = load_file(str(path))
    for k, v in state.items():
        if how == "negative variances" and k.endswith("running_var"):
            state[k] = -v - 1
        elif how == "weights x 1e30" and k.endswith("weight") and v.dim() == 4:
            state[k] = v * 1e30
    save_file(state, str(path), metadata=meta)
    return path


@pytest.mark.parametrize("how", ["negative variances", "weights x 1e30"])
def test_a_model_whose_colours_are_no_numbers_is_refused_at_load(tmp_path, how):
    """It wrote pure white photos, each reported as done."""
    from colouru.weights import ModelFileError

    path = _broken_model_file(tmp_path / "broken.safetensors", how)
    with pytest.raises(ModelFileError) as e:
        Colorizer.load(path, device="cpu")
    assert str(e.value) == (f"{path}: refused: on a test photo, the model gave 6,144 colour "
                            f"value(s) that are not numbers (NaN or infinity): its weights "
                            f"are broken")


class _NaNWhereBright(torch.nn.Module):
    """A network whose output is NaN for a bright photo, sound otherwise."""

    def forward(self, x):
        ab = torch.full_like(x[:, :2], 0.2)
        return torch.where(x[:, :1].mean() > 0.3, torch.nan, ab)


def test_a_photo_the_network_gives_no_colours_for_fails_in_one_line():
    from colouru.colorizer import ModelOutputError

    c = Colorizer(_NaNWhereBright(), ModelInfo(GeneratorConfig(), work_size=32),
                  torch.device("cpu"))
    dark, bright = np.full((20, 30), 40, np.uint8), np.full((20, 30), 230, np.uint8)
    assert c.colorize(dark).shape == (20, 30, 3)
    for call in (lambda: c.colorize(bright), lambda: c.predict_ab_batch([(c.prepare(bright), [])])):
        with pytest.raises(ModelOutputError, match="not numbers .NaN or infinity.") as e:
            call()
        assert "\n" not in str(e.value)


def test_colours_out_of_the_networks_range_fail():
    from colouru.colorizer import ModelOutputError, check_output

    check_output(torch.tensor([[[[1.0, -1.0]]]]))
    with pytest.raises(ModelOutputError, match="out of its range"):
        check_output(torch.tensor([[[[3.0, 0.0]]]]))
