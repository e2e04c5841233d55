"""The finishing step: what follows the network, for every caller alike.

The app's preview, ``Colorizer.colorize`` (and so ``colouru colorize`` and the app's Save),
``colouru evaluate`` and training's validation all finish a prediction with ``finish``:

1. ``follow``: what the network missed at each hint square is spread along the photo's regions
   and added (``propagation.follow_hints``), at working size; ``saturate`` then scales its chroma
   by the user's global saturation (the hint pixels keep their own colours), and
   ``fill_squares`` fills the hint squares from their surroundings;
2. the working-size ab is brought to the output size by a fast guided filter guided by L
   (``GuidedUpsampler``; nothing to do when the sizes match);
3. ``HintBlend``: each hint reaches its own colour at its square's centre and blends into what
   surrounds it over the square (a smooth window, 1 inside the central third, 0 at the border),
   so no hard-edged block of colour shows in the result (strokes are not blended: step 1
   already spread their colour along the region they cross);
4. Lab -> sRGB uint8, lowering chroma where a colour is out of gamut, never changing L
   (``colour.lab_to_srgb8``).

Steps 2 to 4 run in bands of rows, several at once, so a 12-megapixel photo needs only a few
megabytes beside its L and the result.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch

from colouru.cancel import Cancelled
from colouru.colour import lab_to_srgb8
from colouru.hints import Hint, Stroke, check_saturation, hint_box, hint_square
from colouru.parallel import map_bands, row_bands
from colouru.propagation import FOLLOW_MASS, follow_hints
from colouru.upsample import GuidedUpsampler


def follow(ab: torch.Tensor, x: torch.Tensor, mask: np.ndarray,
           fade_mass: float = FOLLOW_MASS, weights=None) -> torch.Tensor:
    """Step 1: the network's ab ``(1, 2, h, w)`` (normalised) bent towards the hints of its
    input ``x`` ``(1, 4, h, w)``; ``mask`` bool ``(h, w)``: the hint squares. ``weights``:
    ``propagation.follow_weights`` of ``x``'s L where the caller keeps them, else computed."""
    if not mask.any():
        return ab
    m = torch.from_numpy(mask)[None, None].to(ab.device)
    return follow_hints(ab, x[:, :1].contiguous(), x[:, 1:3].contiguous(), m, fade_mass,
                        weights)


def saturate(ab: np.ndarray, factor: float, mask: np.ndarray | None = None) -> np.ndarray:
    """The global saturation: ``ab`` ``(2, h, w)`` (CIE units) with its chroma scaled by
    ``factor`` (in ``SATURATION_RANGE``, 0..3: 0 grey, 1 unchanged, 1.5 half as colourful
    again), its hue kept; L is not involved (Lab keeps it apart). Pixels where ``mask`` (bool
    ``(h, w)``, the hint pixels) is True keep their own colours. Returns a new array of
    ``ab``'s shape and float dtype (float32 for integers; a copy of ``ab`` for ``factor`` 1).
    Chroma pushed out of the sRGB gamut is lowered later, at the conversion to sRGB
    (``colour.lab_to_srgb8``)."""
    factor = check_saturation(factor)  # ValueError unless a number in SATURATION_RANGE
    ab = np.asarray(ab)
    if not np.issubdtype(ab.dtype, np.floating):
        ab = ab.astype(np.float32)
    if ab.ndim != 3 or ab.shape[0] != 2:
        raise ValueError(f"ab must have shape (2, h, w), got {ab.shape}")
    if mask is not None and mask.shape != ab.shape[1:]:
        raise ValueError(f"mask must have shape {ab.shape[1:]} (ab's h, w), got {mask.shape}")
    if factor == 1:
        return ab.copy()
    out = ab * ab.dtype.type(factor)
    if mask is not None and mask.any():
        out[:, mask] = ab[:, mask]
    return out


def fill_squares(ab: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The working-size ab ``(2, h, w)`` with the hint squares (``mask``) filled in from their
    surroundings (Telea's inpainting): the network sees each hint as a hard-edged square and
    tends to paint one; filled, the field is smooth across every square's border, and
    ``HintBlend`` then brings each square's centre to its hint's colour."""
    if not mask.any() or mask.all():
        return ab
    m = mask.astype(np.uint8)
    return np.stack([cv2.inpaint(np.ascontiguousarray(c, dtype=np.float32), m, 2,
                                 cv2.INPAINT_TELEA) for c in ab])


def _window(lo: int, hi: int, n: int) -> tuple[int, int, np.ndarray]:
    """The blend weight along one axis of a square's span ``lo:hi`` (end-exclusive) clipped
    to ``0:n``: ``(start, stop, weights)``. 1 within a sixth of the side from the centre (the
    centre pixel, or the two central ones of an even side, always), falling smoothly
    (smoothstep) to 0 on the square's outermost pixels, so nothing steps at its border."""
    centre = (lo + hi) / 2.0
    reach = (hi - lo - 1) / 2.0  # from the centre to the outermost pixels' middles
    core = max((hi - lo) / 6.0, 0.5)
    a, b = max(lo, 0), min(hi, n)  # only the pixels on the grid: a square of a billion
    d = np.abs(np.arange(a, b, dtype=np.float64) + (0.5 - centre)).astype(np.float32)
    t = np.where(d <= core, 1.0, np.clip((reach - d) / max(reach - core, 1e-6), 0.0, 1.0))
    return a, b, (t * t * (3.0 - 2.0 * t)).astype(np.float32)


class HintBlend:
    """Step 3: each hint square of ``hints`` (image px) in an ``out_hw`` grid, blended into ab
    rows: ``ab += w * (hint ab - ab)``, ``w`` the product of ``_window`` along both axes.
    Later hints blend over earlier ones; strokes are left out (see the module docstring)."""

    def __init__(self, hints: Sequence[Hint | Stroke], image_hw: tuple[int, int],
                 out_hw: tuple[int, int]):
        self.boxes = []
        for h in hints:
            if isinstance(h, Stroke) or hint_box(h, image_hw, out_hw) is None:  # or outside
                continue
            x0, y0, x1, y1 = hint_square(h, image_hw, out_hw)  # the window spans it unclipped
            xa, xb, wx = _window(x0, x1, out_hw[1])
            ya, yb, wy = _window(y0, y1, out_hw[0])
            self.boxes.append((ya, yb, xa, xb, np.outer(wy, wx), h.ab))

    def apply(self, ab: Sequence[np.ndarray], r0: int) -> None:
        """Blend into ``ab`` ``[a, b]``, each float32 ``(rows, W)`` holding rows ``r0:``."""
        r1 = r0 + ab[0].shape[0]
        for ya, yb, xa, xb, w, hab in self.boxes:
            if ya >= r1 or yb <= r0:
                continue
            s0, s1 = max(ya, r0), min(yb, r1)
            ww = w[s0 - ya:s1 - ya]
            for c in range(2):
                view = ab[c][s0 - r0:s1 - r0, xa:xb]
                view += ww * (np.float32(hab[c]) - view)


def ab_rows(lightness: np.ndarray, work_lightness: np.ndarray, ab_work: np.ndarray,
            hints: Sequence[Hint | Stroke], image_hw: tuple[int, int]):
    """Steps 2 and 3 as a function ``(r0, r1) -> [a, b]``, each float32 ``(r1 - r0, W)``.

    ``lightness`` ``(H, W)``: L (0..100) of the output grid; ``work_lightness`` ``(h, w)`` and
    ``ab_work`` ``(2, h, w)``: the working-size L and ab (CIE units); ``hints`` in the pixels
    of an image of ``image_hw``. Bands are independent: any order, in parallel.
    """
    out_hw = lightness.shape[:2]
    same = work_lightness.shape[:2] == out_hw
    if not same:
        up = GuidedUpsampler(work_lightness / np.float32(100.0),
                             np.asarray(ab_work, dtype=np.float32).transpose(1, 2, 0), out_hw)
    blend = HintBlend(hints, image_hw, out_hw)

    def rows(r0: int, r1: int) -> list[np.ndarray]:
        if same:
            ab = [np.array(ab_work[c, r0:r1], dtype=np.float32) for c in range(2)]
        else:
            ab = up.rows(r0, r1, lightness[r0:r1] * np.float32(0.01))
        blend.apply(ab, r0)
        return ab

    return rows


def finish(lightness: np.ndarray, work_lightness: np.ndarray, ab_work: np.ndarray,
           hints: Sequence[Hint | Stroke], image_hw: tuple[int, int] | None = None,
           out: np.ndarray | None = None, cancelled=None) -> np.ndarray:
    """Steps 2 to 4: the colorized sRGB uint8 ``(H, W, 3)`` on the grid of ``lightness``.

    ``ab_work``: the followed working-size ab ``(2, h, w)`` (CIE units), ``hints`` in the
    pixels of an image of ``image_hw`` (default: ``lightness``'s own size). ``cancelled``: a
    callable checked before the work and each band of rows; once it returns True the work
    stops with ``Cancelled`` (the app's full-resolution pass, dropped when the user edits).
    """
    if cancelled is not None and cancelled():
        raise Cancelled
    hw = lightness.shape[:2]
    rows = ab_rows(lightness, work_lightness, ab_work, hints, image_hw or hw)
    out = np.empty((*hw, 3), dtype=np.uint8) if out is None else out

    def band(span):
        if cancelled is not None and cancelled():
            raise Cancelled
        r0, r1 = span
        a, b = rows(r0, r1)
        lab_to_srgb8(cv2.merge([lightness[r0:r1], a, b]), out=out[r0:r1])

    map_bands(band, row_bands(*hw))
    return out
