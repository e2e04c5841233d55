"""Autosave of hints, strokes and the saturation, free of Qt, so a crash loses nothing.

Each photo with unsaved hints has two files in the recovery folder, named by a hash of the
photo's absolute path: ``KEY.json`` (an ordinary hints file in the core format, usable with
``colouru colorize --hints``: version 2 when there are strokes, with the saturation when it is
not 1) and ``KEY.photo`` (the photo's path, one line). They are removed when the hints are
saved or deliberately discarded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from colouru.atomic import atomic_write_bytes
from colouru.hints import Hint, HintsDoc, HintsFileError, Stroke, load_hints_doc, save_hints


class RecoveryStore:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)

    @staticmethod
    def key(photo: str | Path) -> str:
        return hashlib.sha1(str(Path(photo).resolve()).encode("utf-8")).hexdigest()[:16]

    def _paths(self, photo: str | Path) -> tuple[Path, Path]:
        k = self.key(photo)
        return self.folder / f"{k}.json", self.folder / f"{k}.photo"

    def save(self, photo: str | Path, hints: Sequence[Hint | Stroke],
             image_size: tuple[int, int], saturation: float = 1.0) -> Path:
        """Write (atomically) the hints, strokes and saturation of ``photo``; ``image_size``
        is (width, height)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        hints_path, photo_path = self._paths(photo)
        atomic_write_bytes(photo_path, (str(Path(photo).resolve()) + "\n").encode("utf-8"))
        save_hints(hints_path, hints, image_size=image_size, saturation=saturation)
        return hints_path

    def load_doc(self, photo: str | Path) -> HintsDoc | None:
        """What was autosaved for ``photo``: hints, strokes and saturation; None when there
        is nothing or it is unreadable."""
        hints_path, _ = self._paths(photo)
        if not hints_path.is_file():
            return None
        try:
            return load_hints_doc(hints_path)
        except HintsFileError:
            return None

    def load(self, photo: str | Path) -> list[Hint | Stroke] | None:
        """The autosaved hints and strokes of ``photo``; None when there are none or they are
        unreadable."""
        doc = self.load_doc(photo)
        return None if doc is None else list(doc.hints)

    def discard(self, photo: str | Path) -> None:
        for p in self._paths(photo):
            p.unlink(missing_ok=True)

    def pending(self) -> list[Path]:
        """Photos with autosaved hints, newest first (photos that no longer exist skipped)."""
        if not self.folder.is_dir():
            return []
        found = []
        for marker in self.folder.glob("*.photo"):
            hints_path = marker.with_suffix(".json")
            try:
                photo = Path(marker.read_text(encoding="utf-8").strip())
            except OSError:
                continue
            if hints_path.is_file() and photo.is_file():
                found.append((hints_path.stat().st_mtime, photo))
        return [p for _, p in sorted(found, key=lambda t: -t[0])]
