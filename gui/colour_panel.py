"""The colour panel (a dock): current colour, the ab gamut, hint size, brush width, suggested
and recent colours, and the result's saturation. It only shows state and reports choices; the
main window applies them.

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

from .colours import ab_to_rgb8, ab_to_rgb8_many
from .gamut_panel import GamutPanel
from .session import MAX_BRUSH, MAX_SIZE, MIN_BRUSH, MIN_SIZE, SATURATION_RANGE
from .swatches import SwatchRow

SATURATION_STEPS = 100  # slider steps per unit of saturation


class ResetSlider(QSlider):
    """A slider that says when it is double-clicked (to go back to its default)."""

    doubleClicked = Signal()

    def mouseDoubleClickEvent(self, event):
        self.doubleClicked.emit()
        event.accept()


class ColourPanel(QWidget):
    colourPicked = Signal(object, bool)  # (a, b), still dragging (gamut)
    pickFinished = Signal()
    colourChosen = Signal(object)  # (a, b) from a swatch
    sizeChanged = Signal(int)
    brushChanged = Signal(int)
    saturationChanged = Signal(float, bool)  # value, still dragging
    saturationFinished = Signal()

    def __init__(self, choose_action: QAction, eyedropper_action: QAction, parent=None):
        super().__init__(parent)
        top = self._build_current(choose_action, eyedropper_action)
        self.gamut = GamutPanel()
        self.gamut.colourPicked.connect(self.colourPicked)
        self.gamut.pickFinished.connect(self.pickFinished)
        size_row, brush_row = self._build_sizes()
        saturation_row = self._build_saturation()
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
        lay.addLayout(brush_row)
        lay.addWidget(self.suggested)
        lay.addWidget(self.recent)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        lay.addWidget(line)
        lay.addLayout(saturation_row)
        lay.addStretch(1)
        self._updating = False

    def _build_current(self, choose_action: QAction, eyedropper_action: QAction) -> QGridLayout:
        """The current colour's swatch and numbers, Choose Colour and the eyedropper."""
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
        return top

    def _build_sizes(self) -> tuple[QHBoxLayout, QHBoxLayout]:
        """The hint size and brush width sliders, their titles of one width."""
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(MIN_SIZE, MAX_SIZE)
        self.size_slider.setPageStep(1)
        self.size_slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.size_slider.setToolTip("Hint size: the square's side in pixels of the network's "
                                    "working grid (1-9).\nMouse wheel on the photo or [ and ]")
        self.size_slider.valueChanged.connect(self._size_moved)
        self.size_label = QLabel()
        self.size_label.setFixedWidth(self.size_label.fontMetrics().horizontalAdvance(
            "40 px (8888.8 in photo)") + 8)
        size_row = QHBoxLayout()
        size_row.addWidget(QLabel("Size"))
        size_row.addWidget(self.size_slider, 1)
        size_row.addWidget(self.size_label)

        self.brush_slider = QSlider(Qt.Orientation.Horizontal)
        self.brush_slider.setRange(MIN_BRUSH, MAX_BRUSH)
        self.brush_slider.setPageStep(4)
        self.brush_slider.setToolTip(f"Brush width: a stroke's width in pixels of the network's "
                                     f"working grid ({MIN_BRUSH}-{MAX_BRUSH}).\nBrush tool (S): "
                                     f"mouse wheel on the photo or [ and ]")
        self.brush_slider.valueChanged.connect(self._brush_moved)
        self.brush_label = QLabel()
        self.brush_label.setFixedWidth(self.size_label.maximumWidth())
        brush_row = QHBoxLayout()
        brush_label = QLabel("Brush")
        size_title = size_row.itemAt(0).widget()
        width = max(size_title.sizeHint().width(), brush_label.sizeHint().width())
        for w in (size_title, brush_label):
            w.setFixedWidth(width)
        brush_row.addWidget(brush_label)
        brush_row.addWidget(self.brush_slider, 1)
        brush_row.addWidget(self.brush_label)
        return size_row, brush_row

    def _build_saturation(self) -> QHBoxLayout:
        """The result's saturation: a slider (double-click: 1), its value, a reset button."""
        lo, hi = SATURATION_RANGE
        self.saturation_slider = ResetSlider(Qt.Orientation.Horizontal)
        self.saturation_slider.setRange(round(lo * SATURATION_STEPS), round(hi * SATURATION_STEPS))
        self.saturation_slider.setSingleStep(5)
        self.saturation_slider.setPageStep(25)
        self.saturation_slider.setTickInterval(SATURATION_STEPS)
        self.saturation_slider.setTickPosition(QSlider.TickPosition.TicksBelow)
        self.saturation_slider.setValue(SATURATION_STEPS)
        self.saturation_slider.setToolTip(
            "Saturation of the whole result: 1 is the model's colours, 0 grey, more is more "
            "colourful.\nYour hints and strokes keep their own colours. Double-click: back to 1")
        self.saturation_slider.valueChanged.connect(self._saturation_moved)
        self.saturation_slider.sliderReleased.connect(self.saturationFinished)
        self.saturation_slider.doubleClicked.connect(self.reset_saturation)
        self.saturation_label = QLabel()
        self.saturation_label.setFixedWidth(self.saturation_label.fontMetrics().horizontalAdvance(
            "× 8.88") + 8)
        self.saturation_reset = QToolButton()
        self.saturation_reset.setText("1×")
        self.saturation_reset.setToolTip("Saturation back to 1 (the model's colours)")
        self.saturation_reset.clicked.connect(self.reset_saturation)
        saturation_row = QHBoxLayout()
        saturation_row.addWidget(QLabel("Saturation"))
        saturation_row.addWidget(self.saturation_slider, 1)
        saturation_row.addWidget(self.saturation_label)
        saturation_row.addWidget(self.saturation_reset)
        return saturation_row

    def _size_moved(self, value: int) -> None:
        if not self._updating:
            self.sizeChanged.emit(value)

    def _brush_moved(self, value: int) -> None:
        if not self._updating:
            self.brushChanged.emit(value)

    def _saturation_moved(self, value: int) -> None:
        if not self._updating:
            self.saturationChanged.emit(value / SATURATION_STEPS,
                                        self.saturation_slider.isSliderDown())

    @property
    def dragging(self) -> bool:
        """A colour is being dragged over the gamut, or the saturation slider is held."""
        return self.gamut.dragging or self.saturation_slider.isSliderDown()

    def reset_saturation(self) -> None:
        self.saturationChanged.emit(1.0, False)

    def show_state(self, lightness: float, ab, size: int, size_image: float,
                   suggestion=None, brush: int | None = None, brush_image: float = 0.0,
                   saturation: float | None = None) -> None:
        sheet = f"background-color: rgb{ab_to_rgb8(lightness, ab)};"
        if sheet != self.current.styleSheet():  # restyling costs, and a drag asks often
            self.current.setStyleSheet(sheet)
        self.info.setText(f"a {ab[0]:.1f}  b {ab[1]:.1f}  at L {lightness:.0f}")
        self.gamut.set_state(lightness, ab, suggestion)
        self._updating = True
        try:
            self.size_slider.setValue(size)
            if brush is not None:
                self.brush_slider.setValue(brush)
            if saturation is not None and not self.saturation_slider.isSliderDown():
                self.saturation_slider.setValue(round(saturation * SATURATION_STEPS))
        finally:
            self._updating = False
        self.size_label.setText(f"{size} px ({size_image:.1f} in photo)")
        if brush is not None:
            self.brush_label.setText(f"{brush} px ({brush_image:.1f} in photo)")
        if saturation is not None:
            self.saturation_label.setText(f"× {saturation:.2f}")
            self.saturation_reset.setEnabled(saturation != 1.0)

    def show_swatches(self, lightness: float, recent, suggested) -> None:
        names = ["Model's prediction"] + ["Nearby"] * 3
        recent, suggested = list(recent), list(suggested)[: len(names)]
        rgbs = ab_to_rgb8_many(lightness, recent + suggested)
        self.recent.set_colours(
            [(ab, rgb, f"Recent: a {ab[0]:.1f}, b {ab[1]:.1f}")
             for ab, rgb in zip(recent, rgbs, strict=False)])
        self.suggested.set_colours(
            [(ab, rgb, f"{n}: a {ab[0]:.1f}, b {ab[1]:.1f}")
             for n, ab, rgb in zip(names, suggested, rgbs[len(recent):], strict=False)])
