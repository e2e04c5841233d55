"""What the app remembers between runs, over ``QSettings`` (INI format, user scope, so tests can
point it at a temporary folder with ``QSettings.setPath``)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings

from .session import (
    DEFAULT_AB,
    DEFAULT_BRUSH,
    DEFAULT_SIZE,
    MAX_BRUSH,
    MAX_SIZE,
    MIN_BRUSH,
    MIN_SIZE,
)

ORGANIZATION = "ColourU"
APPLICATION = "ColourU"
MAX_RECENT = 10


class AppSettings:
    def __init__(self, settings: QSettings | None = None):
        self.qs = settings or QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                                        ORGANIZATION, APPLICATION)

    @property
    def folder(self) -> Path:
        """The folder the settings file lives in (the recovery folder goes beside it)."""
        return Path(self.qs.fileName()).parent

    def _str(self, key: str, default: str = "") -> str:
        v = self.qs.value(key, default)
        return default if v is None else str(v)

    # -- recent files -------------------------------------------------------------------------
    def recent_files(self) -> list[str]:
        v = self.qs.value("recent/files", [])
        items = [v] if isinstance(v, str) else list(v or [])
        return [str(p) for p in items if p][:MAX_RECENT]

    def add_recent_file(self, path: str | Path) -> list[str]:
        p = str(Path(path).resolve())
        items = [p, *[q for q in self.recent_files() if q != p]][:MAX_RECENT]
        self.qs.setValue("recent/files", items)
        return items

    def clear_recent_files(self) -> None:
        self.qs.setValue("recent/files", [])

    # -- colour and size ----------------------------------------------------------------------
    def colour(self) -> tuple[float, float]:
        try:
            a, b = (float(v) for v in self._str("hint/colour").split(","))
            return a, b
        except ValueError:
            return DEFAULT_AB

    def set_colour(self, ab) -> None:
        self.qs.setValue("hint/colour", f"{ab[0]:.2f},{ab[1]:.2f}")

    def recent_colours(self) -> list[tuple[float, float]]:
        out = []
        for item in self._str("hint/recent").split(";"):
            try:
                a, b = (float(v) for v in item.split(","))
                out.append((a, b))
            except ValueError:
                continue
        return out

    def set_recent_colours(self, colours) -> None:
        self.qs.setValue("hint/recent", ";".join(f"{a:.2f},{b:.2f}" for a, b in colours))

    def keep_colour(self) -> bool:
        """New hints take the last colour (True) or the model's suggestion there (False)."""
        return self._str("hint/keep_colour", "false").lower() == "true"

    def set_keep_colour(self, keep: bool) -> None:
        self.qs.setValue("hint/keep_colour", "true" if keep else "false")

    def size(self) -> int:
        try:
            return min(MAX_SIZE, max(MIN_SIZE, int(self._str("hint/size", str(DEFAULT_SIZE)))))
        except ValueError:
            return DEFAULT_SIZE

    def set_size(self, size: int) -> None:
        self.qs.setValue("hint/size", int(size))

    def brush(self) -> int:
        try:
            return min(MAX_BRUSH, max(MIN_BRUSH, int(self._str("brush/width",
                                                              str(DEFAULT_BRUSH)))))
        except ValueError:
            return DEFAULT_BRUSH

    def set_brush(self, width: int) -> None:
        self.qs.setValue("brush/width", int(width))

    def jpeg_quality(self) -> int:
        try:
            return min(100, max(1, int(self._str("save/jpeg_quality", "95"))))
        except ValueError:
            return 95

    def set_jpeg_quality(self, quality: int) -> None:
        self.qs.setValue("save/jpeg_quality", int(quality))

    # -- model --------------------------------------------------------------------------------
    def model_path(self) -> str | None:
        return self._str("model/path") or None

    def set_model_path(self, path: str | None) -> None:
        self.qs.setValue("model/path", path or "")

    def device(self) -> str:
        return self._str("model/device", "auto") or "auto"

    def set_device(self, device: str) -> None:
        self.qs.setValue("model/device", device)

    # -- folders and window -------------------------------------------------------------------
    def last_folder(self, kind: str) -> str:
        return self._str(f"folders/{kind}")

    def set_last_folder(self, kind: str, path: str | Path) -> None:
        self.qs.setValue(f"folders/{kind}", str(Path(path).parent))

    def window_state(self) -> tuple[QByteArray | None, QByteArray | None]:
        return self.qs.value("window/geometry"), self.qs.value("window/state")

    def set_window_state(self, geometry: QByteArray, state: QByteArray) -> None:
        self.qs.setValue("window/geometry", geometry)
        self.qs.setValue("window/state", state)

    def sync(self) -> None:
        self.qs.sync()
