"""Qt-free colour helpers for the app: the ab gamut grid, snapping into gamut, suggestions.

All colour maths goes through ``colouru.colour`` (the project's one Lab module). Conventions
as there: L in 0..100, a and b in about -110..110, sRGB floats 0..1 or uint8.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from colouru.colour import in_gamut, lab_to_rgb, lab_to_srgb8, rgb_to_lab
from colouru.imageio import to_uint8

AB_RANGE = 110.0  # the panel shows a, b in -AB_RANGE..AB_RANGE (the network's ab scale)
GRID_CELLS = 111  # cells per side of the gamut panel (2 ab units per cell)


def round_ab(ab) -> tuple[float, float]:
    """ab rounded to 2 decimals, so hints survive the JSON file (3 decimals) unchanged."""
    return round(float(ab[0]), 2), round(float(ab[1]), 2)


def gamut_grid(lightness: float, cells: int = GRID_CELLS) -> tuple[np.ndarray, np.ndarray]:
    """The ab plane at one lightness.

    Returns ``(rgb, ok)``: ``rgb`` uint8 ``(cells, cells, 3)`` and ``ok`` bool ``(cells, cells)``,
    True where the colour exists in sRGB. Row 0 is b = +AB_RANGE (up), column 0 a = -AB_RANGE.
    """
    return _gamut_grid(round(float(lightness), 1), cells)


# Every whole L 0..100 (what the gamut panel asks for) stays: computing one took about 3 ms,
# and a hint dragged across a photo asks for a new L at nearly every step (128 x 49 KB).
@lru_cache(maxsize=128)
def _gamut_grid(lightness: float, cells: int):
    axis = np.linspace(-AB_RANGE, AB_RANGE, cells, dtype=np.float32)
    a, b = np.meshgrid(axis, axis[::-1])
    lab = np.stack([np.full_like(a, lightness), a, b], axis=-1)
    ok = in_gamut(lab)
    rgb = to_uint8(lab_to_rgb(lab))
    rgb.flags.writeable = False
    ok.flags.writeable = False
    return rgb, ok


def snap_to_gamut(lightness: float, ab, iterations: int = 24) -> tuple[float, float]:
    """Bring ``ab`` into sRGB at ``lightness`` by lowering its chroma (hue kept); ab that is
    already in gamut is returned unchanged (rounded to 2 decimals)."""
    a, b = float(ab[0]), float(ab[1])
    if bool(in_gamut(np.array([lightness, a, b], dtype=np.float32))):
        return round_ab((a, b))
    lo, hi = 0.0, 1.0  # chroma scales known in / out of gamut
    for _ in range(iterations):
        mid = (lo + hi) / 2
        if bool(in_gamut(np.array([lightness, a * mid, b * mid], dtype=np.float32))):
            lo = mid
        else:
            hi = mid
    for _ in range(200):  # rounding to 2 decimals may step just outside: back off a little
        out = round_ab((a * lo, b * lo))
        if bool(in_gamut(np.array([lightness, *out], dtype=np.float32))):
            break
        lo *= 0.995
    return out


def ab_to_rgb8(lightness: float, ab) -> tuple[int, int, int]:
    """The sRGB colour (0..255) that ``ab`` becomes at ``lightness`` in the result."""
    return ab_to_rgb8_many(lightness, [ab])[0]


def ab_to_rgb8_many(lightness: float, abs_) -> list[tuple[int, int, int]]:
    """``ab_to_rgb8`` of several colours at one lightness, in one conversion (the swatches
    follow a dragged hint's lightness: one call for all of them, not one each)."""
    abs_ = list(abs_)
    if not abs_:
        return []
    lab = np.empty((len(abs_), 3), dtype=np.float32)
    lab[:, 0] = lightness
    lab[:, 1:] = np.asarray(abs_, dtype=np.float32).reshape(-1, 2)
    rgb = lab_to_srgb8(lab)  # the conversion the result itself goes through
    return [(int(r), int(g), int(b)) for r, g, b in rgb]


def rgb8_to_ab(rgb) -> tuple[float, float]:
    """An sRGB colour (0..255 each) -> its ab (the colour's own L is dropped)."""
    lab = rgb_to_lab(np.asarray(rgb, dtype=np.float32) / 255.0)
    return round_ab((lab[1], lab[2]))


@lru_cache(maxsize=1)
def _grey_lut() -> np.ndarray:
    steps = np.linspace(0.0, 100.0, 1001, dtype=np.float32)
    lab = np.stack([steps, np.zeros_like(steps), np.zeros_like(steps)], axis=-1)
    return to_uint8(lab_to_rgb(lab)).mean(axis=-1).round().astype(np.uint8)


def lightness_to_grey(lightness: np.ndarray, band_pixels: int = 1 << 20) -> np.ndarray:
    """L ``(H, W)`` 0..100 -> grey uint8 ``(H, W)``: the photo as it is shown before colour.
    Converted in bands of rows, so a 48-megapixel photo needs a few megabytes beside it."""
    lut = _grey_lut()
    out = np.empty(lightness.shape, dtype=np.uint8)
    rows = max(1, band_pixels // max(lightness.shape[1] if lightness.ndim > 1 else 1, 1))
    for r in range(0, lightness.shape[0], rows):
        idx = np.rint(lightness[r:r + rows] * np.float32(10.0))
        np.clip(idx, 0, 1000, out=idx)
        out[r:r + rows] = lut[idx.astype(np.int32)]
    return out


def photo_tone(image: np.ndarray, samples: int = 1 << 16) -> str:
    """What colour a photo has, from about ``samples`` of its pixels: ``"grey"``, ``"toned"``
    (one tint all over: sepia, a cyanotype, a yellowed print) or ``"colour"``.

    ``image``: sRGB ``(H, W, 3)`` (uint8, uint16 or float 0..1) or grey ``(H, W)``. Toned
    photos keep their ab within a few units of one mean (90% within 15), colour photos spread
    over tens of units; grey ones also sit near ab = 0.
    """
    if image.ndim == 2:
        return "grey"
    h, w = image.shape[:2]
    step = max(1, int(np.sqrt(h * w / samples)))
    rgb = np.asarray(image[::step, ::step], dtype=np.float32)
    if image.dtype == np.uint8:
        rgb /= 255.0
    elif image.dtype == np.uint16:
        rgb /= 65535.0
    ab = rgb_to_lab(rgb).reshape(-1, 3)[:, 1:]
    mean = ab.mean(axis=0)
    spread = float(np.percentile(np.hypot(*(ab - mean).T), 90))
    if spread >= 15.0:
        return "colour"
    return "grey" if float(np.hypot(*mean)) < 3.0 else "toned"


def suggest_colours(ab_map: np.ndarray, box: tuple[int, int, int, int], window: int = 8,
                    count: int = 4, bin_size: float = 12.0) -> list[tuple[float, float]]:
    """Colours to suggest for one point, from the network's ab prediction there.

    ``ab_map``: ``(2, h, w)`` ab the model predicts (without the point's own hint) at working
    size; ``box``: the point's ``(x0, y0, x1, y1)`` in that grid. The first suggestion is the
    mean prediction inside the box (the model's current guess); the rest are the most common
    distinct colours the model puts in a ``window``-pixel neighbourhood (ab binned by
    ``bin_size``), which offers the alternatives it sees nearby (sky and foliage, skin and
    cloth). Returns up to ``count`` ab pairs, rounded.
    """
    _, h, w = ab_map.shape
    x0, y0, x1, y1 = box
    first = ab_map[:, y0:y1, x0:x1].reshape(2, -1).mean(axis=1)
    out = [round_ab(first)]
    nx0, ny0 = max(0, x0 - window), max(0, y0 - window)
    nx1, ny1 = min(w, x1 + window), min(h, y1 + window)
    near = ab_map[:, ny0:ny1, nx0:nx1].reshape(2, -1).T  # (N, 2)
    keys = np.floor(near / bin_size).astype(np.int64)
    uniq, inverse, counts = np.unique(keys, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.reshape(-1)
    for k in np.argsort(-counts, kind="stable"):
        if len(out) >= count:
            break
        mean = near[inverse == k].mean(axis=0)
        if all(np.hypot(mean[0] - a, mean[1] - b) >= bin_size for a, b in out):
            out.append(round_ab(mean))
    return out
