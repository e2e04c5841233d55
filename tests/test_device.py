"""Devices and precision: bf16 is detected, never assumed; auto keeps fp32 on the CPU."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from colouru import device as device_module
from colouru.device import autocast, bf16_supported, resolve_precision


def test_auto_is_fp32_on_the_cpu():
    assert resolve_precision(torch.device("cpu"), "auto") == "fp32"
    assert resolve_precision(torch.device("cpu"), "fp32") == "fp32"


def test_bf16_is_refused_where_the_hardware_lacks_it(monkeypatch):
    monkeypatch.setattr(device_module, "bf16_supported", lambda d: False)
    with pytest.raises(ValueError, match="no native bf16"):
        resolve_precision(torch.device("cpu"), "bf16")


def test_unknown_precision_lists_the_valid_ones():
    with pytest.raises(ValueError, match="auto, fp32, bf16"):
        resolve_precision(torch.device("cpu"), "fp16")


@pytest.mark.skipif(not bf16_supported(torch.device("cpu")), reason="this CPU has no bf16")
def test_bf16_autocast_runs_convolutions_in_bf16():
    conv = torch.nn.Conv2d(4, 8, 3)
    x = torch.randn(1, 4, 16, 16)
    with autocast(torch.device("cpu"), "bf16"):
        assert conv(x).dtype == torch.bfloat16
    with autocast(torch.device("cpu"), "fp32"):
        assert conv(x).dtype == torch.float32


# bf16 against fp32 on real photos with the bundled model: the mean change of ab must stay
# well under one just-noticeable difference (about 2.3 CIE units), the worst pixel within 3.
BF16_MEAN_TOLERANCE, BF16_WORST_TOLERANCE = 0.5, 3.0


@pytest.mark.skipif(not bf16_supported(torch.device("cpu")), reason="this CPU has no bf16")
def test_bf16_changes_real_results_within_tolerance():
    from pathlib import Path

    from colouru import Colorizer, Hint
    from colouru.imageio import read_image

    examples = Path(__file__).resolve().parents[1] / "assets" / "examples"
    c32 = Colorizer.load(device="cpu", precision="fp32")
    c16 = Colorizer.load(device="cpu", precision="bf16")
    assert c16.precision == "bf16" and "precision: bf16" in c16.describe()
    diffs = []
    for name in ("1890Surfer.png", "1910Bike.jpg", "macaws.png", "tulip_field.png"):
        p = c32.prepare(read_image(examples / name))
        h, w = p.image_hw
        for hints in ([], [Hint(w // 3, h // 2, 9, rgb="#c03020")]):
            d = np.abs(c32.predict_ab(p, hints) - c16.predict_ab(p, hints))
            assert d.max() > 0  # bf16 did run
            diffs.append(d)
    d = np.concatenate([x.ravel() for x in diffs])
    assert d.mean() <= BF16_MEAN_TOLERANCE and d.max() <= BF16_WORST_TOLERANCE, (d.mean(), d.max())
