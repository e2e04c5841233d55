"""The network's four-channel input: L, hint a, hint b, and a high-pass edge channel of L.

One definition, in torch, used by the colorizer, training and evaluation alike.
Shapes: ``L`` is ``(B, 1, H, W)`` in 0..100; hint ab is ``(B, 2, H, W)`` in CIE units (0 where
there is no hint). The result is ``(B, 4, H, W)``, each channel in about -1..1.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from colouru.colour import normalize_ab, normalize_l

INPUT_CHANNELS = 4
HIGHPASS_SIGMA = 1.5  # Gaussian sigma (pixels at working size) removed from L
HIGHPASS_SCALE = 25.0  # L units of detail that map to 1.0 in the edge channel


def _gaussian_kernel(sigma: float, dtype, device) -> torch.Tensor:
    radius = max(1, int(math.ceil(3 * sigma)))
    x = torch.arange(-radius, radius + 1, dtype=dtype, device=device)
    k = torch.exp(-(x**2) / (2 * sigma**2))
    return k / k.sum()


def highpass(lightness: torch.Tensor, sigma: float = HIGHPASS_SIGMA) -> torch.Tensor:
    """High-pass of L: ``(L - gaussian_blur(L)) / HIGHPASS_SCALE``.

    ``lightness``: ``(B, 1, H, W)`` in 0..100 -> ``(B, 1, H, W)``, about -1..1 at strong edges.
    Borders are reflected (replicated for images smaller than the kernel).
    """
    if lightness.dim() != 4 or lightness.shape[1] != 1:
        raise ValueError(f"L must have shape (B, 1, H, W), got {tuple(lightness.shape)}")
    k = _gaussian_kernel(sigma, lightness.dtype, lightness.device)
    r = (k.numel() - 1) // 2
    h, w = lightness.shape[-2:]
    mode = "reflect" if min(h, w) > r else "replicate"
    x = F.pad(lightness, (r, r, r, r), mode=mode)
    x = F.conv2d(x, k.view(1, 1, 1, -1))
    x = F.conv2d(x, k.view(1, 1, -1, 1))
    return (lightness - x) / HIGHPASS_SCALE


def make_input(lightness: torch.Tensor, hint_ab: torch.Tensor) -> torch.Tensor:
    """Stack the network input ``(B, 4, H, W)``: normalised L, hint a, hint b, high-pass."""
    if hint_ab.dim() != 4 or hint_ab.shape[1] != 2 or hint_ab.shape[-2:] != lightness.shape[-2:]:
        raise ValueError(
            f"hint ab must have shape (B, 2, H, W) matching L {tuple(lightness.shape)}, "
            f"got {tuple(hint_ab.shape)}"
        )
    return torch.cat([normalize_l(lightness), normalize_ab(hint_ab), highpass(lightness)], dim=1)
