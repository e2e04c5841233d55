"""sRGB <-> CIE Lab (D65), for numpy arrays (its torch twin: ``colouru.colour_torch``).

This module is the only home of the Lab conversion's constants and of those that scale L and
ab for the network. Everything else imports from here. It never loads torch.

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

from functools import cache

import cv2
import numpy as np

from colouru.parallel import map_bands, row_bands

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
# A colour is in gamut when its linear RGB lies in [-tol * Y, 1 + tol * (2 - Y)], Y its
# luminance: this passes the float error of the constants (a neutral grey is off by up to
# 8e-5 * Y), and clipping what it lets through moves L by under 0.01, even for dark colours.
_GAMUT_TOL = 1e-4


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


def rgb_to_lightness(rgb: np.ndarray, grey: bool | None = None) -> np.ndarray:
    """sRGB ``(..., 3)`` (or grey ``(...)``) in 0..1 -> L ``(...)`` float32 in 0..100.

    Cheaper than a full Lab conversion: only relative luminance Y is needed.
    ``grey``: True for grey values (R = G = B, any shape), False for colours ``(..., 3)``;
    None guesses: a 2-D array is a grey image, anything else ending in 3 is colour.
    """
    rgb = np.asarray(rgb, dtype=np.float32)
    if grey is None:
        grey = rgb.ndim == 2 or rgb.ndim == 0 or rgb.shape[-1] != 3
    lin = srgb_to_linear(rgb)
    if not grey:
        _check_last3(rgb, "rgb")
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
    ``lab_to_srgb8`` is the fast whole-image equivalent with uint8 output.
    """
    lab = np.asarray(lab, dtype=np.float32)
    _check_last3(lab, "lab")
    flat = np.ascontiguousarray(lab).reshape(-1, 3)
    out = np.empty(flat.shape, dtype=np.float32)

    def block(rows):
        i0, i1 = rows
        out[i0:i1] = linear_to_srgb(_linear_in_gamut(flat[i0:i1], iterations))

    map_bands(block, row_bands(len(flat), 1))
    return np.clip(out, 0.0, 1.0).reshape(lab.shape)


def in_gamut(lab: np.ndarray, tol: float = _GAMUT_TOL) -> np.ndarray:
    """True where a Lab colour ``(..., 3)`` exists in sRGB (up to float error: linear RGB
    within ``-tol * Y .. 1 + tol * (2 - Y)``). Returns bool ``(...)``."""
    lab = np.asarray(lab, dtype=np.float32)
    lin = lab_to_linear(lab)
    y = _finv((lab[..., 0:1] + 16.0) / 116.0)
    return np.all((lin + tol * y >= 0) & (lin + tol * y <= 1.0 + 2 * tol), axis=-1)


# --- fast whole-image paths ------------------------------------------------------------------
# The same formulas as above, run with OpenCV kernels on blocks of pixels small enough to stay
# in the CPU cache (colouru.parallel, several blocks at once), so a 12-megapixel photo is
# converted in a fraction of a second and with little extra memory. Tests hold them to the
# reference functions above.
_Y_ROW = _RGB2XYZ[1:2].astype(np.float32)  # (1, 3): linear RGB -> Y
# XYZ / white -> linear RGB, the white folded in so the block works on f^-1 values directly.
_FXYZ2RGB = (_XYZ2RGB * np.asarray(_WHITE)[None, :]).astype(np.float32)
# The same plus tol * Y on every channel: the gamut test becomes a fixed range (see in_gamut).
_FXYZ2RGB_CHECK = _FXYZ2RGB + np.array([0.0, _GAMUT_TOL, 0.0], dtype=np.float32)[None, :]


@cache
def _lut_srgb_to_linear(levels: int) -> np.ndarray:
    """Linear value of each of ``levels`` sRGB codes (256 for 8-bit, 65536 for 16-bit)."""
    v = np.arange(levels, dtype=np.float64) / (levels - 1)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4).astype(np.float32)


@cache
def _lut_linear16_to_srgb8() -> np.ndarray:
    """uint8 sRGB code of each linear value i / 65535 (rounded)."""
    v = np.arange(65536, dtype=np.float64) / 65535.0
    s = np.where(v <= 0.0031308, 12.92 * v, 1.055 * v ** (1 / 2.4) - 0.055)
    return np.clip(np.floor(s * 255.0 + 0.5), 0, 255).astype(np.uint8)


def _linear_block(x: np.ndarray) -> np.ndarray:
    """sRGB block (uint8, uint16 or float 0..1, clipped) -> linear float32, same shape."""
    if x.dtype == np.uint8:
        return cv2.LUT(np.ascontiguousarray(x), _lut_srgb_to_linear(256))
    if x.dtype == np.uint16:
        return _lut_srgb_to_linear(65536)[x]
    x = np.clip(x, 0.0, 1.0).astype(np.float32, copy=False)
    lin = cv2.pow((x + np.float32(0.055)) * np.float32(1 / 1.055), 2.4)
    dark = x <= 0.04045
    lin[dark] = x[dark] / np.float32(12.92)
    return lin


def _lightness_of_y(y: np.ndarray) -> np.ndarray:
    """Relative luminance Y (0..1, float32) -> L 0..100 (the formula of ``_f``)."""
    lightness = cv2.pow(y, 1.0 / 3.0)
    lightness *= np.float32(116.0)
    lightness -= np.float32(16.0)
    dark = y <= _EPS
    lightness[dark] = y[dark] * np.float32(116.0 * _KAPPA)
    return lightness


def _grey_as_rgb(block: np.ndarray) -> np.ndarray:
    """A band of a grey image -> float ``(rows, W, 3)``, three equal channels in 0..1: the
    pixels ``read_image`` gives for a grey photo. Only a band is ever expanded."""
    if block.dtype == np.uint8:
        block = block.astype(np.float32) / np.float32(255.0)
    elif block.dtype == np.uint16:
        block = block.astype(np.float32) / np.float32(65535.0)
    return np.repeat(block[..., None], 3, axis=2)


def srgb_image_lightness(image: np.ndarray) -> np.ndarray:
    """A photo -> its L float32 ``(H, W)`` in 0..100; fast, in cache-sized blocks.

    ``image``: sRGB ``(H, W, 3)`` or grey ``(H, W)``, uint8 (0..255), uint16 (0..65535) or
    float (0..1; other dtypes are read as floats). Values outside the range are clipped. Equal
    to ``rgb_to_lightness`` within float32 rounding. A grey image gives bit for bit the L of
    its float three-channel form (uint8 v as v / 255, uint16 v as v / 65535, as ``read_image``
    holds a photo), so a grey photo held in one channel is colorized as it would be in three.
    """
    image = np.asarray(image)
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] != 3):
        raise ValueError(f"image must be (H, W) or (H, W, 3), got {image.shape}")
    if image.dtype not in (np.uint8, np.uint16) and not np.issubdtype(image.dtype, np.floating):
        image = image.astype(np.float32)
    h, w = image.shape[:2]
    out = np.empty((h, w), dtype=np.float32)

    def band(rows):
        r0, r1 = rows
        block = image[r0:r1] if image.ndim == 3 else _grey_as_rgb(image[r0:r1])
        lin = _linear_block(block)
        y = cv2.transform(lin, _Y_ROW).reshape(r1 - r0, w)
        out[r0:r1] = _lightness_of_y(y)

    map_bands(band, row_bands(h, w))
    return out


def _finv_block(t: np.ndarray) -> np.ndarray:
    """``_finv`` for a contiguous float32 block (a cube, linear below 6/29)."""
    r = t * t
    r *= t
    small = t <= 6.0 / 29.0
    r[small] = (t[small] - np.float32(4.0 / 29.0)) / np.float32(_KAPPA)
    return r


def _merge(fx3: np.ndarray, y: np.ndarray, fz3: np.ndarray) -> np.ndarray:
    """``finv`` of fx, fy, fz ``(n,)`` each -> one interleaved ``(1, n, 3)`` array."""
    return cv2.merge([fx3, y, fz3]).reshape(1, -1, 3)


def _linear(fxyz: np.ndarray) -> np.ndarray:
    """``(1, n, 3)`` from ``_merge`` -> linear RGB ``(n, 3)``."""
    return cv2.transform(fxyz, _FXYZ2RGB).reshape(-1, 3)


def _inside(fxyz: np.ndarray) -> np.ndarray:
    """bool ``(n,)``: the colours of ``_merge``'s ``(1, n, 3)`` lie in gamut (as ``in_gamut``)."""
    shifted = cv2.transform(fxyz, _FXYZ2RGB_CHECK)  # linear RGB + tol * Y
    return cv2.inRange(shifted, (0.0,) * 3, (1.0 + 2 * _GAMUT_TOL,) * 3).ravel() != 0


def _linear_in_gamut(blk: np.ndarray, iterations: int = 10) -> np.ndarray:
    """Lab block ``(n, 3)`` float32 -> linear RGB ``(n, 3)`` in gamut, keeping L and hue.

    Out-of-gamut colours get the largest chroma scale in 0..1 that fits, found by bisection
    (``iterations`` steps; the result is always on the in-gamut side)."""
    fy = (blk[:, 0] + np.float32(16.0)) * np.float32(1.0 / 116.0)
    da = blk[:, 1] * np.float32(1.0 / 500.0)
    db = blk[:, 2] * np.float32(1.0 / 200.0)
    y = _finv_block(fy)
    fxyz = _merge(_finv_block(fy + da), y, _finv_block(fy - db))
    lin = _linear(fxyz)
    bad = np.flatnonzero(~_inside(fxyz))
    if bad.size:
        fy, da, db, y = fy[bad], da[bad], db[bad], y[bad]
        lo = np.zeros(len(bad), dtype=np.float32)  # scale known to be in gamut (grey)
        hi = np.ones(len(bad), dtype=np.float32)  # scale known to be out of gamut
        for _ in range(iterations):
            mid = (lo + hi) * np.float32(0.5)
            ok = _inside(_merge(_finv_block(fy + mid * da), y, _finv_block(fy - mid * db)))
            np.copyto(lo, mid, where=ok)
            np.copyto(hi, mid, where=~ok)
        lin[bad] = _linear(_merge(_finv_block(fy + lo * da), y, _finv_block(fy - lo * db)))
    return lin


def lab_to_srgb8(lab: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Lab ``(..., 3)`` -> sRGB uint8 ``(..., 3)``, out-of-gamut colours brought in by lowering
    chroma only (L and hue kept): ``to_uint8(lab_to_rgb_preserving_l(lab))``, several times
    faster. The last step looks linear values up in a 65,536-entry table, so a value may
    differ from the float path by one code, rarely. ``out``: optional contiguous uint8 array
    of ``lab``'s shape to write into."""
    lab = np.asarray(lab, dtype=np.float32)
    _check_last3(lab, "lab")
    flat = np.ascontiguousarray(lab).reshape(-1, 3)
    if out is None:
        out = np.empty(lab.shape, dtype=np.uint8)
    elif out.shape != lab.shape or out.dtype != np.uint8 or not out.flags.c_contiguous:
        raise ValueError(f"out must be contiguous uint8 {lab.shape}, got {out.dtype} {out.shape}")
    flat_out = out.reshape(-1, 3)
    lut = _lut_linear16_to_srgb8()

    def block(rows):
        i0, i1 = rows
        lin = _linear_in_gamut(flat[i0:i1])
        # Linear 0..1 -> 0..65535, rounded and saturated (negatives become 0), then the table.
        idx = cv2.multiply(lin.reshape(1, -1), 65535.0, dtype=cv2.CV_16U)
        np.take(lut, idx.reshape(-1, 3), out=flat_out[i0:i1])

    map_bands(block, row_bands(len(flat), 1))
    return out
