"""``colouru.atomic``: a file appears whole or not at all, and a writer that must not replace
never does, even when the name is taken between its check and its publishing."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from pathlib import Path

import pytest

from colouru import atomic
from colouru.atomic import atomic_file, atomic_write_bytes, clean_leftovers, is_leftover


def _ours(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(atomic.TMP_PREFIX))


def test_write_and_replace(tmp_path):
    p = tmp_path / "f.bin"
    atomic_write_bytes(p, b"one")
    atomic_write_bytes(p, b"two")
    assert p.read_bytes() == b"two" and _ours(tmp_path) == []


@pytest.mark.parametrize("links", [True, False])
def test_no_replace_refuses_a_name_taken_meanwhile(tmp_path, monkeypatch, links):
    """The name is taken after the writer began (as by a second process): the other file
    stays, the writer gets FileExistsError, its temporary is gone. ``links=False``: a file
    system without hard links (the O_EXCL reservation)."""
    if not links:
        def no_link(src, dst):
            raise OSError(errno.EPERM, "Operation not permitted")
        monkeypatch.setattr(atomic.os, "link", no_link)
    p = tmp_path / "result.png"
    with pytest.raises(FileExistsError):
        with atomic_file(p, replace=False) as f:
            f.write(b"mine")
            p.write_bytes(b"theirs")
    assert p.read_bytes() == b"theirs" and _ours(tmp_path) == []
    q = tmp_path / "free.png"
    with atomic_file(q, replace=False) as f:
        f.write(b"mine")
    assert q.read_bytes() == b"mine" and _ours(tmp_path) == []
    assert oct(q.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def test_an_error_leaves_nothing(tmp_path):
    p = tmp_path / "f.bin"
    with pytest.raises(RuntimeError):
        with atomic_file(p) as f:
            f.write(b"half")
            raise RuntimeError("disk on fire")
    assert list(tmp_path.iterdir()) == []


def test_temporary_names_are_short_whatever_the_target(tmp_path):
    fd, tmp = atomic.temporary_beside(tmp_path / ("x" * 250 + ".png"))
    os.close(fd)
    assert len(Path(tmp).name) < 48


def test_leftovers_of_dead_processes_only(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    fd, alive = atomic.temporary_beside(tmp_path / "a")
    os.close(fd)
    alive = Path(alive)
    left = alive.with_name(alive.name.replace(f"-{os.getpid()}-", f"-{dead.pid}-"))
    left.write_bytes(b"x")
    other_host = tmp_path / f"{atomic.TMP_PREFIX}000000-1-abcdefgh.tmp"
    other_host.write_bytes(b"x")
    sub = tmp_path / "sub"
    sub.mkdir()
    deep = sub / left.name
    deep.write_bytes(b"x")
    assert is_leftover(left) and not is_leftover(alive)
    assert not is_leftover(other_host)  # fresh: another machine may still be writing it
    os.utime(other_host, (1, 1))
    assert is_leftover(other_host)
    assert sorted(clean_leftovers(tmp_path)) == sorted([left, other_host])
    assert alive.exists() and deep.exists()
    assert clean_leftovers(tmp_path, recursive=True) == [deep]
