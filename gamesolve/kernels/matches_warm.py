"""Imported by the local executor's fork server: loads the match kernels once before forking.

Workers forked from the server inherit the loaded kernels (see
:func:`gamesolve.kernels.matches.warm_up`). Importing this module anywhere else only costs the
load (well under a second, once per process).
"""

from __future__ import annotations

from gamesolve.kernels.matches import warm_up

warm_up()
