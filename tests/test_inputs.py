"""The four-channel network input and its high-pass edge channel."""

from __future__ import annotations

import pytest
import torch

from colouru.inputs import HIGHPASS_SCALE, INPUT_CHANNELS, highpass, make_input


def test_highpass_of_flat_image_is_zero_and_sees_edges():
    flat = torch.full((1, 1, 20, 30), 42.0)
    assert highpass(flat).abs().max() < 1e-5
    step = torch.zeros(1, 1, 20, 30)
    step[..., 15:] = 100.0
    hp = highpass(step)
    assert hp.shape == step.shape
    assert hp[0, 0, 10, 14] < -0.5 and hp[0, 0, 10, 15] > 0.5  # both sides of the edge
    assert hp[0, 0, 10, 2].abs() < 1e-4  # far from it, nothing
    assert hp.abs().max() <= 100.0 / HIGHPASS_SCALE


@pytest.mark.parametrize("hw", [(1, 1), (2, 3), (5, 5), (37, 53)])
def test_highpass_small_images(hw):
    assert torch.isfinite(highpass(torch.rand(2, 1, *hw) * 100)).all()


def test_make_input_layout_and_ranges():
    lightness = torch.rand(2, 1, 16, 24) * 100
    hint_ab = torch.zeros(2, 2, 16, 24)
    hint_ab[:, 0, 3, 4], hint_ab[:, 1, 3, 4] = 55.0, -110.0
    x = make_input(lightness, hint_ab)
    assert x.shape == (2, INPUT_CHANNELS, 16, 24)
    torch.testing.assert_close(x[:, 0:1], (lightness - 50) / 50)
    assert x[0, 1, 3, 4] == 0.5 and x[0, 2, 3, 4] == -1.0
    torch.testing.assert_close(x[:, 3:4], highpass(lightness))
    assert x.abs().max() <= 4.0


def test_make_input_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="hint ab"):
        make_input(torch.zeros(1, 1, 8, 8), torch.zeros(1, 2, 8, 9))
    with pytest.raises(ValueError, match=r"\(B, 1, H, W\)"):
        highpass(torch.zeros(1, 3, 8, 8))
