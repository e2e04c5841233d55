"""sRGB <-> CIE Lab for torch tensors ``(*, 3, H, W)``, differentiable: the twin of
``colouru.colour`` (whose constants it uses), kept apart so the numpy side loads without torch.
"""

from __future__ import annotations

import torch

from colouru.colour import _EPS, _KAPPA, _RGB2XYZ, _WHITE, _XYZ2RGB


def _check_chw(x: torch.Tensor, name: str) -> None:
    if x.dim() < 3 or x.shape[-3] != 3:
        raise ValueError(f"{name} must have shape (*, 3, H, W), got {tuple(x.shape)}")


def rgb_to_lab_torch(rgb: torch.Tensor) -> torch.Tensor:
    """sRGB ``(*, 3, H, W)`` in 0..1 -> Lab ``(*, 3, H, W)`` (L 0..100). Differentiable."""
    _check_chw(rgb, "rgb")
    lin = torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb.clamp(min=0) + 0.055) / 1.055) ** 2.4)
    m = torch.as_tensor(_RGB2XYZ, dtype=rgb.dtype, device=rgb.device)
    white = torch.as_tensor(_WHITE, dtype=rgb.dtype, device=rgb.device).view(3, 1, 1)
    xyz = torch.einsum("ij,...jhw->...ihw", m, lin) / white
    f = torch.where(xyz > _EPS, xyz.clamp(min=_EPS).pow(1.0 / 3.0), _KAPPA * xyz + 4.0 / 29.0)
    fx, fy, fz = f.unbind(-3)
    return torch.stack([116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)], dim=-3)


def lab_to_rgb_torch(lab: torch.Tensor) -> torch.Tensor:
    """Lab ``(*, 3, H, W)`` -> sRGB ``(*, 3, H, W)`` in 0..1 (clipped). Differentiable."""
    _check_chw(lab, "lab")
    lightness, a, b = lab.unbind(-3)
    fy = (lightness + 16.0) / 116.0
    f = torch.stack([fy + a / 500.0, fy, fy - b / 200.0], dim=-3)
    xyz = torch.where(f > 6.0 / 29.0, f**3, (f - 4.0 / 29.0) / _KAPPA)
    white = torch.as_tensor(_WHITE, dtype=lab.dtype, device=lab.device).view(3, 1, 1)
    m = torch.as_tensor(_XYZ2RGB, dtype=lab.dtype, device=lab.device)
    lin = torch.einsum("ij,...jhw->...ihw", m, xyz * white)
    srgb = torch.where(
        lin <= 0.0031308, 12.92 * lin, 1.055 * lin.clamp(min=1e-8) ** (1 / 2.4) - 0.055
    )
    return srgb.clamp(0.0, 1.0)
