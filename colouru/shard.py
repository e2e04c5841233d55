"""Splitting a batch into shards that independent jobs colorize without coordination.

A photo's shard is a hash of its path relative to the folder it was found in, so N jobs given
the same inputs cover every photo exactly once, and a photo stays in its shard when others are
added or removed anywhere in the tree. The shard comes from ``--shard K/N`` or from the
environment a launcher sets (torchrun and other ``torch.distributed`` launchers: ``RANK`` and
``WORLD_SIZE``); Slurm array jobs and Kubernetes indexed jobs pass theirs on the command line
(``--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT``, ``--shard
$JOB_COMPLETION_INDEX/N``).
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import PurePath

_SPEC = re.compile(r"^\s*(-?\d+)\s*/\s*(-?\d+)\s*$")  # signs parsed, then refused by name


@dataclass(frozen=True)
class Shard:
    """Part ``index`` (0-based) of ``count``."""

    index: int = 0
    count: int = 1

    def __post_init__(self):
        if not (self.count >= 1 and 0 <= self.index < self.count):
            raise ValueError(f"shard {self.index}/{self.count}: the index must be 0 to "
                             f"{max(self.count, 1) - 1} (shards count from 0)")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, relative_path: str | PurePath) -> bool:
        """Whether this shard colorizes the photo at ``relative_path``."""
        return self.count == 1 or shard_index(relative_path, self.count) == self.index


def shard_index(relative_path: str | PurePath, count: int) -> int:
    """The shard (0 .. count - 1) of a photo, from its relative path written with ``/``."""
    key = PurePath(relative_path).as_posix().encode("utf-8", "surrogateescape")
    return int.from_bytes(hashlib.sha256(key).digest()[:8], "big") % count


def parse_shard(spec: str) -> Shard:
    """``"K/N"`` (K counted from 0) -> ``Shard``; a clear ``ValueError`` otherwise."""
    if not spec.strip():
        raise ValueError("shard is empty (an unset variable in a job script?); give K/N with K "
                         "counted from 0, e.g. 0/4")
    m = _SPEC.match(spec)
    if not m:
        raise ValueError(f"shard must be K/N with K counted from 0, e.g. 0/4, got {spec!r}")
    return Shard(int(m.group(1)), int(m.group(2)))


def shard_from_env(env: Mapping[str, str] | None = None) -> Shard | None:
    """The shard a ``torch.distributed`` launcher gives this process (``RANK`` of
    ``WORLD_SIZE``), or None outside one."""
    env = os.environ if env is None else env
    if "WORLD_SIZE" not in env or "RANK" not in env:
        return None
    try:
        return Shard(int(env["RANK"]), int(env["WORLD_SIZE"]))
    except ValueError as e:
        raise ValueError(f"RANK={env['RANK']!r} WORLD_SIZE={env['WORLD_SIZE']!r}: {e}") from None


def local_device_index(env: Mapping[str, str] | None = None) -> int | None:
    """``LOCAL_RANK`` (the GPU a launcher means this process to use), or None."""
    env = os.environ if env is None else env
    try:
        return int(env["LOCAL_RANK"])
    except (KeyError, ValueError):
        return None
