"""``python -m gamesolve.cli``: the ``gamesolve`` command."""

import sys

from gamesolve.cli import main

sys.exit(main())
