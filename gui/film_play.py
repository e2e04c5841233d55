"""Playing a film in the window: from a frame to the range's end (or the film's) in colour at
the working size, at the film's rate, as fast as the machine allows.

A frame is asked for only once the last one's colour is on screen, and then the frame due at
that moment, so a slow machine drops frames rather than falling behind. The clock starts when
the first frame's colour is on screen: decoding, carrying and colouring it are no part of the
film's time, so a short range is not over before anything is shown. When the hints of the
frame due are not carried there yet, the newest frame they are carried to is asked for
instead (``FrameSource.ready``; the next frame when none is newer than the one shown), while
the source goes on carrying them through the frames after it (``FrameSource.request``'s
``ahead``): a machine that carries slower than the film's rate still shows frames, as many as
it can colour, each one further on.

What is seen is one frame. A played frame's picture goes to the service to be coloured while
the views keep the frame before it (its grey picture, hint marks, place on the timeline and
colour); when its colour arrives, its picture, hints and place are shown with it, in the
same event.

The frames played are coloured as the export colours them, steady from frame to frame
(``film_service.PlaySteadier``: the export's ``temporal`` functions and settings, run on the
service's worker), so the flicker and drifting colour the export will have are seen before it
runs: afresh at the first frame played, as an export of the range from there starts; after
frames dropped, carried from the last frame shown (``temporal.Steadier``). A frame coloured
and never shown (playing stopped, or the time was up, before its colour arrived) steadies
nothing after it. The frame playing stops on keeps that colour (edits there too) until the
user moves to another frame, which is coloured on its own, as an export starting there
colours it.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer

from .film_service import PlaySteadier


class FilmPlayer(QObject):
    """Play and Stop for the window's film: ``c`` is its ``FilmController`` (the source, the
    views, the window ``c.w``)."""

    def __init__(self, c):
        super().__init__(c)
        self.c, self.w = c, c.w
        # start time (None until the first frame is shown), start and end frames, waiting
        # for a colour, frames shown, frames due
        self._play: dict | None = None
        self._steady: PlaySteadier | None = None  # from Play on, until the user moves
        self.fetching: int | None = None  # the frame asked of the source, not shown yet
        # a frame played whose colour is on its way: (index, L, image, hints, how), and the
        # service's photo before it ((L, prepared) of the frame on screen)
        self._coloured: tuple | None = None
        self._back: tuple | None = None
        self.clock = time.perf_counter  # what playing keeps time by (seconds)
        self._timer = QTimer(self, interval=10)
        self._timer.timeout.connect(self._tick)
        self.w.service.previewReady.connect(self._on_preview)
        self.w.service.jobFailed.connect(self._on_failed)

    @property
    def playing(self) -> bool:
        return self._play is not None

    @property
    def colouring(self) -> bool:
        """A frame played is being coloured: the service has its picture, not the views."""
        return self._coloured is not None

    @property
    def steady(self) -> tuple | None:
        """``(PlaySteadier, frame)``: the frame shown is coloured steady (``request_preview``'s
        ``steady``) while playing and on the frame it stopped on; None otherwise."""
        return None if self._steady is None else (self._steady, self.c.film.frame)

    def ahead(self, frame: int) -> int:
        """How far the source is to carry the hints on past ``frame`` (0: not playing)."""
        return 0 if self._play is None else max(0, self._play["end"] - frame)

    def end_steady(self) -> None:
        """The user moves: the frame is coloured on its own."""
        self._steady = None

    def play(self, end: int | None = None) -> None:
        """Play from this frame to ``end`` (default: the range's last frame when a range is
        set, else the film's last; from the range's first frame, or the film's, when this
        frame is outside the range or at its end)."""
        c, film = self.c, self.c.film
        if film is None:
            return
        first, last = 0, film.last
        if end is None and film.has_range:
            first, stop = film.export_range()
            last = stop - 1
        start = film.frame if first <= film.frame < last else first
        end = last if end is None else film.clamp(end)
        self._steady = PlaySteadier()
        self._play = {"t0": None, "start": start, "end": end, "waiting": True, "shown": 0,
                      "due": 0}
        self.w.act_play.setText("Sto&p")
        if start == film.frame and c.shown_frame == start:  # on screen: coloured again,
            if self.w.request_update() is None:  # steady's first
                self._shown_one()  # no model: the grey frames are played
        else:
            self._fetch(start)
        self._timer.start()

    def stop(self, recolour: bool = True) -> None:
        """Stop: the frame on screen stays, with its colour; a frame on its way is dropped
        (``recolour``: the frame on screen is coloured again if the service had moved on to
        it; not when the window moves on at once)."""
        played, self._play = self._play, None
        if played is None:
            return
        self._timer.stop()
        c, film = self.c, self.c.film
        if c.source is not None:
            c.source.stop_ahead()
        self.fetching = None
        self.w.act_play.setText("&Play")
        back, self._coloured, self._back = self._back, None, None
        if back is not None:  # the service goes back to the frame on screen
            self.w.service.set_lightness(*back)
        if film is not None and c.shown_frame == film.frame:
            c._asked = (film.frame, dict(film.keyframes))  # a frame still being decoded
            # to play is not shown
            if back is not None and recolour:
                self.w.request_update()
        elif film is not None:  # the frame on screen was itself on its way: asked again
            c._asked = None
            c._ask()
        if played["due"]:
            dropped = played["due"] - played["shown"]
            self.w.statusBar().showMessage(
                f"Played {played['shown']} of {played['due']} frames in colour"
                + (f" ({dropped} dropped to keep time)" if dropped else ""), 5000)

    def model_changed(self) -> None:
        """Another model: playing stops (the frame on its way was for the last model) and the
        frame is coloured on its own."""
        self._coloured = self._back = None
        self.stop(recolour=False)
        self._steady = None

    def _fetch(self, frame: int) -> None:
        self.fetching = frame
        self.c._ask()

    def colour(self, index: int, lightness, image, prepared, hints, how: str) -> None:
        """Frame ``index``, asked for to play, is decoded with its hints: the service colours
        it; the views show it once its colour arrives (``_on_preview``)."""
        w = self.w
        if self._back is None:  # not yet replaced by another frame played
            self._back = (w.session.photo.lightness, (w.service.colorizer, w.service.prepared))
        w.service.set_lightness(lightness, prepared)
        self._coloured = (index, lightness, image, hints, how)
        if w.service.request_preview(hints, w.session.saturation,
                                     steady=(self._steady, index)) is None:
            self._show_coloured()  # no model: the grey frame at once
            self._shown_one()

    def _show_coloured(self) -> None:
        """The frame played whose colour has arrived: its picture, hints and place, with it.
        The session moves while the frame is still pending (nothing asks for its colour
        again: it is here)."""
        index, lightness, image, hints, how = self._coloured
        c, session = self.c, self.w.session
        session.go_to_frame(index)
        session.set_frame_lightness(lightness)
        if how == "carried":
            session.show_carried(hints)
        self._coloured = self._back = self.fetching = None
        c.shown_how = how
        c._show_picture(index, image, keep_result=True)
        c._show_position()

    def _shown_one(self) -> None:
        """A frame played is on screen with its colour: the next may be asked for."""
        p = self._play
        if not p["waiting"]:
            return
        p["waiting"] = False
        p["shown"] += 1
        if p["t0"] is None:  # the first: the film's time starts now
            p["t0"] = self.clock()

    def _on_preview(self, *_args) -> None:
        film = self.c.film
        if film is None:
            return
        if self._coloured is not None:
            self._show_coloured()
        if self.c.shown_frame != film.frame:
            return
        if self._steady is not None:
            self._steady.shown(film.frame)
        if self._play is not None and self.fetching is None:
            self._shown_one()

    def _on_failed(self, _message: str) -> None:
        if self._play is not None:
            self.stop(recolour=False)

    def _tick(self) -> None:
        p, film = self._play, self.c.film
        if p is None or film is None or p["t0"] is None:
            return
        due = p["start"] + int((self.clock() - p["t0"]) * film.rate)
        if due > p["end"]:  # the time is up, even while a frame is on its way: every frame
            # of the range was due; its last frame stays on screen
            p["due"] = p["end"] - p["start"] + 1
            self.stop(recolour=False)
            self.c._go(p["end"])  # coloured steady from the last frame shown
            return
        if p["waiting"] or due <= film.frame:
            return
        p["due"] = due - p["start"] + 1  # the frames due so far, the first included
        p["waiting"] = True
        self._fetch(self._ready(due))

    def _ready(self, due: int) -> int:
        """The frame to ask for when ``due`` is due: it, or the newest before it whose hints
        are carried already; the next frame when none is newer than the one shown."""
        film, source = self.c.film, self.c.source
        ready = due if source is None else source.ready(due, film.keyframes,
                                                         self.w.service.colorizer is not None)
        return ready if ready > film.frame else film.frame + 1
