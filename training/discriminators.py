"""Discriminators, in an explicit registry. Both see normalised Lab: ``(B, 3, H, W)`` =
(L, a, b) in about -1..1, and return real/fake logits (no sigmoid: the loss is
``BCEWithLogits``).

* ``design``: the design document's classifier: three convolutions with batch norm and
  LeakyReLU, each followed by max-pooling, then two fully connected layers to one output. An
  adaptive pooling before the dense layers lets it take any input size.
* ``patch``: a conditional PatchGAN (pix2pix, Isola et al. 2017): strided convolutions that
  judge each overlapping patch as real or fake; fully convolutional, so any size.
"""

from __future__ import annotations

import torch
import torch.nn as nn


class DesignDiscriminator(nn.Module):
    """Three conv + BN + LeakyReLU + max-pool blocks, two dense layers, one logit per image."""

    def __init__(self, width: int = 32):
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for i in range(3):
            cout = width * 2**i
            layers += [
                nn.Conv2d(cin, cout, 3, padding=1, bias=False),
                nn.BatchNorm2d(cout),
                nn.LeakyReLU(0.2, inplace=True),
                nn.MaxPool2d(2),
            ]
            cin = cout
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(8))
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(cin * 64, 128),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(128, 1),
        )

    def forward(self, lab: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` -> ``(B, 1)`` logits."""
        return self.classifier(self.features(lab))


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


DISCRIMINATORS = {"design": DesignDiscriminator, "patch": PatchDiscriminator}


def build_discriminator(name: str, width: int = 32) -> nn.Module:
    """Build a discriminator by registry name; unknown names list the valid ones."""
    try:
        cls = DISCRIMINATORS[name]
    except KeyError:
        raise ValueError(
            f"unknown discriminator {name!r}; valid: {sorted(DISCRIMINATORS)}"
        ) from None
    return cls(width=width)
