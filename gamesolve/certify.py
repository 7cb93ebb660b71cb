"""Exact arithmetic for equilibria: certification, exact rescaling, exact zero-sum solutions.

Floating-point solvers (vertex enumeration, Lemke-Howson) compute equilibria approximately; this
module checks one exactly, in the spirit of the exact arithmetic of lrs (Avis, Rosenberg, Savani
& von Stengel 2010, "Enumeration of Nash equilibria for two-player games"). Every float payoff is
converted to the rational number it represents exactly (``Fraction(float)``); probabilities are
converted exactly too, or snapped to nearby fractions with small denominators, so that an
equilibrium with rational probabilities such as ``(1/3, 2/3)`` can certify as exactly zero.

Two more tools serve the LP solvers, which must answer for any finite payoffs:

* :class:`PayoffScale` maps payoffs onto ``[0, 1]`` by a power of two, a shift and a second power
  of two. Multiplying by a power of two is exact in binary floating point (unless it underflows),
  so the scaled game has exactly the same equilibria as the original, whether its payoffs are
  ``1e308`` (where ``max - min`` overflows) or ``1e-300`` (where every difference is below any
  solver tolerance); only the shift rounds, by at most half an ulp of the range.
* :func:`exact_zero_sum` solves a small two-player zero-sum game in rational arithmetic, by the
  simplex method with Bland's rule (Bland 1977, "New finite pivoting rules for the simplex
  method", which cannot cycle) on von Neumann's positive form of the game. It is the fallback for
  games whose payoffs differ on scales below the resolution of a floating-point LP (``1e15`` next
  to ``1``), where the LP is exact only up to a tolerance relative to the largest payoff, but the
  equilibrium strategies are still well defined and can depend on the small differences.

>>> import gamesolve
>>> pennies = gamesolve.zero_sum([[1, -1], [-1, 1]])
>>> certify(pennies, gamesolve.MixedProfile.uniform(pennies))
Fraction(0, 1)
>>> exact_zero_sum([[1e15, 0], [0, 1]]).value
Fraction(1000000000000000, 1000000000000001)
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.errors import InvalidArgumentError, InvalidPolicyError
from gamesolve.normal_form import MixedProfile, TensorGame, profile_strategies

__all__ = ["ExactZeroSum", "PayoffScale", "binary_exponent", "certify", "exact_zero_sum", "payoff_scale"]


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
    strategies = profile_strategies(game, profile)
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


# ------------------------------------------------------------------------ exact rescaling


def binary_exponent(magnitude: float) -> int:
    """The exponent ``e`` with ``magnitude * 2**-e`` in ``[0.5, 1)``; ``0`` for ``0``.

    >>> binary_exponent(1e308), binary_exponent(1.0), binary_exponent(0.0)
    (1024, 1, 0)
    """
    if not math.isfinite(magnitude):
        raise InvalidArgumentError(f"magnitude must be a finite number, got {magnitude!r}")
    return math.frexp(abs(magnitude))[1] if magnitude != 0 else 0


def ldexp(value: float, exponent: int) -> float:
    """``value * 2**exponent`` as a float, ``±inf`` where that overflows (``math.ldexp`` raises)."""
    try:
        return math.ldexp(value, exponent)
    except OverflowError:
        return math.copysign(math.inf, value)


@dataclass(frozen=True)
class PayoffScale:
    """The exact affine map ``u -> ((u 2^-e) - low) 2^-e2`` that puts payoffs onto ``[0, 1)``.

    Equilibria of zero-sum games, and every equilibrium notion of a game whose players' payoffs
    are all mapped by one positive affine map, are unchanged by it. The two powers of two are
    exact; ``u 2^-e`` lies in ``[-1, 1]``, so the shift cannot overflow, and after it the spread is
    scaled up to ``[0.5, 1)`` again, so payoffs that differ by ``1e-300`` stay apart.

    Attributes:
        exponent: ``e``, with ``max |u| 2^-e`` in ``[0.5, 1)``.
        low: ``min(u) 2^-e``, in ``[-1, 1]``.
        exponent2: ``e2``, with ``(max(u) - min(u)) 2^-(e + e2)`` in ``[0.5, 1)``; ``0`` when
            every payoff is the same.
        top: The largest normalized payoff, ``(max(u) - min(u)) 2^-(e + e2)``: in ``[0.5, 1)``,
            or ``0`` when every payoff is the same.
    """

    exponent: int
    low: float
    exponent2: int
    top: float

    @property
    def constant(self) -> bool:
        """Whether every payoff is the same."""
        return self.top == 0

    @property
    def spread(self) -> float:
        """``max(u) - min(u)`` in the original units (``inf`` where it overflows)."""
        return self.difference(self.top)

    def normalize(self, values: ArrayLike) -> NDArray[np.float64]:
        """``values`` mapped by the scale (onto ``[0, 1)`` for the payoffs it was made from)."""
        shifted = np.ldexp(np.asarray(values, dtype=np.float64), -self.exponent) - self.low
        return np.asarray(np.ldexp(shifted, -self.exponent2), dtype=np.float64)

    def value(self, normalized: float) -> float:
        """A payoff (or an expected payoff) back in the original units."""
        return ldexp(ldexp(float(normalized), self.exponent2) + self.low, self.exponent)

    def difference(self, normalized: float) -> float:
        """A difference of payoffs (a gap, a regret) back in the original units (may be ``inf``)."""
        return ldexp(float(normalized), self.exponent + self.exponent2)


def payoff_scale(values: ArrayLike) -> PayoffScale:
    """The :class:`PayoffScale` of an array of finite payoffs.

    >>> s = payoff_scale([3.0, -1.0])
    >>> s.normalize([3.0, 1.0, -1.0]).tolist(), s.value(0.25), s.spread
    ([0.5, 0.25, 0.0], 1.0, 4.0)
    >>> payoff_scale([1e308, -1e308]).spread
    inf

    Raises:
        InvalidArgumentError: A payoff is NaN or infinite, or there is none.
    """
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0 or not np.isfinite(arr).all():
        raise InvalidArgumentError("payoffs must be a non-empty array of finite numbers")
    exponent = binary_exponent(float(np.abs(arr).max()))
    scaled = np.ldexp(arr, -exponent)  # [-1, 1]
    low = float(scaled.min())
    high = float((scaled - low).max())  # [0, 2]
    if high == 0:
        return PayoffScale(exponent=exponent, low=low, exponent2=0, top=0.0)
    exponent2 = binary_exponent(high)
    return PayoffScale(exponent=exponent, low=low, exponent2=exponent2, top=math.ldexp(high, -exponent2))


# ---------------------------------------------------------------- exact zero-sum solutions


@dataclass(frozen=True)
class ExactZeroSum:
    """An exact equilibrium of a two-player zero-sum game with rational (float-valued) payoffs.

    Attributes:
        row: The row player's maximin strategy, as fractions summing to exactly 1.
        column: The column player's minimax strategy.
        value: The game value for the row player.
        pivots: Simplex pivots taken.
    """

    row: tuple[Fraction, ...]
    column: tuple[Fraction, ...]
    value: Fraction
    pivots: int


def exact_zero_sum(matrix: ArrayLike, *, deadline: float | None = None) -> ExactZeroSum | None:
    """Solve ``max_x min_y x^T A y`` exactly, every float payoff taken at its exact rational value.

    Von Neumann's positive form: with ``B = A - min(A) + 1 > 0``, the column player's LP is
    ``max 1^T w`` subject to ``B w <= 1``, ``w >= 0``; its optimum is ``1 / v_B`` (``v_B`` the
    value of ``B``), ``y = w / 1^T w``, and the optimal duals ``u`` (the reduced costs of the
    slacks) give the row player's strategy ``x = u / 1^T u``. The slack basis is feasible, so no
    first phase is needed, and Bland's rule (smallest improving column, ties in the ratio test to
    the smallest basic variable) guarantees termination. Each pivot costs ``O(m (m + n))``
    operations on fractions, so this is meant for small games (a few hundred entries).

    Args:
        matrix: ``[m, n]`` finite payoffs of the row player.
        deadline: A :func:`time.perf_counter` instant; the solve gives up (returns ``None``) when
            it passes.

    Returns:
        The exact equilibrium, or ``None`` when ``deadline`` passed first.

    Raises:
        InvalidArgumentError: ``matrix`` is not a non-empty 2-D array of finite numbers.
    """
    a = np.asarray(matrix, dtype=np.float64)
    if a.ndim != 2 or a.size == 0 or not np.isfinite(a).all():
        raise InvalidArgumentError(
            f"matrix must be a non-empty 2-D array of finite numbers, got shape {a.shape}"
        )
    m, n = a.shape
    exact = [[Fraction(float(v)) for v in row] for row in a.tolist()]
    shift = 1 - min(min(row) for row in exact)
    # tableau rows: [B | I | 1]; columns 0..n-1 are w, n..n+m-1 the slacks, the last the right side
    tab = [
        [*(v + shift for v in row), *(Fraction(int(i == k)) for k in range(m)), Fraction(1)]
        for i, row in enumerate(exact)
    ]
    obj = [Fraction(-1)] * n + [Fraction(0)] * (m + 1)  # reduced costs of max 1^T w; obj[-1] = 1^T w
    basis = list(range(n, n + m))
    pivots = 0
    while True:
        enter = next((j for j in range(n + m) if obj[j] < 0), -1)
        if enter < 0:
            break
        if deadline is not None and time.perf_counter() > deadline:
            return None
        leave, best = -1, Fraction(0)
        for i, row in enumerate(tab):
            coef = row[enter]
            if coef > 0:
                ratio = row[-1] / coef
                if leave < 0 or ratio < best or (ratio == best and basis[i] < basis[leave]):
                    leave, best = i, ratio
        # B > 0, so every column has a positive entry: the LP is bounded and leave >= 0
        pivot_row = tab[leave]
        coef = pivot_row[enter]
        pivot_row = [v / coef for v in pivot_row]
        tab[leave] = pivot_row
        for i, row in enumerate(tab):
            factor = row[enter]
            if i != leave and factor != 0:
                tab[i] = [v - factor * p for v, p in zip(row, pivot_row, strict=True)]
        factor = obj[enter]
        obj = [v - factor * p for v, p in zip(obj, pivot_row, strict=True)]
        basis[leave] = enter
        pivots += 1
    total = obj[-1]  # 1^T w = 1 / v_B > 0
    w = [Fraction(0)] * n
    for i, var in enumerate(basis):
        if var < n:
            w[var] = tab[i][-1]
    u = obj[n : n + m]  # duals of B w <= 1, summing to the same optimum
    return ExactZeroSum(
        row=tuple(v / total for v in u),
        column=tuple(v / total for v in w),
        value=1 / total - shift,
        pivots=pivots,
    )
