"""The film's timeline under the photo: a slider over the frames with the keyframes marked,
a Play button and the frame's number and time. Dragging the slider asks for frames as the
hand moves (the window decodes only the newest); the keys (arrows, Shift+arrows, Home, End)
are the window's actions, so they work wherever the focus is."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QToolButton,
    QWidget,
)

KEY_COLOUR = QColor(230, 120, 20)  # keyframe marks


class FrameSlider(QSlider):
    """A horizontal slider that marks the keyframes under its groove."""

    def __init__(self, parent=None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.keys: list[int] = []
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the window's actions take the keys
        self.setMinimumHeight(28)

    def x_of(self, frame: int) -> int:
        """The slider's x for ``frame`` (the handle's centre there)."""
        opt = QStyleOptionSlider()
        self.initStyleOption(opt)
        groove = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                             QStyle.SubControl.SC_SliderGroove, self)
        handle = self.style().subControlRect(QStyle.ComplexControl.CC_Slider, opt,
                                             QStyle.SubControl.SC_SliderHandle, self)
        span = max(groove.width() - handle.width(), 1)
        pos = QStyle.sliderPositionFromValue(self.minimum(), self.maximum(), frame, span)
        return groove.x() + handle.width() // 2 + pos

    def paintEvent(self, event):
        super().paintEvent(event)
        if not self.keys:
            return
        p = QPainter(self)
        p.setPen(QPen(KEY_COLOUR.darker(150), 1))
        p.setBrush(KEY_COLOUR)
        h = self.height()
        for k in self.keys:
            x = self.x_of(k)
            p.drawRect(QRect(x - 2, h - 7, 4, 6))
        p.end()


class Timeline(QWidget):
    """Play button, frame slider with keyframe marks, and the frame's label."""

    frameChanged = Signal(int)  # the user moved the slider

    def __init__(self, play_action, parent=None):
        super().__init__(parent)
        self.play = QToolButton()
        self.play.setDefaultAction(play_action)
        self.slider = FrameSlider()
        self.slider.valueChanged.connect(self.frameChanged)
        self.label = QLabel()
        self.label.setMinimumWidth(220)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        lay.addWidget(self.play)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.label)

    def set_range(self, frames: int, step: int) -> None:
        """A film of ``frames`` frames; Page Up / Down on the slider move by ``step``."""
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(frames - 1, 0))
        self.slider.setPageStep(step)
        self.slider.setValue(0)
        self.slider.blockSignals(False)

    def show_frame(self, frame: int, text: str) -> None:
        """Where the film is (without telling ``frameChanged`` again)."""
        if self.slider.value() != frame:
            self.slider.blockSignals(True)
            self.slider.setValue(frame)
            self.slider.blockSignals(False)
        self.label.setText(text)

    def set_keys(self, keys: Iterable[int]) -> None:
        self.slider.keys = sorted(keys)
        self.slider.update()

    @property
    def dragging(self) -> bool:
        return self.slider.isSliderDown()
