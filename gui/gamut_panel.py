"""The ab gamut panel: the a-b colour plane at the lightness of the point being coloured.

Cells whose colour does not exist in sRGB at that lightness are blanked (hatched); a click or
drag picks a colour, snapped into the gamut by lowering its chroma (hue kept). The current
colour is ringed; the model's suggestion for the point is marked with a small diamond.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QPainter, QPen, QPixmap, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

from .colours import AB_RANGE, gamut_grid, snap_to_gamut
from .qt_images import to_qimage

PLANES_KEPT = 16  # planes drawn for recent lightnesses (a hint dragged to and fro reuses them)


class GamutPanel(QWidget):
    colourPicked = Signal(object, bool)  # (a, b), still dragging
    pickFinished = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.lightness = 50.0
        self.ab = (0.0, 0.0)
        self.suggestion: tuple[float, float] | None = None
        self._planes: OrderedDict = OrderedDict()  # key -> QPixmap: hatching, plane, axes
        self._hatching: tuple[tuple[int, int], QPixmap] | None = None  # (size, pixmap)
        self._dragging = False
        self.setMinimumSize(200, 200)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setCursor(Qt.CursorShape.CrossCursor)
        self.setToolTip("The colours that exist at the selected point's lightness (a across, "
                        "b up).\nClick or drag to pick; hatched cells do not exist in sRGB "
                        "there.\nRing: current colour · diamond: the model's suggestion")

    @property
    def dragging(self) -> bool:
        return self._dragging

    def sizeHint(self) -> QSize:
        return QSize(280, 280)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, w: int) -> int:
        return w

    # -- state --------------------------------------------------------------------------------
    def set_state(self, lightness: float, ab, suggestion=None) -> None:
        state = (float(lightness), tuple(ab), suggestion)
        if state == (self.lightness, self.ab, self.suggestion):
            return  # nothing to redraw (a hint dragged over even lightness says this often)
        self.lightness, self.ab, self.suggestion = state
        self.update()

    # -- geometry -----------------------------------------------------------------------------
    def plane_rect(self) -> QRectF:
        side = min(self.width(), self.height()) - 8
        return QRectF((self.width() - side) / 2, (self.height() - side) / 2, side, side)

    def ab_to_pos(self, ab) -> QPointF:
        r = self.plane_rect()
        return QPointF(r.left() + (ab[0] + AB_RANGE) / (2 * AB_RANGE) * r.width(),
                       r.top() + (AB_RANGE - ab[1]) / (2 * AB_RANGE) * r.height())

    def pos_to_ab(self, pos: QPointF) -> tuple[float, float]:
        r = self.plane_rect()
        a = (pos.x() - r.left()) / r.width() * 2 * AB_RANGE - AB_RANGE
        b = AB_RANGE - (pos.y() - r.top()) / r.height() * 2 * AB_RANGE
        clip = lambda v: min(AB_RANGE, max(-AB_RANGE, v))
        return clip(a), clip(b)

    # -- painting -----------------------------------------------------------------------------
    def _plane_pixmap(self) -> QPixmap:
        """The plane at this size and lightness, drawn once (a dragged hint repaints this
        panel at every step, mostly at another lightness: the last ``PLANES_KEPT`` are kept)
        over the hatching, drawn once per size (its fill alone took a few milliseconds)."""
        key = (self.width(), self.height(), round(self.lightness))
        pix = self._planes.get(key)
        if pix is None:
            r = self.plane_rect()
            if self._hatching is None or self._hatching[0] != key[:2]:
                hatching = QPixmap(self.size())
                hatching.fill(Qt.GlobalColor.transparent)
                q = QPainter(hatching)
                q.fillRect(r, QBrush(QColor(70, 70, 70), Qt.BrushStyle.BDiagPattern))
                q.end()
                self._hatching = (key[:2], hatching)
            pix = self._hatching[1].copy()
            q = QPainter(pix)
            rgb, ok = gamut_grid(key[2])
            q.drawImage(r, to_qimage(np.concatenate([rgb, (ok * 255).astype(np.uint8)[..., None]],
                                                    axis=2)))
            q.setPen(QPen(QColor(0, 0, 0, 90), 1))
            c = self.ab_to_pos((0, 0))
            q.drawLine(QPointF(r.left(), c.y()), QPointF(r.right(), c.y()))
            q.drawLine(QPointF(c.x(), r.top()), QPointF(c.x(), r.bottom()))
            q.end()
            self._planes[key] = pix
            while len(self._planes) > PLANES_KEPT:
                self._planes.popitem(last=False)
        self._planes.move_to_end(key)
        return pix

    def paintEvent(self, event):
        p = QPainter(self)
        r = self.plane_rect()
        p.drawPixmap(0, 0, self._plane_pixmap())
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        if self.suggestion is not None:
            s = self.ab_to_pos(self.suggestion)
            diamond = QPolygonF([s + QPointF(0, -5), s + QPointF(5, 0), s + QPointF(0, 5),
                                 s + QPointF(-5, 0)])
            p.setPen(QPen(QColor(255, 255, 255), 1))
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.drawPolygon(diamond)
        m = self.ab_to_pos(self.ab)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.setPen(QPen(QColor(0, 0, 0), 3))
        p.drawEllipse(m, 6, 6)
        p.setPen(QPen(QColor(255, 255, 255), 1.5))
        p.drawEllipse(m, 6, 6)
        p.setPen(QColor(20, 20, 20))
        p.drawText(r.adjusted(4, 2, -4, -2), Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft,
                   f"L {self.lightness:.0f}")
        p.end()

    # -- mouse --------------------------------------------------------------------------------
    def _pick(self, pos: QPointF, dragging: bool) -> None:
        ab = snap_to_gamut(self.lightness, self.pos_to_ab(pos))
        self.ab = ab
        self.update()
        self.colourPicked.emit(ab, dragging)

    def mousePressEvent(self, event):
        if event.button() == Qt.MouseButton.LeftButton:
            self._dragging = True
            self._pick(event.position(), False)

    def mouseMoveEvent(self, event):
        if self._dragging:
            self._pick(event.position(), True)

    def mouseReleaseEvent(self, event):
        if self._dragging and event.button() == Qt.MouseButton.LeftButton:
            self._dragging = False
            self.pickFinished.emit()
