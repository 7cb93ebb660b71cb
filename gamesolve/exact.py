"""Top-level entry points of the exact normal-form solvers (imported from ``solvers`` on first use)."""

from __future__ import annotations

import importlib
from typing import Any

from gamesolve.validation import check_choice

__all__ = ["correlated_equilibrium", "equilibria"]


def correlated_equilibrium(game: Any, **kwargs: Any) -> Any:
    """An optimal correlated or coarse correlated equilibrium by LP.

    See :func:`gamesolve.solvers.correlated.correlated_equilibrium` for the arguments (``kind="ce"|"cce"``,
    ``objective="welfare"`` or weights, ``epsilon``, ``constraints``, ``time_limit``). Any finite
    payoffs solve (each player's are rescaled by a power of two), silently.
    """
    module = importlib.import_module("gamesolve.solvers.correlated")
    return module.correlated_equilibrium(game, **kwargs)


def equilibria(game: Any, method: str = "enumerate", **kwargs: Any) -> Any:
    """Nash equilibria by ``"enumerate"``, ``"lemke-howson"`` or ``"homotopy"``.

    ``"enumerate"`` lists all equilibria and ``"lemke-howson"`` one per label (two-player games);
    ``"homotopy"`` returns one equilibrium of a game with any number of players, the limit of the
    logit QRE principal branch (:class:`gamesolve.solvers.homotopy.NashHomotopy`; options ``tolerance``,
    ``max_steps``, ``first_step``, ``time_limit``), and raises ``GamesolveError`` when it finds none
    within the limits.

    Returns:
        A list of :class:`~gamesolve.normal_form.MixedProfile`.

    Raises:
        InvalidArgumentError: ``method`` is none of the three.
    """
    method = check_choice("method", method, ("enumerate", "lemke-howson", "homotopy"))
    if method == "enumerate":
        return importlib.import_module("gamesolve.solvers.enumeration").enumerate_equilibria(game, **kwargs)
    if method == "lemke-howson":
        return importlib.import_module("gamesolve.solvers.lemke_howson").all_labels(game, **kwargs)
    return importlib.import_module("gamesolve.solvers.homotopy").nash_homotopy(game, **kwargs)
