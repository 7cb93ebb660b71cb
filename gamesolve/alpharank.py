"""alpha-Rank: ranking strategies by the stationary distribution of an evolutionary Markov chain.

Omidshafiei, Papadimitriou, Piliouras, Tuyls, Rowland, Lespiau, Czarnecki, Lanctot, Perolat &
Munos (2019), "alpha-Rank: Multi-Agent Evaluation by Evolution". Multi-population form: the states
are the pure strategy profiles of a normal-form game (a meta-game), and from profile ``s`` the
chain moves to a profile ``s'`` that differs in one player ``k``'s strategy with probability
``eta * rho(s -> s')``, where ``eta = 1 / sum_k (|S_k| - 1)`` and ``rho`` is the fixation
probability of a mutant in a population of ``m`` under selection intensity ``alpha``:

``rho = (1 - exp(-alpha df)) / (1 - exp(-m alpha df))`` with ``df = u_k(s') - u_k(s)``
(``rho = 1/m`` when ``df = 0``). The remaining mass stays at ``s``. The ranking is the chain's
stationary distribution; its marginals rank each player's strategies. As ``alpha -> inf`` the
chain concentrates on the sink strongly connected components of the response graph
(``alpha=float("inf")`` is handled with an ``epsilon``-perturbed limit).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.normal_form import TensorGame

__all__ = ["AlphaRankResult", "alpha_rank", "fixation_probability"]


def fixation_probability(df: float, alpha: float, m: int) -> float:
    """``(1 - e^(-alpha df)) / (1 - e^(-m alpha df))``, computed without overflow."""
    if math.isinf(alpha):
        return 1.0 if df > 0 else (1.0 / m if df == 0 else 0.0)
    x = alpha * df
    if abs(x) < 1e-12:
        return 1.0 / m
    if x > 0:
        return -math.expm1(-x) / -math.expm1(-m * x)
    # x < 0: both expm1 terms are huge; use logs: log(e^y - 1) = y + log1p(-e^-y) for y = -x > 0
    y = -x
    log_num = y + math.log1p(-math.exp(-y))
    log_den = m * y + math.log1p(-math.exp(-m * y))
    return math.exp(log_num - log_den)


@dataclass(frozen=True)
class AlphaRankResult:
    """Stationary distribution over profiles and per-player strategy masses.

    Attributes:
        stationary: ``[S0, ..., S_{N-1}]`` mass of every pure profile.
        marginals: Per player, ``[S_k]`` mass of each strategy (the ranking scores).
        transition: ``[S, S]`` the chain's transition matrix (profiles flattened in C order).
        alpha: Selection intensity used.
        population_size: ``m``.
    """

    stationary: NDArray[np.float64]
    marginals: tuple[NDArray[np.float64], ...]
    transition: NDArray[np.float64]
    alpha: float
    population_size: int

    def ranking(self, player: int = 0) -> list[int]:
        """Strategy indices of ``player`` from highest to lowest mass (ties by index)."""
        mass = self.marginals[player]
        return sorted(range(mass.shape[0]), key=lambda a: (-mass[a], a))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        return {
            "alpha": self.alpha,
            "population_size": self.population_size,
            "stationary": self.stationary.tolist(),
            "marginals": [m.tolist() for m in self.marginals],
        }


def alpha_rank(
    game: TensorGame, *, alpha: float = 100.0, population_size: int = 50, epsilon: float = 1e-8
) -> AlphaRankResult:
    """alpha-Rank of a normal-form (meta-)game, multi-population form.

    Args:
        game: Payoffs ``[P, S0, ..., S_{P-1}]``; players maximize.
        alpha: Selection intensity (> 0; ``float("inf")`` for the limit).
        population_size: ``m`` (>= 2).
        epsilon: Mutation floor used in the infinite-alpha limit so the chain stays irreducible.

    Raises:
        ValueError: Bad ``alpha``, ``population_size`` or ``epsilon``.
    """
    if not alpha > 0:
        raise ValueError(f"alpha must be > 0, got {alpha!r}")
    if population_size < 2:
        raise ValueError(f"population_size must be >= 2, got {population_size!r}")
    if not 0 < epsilon < 1:
        raise ValueError(f"epsilon must be in (0, 1), got {epsilon!r}")
    shape = game.num_actions
    n_profiles = int(np.prod(shape))
    if n_profiles > 20_000:
        raise ValueError(
            f"alpha-rank builds a dense chain over {n_profiles} profiles; at most 20,000 are supported"
        )
    eta = 1.0 / max(sum(s - 1 for s in shape), 1)
    chain = np.zeros((n_profiles, n_profiles))
    for flat, profile in enumerate(itertools.product(*(range(s) for s in shape))):
        for k, size in enumerate(shape):
            for alt in range(size):
                if alt == profile[k]:
                    continue
                other = list(profile)
                other[k] = alt
                df = float(game.payoffs[(k, *other)] - game.payoffs[(k, *profile)])
                rho = fixation_probability(df, alpha, population_size)
                if math.isinf(alpha):
                    rho = max(rho, epsilon)
                chain[flat, int(np.ravel_multi_index(other, shape))] = eta * rho
        chain[flat, flat] = 1.0 - chain[flat].sum()
    stationary = _stationary(chain)
    dist = stationary.reshape(shape)
    marginals = tuple(dist.sum(axis=tuple(j for j in range(len(shape)) if j != k)) for k in range(len(shape)))
    return AlphaRankResult(
        stationary=dist, marginals=marginals, transition=chain, alpha=alpha, population_size=population_size
    )


def _stationary(chain: NDArray[np.float64]) -> NDArray[np.float64]:
    """Stationary distribution of a row-stochastic matrix (least squares on ``pi (C - I) = 0``)."""
    n = chain.shape[0]
    system = np.vstack([chain.T - np.eye(n), np.ones((1, n))])
    rhs = np.zeros(n + 1)
    rhs[-1] = 1.0
    pi, *_ = np.linalg.lstsq(system, rhs, rcond=None)
    pi = np.maximum(pi, 0.0)
    return np.asarray(pi / pi.sum())
