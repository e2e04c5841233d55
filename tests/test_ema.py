"""The generator's weight average (``colouru train --ema``)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from colouru.training.ema import WeightAverage, ema_decay


def test_average_follows_the_formula_and_stays_frozen():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(3, 2), nn.BatchNorm1d(2))
    avg = WeightAverage(net, decay=0.9)
    start = [t.detach().clone() for t in avg.model.state_dict().values()]
    net(torch.randn(8, 3))  # moves the running statistics and the batch count
    with torch.no_grad():
        for p in net.parameters():
            p.add_(1.0)
    updates = 100  # past the warm-up: the decay is 0.9
    avg.update(net, updates)
    now = net.state_dict()
    for (k, a), s in zip(avg.model.state_dict().items(), start, strict=True):
        if k.endswith("num_batches_tracked"):
            assert a == now[k] == 1  # copied
        else:
            torch.testing.assert_close(a, 0.9 * s + 0.1 * now[k], msg=k)
    assert not any(p.requires_grad for p in avg.model.parameters())
    assert not avg.model.training


def test_warm_up_lowers_the_decay_early_only():
    assert ema_decay(0.999, 0) == pytest.approx(0.1)
    assert ema_decay(0.999, 90) == pytest.approx(0.91)
    assert ema_decay(0.999, 100_000) == 0.999


@pytest.mark.parametrize("decay", [0.0, 1.0, -0.5, 1.5])
def test_decay_outside_0_1_is_refused(decay):
    with pytest.raises(ValueError, match="between 0 and 1"):
        WeightAverage(nn.Linear(1, 1), decay)
