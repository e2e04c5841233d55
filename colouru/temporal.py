"""Steady colour for films: the colour of each frame carried along the motion to the next.

Colorized frame by frame, a film flickers: each frame's colours are guessed anew, and an old
film's exposure and grain change every frame, so the guesses change too. Here each frame's
own prediction is blended with the colour the previous frame ended with, moved along the
motion between the two (dense optical flow, OpenCV's DIS, on the frames' lightness at the
network's working size), wherever the motion can be trusted:

    ab_t = pred_t + carry * confidence * (warp(ab_{t-1}, flow) - pred_t)

so along a scene point's path the colour is an exponential average of the frame-by-frame
predictions (with ``carry`` 0.8, about the last nine frames), and where the flow cannot be
trusted (occluded or uncovered points, a new strip entering a pan) the frame's own prediction
shows. Confidence is the product of two tests: the forward-backward test (following the flow
to the previous frame and back must return to the same pixel) and the brightness test (the
point must look the same in both frames once their exposure is matched). When too few
pixels pass both, the frame starts a new shot (a cut) and nothing is carried.

``Steadier`` does this for frames given one at a time, in the order they play, frames
skipped allowed (the app's Play: what the export will show, before it runs).

A keyframe's hints follow the motion too (``move_hints``): each hint's centre and each
stroke's points are moved by the flow, and a hint is dropped where its point is occluded or
leaves the frame.

Pure functions on arrays (numpy and OpenCV; no torch, no files). Shapes: working-size L
``(h, w)`` float32 in 0..100, ab ``(2, h, w)`` float32 in CIE units, flows ``(h, w, 2)``
float32 (x, y) offsets in working-size pixels.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from colouru.film_settings import DEFAULT_CARRY, MAX_CARRY
from colouru.hints import Hint, Stroke

__all__ = ["DEFAULT_CARRY", "MAX_CARRY", "Motion", "SteadyConfig", "Steadier",
           "estimate_motion", "flow_image", "matched_lightness", "mean_ab_change", "move_hints",
           "new_flow", "steady", "warp"]


@dataclass(frozen=True)
class SteadyConfig:
    """How much colour is carried along the motion, and how the motion is trusted."""

    carry: float = DEFAULT_CARRY  # 0..MAX_CARRY: weight of the carried colour where trusted
    fb_tolerance: float = 0.75  # forward-backward mismatch (work px) still fully trusted;
    # trust falls to 0 at twice it (plus 5% of the motion's length, for fast motion)
    l_tolerance: float = 6.0  # L difference (exposure matched) still fully trusted; 0 at twice
    cut_share: float = 0.3  # a frame with fewer trusted pixels (confidence >= 0.5) is a cut

    def __post_init__(self):
        if not (isinstance(self.carry, (int, float)) and 0.0 <= self.carry <= MAX_CARRY):
            raise ValueError(f"steadiness must lie in 0..{MAX_CARRY:g} (0: frame by frame), "
                             f"got {self.carry!r}")
        if not (self.fb_tolerance > 0 and self.l_tolerance > 0 and 0 <= self.cut_share < 1):
            raise ValueError(f"bad steadiness settings {self}")


@dataclass
class Motion:
    """The motion from the previous frame to this one, at working size."""

    backward: np.ndarray  # (h, w, 2): for each pixel of this frame, its offset to the previous
    forward: np.ndarray  # (h, w, 2): for each pixel of the previous frame, its offset to this
    confidence: np.ndarray  # (h, w) float32 0..1: how far ``backward`` is trusted
    trusted: float  # share of this frame's pixels with confidence >= 0.5
    cut: bool  # too few trusted pixels: a new shot, nothing is carried


def flow_image(lightness: np.ndarray) -> np.ndarray:
    """Working-size L ``(h, w)`` -> uint8 with its exposure taken out (mean 128, one standard
    deviation 40 levels) and its grain softened: what the flow is computed on, so a frame
    10% brighter than the last still matches it."""
    lt = np.asarray(lightness, dtype=np.float32)
    mean, std = float(lt.mean()), float(lt.std())
    g = (lt - mean) * np.float32(40.0 / max(std, 1.0)) + np.float32(128.0)
    g = cv2.GaussianBlur(g, (0, 0), 0.8)
    return np.clip(g + 0.5, 0, 255).astype(np.uint8)


def matched_lightness(lightness: np.ndarray, like: np.ndarray) -> np.ndarray:
    """``lightness`` with its mean and standard deviation made ``like``'s (the exposure
    matched), its grain softened as ``flow_image`` softens it: float32 L units."""
    lt = np.asarray(lightness, dtype=np.float32)
    ref = np.asarray(like, dtype=np.float32)
    scale = float(ref.std()) / max(float(lt.std()), 1e-3)
    g = (lt - np.float32(lt.mean())) * np.float32(scale) + np.float32(ref.mean())
    return cv2.GaussianBlur(g, (0, 0), 0.8)


def new_flow():
    """A DIS optical flow object (OpenCV), as ``estimate_motion`` wants it. One per film: it
    keeps buffers between calls, and is not to be shared between threads."""
    dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
    return dis


def _grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return xs, ys


def _sample(image: np.ndarray, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """``image`` (h, w[, c]) read at the float positions ``xs``, ``ys`` (bilinear; the border
    pixels repeat outside)."""
    return cv2.remap(image, xs, ys, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def estimate_motion(prev: np.ndarray, cur: np.ndarray, dis,
                    config: SteadyConfig = SteadyConfig()) -> Motion:
    """The motion from the previous frame to this one and how far it is trusted.

    ``prev``, ``cur``: the two frames' working-size L ``(h, w)`` float32 0..100; ``dis``:
    ``new_flow()``'s object.
    """
    if prev.shape != cur.shape or prev.ndim != 2:
        raise ValueError(f"frames must be (h, w) of one size, got {prev.shape} and {cur.shape}")
    h, w = cur.shape
    g_prev, g_cur = flow_image(prev), flow_image(cur)
    backward = dis.calc(g_cur, g_prev, None)
    forward = dis.calc(g_prev, g_cur, None)
    xs, ys = _grid(h, w)
    px, py = xs + backward[..., 0], ys + backward[..., 1]  # where each pixel was
    inside = (px >= 0) & (px <= w - 1) & (py >= 0) & (py <= h - 1)
    # Forward-backward: the forward flow at the point it came from must bring it back here.
    fwd = _sample(forward, px, py)
    mismatch = np.hypot(backward[..., 0] + fwd[..., 0], backward[..., 1] + fwd[..., 1])
    length = np.hypot(backward[..., 0], backward[..., 1])
    c_fb = np.clip(2.0 - mismatch / (config.fb_tolerance + 0.05 * length), 0.0, 1.0)
    # Brightness, in L units, the previous frame's exposure made this one's.
    seen = _sample(matched_lightness(prev, cur), px, py)
    diff = np.abs(cv2.GaussianBlur(np.asarray(cur, dtype=np.float32), (0, 0), 0.8) - seen)
    c_l = np.clip(2.0 - diff / config.l_tolerance, 0.0, 1.0)
    confidence = (c_fb * c_l * inside).astype(np.float32)
    trusted = float(np.count_nonzero(confidence >= 0.5)) / confidence.size
    return Motion(backward, forward, confidence, trusted, trusted < config.cut_share)


def warp(ab: np.ndarray, motion: Motion) -> np.ndarray:
    """The previous frame's ``ab`` ``(2, h, w)`` moved onto this frame along the motion."""
    h, w = motion.confidence.shape
    if ab.shape != (2, h, w):
        raise ValueError(f"ab must be (2, {h}, {w}) like the motion, got {ab.shape}")
    xs, ys = _grid(h, w)
    px, py = xs + motion.backward[..., 0], ys + motion.backward[..., 1]
    moved = _sample(np.ascontiguousarray(ab.transpose(1, 2, 0), dtype=np.float32), px, py)
    return moved.transpose(2, 0, 1)


def steady(pred: np.ndarray, prev_ab: np.ndarray | None, motion: Motion | None,
           carry: float = DEFAULT_CARRY) -> np.ndarray:
    """This frame's steady ab ``(2, h, w)``: its own prediction ``pred`` blended with the
    previous frame's steady ab carried along ``motion``, by ``carry`` times the motion's
    confidence. The prediction alone at a film's first frame, after a cut (``prev_ab`` or
    ``motion`` None, or ``motion.cut``) and with ``carry`` 0."""
    pred = np.asarray(pred, dtype=np.float32)
    if prev_ab is None or motion is None or motion.cut or carry <= 0:
        return pred
    weight = np.float32(carry) * motion.confidence
    carried = warp(prev_ab, motion)
    return (pred + weight * (carried - pred)).astype(np.float32)


class Steadier:
    """Steady colour frame after frame, as ``colorize_video`` makes it, for frames given one
    at a time in the order they play (the app's Play): each frame's prediction blended
    (``steady``) with the last frame's steady ab carried along the motion between the two
    (``estimate_motion`` on their working-size L, with ``config``); afresh at the first frame
    given, at a cut, and where the working size changes, as the export starts a range
    afresh at its first frame.

    Frames may be skipped (Play drops those the machine cannot colour in time). The colour is
    then carried from the last frame given, along the motion found straight from it to this
    one: of what the export does, that is the nearest that needs no network run on the frames
    skipped (carrying colour through them would need their predictions, and starting afresh
    would show the flicker the export removes). Over a short skip the colour is the export's
    exponential average, over fewer frames; a skip too far for the motion to be trusted counts
    as a cut, and the frame starts afresh, as the export does at a cut.

    One thread at a time (its DIS object is made on the first frame's). Holds the last frame's
    working L and ab, and those of the frame before it: the last frame given again (the app:
    its hints changed while it is shown) is steadied from the frame before it, not blended
    with itself. ``step`` moves on; ``propose`` gives the same colour and the state after it
    without moving on, and ``commit`` takes that state (the app steadies a frame on its
    worker and moves on only once that frame's colour is on screen, so a frame coloured but
    never shown steadies nothing after it).
    """

    def __init__(self, config: SteadyConfig = SteadyConfig()):
        self.config = config
        self._flow = None
        # ((key, working L, steady ab) of the frame before the last, the same of the last)
        self._state: tuple = (None, None)

    @property
    def last_key(self):
        """The key of the last frame stepped (committed) to; None before the first."""
        last = self._state[1]
        return None if last is None else last[0]

    def propose(self, pred: np.ndarray, work: np.ndarray,
                key: int | None = None) -> tuple[np.ndarray, tuple]:
        """``(ab, state)``: this frame's steady ab ``(2, h, w)`` as ``step`` gives it, and the
        state ``commit`` takes to move on to it; the steadier itself is left as it was."""
        before, last = self._state
        if key is not None and last is not None and last[0] == key:
            last = before  # the same frame again: from the frame before it
        motion = None
        if last is not None and last[1].shape == work.shape:
            self._flow = self._flow or new_flow()
            motion = estimate_motion(last[1], work, self._flow, self.config)
        ab = steady(pred, None if motion is None else last[2], motion, self.config.carry)
        return ab, (last, (key, work, ab))

    def commit(self, state: tuple) -> None:
        """Move on to the frame ``propose`` gave ``state`` for."""
        self._state = state

    def step(self, pred: np.ndarray, work: np.ndarray, key: int | None = None) -> np.ndarray:
        """This frame's steady ab ``(2, h, w)`` from its prediction ``pred`` ``(2, h, w)`` and
        its working L ``work`` ``(h, w)``, moving on to it. ``key``: the frame's number (None:
        a new frame each time): the last frame's number again steadies that frame again."""
        ab, state = self.propose(pred, work, key)
        self.commit(state)
        return ab


def move_hints(hints: Sequence[Hint | Stroke], motion: Motion, image_hw: tuple[int, int],
               min_confidence: float = 0.2) -> list[Hint | Stroke]:
    """The previous frame's hints and strokes (in image pixels of ``image_hw``) moved along
    ``motion`` (working-size flow) to this frame. A hint whose centre leaves the frame or lands
    where the motion is not trusted (``min_confidence``: occluded, or the flow lost it) is
    dropped, and so is a stroke whose points all leave the frame or whose points' mean
    confidence is below it. Nothing is carried across a cut: the result is empty."""
    if motion.cut or not hints:
        return []
    (ih, iw), (h, w) = image_hw, motion.confidence.shape
    sx, sy = w / iw, h / ih

    def moved(points: np.ndarray):
        """Image-pixel points (n, 2) -> (moved points, confidence there, inside) each (n,)."""
        wx = (points[:, 0] + 0.5) * sx - 0.5
        wy = (points[:, 1] + 0.5) * sy - 0.5
        f = _sample(motion.forward, wx.astype(np.float32)[None], wy.astype(np.float32)[None])[0]
        nx, ny = wx + f[:, 0], wy + f[:, 1]
        inside = (nx >= -0.5) & (nx <= w - 0.5) & (ny >= -0.5) & (ny <= h - 0.5)
        conf = _sample(motion.confidence, nx.astype(np.float32)[None],
                       ny.astype(np.float32)[None])[0]
        out = np.stack([(nx + 0.5) / sx - 0.5, (ny + 0.5) / sy - 0.5], axis=1)
        return out, conf, inside

    out: list[Hint | Stroke] = []
    for item in hints:
        if isinstance(item, Stroke):
            pts, conf, inside = moved(np.array(item.points, dtype=np.float64))
            if not inside.any() or float(conf.mean()) < min_confidence:
                continue
            out.append(Stroke([(float(x), float(y)) for x, y in pts], item.width, ab=item.ab))
        else:
            pts, conf, inside = moved(np.array([[item.x, item.y]], dtype=np.float64))
            if not inside[0] or conf[0] < min_confidence:
                continue
            out.append(item.moved(float(pts[0, 0]), float(pts[0, 1])))
    return out


def mean_ab_change(ab_prev: np.ndarray, ab_cur: np.ndarray, backward: np.ndarray,
                   valid: np.ndarray | None = None) -> float:
    """Flicker between two neighbouring frames: the mean ab distance (CIE units) between each
    pixel of the current frame and the same scene point in the previous one, found by
    ``backward`` ((h, w, 2) offsets to the previous frame, e.g. a known camera motion).
    ``valid``: bool ``(h, w)``, the pixels to count (default: those whose point was inside
    the previous frame)."""
    h, w = ab_cur.shape[1:]
    xs, ys = _grid(h, w)
    px, py = xs + backward[..., 0], ys + backward[..., 1]
    inside = (px >= 0) & (px <= w - 1) & (py >= 0) & (py <= h - 1)
    mask = inside if valid is None else inside & valid
    if not mask.any():
        return math.nan
    seen = _sample(np.ascontiguousarray(ab_prev.transpose(1, 2, 0), dtype=np.float32), px, py)
    d = np.hypot(ab_cur[0] - seen[..., 0], ab_cur[1] - seen[..., 1])
    return float(d[mask].mean())
