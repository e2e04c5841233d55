"""Every dialog the app shows, in one place: message boxes and file pickers (Qt's static
functions, which tests replace), and the non-modal About and shortcuts windows."""

from __future__ import annotations

import html
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QColorDialog,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHeaderView,
    QInputDialog,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from colouru.film_settings import VIDEO_EXTENSIONS
from colouru.imageio import READ_EXTENSIONS

_Btn = QMessageBox.StandardButton


def _patterns(exts) -> str:
    return " ".join(f"*{e}" for e in sorted(exts))


PHOTO_FILTER = f"Images ({_patterns(READ_EXTENSIONS)});;All files (*)"
# File > Open: photos and films (MP4, MOV, MKV, WebM, AVI; their codecs are checked on opening)
OPEN_FILTER = (f"Photos and films ({_patterns(READ_EXTENSIONS)} {_patterns(VIDEO_EXTENSIONS)})"
               f";;Images ({_patterns(READ_EXTENSIONS)});;Films ({_patterns(VIDEO_EXTENSIONS)})"
               ";;All files (*)")
FILM_FILTER = ("MP4 (*.mp4);;MOV (*.mov);;MKV (*.mkv);;WebM (*.webm);;AVI (*.avi)")
RESULT_FILTER = ("PNG (*.png);;JPEG (*.jpg *.jpeg);;TIFF (*.tif *.tiff);;WebP (*.webp)")
HINTS_FILTER = "ColourU hints (*.json);;All files (*)"
MODEL_FILTER = "ColourU model (*.safetensors);;All files (*)"


def error(parent: QWidget, title: str, text: str) -> None:
    QMessageBox.critical(parent, title, text)


# Button texts with mnemonics (Alt+letter), which Qt's standard buttons lack on Linux.
BUTTON_TEXT = {_Btn.Save: "&Save", _Btn.Discard: "&Don't Save", _Btn.Cancel: "&Cancel",
               _Btn.Yes: "&Yes", _Btn.No: "&No"}
_ICONS = {"warning": QMessageBox.Icon.Warning, "question": QMessageBox.Icon.Question}


def message_box(parent: QWidget, kind: str, title: str, text: str, buttons,
                default) -> QMessageBox:
    """A question box whose buttons have mnemonics (``BUTTON_TEXT``)."""
    box = QMessageBox(_ICONS[kind], title, text, buttons, parent)
    box.setDefaultButton(default)
    for button, label in BUTTON_TEXT.items():
        if box.button(button) is not None:
            box.button(button).setText(label)
    return box


def _ask(kind: str, parent: QWidget, title: str, text: str, buttons, default):
    """Show a ``message_box`` and wait: the standard button pressed (tests replace this)."""
    answer = message_box(parent, kind, title, text, buttons, default).exec()
    try:
        return _Btn(answer)
    except ValueError:  # closed some other way: as Cancel
        return _Btn.Cancel


def ask_unsaved(parent: QWidget, what: str) -> str:
    """``"save"``, ``"discard"`` or ``"cancel"`` for unsaved hints."""
    answer = _ask(
        "warning", parent, "Unsaved hints",
        f"The hints on {what} are not saved.\n\nSave them as a hints file first?",
        _Btn.Save | _Btn.Discard | _Btn.Cancel, _Btn.Save)
    return {_Btn.Save: "save", _Btn.Discard: "discard"}.get(answer, "cancel")


def ask_recover(parent: QWidget, photo: Path, count: int) -> bool:
    """Ask whether to take back ``count`` autosaved hints and strokes (0: only a saturation)."""
    many = count > 1
    what = (f"{count} unsaved hint{'s' if many else ''} or stroke{'s' if many else ''}"
            if count else "An unsaved saturation")
    answer = _ask(
        "question", parent, "Recover hints",
        f"{what} for {photo.name} {'were' if many else 'was'} autosaved when ColourU last "
        f"closed without saving.\n\nRecover {'them' if many else 'it'}?",
        _Btn.Yes | _Btn.No, _Btn.Yes)
    return answer == _Btn.Yes


def open_path(parent: QWidget, title: str, folder: str, file_filter: str) -> Path | None:
    path, _ = QFileDialog.getOpenFileName(parent, title, folder, file_filter)
    return Path(path) if path else None


def filter_for(file_filter: str, name: str) -> str:
    """The entry of ``file_filter`` (``"A (*.a);;B (*.b *.c)"``) whose patterns match
    ``name``'s extension; the first entry when none does."""
    entries = file_filter.split(";;")
    ext = Path(name).suffix.lower()
    for entry in entries:
        if ext and f"*{ext}" in entry.rsplit("(", 1)[-1].rstrip(")").split():
            return entry
    return entries[0]


def save_path(parent: QWidget, title: str, suggested: str, file_filter: str) -> Path | None:
    """Ask where to save; the type filter shown matches the suggested name's extension."""
    path, chosen = QFileDialog.getSaveFileName(parent, title, suggested, file_filter,
                                               filter_for(file_filter, suggested))
    if not path:
        return None
    path = Path(path)
    if not path.suffix and "(*." in (chosen or ""):  # no extension typed: the chosen type's
        path = path.with_suffix(chosen.rsplit("(", 1)[-1].split()[0].strip("*)"))
    return path


def jpeg_quality(parent: QWidget, default: int) -> int | None:
    """The JPEG quality to save with (1-100); None: cancelled."""
    value, ok = QInputDialog.getInt(
        parent, "JPEG quality",
        "JPEG quality (1-100; higher: larger file, fewer artefacts).\n"
        "Use PNG or TIFF to keep every pixel exactly.", default, 1, 100, 1)
    return int(value) if ok else None


def choose_colour(parent: QWidget, rgb) -> tuple[int, int, int] | None:
    c = QColorDialog.getColor(QColor(*rgb), parent, "Hint colour")
    return (c.red(), c.green(), c.blue()) if c.isValid() else None


class TextWindow(QDialog):
    """A non-modal window with rich text (the About box and its model card)."""

    def __init__(self, parent: QWidget, title: str, markdown: str):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setMarkdown(markdown)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.browser)
        lay.addWidget(buttons)
        self.resize(620, 520)


class ShortcutsWindow(QDialog):
    """The table of keyboard shortcuts, built from the actions themselves."""

    def __init__(self, parent: QWidget, rows, mouse_rows):
        super().__init__(parent)
        self.setWindowTitle("Keyboard and mouse")
        self.table = QTableWidget(len(rows) + len(mouse_rows), 3)
        self.table.setHorizontalHeaderLabels(["Action", "Keys", "What it does"])
        for r, row in enumerate([*rows, *mouse_rows]):
            for c, text in enumerate(row):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(r, c, item)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        lay = QVBoxLayout(self)
        lay.addWidget(self.table)
        lay.addWidget(buttons)
        self.resize(720, 600)


def about_markdown(version: str, description: str | None, card: str | None,
                   model_error: str | None) -> str:
    parts = [f"# ColourU {version}",
             "User-guided colorization of black-and-white photographs: place a few colour "
             "hints, and a U-Net fills in the rest.", "## Model"]
    if description:
        parts.append("```\n" + description + "\n```")
    else:
        parts.append("No model loaded. " + html.escape(model_error or ""))
    if card:
        parts += ["## Model card", card]
    return "\n\n".join(parts)
