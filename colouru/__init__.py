"""ColourU: user-guided colorization of black-and-white photographs.

The public API: ``Colorizer`` (load a model, colorize a photo at full resolution), ``Hint``
(a square colour hint in image pixels), ``Stroke`` (a brush stroke of one colour),
``load_hints`` / ``load_hints_doc`` / ``save_hints`` (the JSON format; the doc carries the
saturation too).

The names are imported on first use (PEP 562), so ``colouru --help`` or a usage error does not
wait for torch to load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

__all__ = ["Colorizer", "Hint", "HintsDoc", "HintsFileError", "NoModelError", "Stroke",
           "load_hints", "load_hints_doc", "save_hints", "__version__"]

_LAZY = {"Colorizer": "colouru.colorizer", "NoModelError": "colouru.colorizer",
         **{name: "colouru.hints" for name in ("Hint", "HintsDoc", "HintsFileError", "Stroke",
                                               "load_hints", "load_hints_doc", "save_hints")}}

if TYPE_CHECKING:
    from colouru.colorizer import Colorizer, NoModelError
    from colouru.hints import (
        Hint,
        HintsDoc,
        HintsFileError,
        Stroke,
        load_hints,
        load_hints_doc,
        save_hints,
    )


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'colouru' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
