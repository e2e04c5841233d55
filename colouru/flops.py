"""FLOP counting of a generator, for the benchmarks (benchmarks/bench_core.py,
bench_train.py): multiply-adds x 2 of one forward pass, from hooks on its convolutions."""

from __future__ import annotations

import torch
import torch.nn as nn

from colouru.generator import SemanticUNet
from colouru.inputs import INPUT_CHANNELS


def count_flops(model: nn.Module, height: int, width: int, trainable_only: bool = False) -> int:
    """Multiply-adds x 2 of one forward pass on a ``(1, 4, height, width)`` input (conv layers;
    ``trainable_only``: only those whose weights train, not a frozen encoder's). Every layer
    runs: kept features (``SemanticUNet``) are dropped first."""
    total = 0
    for m in model.modules():
        if isinstance(m, SemanticUNet):
            m.forget()

    def hook(mod, inp, out):
        nonlocal total
        if trainable_only and not mod.weight.requires_grad:
            return
        if isinstance(mod, nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1] * mod.in_channels // mod.groups
            total += 2 * k * out.numel()
        elif isinstance(mod, nn.ConvTranspose2d):
            k = mod.kernel_size[0] * mod.kernel_size[1] * mod.out_channels // mod.groups
            total += 2 * k * inp[0].numel()

    handles = [
        m.register_forward_hook(hook)
        for m in model.modules()
        if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d))
    ]
    was_training = model.training
    model.eval()
    try:
        p = next(model.parameters())
        with torch.no_grad():
            model(torch.zeros(1, INPUT_CHANNELS, height, width, dtype=p.dtype, device=p.device))
    finally:
        for hd in handles:
            hd.remove()
        model.train(was_training)
    return total
