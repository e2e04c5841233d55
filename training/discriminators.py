"""The discriminator, in an explicit registry. It sees normalised Lab: ``(B, 3, H, W)`` =
(L, a, b) in about -1..1, and returns real/fake logits (no sigmoid: the loss is
``BCEWithLogits``).

* ``patch``: a conditional PatchGAN (pix2pix, Isola et al. 2017): strided convolutions that
  judge each overlapping patch as real or fake; fully convolutional, so any size.

The design document's classifier (``design``: conv + pool blocks, dense layers, one logit an
image) was removed unused (docs/experiments.md); ``training/config.py`` refuses a run of it.
"""

from __future__ import annotations

import torch
import torch.nn as nn


class PatchDiscriminator(nn.Module):
    """70 x 70 PatchGAN-style: ``(B, 3, H, W)`` -> ``(B, 1, H/8, W/8)`` logits, one per patch."""

    def __init__(self, width: int = 32, layers: int = 3):
        super().__init__()
        seq: list[nn.Module] = [nn.Conv2d(3, width, 4, 2, 1), nn.LeakyReLU(0.2, inplace=True)]
        c = width
        for i in range(1, layers):
            c_out = min(width * 2**i, width * 8)
            seq += [
                nn.Conv2d(c, c_out, 4, 2, 1, bias=False),
                nn.BatchNorm2d(c_out),
                nn.LeakyReLU(0.2, inplace=True),
            ]
            c = c_out
        c_out = min(c * 2, width * 8)
        seq += [
            nn.Conv2d(c, c_out, 4, 1, 1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(c_out, 1, 4, 1, 1),
        ]
        self.net = nn.Sequential(*seq)

    def forward(self, lab: torch.Tensor) -> torch.Tensor:
        return self.net(lab)


DISCRIMINATORS = {"patch": PatchDiscriminator}


def build_discriminator(name: str, width: int = 32) -> nn.Module:
    """Build a discriminator by registry name; unknown names list the valid ones."""
    try:
        cls = DISCRIMINATORS[name]
    except KeyError:
        raise ValueError(
            f"unknown discriminator {name!r}; valid: {sorted(DISCRIMINATORS)}"
        ) from None
    return cls(width=width)
