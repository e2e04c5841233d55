"""Hints and strokes drawn into the network's hint channels: ``rasterize_hints``, the one
function that turns them into pixels (strokes are hint pixels: the input stays four channels);
the app, the command line, training and evaluation all use it. ``stroke_mask`` is the pixels a
stroke's brush covers on a grid, drawn in passes of bounded memory (``_draw_segments``).

Numpy alone (no torch): the Levin baseline and the simulated users use it too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from colouru.hints import Hint, Stroke, hint_box

NEUTRAL_HINT_A = 0.01  # CIE a drawn for a hint of a = b = 0 (see rasterize_hints)


def stroke_mask(stroke: Stroke, image_hw: tuple[int, int], out_hw: tuple[int, int]):
    """The pixels of an ``out_hw`` grid laid over an image of ``image_hw`` pixels that
    ``stroke``'s brush covers: ``(y0, x0, mask)``, a bool ``mask`` whose corner is at row
    ``y0``, column ``x0``; None when the stroke lies entirely outside.

    A pixel is covered when its centre lies within half the brush width (at least half a
    pixel, so a thin stroke stays an unbroken line at any grid size) of the polyline, and the
    pixel under each point always is (so a dab or a short stroke inside the image never
    vanishes on a small grid, as a hint's square never does); the coordinates follow
    ``hint_square``'s (pixel i covers [i, i + 1)). The work grows with the stroke's points
    and the pixels it covers on this grid, never with its coordinates (``_draw_segments``)."""
    (ih, iw), (oh, ow) = image_hw, out_hw
    sx, sy = ow / iw, oh / ih
    pts = np.array(stroke.points, dtype=np.float64)
    pts = np.stack([(pts[:, 0] + 0.5) * sx, (pts[:, 1] + 0.5) * sy], axis=1)
    r = max(stroke.width * min(sx, sy) / 2, 0.5)
    x0 = max(int(math.floor(pts[:, 0].min() - r)), 0)
    y0 = max(int(math.floor(pts[:, 1].min() - r)), 0)
    x1 = min(int(math.ceil(pts[:, 0].max() + r)) + 1, ow)
    y1 = min(int(math.ceil(pts[:, 1].max() + r)) + 1, oh)
    if x0 >= x1 or y0 >= y1:
        return None
    near = np.zeros((y1 - y0, x1 - x0), dtype=bool)
    if len(pts) > 1:
        _draw_segments(near, x0, y0, pts[:-1], pts[1:], r)
    else:
        _draw_segments(near, x0, y0, pts, pts, r)
    ix, iy = np.floor(pts[:, 0]).astype(np.int64), np.floor(pts[:, 1]).astype(np.int64)
    inside = (ix >= 0) & (ix < ow) & (iy >= 0) & (iy < oh)
    near[iy[inside] - y0, ix[inside] - x0] = True
    if not near.any():
        return None
    return y0, x0, near


_ROWS_PER_PASS = 1 << 14  # (segment, row) pairs looked at in one pass of _draw_segments
_PIXELS_PER_PASS = 1 << 17  # pixels measured at once: a few MB of temporaries


def _draw_segments(near: np.ndarray, x0: int, y0: int, p: np.ndarray, q: np.ndarray,
                   r: float) -> None:
    """Set the pixels of ``near`` (its corner at grid column ``x0``, row ``y0``) whose centre
    lies within ``r`` of a segment ``p[i]``-``q[i]`` (``(n, 2)`` float64 grid coordinates).

    Vectorized over the segments, in passes of bounded memory. In each row a segment's brush
    reaches, only the pixels whose centres fall in the brush's span on that row
    (``_capsule_spans``) are measured, and a segment whose box, or a row span, is already
    covered is not measured again: a long thin stroke costs about its own pixels, and a
    stroke that goes over one patch thousands of times little more than the patch. Each
    pixel is decided by the exact test (its distance to the segment), so the result does not
    depend on how the work is split."""
    h, w = near.shape
    if len(p) > 64:  # a stroke over itself: each segment once
        keep = np.unique(np.concatenate([p, q], axis=1), axis=0)
        p, q = keep[:, :2], keep[:, 2:]
    d = q - p
    length2 = np.matmul(d[:, None, :], d[:, :, None])[:, 0, 0]  # d @ d for each segment
    # each segment's window (relative to the corner): the brush's box clipped to ``near``
    wx0 = np.maximum(np.floor(np.minimum(p[:, 0], q[:, 0]) - r).astype(np.int64) - x0, 0)
    wx1 = np.minimum(np.ceil(np.maximum(p[:, 0], q[:, 0]) + r).astype(np.int64) + 1 - x0, w)
    wy0 = np.maximum(np.floor(np.minimum(p[:, 1], q[:, 1]) - r).astype(np.int64) - y0, 0)
    wy1 = np.minimum(np.ceil(np.maximum(p[:, 1], q[:, 1]) + r).astype(np.int64) + 1 - y0, h)
    seen = (wx0 < wx1) & (wy0 < wy1)
    p, q, d, length2 = p[seen], q[seen], d[seen], length2[seen]
    wx0, wx1, wy0, wy1 = wx0[seen], wx1[seen], wy0[seen], wy1[seen]
    gx = np.arange(x0, x0 + w, dtype=np.float64) + 0.5
    gy = np.arange(y0, y0 + h, dtype=np.float64) + 0.5
    rows = wy1 - wy0
    ends = np.cumsum(rows)
    a = 0
    while a < len(p):
        b = max(int(np.searchsorted(ends, ends[a] - rows[a] + _ROWS_PER_PASS, "right")), a + 1)
        idx = np.arange(a, b)
        covered = None
        if a > 0:  # what earlier passes drew: boxes and row spans already full are skipped
            covered = np.zeros((h + 1, w + 1), dtype=np.int32)
            np.cumsum(near, axis=1, out=covered[1:, 1:])
            box = np.cumsum(covered, axis=0)
            full = (box[wy1[idx], wx1[idx]] - box[wy0[idx], wx1[idx]] - box[wy1[idx], wx0[idx]]
                    + box[wy0[idx], wx0[idx]]) == rows[idx] * (wx1[idx] - wx0[idx])
            idx = idx[~full]
        seg = np.repeat(idx, rows[idx])
        row = wy0[seg] + np.arange(len(seg)) - np.repeat(np.cumsum(rows[idx]) - rows[idx],
                                                         rows[idx])
        lo, hi = _capsule_spans(p[seg], q[seg], length2[seg], gy[row], r)
        c0 = np.maximum(np.ceil(lo - 0.5).astype(np.int64) - x0, wx0[seg])
        c1 = np.minimum(np.floor(hi - 0.5).astype(np.int64) + 1 - x0, wx1[seg])
        todo = c1 > c0
        if covered is not None:
            c0c, c1c = np.clip(c0, 0, w), np.clip(c1, 0, w)
            todo &= covered[row + 1, c1c] - covered[row + 1, c0c] < c1 - c0
        seg, row, c0, c1 = seg[todo], row[todo], c0[todo], c1[todo]
        _measure(near, gx, gy, seg, row, c0, c1 - c0, p, d, length2, r)
        a = b


def _capsule_spans(p, q, length2, yc, r):
    """Where the line ``y = yc[i]`` crosses the brush of segment ``p[i]``-``q[i]`` (the points
    within ``r`` of it): ``(lo, hi)`` in x, widened by far more than rounding, so every pixel
    centre within ``r`` lies inside; empty (``lo > hi``) where the line misses the brush.

    The brush is two discs and the rectangle between them; the rectangle's short sides are
    diameters of the discs, so the span runs from the leftmost to the rightmost of: each
    disc's chord on the line, and where the line crosses the two long sides."""
    with np.errstate(invalid="ignore", divide="ignore"):
        cands = []
        for c in (p, q):  # the round ends: NaN where the line misses the disc
            half = np.sqrt(r * r - (yc - c[:, 1]) ** 2)
            cands += [c[:, 0] - half, c[:, 0] + half]
        d = q - p
        scale = r / np.sqrt(length2)  # the unit normal times r: (-dy, dx) * scale
        nx, ny = -d[:, 1] * scale, d[:, 0] * scale
        for sign in (1.0, -1.0):  # the long sides, p + sign n to q + sign n
            t = (yc - (p[:, 1] + sign * ny)) / d[:, 1]
            x = p[:, 0] + sign * nx + t * d[:, 0]
            x[~((t >= 0) & (t <= 1))] = np.nan  # misses it, or the side is level (dy = 0)
            cands.append(x)
        lo = np.fmin.reduce(cands)
        hi = np.fmax.reduce(cands)
    slack = 1e-9 * (np.abs(p).sum(axis=1) + np.abs(q).sum(axis=1) + r + 1.0)
    missed = ~(lo <= hi)
    return np.where(missed, 0.0, lo - slack), np.where(missed, -1.0, hi + slack)


def _measure(near, gx, gy, seg, row, c0, n, p, d, length2, r) -> None:
    """Set ``near[row[i], c0[i]:c0[i] + n[i]]`` where the pixel centre lies within ``r`` of
    segment ``seg[i]`` (``p + t d``, ``t`` in 0..1), in passes of ``_PIXELS_PER_PASS``."""
    ends = np.cumsum(n)
    a = 0
    while a < len(n):
        start = ends[a] - n[a]
        b = max(int(np.searchsorted(ends, start + _PIXELS_PER_PASS, "right")), a + 1)
        k = np.repeat(np.arange(a, b), n[a:b])
        col = c0[k] + np.arange(len(k)) - np.repeat(ends[a:b] - n[a:b] - start, n[a:b])
        s, rr = seg[k], row[k]
        px, py = gx[col] - p[s, 0], gy[rr] - p[s, 1]
        dx, dy, l2 = d[s, 0], d[s, 1], length2[s]
        t = np.zeros_like(px)
        some = l2 != 0
        t[some] = np.clip((px[some] * dx[some] + py[some] * dy[some]) / l2[some], 0.0, 1.0)
        hit = (px - t * dx) ** 2 + (py - t * dy) ** 2 <= r * r
        near[rr[hit], col[hit]] = True
        a = b


def rasterize_hints(hints: Iterable[Hint | Stroke], image_hw: tuple[int, int],
                    out_hw: tuple[int, int] | None = None):
    """Draw hints and strokes onto an ``out_hw`` grid (default: the image's own size).

    Returns ``(ab, mask)``: ``ab`` float32 ``(2, h, w)`` with each hint's a, b inside its square
    (each stroke's under its brush) and 0 elsewhere; ``mask`` bool ``(h, w)``, True under
    hints. Later hints draw over earlier ones. Every hint inside the image covers at least one
    pixel at any grid size. The network input marks a hint by its non-zero ab, so a neutral
    hint (a = b = 0: "this is grey") is drawn with a = ``NEUTRAL_HINT_A``, too small to see, so
    that it still counts as a hint.
    """
    out_hw = tuple(image_hw) if out_hw is None else tuple(out_hw)
    ab = np.zeros((2, *out_hw), dtype=np.float32)
    mask = np.zeros(out_hw, dtype=bool)
    for h in hints:
        a = h.ab[0] if h.ab[0] or h.ab[1] else NEUTRAL_HINT_A
        if isinstance(h, Stroke):
            drawn = stroke_mask(h, image_hw, out_hw)
            if drawn is None:
                continue
            y0, x0, near = drawn
            win = (slice(y0, y0 + near.shape[0]), slice(x0, x0 + near.shape[1]))
            ab[0][win][near] = a
            ab[1][win][near] = h.ab[1]
            mask[win] |= near
            continue
        box = hint_box(h, image_hw, out_hw)
        if box is None:
            continue
        x0, y0, x1, y1 = box
        ab[0, y0:y1, x0:x1] = a
        ab[1, y0:y1, x0:x1] = h.ab[1]
        mask[y0:y1, x0:x1] = True
    return ab, mask
