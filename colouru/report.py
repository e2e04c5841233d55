"""``colouru colorize --report FILE.jsonl``: one JSON line per input, written as it goes.

Each line is written by one ``write`` on a file opened for appending, so a killed run's
report is whole up to its last line, and several shards may append to one report on a local
file system without interleaving their lines. Fields: ``input``, ``output`` (None when none
was planned), ``status`` (``ok``, ``skipped`` or ``failed``), ``error`` (the reason in words,
or None), ``seconds``, ``model`` (its file name), ``model_sha256``, ``shard`` (``K/N``) and
``time`` (UTC, ISO 8601).
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import datetime, timezone
from pathlib import Path

STATUSES = ("ok", "skipped", "failed")


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Report:
    """An open report; ``add`` appends one line and flushes it to the operating system."""

    def __init__(self, path: str | os.PathLike, model: str | os.PathLike, shard: str = "0/1"):
        self.path = Path(path)
        self.model = Path(model).name
        self.model_sha256 = file_sha256(model)
        self.shard = shard
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)

    def add(self, input: str | os.PathLike, output: str | os.PathLike | None, status: str,
            error: str | None = None, seconds: float | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        line = json.dumps({
            "input": str(input), "output": None if output is None else str(output),
            "status": status, "error": error,
            "seconds": None if seconds is None else round(seconds, 3),
            "model": self.model, "model_sha256": self.model_sha256, "shard": self.shard,
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }, ensure_ascii=False) + "\n"
        data = line.encode("utf-8", "surrogateescape")
        written = os.write(self._fd, data)
        while written < len(data):  # a regular file takes it in one; a full disk may not
            written += os.write(self._fd, data[written:])

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> Report:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_report(path: str | os.PathLike) -> list[dict]:
    """The report's lines as dicts; a line cut short by a kill (the last) is left out."""
    out = []
    for line in Path(path).read_text(encoding="utf-8", errors="surrogateescape").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out
