"""The ColourU desktop app (PySide6), installed as ``colouru.gui``.

Layout of the package (one job per module):

* ``session``  - the Qt-free document: photo, hints, selection, current colour and size.
* ``colours``  - Qt-free colour helpers: ab gamut grid, snapping, suggestions, display LUTs.
* ``recovery`` - Qt-free autosave of hints to a recovery file.
* ``commands`` / ``editor`` - undo commands and the hint-editing operations built on them.
* ``service``  - the one object that talks to the ``Colorizer`` (worker thread, numbered jobs).
* ``canvas``, ``result_view``, ``gamut_panel``, ``swatches``, ``colour_panel``,
  ``reference_view`` - one widget per job; ``zoom_view`` is their shared zoom/pan base.
* ``actions`` - the one helper that builds every ``QAction``; ``dialogs`` - every modal box;
  ``settings`` - what is remembered (``QSettings``); ``qt_images`` - numpy <-> QImage.
* ``main_window`` wires it all; ``app`` is the ``colouru-gui`` entry point.

Importing this package imports neither Qt nor torch.
"""
