"""The U-Net generator: any input size, output range, the registry, the FLOP count."""

from __future__ import annotations

import pytest
import torch

from colouru.flops import count_flops
from colouru.generator import ARCHITECTURES, GeneratorConfig, UNet, build_generator

SMALL = GeneratorConfig(width=4, depth=3, max_width=16)


@pytest.fixture(scope="module")
def small():
    torch.manual_seed(0)
    return build_generator(SMALL).eval()


# 1 x 1 is the sensible minimum: one pixel still gets a colour (the input is padded by
# replication to the network's multiple and the output cropped back).
@pytest.mark.parametrize("hw", [(1, 1), (1, 7), (2, 3), (8, 8), (37, 53), (64, 17), (100, 31)])
def test_any_size_in_same_size_out(small, hw):
    x = torch.randn(2, 4, *hw)
    with torch.no_grad():
        y = small(x)
    assert y.shape == (2, 2, *hw) and torch.isfinite(y).all()
    assert not torch.equal(y[0], y[1])  # each photo of the batch gets its own colours


def test_extreme_input_stays_in_range(small):
    # A huge input never gives NaN or infinity (tanh keeps the range; inf - inf would not).
    with torch.no_grad():
        y = small(torch.full((1, 4, 16, 16), 1e4))
    assert torch.isfinite(y).all()


def test_odd_sizes_are_padded_at_the_bottom_right_and_cropped_back(small):
    # 37 x 53 is padded (by replication) to 40 x 56 and the top-left 37 x 53 kept.
    x = torch.randn(1, 4, 37, 53)
    padded = torch.nn.functional.pad(x, (0, 3, 0, 3), mode="replicate")
    with torch.no_grad():
        torch.testing.assert_close(small(x), small(padded)[..., :37, :53])


def test_training_mode_backward_is_finite():
    torch.manual_seed(1)
    model = build_generator(GeneratorConfig(width=4, depth=3, max_width=16, dropout=0.5))
    model.train()
    x = torch.randn(3, 4, 37, 53)
    y = model(x)
    y.square().mean().backward()
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


def test_widths_double_and_are_capped():
    model = build_generator(GeneratorConfig(width=8, depth=5, max_width=32))
    outs = [down[0].out_channels for down in model.downs]
    assert outs == [8, 16, 32, 32, 32]
    assert model.multiple == 32
    assert model.downs[0][0].in_channels == 4  # L, hint a, hint b, high-pass


def test_rejects_bad_input_shapes(small):
    with pytest.raises(ValueError, match=r"\(B, 4, H, W\)"):
        small(torch.zeros(1, 3, 8, 8))
    with pytest.raises(ValueError, match=r"\(B, 4, H, W\)"):
        small(torch.zeros(4, 8, 8))


def test_registry_lists_valid_names():
    assert ARCHITECTURES["unet"] is UNet
    names = r"\['unet', 'unet-semantic'\]"
    with pytest.raises(ValueError, match=r"unknown generator architecture 'resnet'.*" + names):
        build_generator(GeneratorConfig(arch="resnet"))


def test_a_removed_architecture_or_option_is_refused_by_name():
    # unet-pretrained (and its fine_width) is gone: a config naming it says so in one line and
    # points at the record; a config saved with the option at its neutral 0 still loads.
    with pytest.raises(ValueError, match=r"'unet-pretrained' was removed.*docs/experiments.md"):
        GeneratorConfig.from_dict({"arch": "unet-pretrained", "encoder": "efficientnet-lite0"})
    with pytest.raises(ValueError, match=r"fine_width was removed.*docs/experiments.md"):
        GeneratorConfig.from_dict({"arch": "unet", "fine_width": 8})
    saved = {"arch": "unet-semantic", "width": 16, "encoder": "efficientnet-lite0",
             "fine_width": 0}
    cfg = GeneratorConfig.from_dict(saved)
    assert cfg == GeneratorConfig(arch="unet-semantic", width=16, encoder="efficientnet-lite0")
    assert "fine_width" not in cfg.to_dict()


def test_config_round_trip_and_validation():
    cfg = GeneratorConfig(width=24, depth=5, max_width=128, dropout=0.5)
    assert GeneratorConfig.from_dict(cfg.to_dict()) == cfg
    assert GeneratorConfig.from_dict({"width": 8}) == GeneratorConfig(width=8)
    for bad, match in [({"widht": 8}, "unknown"), ({"width": "8"}, "must be int"),
                       ({"depth": True}, "must be int"), ({"dropout": "x"}, "must be float"),
                       ({"arch": 3}, "must be str"), ({"width": 0}, "out of range"),
                       ({"dropout": 1.0}, "out of range")]:
        with pytest.raises(ValueError, match=match):
            GeneratorConfig.from_dict(bad)
    with pytest.raises(ValueError, match="positive"):
        UNet(GeneratorConfig(depth=0))


def test_count_flops_by_hand():
    # depth 1: one 4x4 stride-2 conv (4 -> w), one 4x4 stride-2 transposed conv (w -> w), and
    # the 3x3 head ((w + 4) -> 2) at full size. Multiply-adds x 2.
    w, h, wd = 6, 32, 48
    model = build_generator(GeneratorConfig(width=w, depth=1, max_width=64))
    half = (h // 2) * (wd // 2)
    expected = 2 * (16 * 4 * w * half + 16 * w * w * half + 9 * (w + 4) * 2 * h * wd)
    assert count_flops(model, h, wd) == expected


def test_count_flops_scales_with_pixels_and_keeps_mode(small):
    small.train()
    try:
        f1, f2 = count_flops(small, 64, 64), count_flops(small, 128, 128)
        assert small.training  # the mode is restored
    finally:
        small.eval()
    assert f2 == 4 * f1 > 0


def test_hint_features_carry_a_hint_colour_across_the_image():
    from colouru.propagation import hint_features

    x = torch.zeros(1, 4, 64, 96)
    x[0, 1:3, 30:33, 10:13] = torch.tensor([0.3, -0.2]).view(2, 1, 1)
    f = hint_features(x, 3)
    assert f.shape == (1, 9, 64, 96)
    # Finest scale: the colour near the hint, nothing (confidence 0) far from it.
    assert torch.allclose(f[0, 0:2, 31, 11], torch.tensor([0.3, -0.2]), atol=1e-3)
    assert f[0, 2, 0, 90] == 0
    # Coarsest scale (cells of 128 px): the whole image knows the hint's colour.
    assert torch.allclose(f[0, 6:8, 63, 95], torch.tensor([0.3, -0.2]), atol=1e-3)
    assert f[0, 8, 63, 95] > 0.5
    assert hint_features(torch.zeros(1, 4, 8, 8), 2).abs().sum() == 0  # no hints: all zero


def test_faded_hint_features_have_no_edge_around_a_hint():
    """One 3 x 3 hint in a flat image: unfaded, the 32 px scale's colour jumps from the hint's
    colour to 0 between two neighbouring pixels (the box a model drew in a flat sky); faded, it
    falls to 0 in steps of a few percent, and is the hint's colour where its confidence is 1."""
    from colouru.propagation import hint_features

    x = torch.zeros(1, 4, 128, 128)
    x[0, 1:3, 47:50, 47:50] = torch.tensor([0.4, 0.1]).view(2, 1, 1)
    row_sharp = hint_features(x, 2)[0, 3, 48]  # a of the 32 px scale along the hint's row
    row_faded = hint_features(x, 2, fade=True)[0, 3, 48]
    assert row_sharp.diff().abs().max() > 0.39  # the box's edge: 0.4 to 0 in one pixel
    assert row_faded.diff().abs().max() < 0.02
    assert row_faded.max() == pytest.approx(0.4, abs=0.02)  # the hint sits near a cell centre
    assert row_faded[-1] == 0 and row_sharp[-1] == 0  # and nothing far away
    # the confidences are the same; only the colour is faded
    assert torch.equal(hint_features(x, 2)[:, 2::3], hint_features(x, 2, fade=True)[:, 2::3])


def test_generator_hint_fade_changes_what_it_hears_not_its_weights():
    base = GeneratorConfig(width=4, depth=3, max_width=8, hint_scales=2)
    g0 = build_generator(base).eval()
    g1 = build_generator(GeneratorConfig.from_dict({**base.to_dict(), "hint_fade": 1})).eval()
    g1.load_state_dict(g0.state_dict())
    x = torch.zeros(1, 4, 64, 64)
    x[0, 1:3, 20:23, 20:23] = 0.5
    with torch.no_grad():
        assert not torch.allclose(g0(x), g1(x))
        x[0, 1:3] = 0  # without hints the faded features are the same
        assert torch.equal(g0(x), g1(x))
    with pytest.raises(ValueError, match="hint_fade 2 out of range"):
        GeneratorConfig.from_dict({"hint_fade": 2})


@pytest.mark.parametrize("hw", [(37, 53), (8, 8), (130, 70)])
def test_generator_with_hint_scales_on_odd_sizes(hw):
    g = build_generator(GeneratorConfig(width=4, depth=3, max_width=8, hint_scales=3)).eval()
    with torch.no_grad():
        y = g(torch.randn(2, 4, *hw))
    assert y.shape == (2, 2, *hw) and y.abs().max() <= 1


def _two_regions(h: int = 48, w: int = 64) -> torch.Tensor:
    """An input whose left half is dark (L -0.6) and right half light (L 0.6), no hints."""
    x = torch.zeros(1, 4, h, w)
    x[0, 0, :, : w // 2] = -0.6
    x[0, 0, :, w // 2 :] = 0.6
    return x


def test_edge_aware_hints_spread_within_a_region_but_not_across_its_edge():
    from colouru.propagation import edge_aware_hints

    x = _two_regions()
    x[0, 1:3, 20:23, 5:8] = torch.tensor([0.3, -0.2]).view(2, 1, 1)  # one hint, left half
    [(colour, confidence)] = edge_aware_hints(x, (0.12,))
    assert colour.shape == (1, 2, 48, 64) and confidence.shape == (1, 1, 48, 64)
    # The far corner of the same region takes the hint's colour ...
    assert torch.allclose(colour[0, :, 47, 30], torch.tensor([0.3, -0.2]), atol=1e-3)
    # ... while across the edge almost no hint mass arrives.
    assert confidence[0, 0, 47, 30] > 0.3 and confidence[0, 0, 0, 63] < 0.01
    assert confidence[0, 0, 21, 6] > confidence[0, 0, 47, 30]  # most certain at the hint

    # A second hint in the right half: each half keeps its own colour at the edge.
    x[0, 1:3, 30:33, 50:53] = torch.tensor([-0.1, 0.4]).view(2, 1, 1)
    [(colour, _)] = edge_aware_hints(x, (0.12,))
    assert torch.allclose(colour[0, :, 10, 31], torch.tensor([0.3, -0.2]), atol=0.02)
    assert torch.allclose(colour[0, :, 10, 32], torch.tensor([-0.1, 0.4]), atol=0.02)


def test_edge_aware_hints_without_hints_are_zero_and_unsure():
    from colouru.propagation import edge_aware_hints

    [(colour, confidence)] = edge_aware_hints(_two_regions(9, 5), (0.35,))
    assert colour.abs().sum() == 0 and confidence.abs().sum() == 0


def test_generator_with_edge_hints_starts_from_the_propagated_hints():
    # The output corrects the first propagation: with the head's weights at zero, the
    # generator returns exactly the spread hint colours (within tanh's domain).
    from colouru.propagation import EDGE_SIGMAS, edge_aware_hints

    g = build_generator(GeneratorConfig(width=4, depth=3, max_width=8, edge_hints=2)).eval()
    torch.nn.init.zeros_(g.head.weight)
    torch.nn.init.zeros_(g.head.bias)
    x = _two_regions()
    x[0, 1:3, 20:23, 5:8] = torch.tensor([0.3, -0.2]).view(2, 1, 1)
    with torch.no_grad():
        y = g(x)
    [(expected, _)] = edge_aware_hints(x, EDGE_SIGMAS[:1])
    assert torch.allclose(y, expected, atol=1e-5)
    with pytest.raises(ValueError, match="out of range"):
        GeneratorConfig.from_dict({"edge_hints": len(EDGE_SIGMAS) + 1})


@pytest.mark.parametrize("hw", [(37, 53), (1, 1), (130, 70)])
def test_generator_with_edge_hints_on_odd_sizes(hw):
    cfg = GeneratorConfig(width=4, depth=3, max_width=8, hint_scales=2, edge_hints=2)
    g = build_generator(cfg).eval()
    with torch.no_grad():
        y = g(torch.randn(2, 4, *hw))
    assert y.shape == (2, 2, *hw) and torch.isfinite(y).all() and y.abs().max() <= 1


def test_follow_hints_corrects_towards_a_hint_within_its_region_only():
    from colouru.propagation import follow_hints

    x = _two_regions()
    lightness = x[:, :1]
    # The network's colour: a ramp across the image (its own detail), 0.1 off the hint.
    ramp = torch.linspace(-0.2, 0.2, 64).view(1, 1, 1, 64).expand(1, 2, 48, 64).clone()
    hint_ab = torch.zeros(1, 2, 48, 64)
    mask = torch.zeros(1, 1, 48, 64)
    mask[..., 20:23, 5:8] = 1
    hint_ab[..., 20:23, 5:8] = ramp[..., 20:23, 5:8] + torch.tensor([0.1, -0.1]).view(2, 1, 1)
    out = follow_hints(ramp, lightness, hint_ab, mask)
    # In the hint's region the residual arrives, added to the network's ramp: all of it
    # near the hint, most of it at the region's far corners (less hint mass reaches them) ...
    shift = torch.tensor([0.1, -0.1]).view(1, 2, 1, 1)
    share = (out - ramp) / shift  # (1, 2, H, W), the same for a and b
    assert torch.allclose(share[..., :, :32], share[:, :1, :, :32].expand(1, 2, 48, 32))
    assert share[..., 15:28, 1:13].min() > 0.98
    assert share[..., :, :32].min() > 0.75 and share[..., :, :32].max() <= 1.0
    # ... across the edge of L almost none does.
    assert (out[..., :, 33:] - ramp[..., :, 33:]).abs().max() < 0.01
    # No hints, or hints the network already meets: nothing changes.
    assert torch.equal(follow_hints(ramp, lightness, hint_ab, torch.zeros_like(mask)), ramp)
    met = torch.where(mask > 0, ramp, hint_ab)
    assert torch.equal(follow_hints(ramp, lightness, met, mask), ramp)
    with pytest.raises(ValueError, match="fade_mass must be positive"):
        follow_hints(ramp, lightness, hint_ab, mask, fade_mass=0.0)
    # The edge weights kept for this L give the same result, bit for bit.
    from colouru.propagation import follow_weights

    kept = follow_weights(lightness)
    assert torch.equal(follow_hints(ramp, lightness, hint_ab, mask, weights=kept), out)


@pytest.mark.parametrize("cfg", [
    GeneratorConfig(width=4, depth=3, max_width=16, hint_scales=1, edge_hints=1),
    GeneratorConfig(arch="unet-semantic", encoder="efficientnet-lite0", width=8),
])
def test_inference_copy_folds_batch_norms_and_computes_the_same(cfg):
    from colouru.generator import inference_copy

    torch.manual_seed(0)
    model = build_generator(cfg)
    model.train()  # some steps, so the batch norms hold statistics of their own
    with torch.no_grad():
        for _ in range(3):
            model(torch.rand(2, 4, 64, 64) * 2 - 1)
    model.eval()
    net = inference_copy(model)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in net.modules())
    assert any(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules())  # untouched
    x = torch.rand(1, 4, 45, 70) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(net(x), model(x), rtol=1e-4, atol=1e-5)
