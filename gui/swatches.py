"""A titled row of colour swatches (recently used colours, suggested colours); clicking one
makes it the current colour. Empty slots keep their room, so the row (and the panel it is
in) is as wide with no colours as with every slot filled."""

from __future__ import annotations

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

SWATCH = 22


def swatch_icon(rgb, size: int = SWATCH) -> QIcon:
    pm = QPixmap(size, size)
    pm.fill(QColor(*rgb))
    return QIcon(pm)


class SwatchRow(QWidget):
    colourClicked = Signal(object)  # (a, b)

    def __init__(self, title: str, slots: int, tip: str, parent=None):
        super().__init__(parent)
        self._name = title
        self._title = QLabel(title)
        self._buttons: list[QToolButton] = []
        self._abs: list[tuple[float, float]] = []
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(3)
        for _ in range(slots):
            b = QToolButton()
            b.setIconSize(QSize(SWATCH, SWATCH))
            b.setAutoRaise(True)
            b.clicked.connect(lambda _=False, i=len(self._buttons): self._clicked(i))
            policy = b.sizePolicy()
            policy.setRetainSizeWhenHidden(True)  # an empty slot keeps its room
            b.setSizePolicy(policy)
            b.hide()
            self._buttons.append(b)
            row.addWidget(b)
        row.addStretch(1)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self._title)
        lay.addLayout(row)
        self.setToolTip(tip)
        self._show_title(False)

    def _show_title(self, filled: bool) -> None:
        self._title.setText(self._name if filled else f"{self._name}: none yet")

    def set_colours(self, items) -> None:
        """``items``: ``[(ab, rgb, tooltip), ...]``; extra items are ignored."""
        items = list(items)[: len(self._buttons)]
        self._abs = [tuple(ab) for ab, _, _ in items]
        for b, item in zip(self._buttons, items, strict=False):
            ab, rgb, tip = item
            b.setIcon(swatch_icon(rgb))
            b.setToolTip(tip)
            b.show()
        for b in self._buttons[len(items):]:
            b.hide()
        self._show_title(bool(items))

    def _clicked(self, i: int) -> None:
        if i < len(self._abs):
            self.colourClicked.emit(self._abs[i])

    def colours(self) -> list[tuple[float, float]]:
        return list(self._abs)

    def button(self, i: int) -> QToolButton:
        return self._buttons[i]
