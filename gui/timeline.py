"""The film's timeline under the photo: a slider over the frames with the keyframes marked,
a Play button and the frame's number and time. Dragging the slider asks for frames as the
hand moves (the window decodes only the newest); dragging a keyframe's mark moves the keyframe
(``keyMoved``); the range to export is a band under the groove. The keys (arrows,
Shift+arrows, Home, End) are the window's actions, so they work wherever the focus is."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QColor, QFontMetrics, QPainter, QPen
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
RANGE_COLOUR = QColor(60, 140, 230, 150)  # the range to export
MARK_HEIGHT = 8  # px at the slider's foot where a keyframe's mark is taken to drag it


class FrameSlider(QSlider):
    """A horizontal slider that marks the keyframes under its groove (a mark dragged moves
    its keyframe: ``keyMoved(from, to)`` when it is let go) and the range to export."""

    keyMoved = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(Qt.Orientation.Horizontal, parent)
        self.keys: list[int] = []
        self.span: tuple[int, int] | None = None  # the range to export, both ends included
        self._dragged: list[int] | None = None  # [keyframe, where it is now] while dragged
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

    def frame_at(self, x: float) -> int:
        """The frame whose place on the slider is nearest ``x``."""
        if self.maximum() <= self.minimum():
            return self.minimum()
        x0, x1 = self.x_of(self.minimum()), self.x_of(self.maximum())
        t = (x - x0) / max(x1 - x0, 1)
        return min(max(round(self.minimum() + t * (self.maximum() - self.minimum())),
                       self.minimum()), self.maximum())

    def key_near(self, x: float, y: float) -> int | None:
        """The keyframe whose mark is under ``(x, y)``, if any (the nearest within 4 px)."""
        if y < self.height() - MARK_HEIGHT or not self.keys:
            return None
        best = min(self.keys, key=lambda k: abs(self.x_of(k) - x))
        return best if abs(self.x_of(best) - x) <= 4 else None

    def mousePressEvent(self, event):
        pos = event.position()
        key = (self.key_near(pos.x(), pos.y())
               if event.button() == Qt.MouseButton.LeftButton else None)
        if key is None:
            super().mousePressEvent(event)
            return
        self._dragged = [key, key]
        event.accept()

    def mouseMoveEvent(self, event):
        if self._dragged is None:
            super().mouseMoveEvent(event)
            return
        self._dragged[1] = self.frame_at(event.position().x())
        self.update()

    def mouseReleaseEvent(self, event):
        if self._dragged is None:
            super().mouseReleaseEvent(event)
            return
        (key, to), self._dragged = self._dragged, None
        self.update()
        if to != key:
            self.keyMoved.emit(key, to)

    def paintEvent(self, event):
        super().paintEvent(event)
        p = QPainter(self)
        h = self.height()
        if self.span is not None:
            a, b = self.x_of(self.span[0]), self.x_of(self.span[1])
            p.fillRect(QRect(a - 1, h - 10, b - a + 3, 2), RANGE_COLOUR)
        p.setPen(QPen(KEY_COLOUR.darker(150), 1))
        p.setBrush(KEY_COLOUR)
        for k in self.keys:
            if self._dragged is not None and k == self._dragged[0]:
                k = self._dragged[1]
            x = self.x_of(k)
            p.drawRect(QRect(x - 2, h - 7, 4, 6))
        p.end()


class Timeline(QWidget):
    """Play button, frame slider with keyframe marks, and the frame's label."""

    frameChanged = Signal(int)  # the user moved the slider
    keyMoved = Signal(int, int)  # the user dragged keyframe ``from``'s mark to frame ``to``

    def __init__(self, play_action, parent=None):
        super().__init__(parent)
        self.play = QToolButton()
        self.play.setDefaultAction(play_action)
        self.slider = FrameSlider()
        self.slider.valueChanged.connect(self.frameChanged)
        self.slider.keyMoved.connect(self.keyMoved)
        self.label = QLabel()
        self.label.setMinimumWidth(220)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(6, 2, 6, 2)
        lay.addWidget(self.play)
        lay.addWidget(self.slider, 1)
        lay.addWidget(self.label)

    def set_range(self, frames: int, step: int, longest: str = "") -> None:
        """A film of ``frames`` frames; Page Up / Down on the slider move by ``step``.
        ``longest``: the longest label it will show, whose width the label keeps (so the
        slider does not change its width, and its handle jump, as the text changes)."""
        if longest:
            self.label.setFixedWidth(QFontMetrics(self.label.font()).horizontalAdvance(
                longest) + 8)
        # The button as wide as its longer text (Play, Stop): the slider stays put as it plays.
        fm = self.play.fontMetrics()
        self.play.setFixedWidth(self.play.sizeHint().width() + abs(
            fm.horizontalAdvance("Stop") - fm.horizontalAdvance("Play")))
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

    def set_span(self, span: tuple[int, int] | None) -> None:
        """The range to export, both ends included (None: none set)."""
        self.slider.span = span
        self.slider.update()

    @property
    def dragging(self) -> bool:
        return self.slider.isSliderDown()
