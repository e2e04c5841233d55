"""The first screen, shown until a photo is open: how to start (open a photo, drop one on the
window, or open an example) instead of two blank panes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

TEXT = ("<h2>Colour a black-and-white photo</h2>"
        "<p>Open a photo (<b>Ctrl+O</b>) or drop one anywhere on this window.<br>"
        "New here? Open an example photo to try it out.</p>"
        "<p>Then click the photo to place a colour hint; the result on the right follows.<br>"
        "Press <b>F1</b> for every shortcut.</p>")


class WelcomePage(QWidget):
    def __init__(self, open_action: QAction, example_action: QAction, parent=None):
        super().__init__(parent)
        self.setAutoFillBackground(True)
        self.label = QLabel(TEXT)
        self.label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.label.setWordWrap(True)
        self.open_button = QPushButton("&Open Photo or Film…")
        self.open_button.clicked.connect(open_action.trigger)
        self.example_button = QPushButton("Open an E&xample")
        self.example_button.clicked.connect(example_action.trigger)
        lay = QVBoxLayout(self)
        lay.addStretch(1)
        lay.addWidget(self.label)
        for b in (self.open_button, self.example_button):
            b.setMinimumWidth(220)
            lay.addWidget(b, 0, Qt.AlignmentFlag.AlignHCenter)
        lay.addStretch(2)
