"""``python -m colouru``: the ``colouru`` command (also under launchers such as
``torchrun -m colouru colorize ...``)."""

import sys

from colouru.cli import main

sys.exit(main())
