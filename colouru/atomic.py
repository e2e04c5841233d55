"""Writing files so that a reader never sees half of one and nothing is replaced unasked.

The one home for atomic writes: results, model files, checkpoints, hints files, logs and the
training cache all go through here. A file is written to a hidden temporary beside its target
and then published by a rename (replacing) or a hard link (never replacing: a second writer
that got there first makes the link fail, where a check followed by a rename would let one
result silently replace the other).

Temporary names are short and fixed in length (``.colouru-<host>-<pid>-<random>.tmp``), so a
target name of up to the file system's limit still gets a temporary, and name the process that
writes them, so ``clean_leftovers`` can remove what a killed run left behind without touching a
file another running process is still writing.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import socket
import tempfile
import time
from pathlib import Path

TMP_PREFIX = ".colouru-"
TMP_SUFFIX = ".tmp"
LEFTOVER_AGE_S = 24 * 3600  # another machine's temporaries (shared folders) count as left over
_TMP_RE = re.compile(r"^\.colouru-([0-9a-f]{6})-(\d+)-[^.]+\.tmp$")


def _host_tag() -> str:
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:6]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temporary_beside(path: Path) -> tuple[int, str]:
    """Create a hidden temporary file in ``path``'s folder: ``(fd, name)``, as ``mkstemp``."""
    prefix = f"{TMP_PREFIX}{_host_tag()}-{os.getpid()}-"
    return tempfile.mkstemp(prefix=prefix, suffix=TMP_SUFFIX, dir=Path(path).parent)


def publish(tmp: str | os.PathLike, path: Path, *, replace: bool = True) -> None:
    """Give a finished temporary file normal permissions and make it ``path``.

    ``replace=False`` never replaces a file: if ``path`` exists, even one that appeared a moment
    ago, ``FileExistsError`` is raised and the temporary is removed. It links the temporary to
    ``path`` (atomic; fails if the name is taken); on a file system without hard links it
    reserves the name with ``O_EXCL`` and renames onto the reservation.
    """
    os.chmod(tmp, 0o666 & ~_umask())
    if replace:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        os.unlink(tmp)
        raise
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK,
                           errno.EXDEV, errno.ENOSYS):
            raise
        try:
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666))
        except FileExistsError:
            os.unlink(tmp)
            raise
        os.replace(tmp, path)
    else:
        os.unlink(tmp)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike, *, replace: bool = True):
    """``with atomic_file(path) as f: f.write(...)``: a binary file that becomes ``path`` only
    when the block ends without an error (flushed and synced first); otherwise nothing is left.
    ``replace``: as in ``publish``."""
    path = Path(path)
    fd, tmp = temporary_beside(path)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        publish(tmp, path, replace=replace)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_bytes(path: str | os.PathLike, data: bytes, *, replace: bool = True) -> None:
    """Write ``data`` to ``path`` atomically (``atomic_file``)."""
    with atomic_file(path, replace=replace) as f:
        f.write(data)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def is_leftover(path: Path, now: float | None = None) -> bool:
    """Whether ``path`` is a temporary of ours whose writer is gone: written on this machine by
    a process that no longer runs, or older than ``LEFTOVER_AGE_S`` (another machine's)."""
    m = _TMP_RE.match(path.name)
    if not m:
        return False
    if m.group(1) == _host_tag():
        pid = int(m.group(2))
        return pid != os.getpid() and not _alive(pid)
    try:
        age = (now or time.time()) - path.stat().st_mtime
    except OSError:
        return False
    return age > LEFTOVER_AGE_S


def clean_leftovers(folder: str | os.PathLike, recursive: bool = False) -> list[Path]:
    """Remove the temporaries that killed runs left in ``folder`` (``is_leftover``); returns
    what was removed. Anything else, and a temporary still being written, is left alone."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    pattern = f"**/{TMP_PREFIX}*{TMP_SUFFIX}" if recursive else f"{TMP_PREFIX}*{TMP_SUFFIX}"
    removed = []
    for p in folder.glob(pattern):
        if is_leftover(p):
            with contextlib.suppress(OSError):
                p.unlink()
                removed.append(p)
    return removed
