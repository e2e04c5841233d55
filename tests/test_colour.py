"""sRGB <-> Lab against scikit-image, round trips, gradients and the fast whole-image paths."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from skimage import color

from colouru import colour, colour_torch
from colouru.imageio import to_uint8


def _cube_and_random(n: int = 4000, seed: int = 0) -> np.ndarray:
    """sRGB colours (N, 3): the eight corners of the cube, greys, and random colours."""
    rng = np.random.default_rng(seed)
    corners = np.array([[i >> 2 & 1, i >> 1 & 1, i & 1] for i in range(8)], dtype=np.float64)
    greys = np.repeat(np.linspace(0, 1, 11)[:, None], 3, axis=1)
    near_black = rng.random((50, 3)) * 0.05  # the linear part of the sRGB curve
    return np.concatenate([corners, greys, near_black, rng.random((n, 3))]).astype(np.float32)


# --- numpy against scikit-image -------------------------------------------------------------
def test_rgb_to_lab_matches_skimage():
    rgb = _cube_and_random()
    ours = colour.rgb_to_lab(rgb)
    ref = color.rgb2lab(rgb.astype(np.float64))
    assert ours.dtype == np.float32 and ours.shape == rgb.shape
    np.testing.assert_allclose(ours, ref, atol=2e-3)


def test_lab_to_rgb_matches_skimage_in_gamut():
    ref_lab = color.rgb2lab(_cube_and_random(seed=1).astype(np.float64))
    ours = colour.lab_to_rgb(ref_lab.astype(np.float32))
    np.testing.assert_allclose(ours, color.lab2rgb(ref_lab), atol=1e-4)


def test_known_values():
    # White and black have textbook Lab values; pure sRGB red is about (53.24, 80.09, 67.20).
    lab = colour.rgb_to_lab(np.array([[1, 1, 1], [0, 0, 0], [1, 0, 0]], dtype=np.float32))
    np.testing.assert_allclose(lab[0], [100, 0, 0], atol=0.01)  # the constants: 0.005 off
    np.testing.assert_allclose(lab[1], [0, 0, 0], atol=1e-6)
    np.testing.assert_allclose(lab[2], [53.24, 80.09, 67.20], atol=0.02)


def test_round_trip_numpy_image_shapes():
    rng = np.random.default_rng(2)
    for shape in [(3,), (7, 3), (5, 9, 3), (2, 4, 6, 3)]:
        rgb = rng.random(shape).astype(np.float32)
        back = colour.lab_to_rgb(colour.rgb_to_lab(rgb))
        assert back.shape == shape
        np.testing.assert_allclose(back, rgb, atol=2e-5)


def test_shape_errors_name_the_shape():
    with pytest.raises(ValueError, match=r"\(4, 4\)"):
        colour.rgb_to_lab(np.zeros((4, 4)))
    with pytest.raises(ValueError, match=r"\(\.\.\., 3\)"):
        colour.lab_to_rgb(np.zeros((2, 2)))


def test_rgb_to_lightness_matches_skimage_for_colour_and_grey():
    rgb = _cube_and_random(seed=3)
    ref = color.rgb2lab(rgb.astype(np.float64))[..., 0]
    np.testing.assert_allclose(colour.rgb_to_lightness(rgb, grey=False), ref, atol=2e-3)
    img = rgb[:1000].reshape(20, 50, 3)  # an image is (H, W, 3): colour without asking
    np.testing.assert_allclose(colour.rgb_to_lightness(img), ref[:1000].reshape(20, 50), atol=2e-3)
    grey = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)  # a 2-D array is a grey image
    ref_grey = color.rgb2lab(np.repeat(grey[..., None], 3, axis=2).astype(np.float64))[..., 0]
    np.testing.assert_allclose(colour.rgb_to_lightness(grey), ref_grey, atol=2e-3)


@pytest.mark.parametrize("dtype,peak", [(np.uint8, 255), (np.uint16, 65535),
                                        (np.float32, 1.0), (np.float64, 1.0)])
def test_srgb_image_lightness_matches_skimage(dtype, peak):
    rng = np.random.default_rng(4)
    unit = rng.random((37, 53, 3))
    img = (unit * peak + 0.5).astype(dtype) if peak > 1 else unit.astype(dtype)
    exact = img.astype(np.float64) / peak
    ref = color.rgb2lab(exact)[..., 0]
    np.testing.assert_allclose(colour.srgb_image_lightness(img), ref, atol=2e-3)
    grey = img[..., 1]
    ref_grey = color.rgb2lab(np.repeat(exact[..., 1:2], 3, axis=2))[..., 0]
    np.testing.assert_allclose(colour.srgb_image_lightness(grey), ref_grey, atol=2e-3)


def test_srgb_image_lightness_of_views():
    img = (np.random.default_rng(9).random((40, 50, 3)) * 255).astype(np.uint8)
    whole = colour.srgb_image_lightness(img)
    np.testing.assert_array_equal(colour.srgb_image_lightness(img[:, ::-1]), whole[:, ::-1])
    np.testing.assert_array_equal(colour.srgb_image_lightness(img[::2, 5:30]), whole[::2, 5:30])
    as_int = colour.srgb_image_lightness(img.astype(np.int32) / 255)  # any other dtype: floats
    np.testing.assert_allclose(as_int, whole, atol=1e-3)


def test_srgb_image_lightness_wide_image_and_rejects_bad_shapes():
    # Wider than one processing block, and a single row: the block loop covers every pixel.
    row = np.tile(np.arange(256, dtype=np.uint8), 1200)[None]  # (1, 307200)
    lightness = colour.srgb_image_lightness(row)
    assert lightness.shape == row.shape
    np.testing.assert_allclose(lightness[0, :256], lightness[0, 256:512])
    for bad in [np.zeros((4, 4, 4)), np.zeros((4, 4, 1)), np.zeros(5), np.zeros((1, 2, 3, 3))]:
        with pytest.raises(ValueError, match="must be"):
            colour.srgb_image_lightness(bad)


# --- torch ---------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_torch_matches_skimage_and_round_trips(dtype):
    rgb = _cube_and_random(n=900, seed=5)[:900].reshape(30, 30, 3)
    ref = color.rgb2lab(rgb.astype(np.float64))
    t = torch.from_numpy(rgb).to(dtype).permute(2, 0, 1)  # (3, H, W)
    lab = colour_torch.rgb_to_lab_torch(t)
    assert lab.shape == t.shape and lab.dtype == dtype
    np.testing.assert_allclose(lab.permute(1, 2, 0).numpy(), ref, atol=2e-3)
    back = colour_torch.lab_to_rgb_torch(lab)
    np.testing.assert_allclose(back.numpy(), t.numpy(), atol=1e-4)
    batch = t[None].repeat(2, 1, 1, 1)  # (B, 3, H, W)
    torch.testing.assert_close(colour_torch.rgb_to_lab_torch(batch)[1], lab)


def test_torch_gradients_are_finite_everywhere():
    # Black, white, the cube's corners and out-of-gamut Lab: the places where the curves kink.
    rgb = torch.tensor(_cube_and_random(n=100)[:100].reshape(10, 10, 3)).permute(2, 0, 1)
    rgb = rgb[None].clone().requires_grad_(True)
    colour_torch.rgb_to_lab_torch(rgb).square().sum().backward()
    assert torch.isfinite(rgb.grad).all()
    lab = torch.tensor([[0.0, 0, 0], [100, 0, 0], [50, -128, 128], [50, 128, -128],
                        [0, 80, 80], [100, -80, -80]]).T.reshape(1, 3, 6, 1)
    lab = lab.clone().requires_grad_(True)
    colour_torch.lab_to_rgb_torch(lab).sum().backward()
    assert torch.isfinite(lab.grad).all()


def test_torch_rejects_channels_last():
    with pytest.raises(ValueError, match=r"\(\*, 3, H, W\)"):
        colour_torch.rgb_to_lab_torch(torch.zeros(4, 4, 3))


# --- normalisation (the only copy of the constants) --------------------------------------------
def test_normalisation_helpers_numpy_and_torch():
    lightness = np.array([0.0, 50.0, 100.0])
    np.testing.assert_allclose(colour.normalize_l(lightness), [-1, 0, 1])
    np.testing.assert_allclose(colour.denormalize_l(colour.normalize_l(lightness)), lightness)
    ab = torch.tensor([-110.0, 0.0, 55.0, 110.0])
    torch.testing.assert_close(colour.normalize_ab(ab), torch.tensor([-1.0, 0.0, 0.5, 1.0]))
    torch.testing.assert_close(colour.denormalize_ab(colour.normalize_ab(ab)), ab)
    # Every sRGB colour's ab lies inside the tanh range after normalising.
    lab = colour.rgb_to_lab(_cube_and_random())
    assert np.abs(colour.normalize_ab(lab[:, 1:])).max() < 1.0


# --- gamut mapping that keeps L -------------------------------------------------------------
def _hue(lab):
    return np.arctan2(lab[..., 2], lab[..., 1])


def test_lab_to_rgb_preserving_l_in_gamut_equals_plain_conversion():
    lab = colour.rgb_to_lab(_cube_and_random(seed=6)[20:])
    np.testing.assert_allclose(colour.lab_to_rgb_preserving_l(lab), colour.lab_to_rgb(lab),
                               atol=1e-5)


def test_lab_to_rgb_preserving_l_keeps_l_and_hue_and_maximises_chroma():
    rng = np.random.default_rng(7)
    lab = np.stack([rng.uniform(5, 95, 3000), rng.uniform(-127, 127, 3000),
                    rng.uniform(-127, 127, 3000)], axis=1).astype(np.float32)
    out = colour.lab_to_rgb_preserving_l(lab)
    assert out.min() >= 0 and out.max() <= 1
    got = colour.rgb_to_lab(out)
    np.testing.assert_allclose(got[:, 0], lab[:, 0], atol=0.01)  # L kept
    moved = ~colour.in_gamut(lab)
    assert moved.mean() > 0.3  # the test really exercises the mapping
    chroma = np.hypot(got[:, 1], got[:, 2])
    keep = chroma > 2  # hue is meaningless near grey
    dh = np.angle(np.exp(1j * (_hue(got) - _hue(lab))))
    assert np.abs(dh[keep]).max() < 0.02
    # Chroma was lowered only as far as needed: 1% more chroma is out of gamut again.
    more = got[moved].copy()
    more[:, 1:] *= 1.01
    assert (~colour.in_gamut(more)).mean() > 0.95
    assert (np.hypot(got[:, 1], got[:, 2]) <= np.hypot(lab[:, 1], lab[:, 2]) + 0.02).all()


def test_lab_to_srgb8_matches_float_path():
    rng = np.random.default_rng(8)
    lab = np.stack([rng.uniform(0, 100, (300, 401)), rng.normal(0, 40, (300, 401)),
                    rng.normal(0, 40, (300, 401))], axis=-1).astype(np.float32)
    fast = colour.lab_to_srgb8(lab)
    ref = to_uint8(colour.lab_to_rgb_preserving_l(lab))
    assert fast.dtype == np.uint8 and fast.shape == lab.shape
    diff = np.abs(fast.astype(int) - ref)
    assert diff.max() <= 1 and (diff > 0).mean() < 0.01
    assert colour.lab_to_srgb8(lab[0, 0]).shape == (3,)  # any (..., 3) shape
    out = np.empty(lab.shape, dtype=np.uint8)
    assert colour.lab_to_srgb8(lab, out=out) is out and np.array_equal(out, fast)
    with pytest.raises(ValueError, match="out must be"):
        colour.lab_to_srgb8(lab, out=np.empty((3, 3, 3), np.uint8))


def test_in_gamut():
    assert colour.in_gamut(np.array([50.0, 0.0, 0.0]))
    assert not colour.in_gamut(np.array([50.0, 120.0, 0.0]))
    assert colour.in_gamut(colour.rgb_to_lab(_cube_and_random())).all()
