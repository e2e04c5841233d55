"""The colour panel (a dock): current colour, the ab gamut, hint size, suggested and recent
colours. It only shows state and reports choices; the main window applies them.

Its width never depends on what it shows (the numbers' labels have fixed widths, empty swatch
slots keep their room), so the photo does not re-zoom and the colour plane does not move under
the cursor as colours come and go."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from .colours import ab_to_rgb8
from .gamut_panel import GamutPanel
from .session import MAX_SIZE, MIN_SIZE
from .swatches import SwatchRow


class ColourPanel(QWidget):
    colourPicked = Signal(object, bool)  # (a, b), still dragging (gamut)
    pickFinished = Signal()
    colourChosen = Signal(object)  # (a, b) from a swatch
    sizeChanged = Signal(int)

    def __init__(self, choose_action: QAction, eyedropper_action: QAction, parent=None):
        super().__init__(parent)
        self.current = QFrame()
        self.current.setFixedSize(44, 44)
        self.current.setFrameShape(QFrame.Shape.Box)
        self.current.setToolTip("The current colour, as it will look at the point's lightness")
        self.current.setAutoFillBackground(True)
        self.info = QLabel()
        self.info.setFixedWidth(self.info.fontMetrics().horizontalAdvance(
            "a -110.0  b -110.0  at L 100") + 8)
        self.info.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        choose, dropper = QToolButton(), QToolButton()
        choose.setDefaultAction(choose_action)
        dropper.setDefaultAction(eyedropper_action)
        for b in (choose, dropper):
            b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        top = QGridLayout()
        top.addWidget(self.current, 0, 0, 2, 1)
        top.addWidget(self.info, 0, 1, 1, 2)
        top.addWidget(choose, 1, 1)
        top.addWidget(dropper, 1, 2)
        top.setColumnStretch(3, 1)

        self.gamut = GamutPanel()
        self.gamut.colourPicked.connect(self.colourPicked)
        self.gamut.pickFinished.connect(self.pickFinished)

        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(MIN_SIZE, MAX_SIZE)
        self.size_slider.setPageStep(1)
        self.size_slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.size_slider.setToolTip("Hint size: the square's side in pixels of the network's "
                                    "working grid (1-9).\nMouse wheel on the photo or [ and ]")
        self.size_slider.valueChanged.connect(self._size_moved)
        self.size_label = QLabel()
        self.size_label.setFixedWidth(self.size_label.fontMetrics().horizontalAdvance(
            "9 px (8888.8 in photo)") + 8)
        size_row = QHBoxLayout()
        size_row.addWidget(QLabel("Size"))
        size_row.addWidget(self.size_slider, 1)
        size_row.addWidget(self.size_label)

        self.suggested = SwatchRow("Suggested", 4, "Colours the model suggests for the selected "
                                   "point: first its current prediction there, then the "
                                   "alternatives it sees nearby")
        self.recent = SwatchRow("Recent", 10, "Recently used colours")
        for row in (self.suggested, self.recent):
            row.colourClicked.connect(self.colourChosen)

        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.gamut)
        lay.addLayout(size_row)
        lay.addWidget(self.suggested)
        lay.addWidget(self.recent)
        lay.addStretch(1)
        self._updating = False

    def _size_moved(self, value: int) -> None:
        if not self._updating:
            self.sizeChanged.emit(value)

    def show_state(self, lightness: float, ab, size: int, size_image: float,
                   suggestion=None) -> None:
        rgb = ab_to_rgb8(lightness, ab)
        self.current.setStyleSheet(f"background-color: rgb{rgb};")
        self.info.setText(f"a {ab[0]:.1f}  b {ab[1]:.1f}  at L {lightness:.0f}")
        self.gamut.set_state(lightness, ab, suggestion)
        self._updating = True
        try:
            self.size_slider.setValue(size)
        finally:
            self._updating = False
        self.size_label.setText(f"{size} px ({size_image:.1f} in photo)")

    def show_swatches(self, lightness: float, recent, suggested) -> None:
        def items(abs_, what):
            return [(ab, ab_to_rgb8(lightness, ab), f"{what}: a {ab[0]:.1f}, b {ab[1]:.1f}")
                    for ab in abs_]
        self.recent.set_colours(items(recent, "Recent"))
        names = ["Model's prediction"] + ["Nearby"] * 3
        self.suggested.set_colours(
            [(ab, ab_to_rgb8(lightness, ab), f"{n}: a {ab[0]:.1f}, b {ab[1]:.1f}")
             for n, ab in zip(names, suggested, strict=False)])
