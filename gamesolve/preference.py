"""Preference games: Nash learning from (human) preference feedback.

A preference game over ``n`` responses holds a matrix ``P`` with ``P[i, j]`` the probability that
response ``i`` is preferred to response ``j`` (``P + P^T = 1``, so ``P[i, i] = 1/2``), a reference
policy ``pi_ref`` with full support and a regularization ``beta >= 0``. Policies play the
symmetric two-player game

``J(pi, pi') = P(pi > pi') - beta KL(pi || pi_ref) + beta KL(pi' || pi_ref)``,

whose unique symmetric equilibrium ``pi*_beta`` solves
``pi*(y) ∝ pi_ref(y) exp(P(y > pi*) / beta)`` (Munos et al. 2024, "Nash Learning from Human
Feedback"). With ``beta = 0`` it is the symmetric zero-sum matrix game ``P - 1/2`` (the von
Neumann winner).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.errors import InvalidPolicyError, MalformedGameError
from gamesolve.normal_form import TensorGame, zero_sum
from gamesolve.spec import GameKind, GameSpec, Utility

__all__ = ["PreferenceGame", "kl_divergence", "preference_game"]


def kl_divergence(p: ArrayLike, q: ArrayLike) -> float:
    """``KL(p || q)`` for probability vectors (terms with ``p = 0`` count 0)."""
    pa = np.asarray(p, dtype=np.float64)
    qa = np.asarray(q, dtype=np.float64)
    mask = pa > 0
    return float(np.sum(pa[mask] * (np.log(pa[mask]) - np.log(np.maximum(qa[mask], 1e-300)))))


@dataclass(frozen=True, eq=False)
class PreferenceGame:
    """A preference game (see the module docstring). Build one with :func:`preference_game`.

    Attributes:
        preference: ``[n, n]`` float64, ``P[i, j] = P(y_i > y_j)``, read-only.
        reference: ``[n]`` float64 reference policy, read-only.
        beta: Regularization strength (0 = unregularized).
        spec: The game's static description.
        names: A name per response.
    """

    preference: NDArray[np.float64]
    reference: NDArray[np.float64]
    beta: float
    spec: GameSpec
    names: tuple[str, ...]

    @property
    def num_responses(self) -> int:
        """Number of responses ``n``."""
        return int(self.preference.shape[0])

    @functools.cached_property
    def matrix_game(self) -> TensorGame:
        """The unregularized symmetric zero-sum game with row payoffs ``P - 1/2``."""
        return zero_sum(
            self.preference - 0.5, name=f"{self.spec.name}/matrix", action_names=[self.names, self.names]
        )

    def check_policy(self, policy: ArrayLike) -> NDArray[np.float64]:
        """``policy`` as a validated probability vector over the responses."""
        pi = np.asarray(policy, dtype=np.float64)
        if pi.shape != (self.num_responses,) or not np.all(np.isfinite(pi)) or np.any(pi < 0):
            raise InvalidPolicyError(f"policy must be a non-negative vector of {self.num_responses} numbers")
        if abs(float(pi.sum()) - 1.0) > 1e-6:
            raise InvalidPolicyError(f"policy sums to {float(pi.sum())!r}, expected 1")
        return pi

    def win_rates(self, opponent: ArrayLike) -> NDArray[np.float64]:
        """``[n]``: ``P(y > opponent)`` for every response ``y``."""
        return self.preference @ self.check_policy(opponent)

    def exploitability(self, policy: ArrayLike) -> float:
        """Unregularized: ``max_y P(y > pi) - 1/2`` (0 exactly at a von Neumann winner)."""
        return float(self.win_rates(policy).max()) - 0.5

    def regularized_exploitability(self, policy: ArrayLike, beta: float | None = None) -> float:
        """``max_pi' J(pi', pi) - J(pi, pi)`` in the ``beta``-regularized game (0 only at ``pi*_beta``).

        Equals ``beta log sum_y pi_ref(y) exp(P(y > pi) / beta) + beta KL(pi || pi_ref) - 1/2``.
        """
        b = self.beta if beta is None else beta
        pi = self.check_policy(policy)
        if b == 0:
            return self.exploitability(pi)
        logits = np.log(self.reference) + self.preference @ pi / b
        top = float(logits.max())
        return (
            b * (top + math.log(float(np.exp(logits - top).sum())))
            + b * kl_divergence(pi, self.reference)
            - 0.5
        )

    def regularized_equilibrium(
        self, *, tol: float = 1e-14, max_iter: int = 1_000_000
    ) -> NDArray[np.float64]:
        """``pi*_beta`` by damped fixed-point iteration of ``pi ∝ pi_ref exp(P(. > pi) / beta)``.

        Raises:
            MalformedGameError: ``beta`` is 0 (use an LP on :attr:`matrix_game` instead).
        """
        if self.beta <= 0:
            raise MalformedGameError("regularized_equilibrium needs beta > 0")
        pi = self.reference.copy()
        log_ref = np.log(self.reference)
        damping = min(1.0, self.beta)  # the map is (1/(2 beta))-Lipschitz; damp below 1
        for _ in range(max_iter):
            logits = log_ref + self.preference @ pi / self.beta
            target = np.exp(logits - logits.max())
            target /= target.sum()
            new = (1 - damping) * pi + damping * target
            if float(np.abs(new - pi).max()) < tol:
                return new
            pi = new
        return pi


def preference_game(
    preference: ArrayLike,
    *,
    reference: ArrayLike | None = None,
    beta: float = 0.1,
    name: str = "preference",
    names: Sequence[str] | None = None,
) -> PreferenceGame:
    """Build a preference game.

    Args:
        preference: ``[n, n]`` with entries in ``[0, 1]`` and ``P + P^T = 1``.
        reference: Reference policy with full support (default uniform).
        beta: Regularization, ``>= 0``.
        name: Game name.
        names: A name per response.

    Raises:
        MalformedGameError: Shape, range or complementarity violated; reference not a full-support
            distribution; negative beta.
    """
    try:
        p = np.array(preference, dtype=np.float64)
    except (TypeError, ValueError):
        raise MalformedGameError("preference must be a numeric [n, n] matrix") from None
    if p.ndim != 2 or p.shape[0] != p.shape[1] or p.shape[0] < 1:
        raise MalformedGameError(f"preference must be a square [n, n] matrix, got shape {p.shape}")
    if not np.all(np.isfinite(p)) or np.any(p < 0) or np.any(p > 1):
        raise MalformedGameError("preference entries must be probabilities in [0, 1]")
    if not np.allclose(p + p.T, 1.0, atol=1e-9):
        raise MalformedGameError("preference must satisfy P[i, j] + P[j, i] = 1 (so P[i, i] = 1/2)")
    n = p.shape[0]
    ref = np.full(n, 1.0 / n) if reference is None else np.array(reference, dtype=np.float64)
    if (
        ref.shape != (n,)
        or not np.all(np.isfinite(ref))
        or np.any(ref <= 0)
        or abs(float(ref.sum()) - 1) > 1e-9
    ):
        raise MalformedGameError(f"reference must be a full-support probability vector of length {n}")
    if not (math.isfinite(beta) and beta >= 0):
        raise MalformedGameError(f"beta must be a number >= 0, got {beta!r}")
    labels = tuple(str(x) for x in names) if names is not None else tuple(f"y{i}" for i in range(n))
    if len(labels) != n:
        raise MalformedGameError(f"names must have {n} entries, got {len(labels)}")
    for arr in (p, ref):
        arr.setflags(write=False)
    spec = GameSpec(
        name=name, kind=GameKind.PREFERENCE, num_players=2, utility=Utility.CONSTANT_SUM, simultaneous=True
    )
    return PreferenceGame(preference=p, reference=ref, beta=float(beta), spec=spec, names=labels)
