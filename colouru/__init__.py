"""ColourU: user-guided colorization of black-and-white photographs.

The public API: ``Colorizer`` (load a model, colorize a photo at full resolution), ``Hint``
(a square colour hint in image pixels), ``load_hints`` / ``save_hints`` (the JSON format).
"""

__version__ = "0.1.0"

from colouru.colorizer import Colorizer, NoModelError  # noqa: E402
from colouru.hints import Hint, HintsFileError, load_hints, save_hints  # noqa: E402

__all__ = ["Colorizer", "Hint", "HintsFileError", "NoModelError", "load_hints", "save_hints",
           "__version__"]
