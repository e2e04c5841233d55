"""The pictures of ``colouru evaluate``: the grey input with its hints drawn as a person sees
them, and a strip of results per photo (``--samples``)."""

from __future__ import annotations

from collections.abc import Iterable

import cv2
import numpy as np

from colouru.colour import lab_to_rgb_preserving_l, rgb_to_lab
from colouru.hints import Hint, Stroke, hint_box
from colouru.rasterize import rasterize_hints


def draw_hints(truth: np.ndarray, hints: Iterable[Hint | Stroke]) -> np.ndarray:
    """The grey input with each hint square (and stroke) in its colour (at the photo's L) and a
    dark outline, as a person would see it: uint8 ``(H, W, 3)``."""
    hints = list(hints)
    lab = rgb_to_lab(truth.astype(np.float32) / 255.0)
    hint_ab, mask = rasterize_hints(hints, truth.shape[:2])
    lab[..., 1:] = np.where(mask[..., None], hint_ab.transpose(1, 2, 0), 0.0)
    out = (lab_to_rgb_preserving_l(lab) * 255 + 0.5).astype(np.uint8)
    strokes = [h for h in hints if isinstance(h, Stroke)]
    if strokes:  # the pixels just outside the strokes' brushes
        brush = rasterize_hints(strokes, truth.shape[:2])[1].astype(np.uint8)
        out[(cv2.dilate(brush, np.ones((3, 3), np.uint8)) > 0) & (brush == 0)] = 0
    for h in hints:
        if isinstance(h, Stroke):
            continue
        box = hint_box(h, truth.shape[:2], truth.shape[:2])
        if box is not None:
            x0, y0, x1, y1 = box
            cv2.rectangle(out, (x0 - 1, y0 - 1), (x1, y1), (0, 0, 0), 1)
    return out


def sample_strip(
    work,
    model_images: dict[int, np.ndarray],
    model_stroke_images: dict[int, np.ndarray] | None = None,
) -> np.ndarray:
    """One row per hint count, then one per stroke count: input with hints | model | Levin
    (if run) | truth."""

    def label(img: np.ndarray, text: str) -> np.ndarray:
        img = np.ascontiguousarray(img)
        for colour, thick in (((0, 0, 0), 3), ((255, 255, 255), 1)):
            cv2.putText(
                img, text, (6, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, colour, thick, cv2.LINE_AA
            )
        return img

    rows = []
    protocols = (
        (model_images, work.hints, work.levin_images, "hints"),
        (model_stroke_images or {}, work.strokes, work.levin_stroke_images, "strokes"),
    )
    for images, hints, levin_images, noun in protocols:
        for k in images:
            tiles = [
                label(draw_hints(work.truth, hints[k]), f"{k} {noun}"),
                label(images[k].copy(), "model"),
            ]
            if k in levin_images:
                lv = (np.clip(levin_images[k], 0, 1) * 255 + 0.5).astype(np.uint8)
                tiles.append(label(lv, "Levin 2004"))
            tiles.append(label(work.truth.copy(), "truth"))
            rows.append(np.concatenate(tiles, axis=1))
    return np.concatenate(rows, axis=0)
