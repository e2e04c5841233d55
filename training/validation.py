"""Validation while training: the figures ``colouru evaluate`` gives, on the run's validation
photos, and a sample grid."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from colouru.colorizer import Colorizer
from colouru.metrics import colourfulness, psnr
from colouru.training import eval_protocol
from colouru.training.data import PhotoArray
from colouru.training.eval_pictures import draw_hints
from colouru.training.gan import unwrap
from colouru.training.logs import save_grid
from colouru.weights import ModelInfo

VAL_HINTS = (0, 10)  # hint counts reported at each validation (0 must be one)


@torch.no_grad()
def validate(
    G: torch.nn.Module,
    val: PhotoArray,
    cfg,  # the run's TrainConfig
    device: torch.device,
    precision: str = "fp32",
    samples_to: Path | None = None,
) -> dict:
    """Mean PSNR at each of ``VAL_HINTS`` hint counts over the validation photos, and the
    colourfulness of the results without hints against the true photos'; optionally a sample
    grid (grey + hints | result | truth).

    The very figures ``colouru evaluate`` gives for this model on these photos: the same
    seeded hints (seed 0, each photo's place in its folder), the same ``Colorizer`` and its
    finishing step (``eval_protocol.model_results``).
    """
    colorizer = Colorizer(unwrap(G), ModelInfo(cfg.generator, work_size=eval_protocol.SIZE),
                          device, precision=precision)
    psnrs: dict[int, list[float]] = {k: [] for k in VAL_HINTS}
    colourful, truth_colourful = [], []
    grid_rows: list[list[np.ndarray]] = []
    for j in range(len(val)):
        truth = np.asarray(val.images[j])
        index = val.index[j] if val.index is not None else j
        hints = {k: eval_protocol.hints_for(truth, 0, index, k) for k in VAL_HINTS}
        results = eval_protocol.model_results(colorizer, truth, hints)
        for k in VAL_HINTS:
            psnrs[k].append(psnr(results[k], truth))
        colourful.append(colourfulness(results[0]))
        truth_colourful.append(colourfulness(truth))
        if samples_to is not None and j < 6:
            k = VAL_HINTS[-1]
            grid_rows.append([draw_hints(truth, hints[k]), results[k], truth])
    out = {f"psnr_{k}": float(np.mean(v)) for k, v in psnrs.items()}
    out["colourfulness_ratio"] = float(np.mean(colourful) / max(np.mean(truth_colourful), 1e-9))
    if samples_to is not None and grid_rows:
        save_grid(grid_rows, samples_to)
    return out
