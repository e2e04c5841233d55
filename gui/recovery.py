"""Autosave of hints, strokes and the saturation, free of Qt, so a crash loses nothing.

Each photo with unsaved hints has two files in the recovery folder, named by a hash of the
photo's absolute path: ``KEY.json`` (an ordinary hints file in the core format, usable with
``colouru colorize --hints``: version 2 when there are strokes, with the saturation when it is
not 1) and ``KEY.photo`` (the photo's path as the file system's bytes, one line: a name that
is not UTF-8 is kept as it is). A film's ``KEY.json`` is a film's hints file (hints by
keyframe, ``colouru.video_hints``, usable with ``colouru colorize FILM --hints``), and the
range set on its timeline, when there is one, is ``KEY.range`` (its first and last frames, a
``-`` for an end not set, on one line). They are removed when the hints are saved or
deliberately discarded.

Whatever else the folder holds (a marker that is not ours, too long, not a regular file, or
naming nothing) is passed over: the app starts whatever it finds there.
"""

from __future__ import annotations

import hashlib
import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

from colouru.atomic import atomic_write_bytes
from colouru.hints import Hint, HintsDoc, HintsFileError, Stroke, load_hints_doc, save_hints
from colouru.video_hints import VideoHints, load_video_hints, save_video_hints

MAX_MARKER_BYTES = 1 << 16  # a path is at most 4,096 bytes on Linux, 32,767 UTF-16 on Windows


class RecoveryStore:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    @staticmethod
    def key(photo: str | Path) -> str:
        """A hash of the photo's absolute path as the file system spells it (``os.fsencode``:
        a name that is not UTF-8 has a key too; UTF-8 names keep the keys they always had)."""
        return hashlib.sha1(os.fsencode(Path(photo).resolve())).hexdigest()[:16]

    def _paths(self, photo: str | Path) -> tuple[Path, Path]:
        k = self.key(photo)
        return self.folder / f"{k}.json", self.folder / f"{k}.photo"

    def save(self, photo: str | Path, hints: Sequence[Hint | Stroke],
             image_size: tuple[int, int], saturation: float = 1.0) -> Path:
        """Write (atomically) the hints, strokes and saturation of ``photo``; ``image_size``
        is (width, height)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        hints_path, photo_path = self._paths(photo)
        atomic_write_bytes(photo_path, os.fsencode(Path(photo).resolve()) + b"\n")
        save_hints(hints_path, hints, image_size=image_size, saturation=saturation)
        return hints_path

    def _range_path(self, film: str | Path) -> Path:
        return self.folder / f"{self.key(film)}.range"

    def save_film(self, film: str | Path, keyframes: Mapping[int, Sequence[Hint | Stroke]],
                  image_size: tuple[int, int], saturation: float = 1.0,
                  frames: tuple[int | None, int | None] = (None, None)) -> Path:
        """Write (atomically) a film's keyframes and saturation as its hints file, and
        ``frames``, the range on its timeline (first, last; None: not set)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        hints_path, marker = self._paths(film)
        atomic_write_bytes(marker, os.fsencode(Path(film).resolve()) + b"\n")
        save_video_hints(hints_path, keyframes, image_size, saturation)
        if frames == (None, None):
            self._range_path(film).unlink(missing_ok=True)
        else:
            text = " ".join("-" if f is None else str(int(f)) for f in frames)
            atomic_write_bytes(self._range_path(film), text.encode() + b"\n")
        return hints_path

    def load_film_range(self, film: str | Path) -> tuple[int | None, int | None]:
        """The range autosaved for a film: (first, last), None for an end not set; (None,
        None) when there is none or it is unreadable."""
        try:
            parts = self._range_path(film).read_text()[:100].split()
            got = tuple(None if p == "-" else int(p) for p in parts)
        except (OSError, ValueError, UnicodeDecodeError):
            return None, None
        if len(got) != 2 or any(f is not None and f < 0 for f in got):
            return None, None
        return got

    def load_film(self, film: str | Path) -> VideoHints | None:
        """What was autosaved for a film: its keyframes and saturation (None: nothing, or
        unreadable)."""
        return self._read(film, load_video_hints)

    def load_doc(self, photo: str | Path) -> HintsDoc | None:
        """What was autosaved for ``photo``: hints, strokes and saturation; None when there
        is nothing or it is unreadable."""
        return self._read(photo, load_hints_doc)

    def _read(self, path: str | Path, reader):
        """``reader`` of ``path``'s autosaved hints file; None when there is none or it is
        unreadable."""
        hints_path, _ = self._paths(path)
        if not hints_path.is_file():
            return None
        try:
            return reader(hints_path)
        except HintsFileError:
            return None

    def load(self, photo: str | Path) -> list[Hint | Stroke] | None:
        """The autosaved hints and strokes of ``photo``; None when there are none or they are
        unreadable."""
        doc = self.load_doc(photo)
        return None if doc is None else list(doc.hints)

    def discard(self, photo: str | Path) -> None:
        for p in (*self._paths(photo), self._range_path(photo)):
            p.unlink(missing_ok=True)

    def pending(self) -> list[Path]:
        """Photos with autosaved hints, newest first (photos that no longer exist skipped, and
        markers that are not regular files of a path each)."""
        if not self.folder.is_dir():
            return []
        found = []
        for marker in self.folder.glob("*.photo"):
            photo = _read_marker(marker)
            hints_path = marker.with_suffix(".json")
            try:
                if photo is not None and hints_path.is_file() and photo.is_file():
                    found.append((hints_path.stat().st_mtime, photo))
            except (OSError, ValueError):  # a name too long, a NUL in it
                continue
        return [p for _, p in sorted(found, key=lambda t: -t[0])]


def _read_marker(marker: Path) -> Path | None:
    """The photo a ``KEY.photo`` names, or None: a FIFO would block the app's start, a huge
    file is no path, and one that cannot be read is no marker of ours."""
    try:
        st = marker.lstat()
        if not stat.S_ISREG(st.st_mode) or st.st_size > MAX_MARKER_BYTES:
            return None
        with open(marker, "rb") as f:
            data = f.read(MAX_MARKER_BYTES + 1).rstrip(b"\r\n")
    except OSError:
        return None
    if not data or len(data) > MAX_MARKER_BYTES or b"\0" in data or b"\n" in data:
        return None
    return Path(os.fsdecode(data))
