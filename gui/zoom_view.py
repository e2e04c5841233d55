"""A zoomable, pannable view of one image (scene units = image pixels), and ``ViewSync``, which
keeps several such views in step.

Zoom: Ctrl+wheel (about the cursor), ``zoom_in`` / ``zoom_out``, ``fit`` (follows the window
while on), ``actual_size`` (100%: one photo pixel per device pixel, whatever the scale
factor). Pan: middle-button drag, Space+drag, Shift+wheel, or the scroll bars. Plain wheel is
left to subclasses (``plain_wheel``).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QTransform
from PySide6.QtWidgets import QFrame, QGraphicsScene, QGraphicsView

MIN_ZOOM, MAX_ZOOM = 0.02, 32.0
STEP = 1.25


class ZoomView(QGraphicsView):
    viewChanged = Signal()  # zoom or scroll position changed
    zoomChanged = Signal(float)
    hovered = Signal(float, float)  # image coordinates under the cursor

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setBackgroundBrush(QColor(48, 48, 48))
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, False)
        self.setMouseTracking(True)
        self._fit = True
        self.sync: ViewSync | None = None
        self._pan_from: QPointF | None = None
        self._space = False
        self.horizontalScrollBar().valueChanged.connect(self.viewChanged)
        self.verticalScrollBar().valueChanged.connect(self.viewChanged)

    # -- image rectangle ----------------------------------------------------------------------
    def set_image_rect(self, width: int, height: int) -> None:
        self.scene().setSceneRect(QRectF(0, 0, width, height))
        if self._fit:
            self.fit()

    def image_point(self, pos) -> QPointF:
        """Viewport position -> image coordinates."""
        return self.mapToScene(pos.toPoint() if hasattr(pos, "toPoint") else pos)

    # -- zoom ---------------------------------------------------------------------------------
    @property
    def zoom(self) -> float:
        return self.transform().m11()

    @property
    def fitting(self) -> bool:
        return self._fit

    def set_zoom(self, zoom: float, fit: bool = False) -> None:
        zoom = min(MAX_ZOOM, max(MIN_ZOOM, zoom))
        self._fit = fit
        self.setTransform(QTransform.fromScale(zoom, zoom))
        self.zoomChanged.emit(zoom)
        self.viewChanged.emit()

    def zoom_in(self) -> None:
        self.set_zoom(self.zoom * STEP)

    def zoom_out(self) -> None:
        self.set_zoom(self.zoom / STEP)

    def actual_size(self) -> None:
        """100%: one photo pixel per device pixel (at a scale factor of 2, half a logical
        pixel), as in Photoshop and GIMP."""
        self.set_zoom(1.0 / self.devicePixelRatioF())

    @property
    def device_zoom(self) -> float:
        """Device pixels per photo pixel: what the window calls the zoom (1.0 = 100%)."""
        return self.zoom * self.devicePixelRatioF()

    def fit_zoom(self) -> float | None:
        """The zoom at which the whole image fits this view (None: nothing to fit)."""
        r, vp = self.sceneRect(), self.viewport().size()
        if r.isEmpty() or vp.width() < 2 or vp.height() < 2:
            return None
        return min((vp.width() - 2) / r.width(), (vp.height() - 2) / r.height())

    def fit(self) -> None:
        """Fit the image to the window, and keep fitting it while the window changes size.
        Views kept in step by a ``ViewSync`` fit together (at the zoom that suits all)."""
        if self.sync is not None:
            self.sync.fit()
            return
        zoom = self.fit_zoom()
        if zoom is None:
            self._fit = True
            return
        self.set_zoom(zoom, fit=True)
        self.centerOn(self.sceneRect().center())

    def resizeEvent(self, event):
        super().resizeEvent(event)
        if self._fit:
            self.fit()

    def wheelEvent(self, event):
        mods = event.modifiers()
        if mods & Qt.KeyboardModifier.ControlModifier:
            steps = event.angleDelta().y() / 120.0
            if steps:
                self.set_zoom(self.zoom * STEP ** steps)
            event.accept()
        elif mods & Qt.KeyboardModifier.ShiftModifier:
            bar = self.horizontalScrollBar()
            bar.setValue(bar.value() - event.angleDelta().y())
            event.accept()
        else:
            self.plain_wheel(event)

    def plain_wheel(self, event) -> None:
        super().wheelEvent(event)

    # -- pan ----------------------------------------------------------------------------------
    def keyPressEvent(self, event):
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = True
            self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            event.accept()
            return
        super().keyPressEvent(event)

    def keyReleaseEvent(self, event):
        if event.key() == Qt.Key.Key_Space and not event.isAutoRepeat():
            self._space = False
            self.restore_cursor()
            event.accept()
            return
        super().keyReleaseEvent(event)

    def restore_cursor(self) -> None:
        self.viewport().unsetCursor()

    def start_pan(self, event) -> bool:
        """Begin a pan for a middle-button or Space+left press; True if it did."""
        if event.button() == Qt.MouseButton.MiddleButton or (
                self._space and event.button() == Qt.MouseButton.LeftButton):
            self._pan_from = event.position()
            self.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            return True
        return False

    def mousePressEvent(self, event):
        if self.start_pan(event):
            event.accept()
            return
        super().mousePressEvent(event)

    def mouseMoveEvent(self, event):
        p = self.image_point(event.position())
        self.hovered.emit(p.x(), p.y())
        if self._pan_from is not None:
            delta = event.position() - self._pan_from
            self._pan_from = event.position()
            self.horizontalScrollBar().setValue(self.horizontalScrollBar().value() - delta.x())
            self.verticalScrollBar().setValue(self.verticalScrollBar().value() - delta.y())
            self._fit = False
            event.accept()
            return
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event):
        if self._pan_from is not None:
            self._pan_from = None
            if self._space:
                self.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            else:
                self.restore_cursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    @property
    def panning(self) -> bool:
        return self._pan_from is not None


class ViewSync:
    """Keeps views showing the same part of the image at the same zoom."""

    def __init__(self, *views: ZoomView):
        self.views = list(views)
        self._busy = False
        for v in self.views:
            v.sync = self
            v.viewChanged.connect(lambda v=v: self._follow(v))

    def fit(self) -> None:
        zooms = [z for z in (v.fit_zoom() for v in self.views) if z is not None]
        if not zooms:
            for v in self.views:
                v._fit = True
            return
        first = self.views[0]
        first.set_zoom(min(zooms), fit=True)
        first.centerOn(first.sceneRect().center())

    def _follow(self, source: ZoomView) -> None:
        if self._busy:
            return
        self._busy = True
        try:
            for v in self.views:
                if v is source:
                    continue
                v._fit = source.fitting
                if v.transform() != source.transform():
                    v.setTransform(source.transform())
                    v.zoomChanged.emit(source.zoom)
                v.horizontalScrollBar().setValue(source.horizontalScrollBar().value())
                v.verticalScrollBar().setValue(source.verticalScrollBar().value())
        finally:
            self._busy = False
