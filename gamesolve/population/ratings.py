"""Ratings of population members from a meta-game.

:class:`Ratings` holds one number per agent with an uncertainty, from :meth:`MetaGame.ratings`:
Elo / Bradley-Terry by maximum likelihood (Bradley & Terry 1952, "Rank analysis of incomplete
block designs"; Elo 1978, "The Rating of Chessplayers, Past and Present"), alpha-Rank mass
(Omidshafiei et al. 2019, "α-Rank: Multi-agent evaluation by evolution") or Nash averaging
(Balduzzi, Tuyls, Perolat & Graepel 2018, "Re-evaluating evaluation").
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.arrays import readonly
from gamesolve.errors import InvalidArgumentError
from gamesolve.validation import check_choice, check_int, check_real

if TYPE_CHECKING:
    from gamesolve.population.meta_game import MetaGame

__all__ = ["ELO_SCALE", "RATING_METHODS", "Ratings", "elo_scale", "rate"]

#: Elo points per unit of log-odds: ``400 / ln(10)``.
ELO_SCALE = 400.0 / math.log(10.0)

#: Mean of Elo ratings.
ELO_MEAN = 1500.0

#: Standard deviation (Elo points) of the prior used when the maximum-likelihood ratings diverge.
ELO_FALLBACK_PRIOR = 1000.0

RATING_METHODS = ("elo", "alpharank", "nash")


def elo_scale() -> float:
    """Elo points per unit of log-odds, ``400 / ln 10`` (about 173.7)."""
    return ELO_SCALE


# ---------------------------------------------------------------------------------------------
# Ratings
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Ratings:
    """One rating per agent, with its uncertainty.

    Attributes:
        method: ``"elo"``, ``"alpharank"`` or ``"nash"``.
        names: Agent names (``"P0:name"`` / ``"P1:name"`` when the seats hold different agents).
        ratings: ``[K]`` float64.
        uncertainty: ``[K]`` float64 standard errors (NaN where the method gives none).
        seats: The seat of every agent, or ``None`` for agents of a symmetric population.
        details: Method-specific arrays (``"p"``/``"q"``/``"value"`` for Nash averaging,
            ``"stationary"`` for alpha-Rank, ``"scores"`` for Elo).
        note: A sentence about how the numbers were obtained (priors, fallbacks).
    """

    method: str
    names: tuple[str, ...]
    ratings: NDArray[np.float64]
    uncertainty: NDArray[np.float64]
    seats: tuple[int | None, ...]
    details: dict[str, Any] = field(default_factory=dict)
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "ratings", readonly(np.asarray(self.ratings, dtype=np.float64)))
        uncertainty = np.asarray(self.uncertainty, dtype=np.float64)
        object.__setattr__(self, "uncertainty", readonly(uncertainty))

    def ranking(self) -> list[int]:
        """Agent indices from the highest rating to the lowest (ties by index)."""
        return sorted(range(len(self.names)), key=lambda k: (-float(self.ratings[k]), k))

    def as_mapping(self) -> dict[str, float]:
        """``{name: rating}``."""
        return {n: float(r) for n, r in zip(self.names, self.ratings, strict=True)}

    def table(self) -> str:
        """An aligned text table, best first: rank, name, rating, uncertainty."""
        header = {
            "elo": "Elo (400/ln 10 per unit log-odds, mean 1500)",
            "alpharank": "alpha-Rank stationary mass",
            "nash": "Nash averaging (A p of the max-entropy Nash)",
        }.get(self.method, self.method)
        digits = 1 if self.method == "elo" else 4
        rows = [("rank", "name", "rating", "± stderr")]
        for rank, k in enumerate(self.ranking(), start=1):
            err = float(self.uncertainty[k])
            rows.append(
                (
                    str(rank),
                    self.names[k],
                    f"{float(self.ratings[k]):.{digits}f}",
                    "n/a" if math.isnan(err) else f"{err:.{digits}f}",
                )
            )
        widths = [max(len(r[c]) for r in rows) for c in range(4)]
        lines = [header]
        for r in rows:
            lines.append(
                f"{r[0]:>{widths[0]}}  {r[1]:<{widths[1]}}  {r[2]:>{widths[2]}}  {r[3]:>{widths[3]}}".rstrip()
            )
        if self.note:
            lines.append(f"note: {self.note}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary."""
        details = {k: (v.tolist() if isinstance(v, np.ndarray) else v) for k, v in self.details.items()}
        return {
            "method": self.method,
            "names": list(self.names),
            "ratings": self.ratings.tolist(),
            "uncertainty": [None if math.isnan(x) else x for x in self.uncertainty.tolist()],
            "seats": list(self.seats),
            "details": details,
            "note": self.note,
        }

    def __repr__(self) -> str:
        return f"Ratings({self.method!r}, agents={len(self.names)})"


def _agents(meta: MetaGame) -> tuple[tuple[str, ...], tuple[int | None, ...]]:
    if meta.symmetric:
        return meta.names[0], (None,) * meta.sizes[0]
    names = tuple(f"P{p}:{n}" for p in range(meta.num_players) for n in meta.names[p])
    seats: tuple[int | None, ...] = tuple(p for p in range(meta.num_players) for _ in meta.names[p])
    return names, seats


def _pairs(
    meta: MetaGame,
) -> tuple[
    int, NDArray[np.int64], NDArray[np.int64], NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]
]:
    """Comparisons for Bradley-Terry: agents, ``(i, j)`` pairs, zero-sum payoff, its stderr, weights.

    Symmetric meta-games: unordered pairs ``i < j`` of the ``K`` agents, ``d`` averaged over the
    two seatings. Otherwise all ``(row i, column K0 + j)`` pairs.
    """
    d, se = meta.agent_payoffs()
    counts = meta.counts.astype(np.float64)
    use_counts = bool(np.all(meta.counts > 0))
    if meta.symmetric:
        k = meta.sizes[0]
        ii, jj = np.triu_indices(k, 1)
        value = (d[ii, jj] - d[jj, ii]) / 2.0
        err = np.sqrt(se[ii, jj] ** 2 + se[jj, ii] ** 2) / 2.0
        weight = counts[ii, jj] + counts[jj, ii] if use_counts else np.ones(ii.shape[0])
        return k, ii.astype(np.int64), jj.astype(np.int64), value, err, weight
    k0, k1 = meta.sizes
    rows, cols = np.meshgrid(np.arange(k0), np.arange(k1), indexing="ij")
    ri, ci = rows.ravel(), cols.ravel()
    weight = counts[ri, ci] if use_counts else np.ones(ri.shape[0])
    return k0 + k1, ri.astype(np.int64), (k0 + ci).astype(np.int64), d[ri, ci], se[ri, ci], weight


def _score_range(meta: MetaGame, d: NDArray[np.float64], payoff_range: Any) -> tuple[float, float]:
    if payoff_range is not None:
        if (
            isinstance(payoff_range, str | bytes)
            or not hasattr(payoff_range, "__len__")
            or len(payoff_range) != 2
        ):
            raise InvalidArgumentError(f"payoff_range must be (low, high), got {payoff_range!r}")
        lo = check_real("payoff_range[0]", payoff_range[0])
        hi = check_real("payoff_range[1]", payoff_range[1])
        if not hi > lo:
            raise InvalidArgumentError(f"payoff_range must be (low, high) with low < high, got {(lo, hi)}")
    elif meta.payoff_range is not None:
        r = meta.payoff_range
        lo = (float(r[0, 0]) - float(r[1, 1])) / 2.0
        hi = (float(r[0, 1]) - float(r[1, 0])) / 2.0
        if meta.symmetric:  # either seat's d: the union of both ranges
            lo, hi = min(lo, -hi), max(hi, -lo)
    else:
        m = float(np.abs(d).max(initial=0.0))
        lo, hi = -m, m
    if not hi > lo:
        if hi == lo:
            return lo - 1.0, hi + 1.0
        raise ValueError(f"payoff_range must be (low, high) with low < high, got {(lo, hi)}")
    return lo, hi


def _strongly_connected(k: int, ii: NDArray[np.int64], jj: NDArray[np.int64], s: NDArray[np.float64]) -> bool:
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    rows = np.concatenate([ii[s > 0.0], jj[s < 1.0]])
    cols = np.concatenate([jj[s > 0.0], ii[s < 1.0]])
    graph = csr_matrix((np.ones(rows.shape[0]), (rows, cols)), shape=(k, k))
    n, _ = connected_components(graph, directed=True, connection="strong")
    return bool(n == 1)


def _fit_bradley_terry(
    k: int,
    ii: NDArray[np.int64],
    jj: NDArray[np.int64],
    s: NDArray[np.float64],
    w: NDArray[np.float64],
    precision: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Log-odds strengths ``x`` (mean 0) maximizing the weighted likelihood (+ Gaussian prior).

    Returns ``x [K]`` and the pseudo-inverse of the negative Hessian ``[K, K]`` at ``x``.
    """
    wn = w / w.mean()
    x = np.zeros(k)

    def objective(x: NDArray[np.float64]) -> float:
        z = x[ii] - x[jj]
        # s log sigma(z) + (1 - s) log sigma(-z), stably
        ll = -(s * np.logaddexp(0.0, -z) + (1.0 - s) * np.logaddexp(0.0, z))
        return float(np.dot(wn, ll) - 0.5 * precision * np.dot(x, x))

    def curvature(x: NDArray[np.float64]) -> NDArray[np.float64]:
        """The negative Hessian at ``x``: a weighted graph Laplacian plus the prior's precision."""
        z = x[ii] - x[jj]
        p = 0.5 * (1.0 + np.tanh(0.5 * z))  # logistic(z)
        curv = wn * p * (1.0 - p)
        lap = np.zeros((k, k))
        np.add.at(lap, (ii, ii), curv)
        np.add.at(lap, (jj, jj), curv)
        np.add.at(lap, (ii, jj), -curv)
        np.add.at(lap, (jj, ii), -curv)
        lap += precision * np.eye(k)
        return lap

    current = objective(x)
    ones = np.full((k, k), 1.0 / k)
    for _ in range(200):
        z = x[ii] - x[jj]
        p = 0.5 * (1.0 + np.tanh(0.5 * z))  # logistic(z)
        r = wn * (s - p)
        grad = np.zeros(k)
        np.add.at(grad, ii, r)
        np.add.at(grad, jj, -r)
        grad -= precision * x
        step = np.linalg.solve(curvature(x) + ones, grad)
        step -= step.mean()
        t = 1.0
        while True:
            trial = x + t * step
            value = objective(trial)
            if value >= current - 1e-15 * abs(current) or t < 1e-8:
                break
            t *= 0.5
        x, current = trial, value
        if float(np.abs(t * step).max()) < 1e-12:
            break
    return np.asarray(x - x.mean(), dtype=np.float64), np.asarray(
        np.linalg.pinv(curvature(x)), dtype=np.float64
    )


def _elo(
    meta: MetaGame,
    *,
    payoff_range: Sequence[float] | None = None,
    prior_std: float | None = None,
    uncertainty: str = "delta",
    bootstrap: int = 200,
    seed: int = 0,
) -> Ratings:
    meta.require_two_players("Elo ratings")
    uncertainty = check_choice("uncertainty", uncertainty, ("delta", "bootstrap"))
    if prior_std is not None:
        prior_std = check_real("prior_std", prior_std, minimum=0.0, min_inclusive=False)
    bootstrap = check_int("bootstrap", bootstrap, minimum=2)
    seed = check_int("seed", seed, minimum=0)
    names, seats = _agents(meta)
    k, ii, jj, d, se, w = _pairs(meta)
    if ii.shape[0] == 0:  # a single agent: nothing to compare
        return Ratings("elo", names, np.full(k, ELO_MEAN), np.full(k, np.nan), seats, note="one agent")
    lo, hi = _score_range(meta, d, payoff_range)
    scores = np.clip((d - lo) / (hi - lo), 0.0, 1.0)
    score_se = se / (hi - lo)
    note = ""
    if prior_std is None and not _strongly_connected(k, ii, jj, scores):
        prior_std = ELO_FALLBACK_PRIOR
        note = (
            "maximum-likelihood ratings diverge (some agents win every match against the rest); "
            f"a N(1500, {ELO_FALLBACK_PRIOR:g}^2) prior keeps them finite"
        )
    # prior N(0, sigma^2) on the log-odds strengths, sigma = prior_std / ELO_SCALE, on the scale of
    # the weighted likelihood the fit uses (weights normalized to mean 1)
    precision = 0.0 if prior_std is None else (ELO_SCALE / prior_std) ** 2 / float(w.mean())
    x, cov_inv = _fit_bradley_terry(k, ii, jj, scores, w, precision)
    if uncertainty == "delta":
        wn = w / w.mean()
        jac = np.zeros((k, ii.shape[0]))  # d x / d s_pair
        jac[ii, np.arange(ii.shape[0])] = wn
        jac[jj, np.arange(ii.shape[0])] = -wn
        sens = cov_inv @ jac
        var = (sens**2) @ np.nan_to_num(score_se**2, nan=np.inf)
        std = np.sqrt(var) * ELO_SCALE
    else:
        rng = np.random.default_rng(seed)
        draws = np.empty((int(bootstrap), k))
        for b in range(int(bootstrap)):
            noisy = np.clip(scores + rng.standard_normal(scores.shape) * np.nan_to_num(score_se), 0.0, 1.0)
            draws[b], _ = _fit_bradley_terry(k, ii, jj, noisy, w, precision)
        std = draws.std(axis=0, ddof=1) * ELO_SCALE
    return Ratings(
        method="elo",
        names=names,
        ratings=ELO_MEAN + ELO_SCALE * x,
        uncertainty=std,
        seats=seats,
        details={"scores": scores, "score_range": (lo, hi), "prior_std": prior_std},
        note=note,
    )


def _alpharank(meta: MetaGame, *, alpha: float = 100.0, population_size: int = 50) -> Ratings:
    from gamesolve.alpharank import alpha_rank

    alpha = check_real("alpha", alpha, minimum=0.0, min_inclusive=False)
    population_size = check_int("population_size", population_size, minimum=2)
    result = alpha_rank(meta.to_normal_form(), alpha=alpha, population_size=population_size)
    names, seats = _agents(meta)
    # a symmetric population: the seats' marginals are equal up to sampling noise; average them
    mass = np.mean(np.stack(result.marginals), axis=0) if meta.symmetric else np.concatenate(result.marginals)
    return Ratings(
        method="alpharank",
        names=names,
        ratings=mass,
        uncertainty=np.full(mass.shape[0], np.nan),
        seats=seats,
        details={"stationary": result.stationary, "alpha": alpha, "population_size": population_size},
        note=f"alpha={alpha:g}, m={population_size}",
    )


def _zero_sum_value(matrix: NDArray[np.float64]) -> float:
    """Value of the zero-sum game where the row player maximizes ``x^T M y`` (one HiGHS LP)."""
    from scipy.optimize import linprog

    m, n = matrix.shape
    c = np.zeros(m + 1)
    c[-1] = -1.0
    res = linprog(
        c,
        A_ub=np.hstack([-matrix.T, np.ones((n, 1))]),
        b_ub=np.zeros(n),
        A_eq=np.hstack([np.ones((1, m)), np.zeros((1, 1))]),
        b_eq=[1.0],
        bounds=[(0, None)] * m + [(None, None)],
        method="highs",
    )
    if res.status != 0:
        raise RuntimeError(f"the meta-game LP failed: {res.message}")
    return float(-res.fun)


def _max_entropy_maximin(matrix: NDArray[np.float64], value: float, tol: float) -> NDArray[np.float64]:
    """The maximum-entropy ``p`` in the simplex with ``M^T p >= value - tol`` (cvxpy, exp cone)."""
    import cvxpy as cp

    m = matrix.shape[0]
    if m == 1:
        return np.ones(1)
    p = cp.Variable(m, nonneg=True)
    problem = cp.Problem(cp.Maximize(cp.sum(cp.entr(p))), [matrix.T @ p >= value - tol, cp.sum(p) == 1])
    try:
        problem.solve(solver=cp.CLARABEL)
    except cp.error.SolverError:
        problem.solve(solver=cp.SCS, eps=1e-10)
    if p.value is None:
        raise RuntimeError(f"max-entropy Nash: the convex program failed ({problem.status})")
    out = np.maximum(np.asarray(p.value, dtype=np.float64), 0.0)
    return out / out.sum()


def _nash_averaging(meta: MetaGame, *, tol: float | None = None) -> Ratings:
    meta.require_two_players("Nash averaging")
    names, seats = _agents(meta)
    d, _ = meta.agent_payoffs()
    scale = max(1.0, float(np.abs(d).max(initial=0.0)))
    tol = 1e-9 * scale if tol is None else check_real("tol", tol, minimum=0.0, min_inclusive=False)
    if meta.symmetric:
        a = (d - d.T) / 2.0  # a_ij = (d_ij - d_ji) / 2: antisymmetric
        p = _max_entropy_maximin(a, 0.0, tol)
        ratings = a @ p
        details: dict[str, Any] = {"p": p, "value": 0.0, "matrix": a}
    else:
        value = _zero_sum_value(d)
        p = _max_entropy_maximin(d, value, tol)
        q = _max_entropy_maximin(-d.T, -value, tol)
        ratings = np.concatenate([d @ q, -(p @ d)])
        details = {"p": p, "q": q, "value": value, "matrix": d}
    return Ratings(
        method="nash",
        names=names,
        ratings=ratings,
        uncertainty=np.full(ratings.shape[0], np.nan),
        seats=seats,
        details=details,
        note="ratings are A p for the maximum-entropy Nash p; 0 means in the equilibrium support",
    )


def rate(meta: MetaGame, method: str = "elo", **options: Any) -> Ratings:
    """Rate the members of ``meta`` (see :meth:`MetaGame.ratings`)."""
    key = method.strip().lower().replace("-", "").replace("_", "") if isinstance(method, str) else ""
    table: dict[str, Callable[..., Ratings]] = {
        "elo": _elo,
        "alpharank": _alpharank,
        "nash": _nash_averaging,
        "nashaveraging": _nash_averaging,
    }
    if key not in table:
        raise InvalidArgumentError(
            f"unknown rating method {method!r}; expected one of {', '.join(RATING_METHODS)}"
        )
    known = [name for name in inspect.signature(table[key]).parameters if name != "meta"]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise InvalidArgumentError(
            f"unknown option {unknown[0]!r} of the {method} ratings; known options: {', '.join(known)}"
        )
    return table[key](meta, **options)
