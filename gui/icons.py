"""Icons the platform style lacks: undo and redo as curved arrows (the style's back and forward
arrows read as previous and next photo). The desktop theme's own icons are used where there
is a theme."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPainterPath, QPen, QPixmap, QPolygonF


def _curved_arrow(size: int, colour: QColor, mirrored: bool) -> QPixmap:
    """A hook-shaped arrow turning back to the left (``mirrored``: to the right)."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    if mirrored:
        p.translate(size, 0)
        p.scale(-1, 1)
    s = size / 32.0
    p.scale(s, s)
    path = QPainterPath(QPointF(25, 26))
    path.arcTo(QRectF(9, 8, 18, 18), -30, 180)  # up and over, ending on the left
    path.lineTo(QPointF(11, 17))
    pen = QPen(colour, 3.2, Qt.PenStyle.SolidLine, Qt.PenCapStyle.RoundCap,
               Qt.PenJoinStyle.RoundJoin)
    p.setPen(pen)
    p.drawPath(path)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(colour)
    p.drawPolygon(QPolygonF([QPointF(3, 14), QPointF(13, 10), QPointF(12, 22)]))
    p.end()
    return pm


def undo_icon(redo: bool = False, colour: QColor | None = None) -> QIcon:
    """Undo (or redo) from the desktop theme, else drawn as a curved arrow."""
    theme = QIcon.ThemeIcon.EditRedo if redo else QIcon.ThemeIcon.EditUndo
    if QIcon.hasThemeIcon(theme):
        return QIcon.fromTheme(theme)
    colour = colour or QColor(70, 70, 70)
    icon = QIcon()
    for size in (16, 24, 32, 48):
        icon.addPixmap(_curved_arrow(size, colour, mirrored=redo))
    return icon
