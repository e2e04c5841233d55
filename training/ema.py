"""An exponential moving average (EMA) of the generator's weights.

Weights at the end of a run carry the noise of the last few batches; their running average is
usually a steadier and slightly better model (Polyak averaging). ``colouru train --ema DECAY``
keeps one, validates it and exports it in place of the raw weights; checkpoints carry it, so a
resumed run continues the same average.
"""

from __future__ import annotations

import copy

import torch
from torch import nn


def ema_decay(decay: float, updates: int) -> float:
    """The decay used at the ``updates``-th update (0-based): ``decay``, but lower early on,
    ``(1 + n) / (10 + n)``, so the first weights of a run do not linger in the average."""
    return min(decay, (1.0 + updates) / (10.0 + updates))


class WeightAverage:
    """A frozen copy of ``model`` whose parameters follow ``p_avg <- d * p_avg + (1 - d) * p``.

    Floating-point buffers (the batch-norm running statistics) are averaged the same way, as
    timm's ``ModelEmaV2`` does; integer ones (batch counts) are copied.
    """

    def __init__(self, model: nn.Module, decay: float):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"EMA decay must be between 0 and 1 (exclusive), got {decay}")
        self.decay = decay
        self.model = copy.deepcopy(model).eval().requires_grad_(False)

    @torch.no_grad()
    def update(self, model: nn.Module, updates: int) -> None:
        """Move the average towards ``model``'s weights; ``updates``: updates made so far."""
        d = ema_decay(self.decay, updates)
        for avg, p in zip(self.model.parameters(), model.parameters(), strict=True):
            avg.lerp_(p.detach(), 1.0 - d)
        for avg, b in zip(self.model.buffers(), model.buffers(), strict=True):
            if avg.is_floating_point():
                avg.lerp_(b, 1.0 - d)
            else:
                avg.copy_(b)
