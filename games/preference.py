"""Preference-game generators: random intransitive preferences with a transitive part.

``random_preference_game(rng, n)`` draws Bradley-Terry scores ``s`` (the transitive part) and a
random skew-symmetric matrix ``S`` (the intransitive part, cycles like rock-paper-scissors) and
sets ``P[i, j] = sigmoid(transitivity * (s_i - s_j) + intransitivity * S[i, j])``, which satisfies
``P + P^T = 1`` exactly. ``cyclic_preference_game(n)`` is the fully intransitive tournament where
each response beats the next ``(n - 1) / 2`` ones (rock-paper-scissors for ``n = 3``).
"""

from __future__ import annotations

import numpy as np

from gamesolve.errors import MalformedGameError
from gamesolve.games.normal_form import check_rng
from gamesolve.preference import PreferenceGame, preference_game

__all__ = ["cyclic_preference_game", "random_preference_game"]


def random_preference_game(
    rng: np.random.Generator,
    n: int,
    *,
    intransitivity: float = 1.0,
    transitivity: float = 1.0,
    beta: float = 0.1,
    reference: str = "random",
) -> PreferenceGame:
    """A seeded random preference game over ``n`` responses.

    Args:
        rng: The random generator (the only source of randomness).
        n: Number of responses (>= 2).
        intransitivity: Scale of the skew-symmetric part (>= 0).
        transitivity: Scale of the Bradley-Terry part (>= 0).
        beta: Regularization of the game.
        reference: ``"random"`` (a Dirichlet(1) draw, full support) or ``"uniform"``.

    Raises:
        ValueError: A parameter out of range (named in the message).
    """
    rng = check_rng(rng)
    if n < 2:
        raise ValueError(f"n must be >= 2, got {n}")
    if intransitivity < 0 or transitivity < 0:
        raise ValueError("intransitivity and transitivity must be >= 0")
    if reference not in ("random", "uniform"):
        raise ValueError(f"reference must be 'random' or 'uniform', got {reference!r}")
    scores = rng.normal(size=n)  # [n] Bradley-Terry scores
    skew = rng.normal(size=(n, n))
    skew = np.triu(skew, 1) - np.triu(skew, 1).T  # [n, n] skew-symmetric
    logits = transitivity * (scores[:, None] - scores[None, :]) + intransitivity * skew
    pref = 1.0 / (1.0 + np.exp(-logits))
    pref = 0.5 * (pref + 1.0 - pref.T)  # exact complementarity against rounding
    ref = rng.dirichlet(np.ones(n)) if reference == "random" else np.full(n, 1.0 / n)
    ref = np.maximum(ref, 1e-12)
    return preference_game(pref, reference=ref / ref.sum(), beta=beta, name=f"random_preference_{n}")


def cyclic_preference_game(n: int = 3, *, margin: float = 1.0, beta: float = 0.1) -> PreferenceGame:
    """The cyclic tournament on ``n`` (odd) responses: ``i`` beats ``i+1, ..., i+(n-1)/2`` (mod n).

    ``P[i, j] = (1 + margin) / 2`` when ``i`` beats ``j``; the von Neumann winner is uniform.
    """
    if n < 3 or n % 2 == 0:
        raise ValueError(f"n must be an odd number >= 3, got {n}")
    if not 0 < margin <= 1:
        raise MalformedGameError(f"margin must be in (0, 1], got {margin}")
    pref = np.full((n, n), 0.5)
    for i in range(n):
        for k in range(1, (n - 1) // 2 + 1):
            j = (i + k) % n
            pref[i, j] = (1 + margin) / 2
            pref[j, i] = (1 - margin) / 2
    return preference_game(pref, beta=beta, name=f"cyclic_preference_{n}")
