"""ColourU: user-guided colorization of black-and-white photographs.

The public API: ``Colorizer`` (load a model, colorize a photo at full resolution), ``Hint``
(a square colour hint in image pixels), ``load_hints`` / ``save_hints`` (the JSON format).

The names are imported on first use (PEP 562), so ``colouru --help`` or a usage error does not
wait for torch to load.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__version__ = "0.1.0"

__all__ = ["Colorizer", "Hint", "HintsFileError", "NoModelError", "load_hints", "save_hints",
           "__version__"]

_LAZY = {"Colorizer": "colouru.colorizer", "NoModelError": "colouru.colorizer",
         "Hint": "colouru.hints", "HintsFileError": "colouru.hints",
         "load_hints": "colouru.hints", "save_hints": "colouru.hints"}

if TYPE_CHECKING:
    from colouru.colorizer import Colorizer, NoModelError
    from colouru.hints import Hint, HintsFileError, load_hints, save_hints


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'colouru' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
