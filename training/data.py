"""Training data: photo lists, a prepared uint8 cache, random crops, and per-step batches.

Decoding JPEGs on two CPU cores would starve the model, so photos are decoded once into a
memory-mapped uint8 array of ``(N, S, S, 3)`` squares (``S`` a little larger than the training
crop) kept in the run folder; a batch is then a slice of that array, a random crop and a flip.

Batches are a pure function of ``(seed, stage, step, rank)``: sampling needs no state, so a
resumed run draws exactly the batches an uninterrupted one would, and each distributed rank
takes its own disjoint share of every global batch (the job of a distributed sampler).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from tqdm import tqdm

from colouru.atomic import atomic_write_bytes, publish, temporary_beside
from colouru.colour_torch import rgb_to_lab_torch
from colouru.imageio import READ_EXTENSIONS, ImageReadError, read_image
from colouru.rasterize import rasterize_hints
from colouru.simulate import HintSimConfig, recolour_regions, simulate_hints

GREY_THRESHOLD = 3.0 / 255.0  # mean |R-G|+|G-B|+|B-R| / 3 under this: a greyscale photo


class DataError(Exception):
    """Unusable training data (no photos, unknown class ...), one-line message."""


def list_photos(root: str | os.PathLike, classes: list[str] | None = None) -> list[Path]:
    """Photos under ``root``: flat, or one sub-folder per class (``classes`` picks some).

    ``root`` may also be a ``.txt`` file listing photo paths, one per line (what
    ``colouru train --val-split`` writes as ``val_split.txt``)."""
    root = Path(root)
    if root.is_file() and root.suffix.lower() == ".txt" and not classes:
        lines = root.read_text(encoding="utf-8").splitlines()
        files = [Path(x.strip()) for x in lines if x.strip() and not x.startswith("#")]
        missing = [f for f in files if not f.is_file()]
        if missing:
            raise DataError(f"{root}: {len(missing)} listed photos are missing (e.g. {missing[0]})")
        if not files:
            raise DataError(f"{root}: lists no photos")
        return files
    if not root.is_dir():
        raise DataError(f"{root}: no such folder")
    subdirs = sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))
    if classes:
        names = {d.name for d in subdirs}
        unknown = [c for c in classes if c not in names]
        if unknown:
            raise DataError(f"{root}: no class folder {unknown}; classes here: {sorted(names)}")
        dirs = [root / c for c in classes]
    else:
        dirs = [root] + subdirs
    files = []
    for d in dirs:
        files += sorted(
            f
            for f in d.iterdir()
            if f.is_file() and f.suffix.lower() in READ_EXTENSIONS and not f.name.startswith(".")
        )
    if not files:
        raise DataError(f"{root}: no photos found" + (f" in classes {classes}" if classes else ""))
    return files


def is_greyscale(rgb: np.ndarray) -> bool:
    """True for a photo with (almost) no colour: it teaches the model nothing."""
    d = (
        np.abs(rgb[..., 0] - rgb[..., 1])
        + np.abs(rgb[..., 1] - rgb[..., 2])
        + np.abs(rgb[..., 2] - rgb[..., 0])
    ) / 3
    return float(d.mean()) < GREY_THRESHOLD


def square_crop(rgb: np.ndarray, side: int) -> np.ndarray:
    """Resize so the short side is ``side`` (area filter when shrinking) and centre-crop a
    ``side`` x ``side`` square. ``rgb``: ``(H, W, 3)`` float 0..1 -> uint8 ``(side, side, 3)``."""
    h, w = rgb.shape[:2]
    s = side / min(h, w)
    nh, nw = max(side, round(h * s)), max(side, round(w * s))
    interp = cv2.INTER_AREA if s < 1 else cv2.INTER_CUBIC
    r = cv2.resize(rgb.astype(np.float32), (nw, nh), interpolation=interp)
    y0, x0 = (nh - side) // 2, (nw - side) // 2
    r = r[y0 : y0 + side, x0 : x0 + side]
    return (np.clip(r, 0, 1) * 255 + 0.5).astype(np.uint8)


@dataclass
class PhotoArray:
    """``images``: uint8 ``(N, S, S, 3)`` (memory-mapped or in memory); ``paths``: their files;
    ``index``: each photo's place in the list it was taken from (``colouru evaluate`` seeds a
    photo's hints with it), when that list had photos skipped or cut off. ``pool``: what
    training draws from, photo indices each as many times as its class's weight
    (``class_pool``); None: every photo once."""

    images: np.ndarray
    paths: list[str]
    index: list[int] | None = None
    pool: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.images)

    def draws(self) -> int:
        """How many draws an epoch has."""
        return len(self.images) if self.pool is None else len(self.pool)

    def photo(self, draw: np.ndarray) -> np.ndarray:
        """The photo indices of draws ``draw`` (what ``batch_indices`` gives)."""
        return draw if self.pool is None else self.pool[draw]


def class_pool(paths: list[str], root: str | os.PathLike,
               weights: dict[str, int] | None) -> np.ndarray | None:
    """Each photo's index repeated by the weight of its class (the sub-folder of ``root`` it
    lies in; 1 for a class not named): an epoch then shows a class of weight 6 six times.
    A named class with no photo here is a ``DataError`` (a typo would weigh nothing)."""
    if not weights:
        return None
    root = Path(root)
    cls = [Path(p).parent.name if Path(p).parent != root else "" for p in paths]
    unknown = sorted(set(weights) - set(cls))
    if unknown:
        raise DataError(f"--class-weights: no photos of class {unknown} in {root}; classes "
                        f"here: {sorted(set(cls) - {''})}")
    return np.repeat(np.arange(len(paths)), [weights.get(c, 1) for c in cls])


def build_array(
    paths: list[Path], side: int, progress: bool = True
) -> tuple[np.ndarray, list[str], list[str]]:
    """Decode photos into uint8 squares. Returns ``(array, kept paths, skipped reasons)``;
    unreadable and greyscale photos are skipped, never fatal."""
    out = np.empty((len(paths), side, side, 3), dtype=np.uint8)
    kept, skipped = [], []
    for p in tqdm(
        paths, desc=f"preparing {side}px photos", unit="photo", disable=not progress, leave=False
    ):
        try:
            rgb = read_image(p)
        except ImageReadError as e:
            skipped.append(str(e))
            continue
        if is_greyscale(rgb):
            skipped.append(f"{p}: greyscale, skipped")
            continue
        out[len(kept)] = square_crop(rgb, side)
        kept.append(str(p))
    return out[: len(kept)], kept, skipped


def cached_array(
    paths: list[Path], side: int, cache_dir: Path | None, progress: bool = True
) -> PhotoArray:
    """The photos as a ``PhotoArray``, from a memory-mapped cache in ``cache_dir`` when given.

    The cache is keyed by the file list, sizes, modification times and ``side``; it is written to
    a temporary name and renamed, so a killed build never leaves a half cache behind.
    """
    if cache_dir is None:
        arr, kept, _ = build_array(paths, side, progress)
        return PhotoArray(arr, kept)
    cache_dir.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha1(str(side).encode())
    for p in paths:
        st = p.stat()
        h.update(f"{p}|{st.st_size}|{st.st_mtime_ns}\n".encode())
    key = h.hexdigest()[:16]
    data_f, index_f = cache_dir / f"photos-{side}-{key}.u8", cache_dir / f"photos-{side}-{key}.json"
    if not (data_f.is_file() and index_f.is_file()):
        arr, kept, skipped = build_array(paths, side, progress)
        fd, tmp = temporary_beside(data_f)  # named per process: never shared by two builders
        os.close(fd)
        try:
            mm = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.uint8, shape=arr.shape)
            mm[:] = arr
            mm.flush()
            del mm
            publish(tmp, data_f)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        atomic_write_bytes(index_f, json.dumps(
            {"side": side, "paths": kept, "skipped": skipped}).encode())
    index = json.loads(index_f.read_text())
    images = np.load(data_f, mmap_mode="r")
    return PhotoArray(images, index["paths"])


def split(paths: list[Path], val_share: float, seed: int) -> tuple[list[Path], list[Path]]:
    """A seeded held-out split: ``(train, val)``."""
    if not 0 < val_share < 1:
        raise DataError(f"--val-split must be between 0 and 1, got {val_share}")
    order = np.random.default_rng(seed).permutation(len(paths))
    n_val = max(1, int(round(len(paths) * val_share)))
    val = sorted(paths[i] for i in order[:n_val])
    train = sorted(paths[i] for i in order[n_val:])
    if not train:
        raise DataError("--val-split leaves no training photos")
    return train, val


def batch_indices(
    n: int, batch: int, step: int, seed: int, stage: int, rank: int = 0, world: int = 1
) -> np.ndarray:
    """Photo indices of ``rank``'s share of global batch ``step`` (epochs of seeded
    permutations; pure, so resuming or sharding needs no sampler state)."""
    gb = batch * world
    start = step * gb + rank * batch
    idx = np.empty(batch, dtype=np.int64)
    for j in range(batch):
        pos = start + j
        epoch, off = divmod(pos, n)
        perm = _perm(n, seed, stage, epoch)
        idx[j] = perm[off]
    return idx


_PERM_CACHE: dict = {}


def _perm(n: int, seed: int, stage: int, epoch: int) -> np.ndarray:
    key = (n, seed, stage, epoch)
    if key not in _PERM_CACHE:
        if len(_PERM_CACHE) > 4:
            _PERM_CACHE.clear()
        _PERM_CACHE[key] = np.random.default_rng([seed, stage, epoch]).permutation(n)
    return _PERM_CACHE[key]


@dataclass
class Batch:
    """One training batch on a device: ``lightness`` (B,1,S,S) 0..100, ``ab`` (B,2,S,S) true
    chroma, ``hint_ab`` (B,2,S,S) simulated hints (0 elsewhere), ``hint_mask`` (B,1,S,S)."""

    lightness: torch.Tensor
    ab: torch.Tensor
    hint_ab: torch.Tensor
    hint_mask: torch.Tensor


def crops(
    images: np.ndarray, idx: np.ndarray, size: int, rng: np.random.Generator, augment: bool = True
) -> np.ndarray:
    """uint8 crops ``(B, size, size, 3)``: random position and horizontal flip when
    ``augment``, else centred."""
    side = images.shape[1]
    out = np.empty((len(idx), size, size, 3), dtype=np.uint8)
    for j, i in enumerate(idx):
        if augment:
            y, x = rng.integers(0, side - size + 1, size=2)
        else:
            y = x = (side - size) // 2
        c = images[i, y : y + size, x : x + size]
        out[j] = c[:, ::-1] if augment and rng.random() < 0.5 else c
    return out


def make_batch(
    rgb_u8: np.ndarray,
    rng: np.random.Generator,
    hint_cfg: HintSimConfig,
    device: torch.device,
    hint_counts: list[int] | None = None,
    side: int | None = None,
) -> Batch:
    """Lab, simulated hints (squares, and strokes in ``hint_cfg.stroke_share`` of the samples)
    and the hint raster for uint8 crops ``(B, S, S, 3)``. In ``hint_cfg.recolour_share`` of
    the samples with hints, some hinted regions take another colour in the target ``ab`` and
    in their hints (``simulate.recolour_regions``); L is the photo's own.

    ``hint_counts``: a fixed number of hints per sample (evaluation-style), else drawn."""
    rgb = torch.from_numpy(np.ascontiguousarray(rgb_u8)).permute(0, 3, 1, 2).float() / 255.0
    lab = rgb_to_lab_torch(rgb)
    ab_np = lab[:, 1:].numpy()
    lightness_np = lab[:, 0].numpy()  # strokes (a stroke_share of samples) stay within L too
    s = rgb_u8.shape[1]
    hint_ab = np.zeros((len(rgb_u8), 2, s, s), dtype=np.float32)
    mask = np.zeros((len(rgb_u8), 1, s, s), dtype=np.float32)
    for j in range(len(rgb_u8)):
        count = None if hint_counts is None else hint_counts[j]
        hints = simulate_hints(ab_np[j], rng, hint_cfg, count=count, side=side,
                               lightness=lightness_np[j])
        ab_np[j], hints = recolour_regions(ab_np[j], lightness_np[j], hints, rng, hint_cfg)
        hint_ab[j], m = rasterize_hints(hints, (s, s))
        mask[j, 0] = m
    return Batch(
        lab[:, :1].to(device),
        lab[:, 1:].to(device),  # the target: ab_np is its view, recoloured in place
        torch.from_numpy(hint_ab).to(device),
        torch.from_numpy(mask).to(device),
    )
