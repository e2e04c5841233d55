"""``colouru colorize --report FILE.jsonl``: one JSON line per input, written as it goes.

Each line is written by one ``write`` on a file opened for appending, so a killed run's
report is whole up to its last line (the next run starts on a line of its own), and several
shards may append to one report on a local file system without interleaving their lines.
Fields: ``input``, ``output`` (None when none was planned), ``status`` (``ok``, ``skipped`` or
``failed``), ``error`` (the reason in words, or None), ``seconds``, ``model`` (its file name),
``model_sha256``, ``shard`` (``K/N``) and ``time`` (UTC, ISO 8601); a line may add ``note``.
The file is UTF-8 throughout: a name that is not (bytes of another encoding) is written with
JSON's ``\\udcXX`` escapes, which ``json`` reads back to the name Python gives that file.

A report is only ever appended to a report: ``check_report_path`` refuses an input photo or
any other file whose first line is not a report line, and a report that cannot be written
(a full disk) never stops the batch: ``Report.add`` keeps the reason and drops the lines.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import threading
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path

STATUSES = ("ok", "skipped", "failed")
FIRST_LINE_BYTES = 1 << 16  # of an existing report, read to see that it is one


class ReportError(Exception):
    """A report file that must not or cannot be written; the message is one line naming it."""


def check_report_path(path: str | os.PathLike, inputs: Iterable[Path] = ()) -> None:
    """Refuse, before any work, a report that would write into what is not a report: one of
    ``inputs`` (resolved paths: ``--report`` forgotten before a glob), a folder, or an
    existing file whose first line is not a report line. A new file, an empty one, a report,
    a pipe and a device (``/dev/stdout``) pass. Raises ``ReportError``."""
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        return
    except OSError as e:
        raise ReportError(f"{path}: cannot use as the report ({e.strerror or e})") from None
    if path.resolve() in set(inputs):
        raise ReportError(f"{path}: is one of the photos to colorize, not a report (the "
                          f"report's name forgotten before the inputs?)")
    if stat.S_ISDIR(st.st_mode):
        raise ReportError(f"{path}: is a folder; --report takes a file (e.g. report.jsonl)")
    if not stat.S_ISREG(st.st_mode) or st.st_size == 0:
        return
    try:
        with open(path, "rb") as f:
            first = f.read(FIRST_LINE_BYTES).split(b"\n", 1)[0]
    except OSError as e:
        raise ReportError(f"{path}: cannot read the report ({e.strerror or e})") from None
    if not _is_report_line(first):
        raise ReportError(f"{path}: exists and is not a ColourU report (its first line is not "
                          f"a report line); name a new file or an earlier report")


def _is_report_line(data: bytes) -> bool:
    """A line ``Report.add`` writes (or the start of one, cut short by a kill)."""
    if data.startswith(b'{"input": '):
        return True
    try:
        line = json.loads(data.decode("utf-8", "surrogateescape"))
    except (ValueError, RecursionError):
        return False
    return isinstance(line, dict) and "input" in line and line.get("status") in STATUSES


def file_sha256(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


class Report:
    """An open report; ``add`` appends one line and hands it to the operating system.

    ``model``: the model file the lines name (``set_model`` gives it later). A pipe is opened
    only if a program reads it (it would block the run before any work), a device is written
    as it is (``/dev/stdout``). ``add`` may be called from several threads; it never raises
    for the file: once a line cannot be written (a full disk, an I/O error) ``error`` says
    why, ``lost`` counts the lines not written, and no more are tried (a line cut short there
    would swallow the next)."""

    def __init__(self, path: str | os.PathLike, model: str | os.PathLike | None = None,
                 shard: str = "0/1"):
        self.path = Path(path)
        self.model, self.model_sha256 = None, None
        if model is not None:
            self.set_model(model)
        self.shard = shard
        self.error: str | None = None
        self.lost = 0
        self._lock = threading.Lock()
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0)
        try:
            self._fd = os.open(self.path, flags, 0o666)
        except OSError as e:
            if e.errno == errno.ENXIO:  # a pipe with no reader
                raise ReportError(f"{self.path}: cannot write the report (a pipe that no "
                                  f"program reads)") from None
            raise ReportError(f"{self.path}: cannot write the report "
                              f"({e.strerror or e})") from None
        if hasattr(os, "set_blocking"):
            os.set_blocking(self._fd, True)  # a pipe's reader sets the pace, as usual
        self._end_cut_line()

    def set_model(self, model: str | os.PathLike) -> None:
        self.model = Path(model).name
        self.model_sha256 = file_sha256(model)

    def _end_cut_line(self) -> None:
        """A run killed in mid-line left the file without its last newline: end that line, so
        the first line of this run is not joined to it (and lost with it)."""
        try:
            if not stat.S_ISREG(os.fstat(self._fd).st_mode):
                return
            with open(self.path, "rb") as f:
                f.seek(0, os.SEEK_END)
                if f.tell() == 0:
                    return
                f.seek(-1, os.SEEK_END)
                cut = f.read(1) != b"\n"
        except OSError:
            return
        if cut:
            self._write(b"\n")

    def add(self, input: str | os.PathLike, output: str | os.PathLike | None, status: str,
            error: str | None = None, seconds: float | None = None,
            note: str | None = None) -> bool:
        """Append one line; False when it was not written (``error`` says why)."""
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}, got {status!r}")
        fields = {
            "input": str(input), "output": None if output is None else str(output),
            "status": status, "error": error,
            "seconds": None if seconds is None else round(seconds, 3),
            "model": self.model, "model_sha256": self.model_sha256, "shard": self.shard,
            "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        if note is not None:
            fields["note"] = note
        line = json.dumps(fields, ensure_ascii=False) + "\n"
        # A name that is not UTF-8 holds surrogates (Python's surrogateescape); written as
        # JSON escapes, they keep the file valid UTF-8 and read back to the same name.
        return self._write(line.encode("utf-8", "backslashreplace"))

    def _write(self, data: bytes) -> bool:
        with self._lock:
            if self.error is not None or self._fd < 0:
                self.lost += 1
                return False
            try:
                written = os.write(self._fd, data)
                while written < len(data):  # a regular file takes it in one; a full disk may not
                    written += os.write(self._fd, data[written:])
            except OSError as e:
                self.error = e.strerror or str(e)
                self.lost += 1
                return False
            return True

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> Report:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_report(path: str | os.PathLike) -> list[dict]:
    """The report's lines as dicts; a line cut short by a kill (the last) is left out."""
    return list(_lines(path))


def _lines(path: str | os.PathLike):
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue


def reported_outputs(path: str | os.PathLike) -> set[str]:
    """The outputs that lines of the report at ``path`` say were made (``ok``); empty when
    there is no report there, it cannot be read, or it is not a regular file (``/dev/stdout``:
    reading a terminal or a pipe would wait or take what is not ours). A line at a time."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return set()
        return {line["output"] for line in _lines(path) if isinstance(line, dict)
                and line.get("status") == "ok" and isinstance(line.get("output"), str)}
    except (OSError, ValueError):
        return set()
