"""Top-level entry points of the exact normal-form solvers (entry points of ``gamesolve.equilibria``)."""

from __future__ import annotations

from typing import Any

from gamesolve.registry import EQUILIBRIA_GROUP, plugin
from gamesolve.validation import check_choice

__all__ = ["correlated_equilibrium", "equilibria"]


def correlated_equilibrium(game: Any, **kwargs: Any) -> Any:
    """An optimal correlated or coarse correlated equilibrium by LP.

    See :func:`gamesolve.solvers.correlated.correlated_equilibrium` for the arguments (``kind="ce"|"cce"``,
    ``objective="welfare"`` or weights, ``epsilon``, ``constraints``, ``time_limit``). Any finite
    payoffs solve (each player's are rescaled by a power of two), silently.
    """
    return plugin(EQUILIBRIA_GROUP, "correlated")(game, **kwargs)


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
    return plugin(EQUILIBRIA_GROUP, method)(game, **kwargs)
