"""Working size: the size the network runs at, the one home of its default and its geometry.

Pure Python (no numpy, no torch), so the app's Qt-free session model and anything else that
only needs shapes can import it cheaply.
"""

from __future__ import annotations

from collections.abc import Sequence

DEFAULT_WORK_SIZE = 256  # long side the network runs at, unless a model file says otherwise


def working_shape(image_hw: Sequence[int], work_size: int) -> tuple[int, int]:
    """The working size for an image: long side ``work_size`` (never upscaled), aspect kept."""
    h, w = int(image_hw[0]), int(image_hw[1])
    scale = min(1.0, work_size / max(h, w))
    return max(1, int(round(h * scale))), max(1, int(round(w * scale)))
