"""The generator's weight average (``colouru train --ema``)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from colouru.training.ema import WeightAverage, ema_decay


def test_average_follows_the_formula_and_stays_frozen():
    torch.manual_seed(0)
    net = nn.Linear(3, 2)
    avg = WeightAverage(net, decay=0.9)
    start = [p.detach().clone() for p in avg.model.parameters()]
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    updates = 100  # past the warm-up: the decay is 0.9
    avg.update(net, updates)
    for a, s, p in zip(avg.model.parameters(), start, net.parameters(), strict=True):
        torch.testing.assert_close(a, 0.9 * s + 0.1 * p.detach())
        assert not a.requires_grad
    assert not avg.model.training


def test_warm_up_lowers_the_decay_early_only():
    assert ema_decay(0.999, 0) == pytest.approx(0.1)
    assert ema_decay(0.999, 90) == pytest.approx(0.91)
    assert ema_decay(0.999, 100_000) == 0.999


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.5, 1.5])
def test_decay_outside_0_1_is_refused(decay):
    with pytest.raises(ValueError, match="between 0 and 1"):
        WeightAverage(nn.Linear(1, 1), decay)
