"""``python -m numgan``: the ``numgan`` command line (:mod:`numgan.cli`), e.g. ``python -m numgan train``."""
import sys

from .cli import main

sys.exit(main())
