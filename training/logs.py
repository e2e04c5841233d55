"""Everything a person reads about a run: ``log.jsonl``, ``losses.png``, ``samples/*.png``,
and TensorBoard event files when tensorboard is installed. Losses arrive as plain dicts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from PIL import Image

from colouru.atomic import atomic_file, atomic_write_bytes


class RunLogger:
    """Appends records to ``log.jsonl`` and redraws the loss curves on request."""

    def __init__(self, run_dir: Path, resume_step: tuple[int, int] | None = None):
        self.run_dir = Path(run_dir)
        self.path = self.run_dir / "log.jsonl"
        if resume_step is None:
            self.path.unlink(missing_ok=True)  # a new run starts a new log
        elif self.path.exists():
            self._truncate_after(resume_step)
        self.tb = None
        try:  # optional: only where tensorboard is installed
            from torch.utils.tensorboard import SummaryWriter

            self.tb = SummaryWriter(str(self.run_dir / "tensorboard"))
        except ImportError:
            pass

    def _truncate_after(self, pos: tuple[int, int]) -> None:
        """Drop records written after the checkpoint we resume from (they will be redone)."""
        keep = []
        for line in self.path.read_text().splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by the kill
            if (r.get("stage_index", 0), r.get("step", 0)) <= pos:
                keep.append(line)
        atomic_write_bytes(self.path, ("\n".join(keep) + "\n" if keep else "").encode())

    def log(self, record: dict) -> None:
        with open(self.path, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        if self.tb is not None:
            g = record.get("global_step", 0)
            for k, v in record.items():
                if isinstance(v, (int, float)) and k not in ("step", "global_step", "stage_index"):
                    self.tb.add_scalar(f"{record.get('kind', 'train')}/{k}", v, g)

    def records(self) -> list[dict]:
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass
        return out

    def plot(self) -> Path:
        """Draw ``losses.png``: generator and discriminator losses and validation PSNR."""
        return plot_losses(self.records(), self.run_dir / "losses.png")

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()


def _smooth(y: np.ndarray, n: int = 10) -> np.ndarray:
    if len(y) < n:
        return y
    k = np.ones(n) / n
    return np.convolve(np.pad(y, (n // 2, n - 1 - n // 2), mode="edge"), k, mode="valid")


def plot_losses(records: list[dict], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    train = [r for r in records if r.get("kind") == "train"]
    val = [r for r in records if r.get("kind") == "val"]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.6))
    series = [
        ("g_mse", "generator MSE (ab)", axes[0]),
        ("g_adv", "generator BCE", axes[1]),
        ("d_loss", "discriminator BCE", axes[1]),
    ]
    for key, label, ax in series:
        pts = [(r["global_step"], r[key]) for r in train if key in r]
        if pts:
            x, y = np.array(pts).T
            ax.plot(x, y, alpha=0.25, lw=0.8)
            ax.plot(x, _smooth(y), label=label, lw=1.5)
    if not any("g_adv" in r or "d_loss" in r for r in train):
        axes[1].text(0.5, 0.5, "no discriminator stage yet", ha="center", va="center",
                     transform=axes[1].transAxes, color="grey")
    axes[0].set_yscale("log")
    axes[0].set_title("generator MSE on normalised ab")
    axes[1].set_title("adversarial losses (gan stage)")
    for key in sorted({k for r in val for k in r if k.startswith("psnr_")}):
        pts = [(r["global_step"], r[key]) for r in val if key in r]
        x, y = np.array(pts).T
        axes[2].plot(x, y, marker="o", ms=3, label=key.replace("psnr_", "PSNR, hints="))
    axes[2].set_title("validation PSNR (dB)")
    starts = {}
    for r in train:
        starts.setdefault(r["stage"], r["global_step"])
    for ax in axes:
        for name, s in starts.items():
            ax.axvline(s, color="grey", ls=":", lw=0.8)
            ax.text(
                s,
                1.0,
                f" {name}",
                transform=ax.get_xaxis_transform(),
                fontsize=7,
                va="top",
                color="grey",
            )
        ax.set_xlabel("step")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=7)
    fig.tight_layout()
    with atomic_file(out) as f:
        fig.savefig(f, format="png", dpi=90)
    plt.close(fig)
    return out


def save_grid(rows: list[list[np.ndarray]], out: Path, pad: int = 2) -> Path:
    """Save a grid of same-size uint8 ``(H, W, 3)`` images (rows x columns) as a PNG."""
    h, w = rows[0][0].shape[:2]
    ncol = max(len(r) for r in rows)
    grid = np.full((len(rows) * (h + pad) + pad, ncol * (w + pad) + pad, 3), 255, np.uint8)
    for i, row in enumerate(rows):
        for j, im in enumerate(row):
            y, x = pad + i * (h + pad), pad + j * (w + pad)
            grid[y : y + h, x : x + w] = im
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(out) as f:
        Image.fromarray(grid).save(f, "PNG")
    return out
