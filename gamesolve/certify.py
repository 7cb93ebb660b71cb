"""Exact certification of a mixed profile: its largest regret in rational arithmetic.

Floating-point solvers (vertex enumeration, Lemke-Howson) compute equilibria approximately; this
module checks one exactly, in the spirit of the exact arithmetic of lrs (Avis, Rosenberg, Savani
& von Stengel 2010, "Enumeration of Nash equilibria for two-player games"). Every float payoff is
converted to the rational number it represents exactly (``Fraction(float)``); probabilities are
converted exactly too, or snapped to nearby fractions with small denominators, so that an
equilibrium with rational probabilities such as ``(1/3, 2/3)`` can certify as exactly zero.

>>> import gamesolve
>>> pennies = gamesolve.zero_sum([[1, -1], [-1, 1]])
>>> certify(pennies, gamesolve.MixedProfile.uniform(pennies))
Fraction(0, 1)
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike

from gamesolve.errors import InvalidPolicyError
from gamesolve.normal_form import MixedProfile, TensorGame, _strategies

__all__ = ["certify"]


def _rational_strategy(vec: np.ndarray, player: int, max_denominator: int | None) -> list[Fraction]:
    """Probabilities as exact fractions summing to exactly one."""
    if max_denominator is None:
        probs = [Fraction(float(p)) for p in vec]
    else:
        probs = [Fraction(float(p)).limit_denominator(max_denominator) for p in vec]
    probs = [max(p, Fraction(0)) for p in probs]
    total = sum(probs, Fraction(0))
    if total == 0:
        raise InvalidPolicyError(f"player {player}: strategy has no positive probability")
    return [p / total for p in probs]


def certify(
    game: TensorGame,
    profile: MixedProfile | Sequence[ArrayLike],
    *,
    max_denominator: int | None = None,
) -> Fraction:
    """The largest regret of a profile, computed exactly with :class:`fractions.Fraction`.

    The regret of player ``i`` is ``max_a u_i(a, sigma_{-i}) - u_i(sigma)``; the result is the
    maximum over players, so it is ``0`` exactly when the profile is an exact Nash equilibrium of
    the game whose payoffs are the floats' exact rational values.

    Args:
        game: Any normal-form game (N players; the cost is one pass over the support profiles,
            so keep games small).
        profile: One probability vector per player.
        max_denominator: ``None`` takes every float probability at its exact rational value;
            an integer snaps each one to the closest fraction with at most that denominator
            (:meth:`fractions.Fraction.limit_denominator`). Either way each vector is then
            rescaled (exactly) to sum to one.

    Returns:
        The largest regret, a nonnegative :class:`~fractions.Fraction`.

    Raises:
        InvalidPolicyError: The profile does not fit the game.
        ValueError: ``max_denominator`` < 1.
    """
    if max_denominator is not None and max_denominator < 1:
        raise ValueError(f"max_denominator must be at least 1, got {max_denominator!r}")
    strategies = _strategies(game, profile)
    n_players = game.num_players
    probs = [_rational_strategy(s, k, max_denominator) for k, s in enumerate(strategies)]
    supports = [[a for a, p in enumerate(pk) if p != 0] for pk in probs]
    payoffs = game.payoffs  # [P, A0, ..., A_{P-1}]
    cache: dict[float, Fraction] = {}

    def exact(value: float) -> Fraction:
        out = cache.get(value)
        if out is None:
            out = cache[value] = Fraction(value)
        return out

    worst = Fraction(0)
    for i in range(n_players):
        others = [k for k in range(n_players) if k != i]
        # q[a] = u_i(a, sigma_{-i}) for every pure action a of player i
        q = [Fraction(0)] * game.num_actions[i]
        for rest in itertools.product(*(supports[k] for k in others)):
            weight = Fraction(1)
            for k, a_k in zip(others, rest, strict=True):
                weight *= probs[k][a_k]
            index = list(rest)
            index.insert(i, 0)
            for a in range(game.num_actions[i]):
                index[i] = a
                q[a] += weight * exact(float(payoffs[(i, *index)]))
        value = sum((probs[i][a] * q[a] for a in supports[i]), Fraction(0))
        worst = max(worst, max(q) - value)
    return worst
