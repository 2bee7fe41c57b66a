"""``python -m wgf``: the command line of :mod:`wgf.cli`."""

import sys

from .cli import main

sys.exit(main())
