"""sRGB <-> CIE Lab (D65), for numpy arrays and torch tensors.

This module is the only home of the Lab conversion and of the constants that scale L and ab
for the network. Everything else imports from here.

Conventions
-----------
* sRGB values are floats in 0..1 (numpy: channels last, ``(..., 3)``; torch: channels first,
  ``(*, 3, H, W)``).
* L is in 0..100, a and b roughly in -110..110 (the sRGB gamut spans about -86..98 and
  -108..95).
* The network sees ``L_norm = (L - L_CENT) / L_NORM`` and ``ab_norm = ab / AB_NORM``, both
  in about -1..1.
"""

from __future__ import annotations

import numpy as np
import torch

# --- Normalisation for the network (the only copy in the project) ---------------------------
L_CENT = 50.0  # L is centred at mid-grey ...
L_NORM = 50.0  # ... and scaled to -1..1.
AB_NORM = 110.0  # ab / 110 lies in -1..1 for every sRGB colour (tanh output range).

# --- CIE constants ---------------------------------------------------------------------------
# D65 reference white, Y normalised to 1.
_WHITE = (0.95047, 1.0, 1.08883)
# Linear sRGB -> XYZ (D65), IEC 61966-2-1.
_RGB2XYZ = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ],
    dtype=np.float64,
)
_XYZ2RGB = np.linalg.inv(_RGB2XYZ)
_EPS = (6.0 / 29.0) ** 3  # 0.008856
_KAPPA = 1.0 / (3.0 * (6.0 / 29.0) ** 2)  # 7.787


def normalize_l(lightness):
    """L in 0..100 -> network scale -1..1 (numpy or torch)."""
    return (lightness - L_CENT) / L_NORM


def denormalize_l(l_norm):
    """Network scale -1..1 -> L in 0..100 (numpy or torch)."""
    return l_norm * L_NORM + L_CENT


def normalize_ab(ab):
    """ab in about -110..110 -> network scale -1..1 (numpy or torch)."""
    return ab / AB_NORM


def denormalize_ab(ab_norm):
    """Network scale -1..1 -> ab (numpy or torch)."""
    return ab_norm * AB_NORM


# --- numpy -----------------------------------------------------------------------------------
def _check_last3(x: np.ndarray, name: str) -> None:
    if x.ndim < 1 or x.shape[-1] != 3:
        raise ValueError(f"{name} must have shape (..., 3), got {x.shape}")


def srgb_to_linear(rgb: np.ndarray) -> np.ndarray:
    """sRGB 0..1 -> linear RGB 0..1 (float32, any shape)."""
    rgb = np.asarray(rgb, dtype=np.float32)
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4).astype(
        np.float32
    )


def linear_to_srgb(lin: np.ndarray) -> np.ndarray:
    """Linear RGB -> sRGB (float32, any shape, not clipped)."""
    lin = np.asarray(lin, dtype=np.float32)
    pos = np.maximum(lin, 0.0)
    return np.where(lin <= 0.0031308, 12.92 * lin, 1.055 * pos ** (1 / 2.4) - 0.055).astype(
        np.float32
    )


def _f(t: np.ndarray) -> np.ndarray:
    return np.where(t > _EPS, np.cbrt(t), _KAPPA * t + 4.0 / 29.0)


def _finv(t: np.ndarray) -> np.ndarray:
    return np.where(t > 6.0 / 29.0, t**3, (t - 4.0 / 29.0) / _KAPPA)


def rgb_to_lab(rgb: np.ndarray) -> np.ndarray:
    """sRGB ``(..., 3)`` in 0..1 -> Lab ``(..., 3)`` float32 (L 0..100, ab about -110..110)."""
    rgb = np.asarray(rgb, dtype=np.float32)
    _check_last3(rgb, "rgb")
    xyz = srgb_to_linear(rgb) @ _RGB2XYZ.T.astype(np.float32)
    xyz /= np.asarray(_WHITE, dtype=np.float32)
    f = _f(xyz)
    lab = np.empty_like(xyz)
    lab[..., 0] = 116.0 * f[..., 1] - 16.0
    lab[..., 1] = 500.0 * (f[..., 0] - f[..., 1])
    lab[..., 2] = 200.0 * (f[..., 1] - f[..., 2])
    return lab


def lab_to_linear(lab: np.ndarray) -> np.ndarray:
    """Lab ``(..., 3)`` -> linear RGB ``(..., 3)`` float32, not clipped (may be out of gamut)."""
    lab = np.asarray(lab, dtype=np.float32)
    _check_last3(lab, "lab")
    fy = (lab[..., 0] + 16.0) / 116.0
    fx = fy + lab[..., 1] / 500.0
    fz = fy - lab[..., 2] / 200.0
    xyz = np.stack([_finv(fx), _finv(fy), _finv(fz)], axis=-1).astype(np.float32)
    xyz *= np.asarray(_WHITE, dtype=np.float32)
    return xyz @ _XYZ2RGB.T.astype(np.float32)


def lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """Lab ``(..., 3)`` -> sRGB ``(..., 3)`` float32 in 0..1 (out-of-gamut values clipped)."""
    return np.clip(linear_to_srgb(lab_to_linear(lab)), 0.0, 1.0)


def rgb_to_lightness(rgb: np.ndarray) -> np.ndarray:
    """sRGB ``(..., 3)`` (or grey ``(...)``) in 0..1 -> L ``(...)`` float32 in 0..100.

    Cheaper than a full Lab conversion: only relative luminance Y is needed.
    For a grey image (R = G = B) pass the 2-D array itself.
    """
    rgb = np.asarray(rgb, dtype=np.float32)
    lin = srgb_to_linear(rgb)
    if lin.ndim >= 1 and lin.shape[-1] == 3 and rgb.ndim == 3:
        y = lin @ _RGB2XYZ[1].astype(np.float32)
    else:
        # Grey: R = G = B, and the Y row of the matrix sums to 1.
        y = lin * np.float32(_RGB2XYZ[1].sum())
    return (116.0 * _f(y) - 16.0).astype(np.float32)


def lab_to_rgb_preserving_l(lab: np.ndarray, iterations: int = 10) -> np.ndarray:
    """Lab -> sRGB 0..1, bringing out-of-gamut colours into gamut by lowering chroma only.

    Plain clipping of RGB changes lightness and hue; here every out-of-gamut pixel keeps its L
    and hue angle and its chroma is scaled down (bisection, ``iterations`` steps) until it fits,
    so the output keeps the photo's own L. ``lab``: ``(..., 3)``; returns float32 ``(..., 3)``.
    """
    lab = np.asarray(lab, dtype=np.float32)
    lin = lab_to_linear(lab)
    tol = 1e-4
    bad = np.any((lin < -tol) | (lin > 1.0 + tol), axis=-1)
    if np.any(bad):
        sub = lab[bad]  # (N, 3)
        lo = np.zeros(len(sub), dtype=np.float32)  # scale known to be in gamut (grey)
        hi = np.ones(len(sub), dtype=np.float32)  # scale known to be out of gamut
        for _ in range(iterations):
            mid = (lo + hi) / 2
            trial = sub.copy()
            trial[:, 1:] *= mid[:, None]
            t_lin = lab_to_linear(trial)
            ok = np.all((t_lin >= -tol) & (t_lin <= 1.0 + tol), axis=-1)
            lo = np.where(ok, mid, lo)
            hi = np.where(ok, hi, mid)
        sub = sub.copy()
        sub[:, 1:] *= lo[:, None]
        lin[bad] = lab_to_linear(sub)
    return np.clip(linear_to_srgb(lin), 0.0, 1.0)


def in_gamut(lab: np.ndarray, tol: float = 1e-4) -> np.ndarray:
    """True where a Lab colour ``(..., 3)`` exists in sRGB. Returns bool ``(...)``."""
    lin = lab_to_linear(lab)
    return np.all((lin >= -tol) & (lin <= 1.0 + tol), axis=-1)


# --- torch -----------------------------------------------------------------------------------
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
