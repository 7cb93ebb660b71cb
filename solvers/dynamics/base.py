"""Shared plumbing of the normal-form learning dynamics: the base solver and the simplex helpers.

Every method of :mod:`gamesolve.solvers.dynamics` keeps the players' mixed strategies in one flat
vector split by per-player offsets, updates it from the payoff gradients ``g_i = u_i(., x_-i)``
(players maximize) and reports the average or the current profile. This module holds that base
class, the mirror steps of the two geometries (``"entropy"``: multiplicative updates,
``"euclidean"``: projection onto the simplex), the default step-size scales and the option checks
the methods share.
"""

from __future__ import annotations

import abc
import functools
import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.checkpoint import StateRules, rng_from_array, rng_to_array
from gamesolve.errors import InvalidArgumentError
from gamesolve.normal_form import MixedProfile, TensorGame
from gamesolve.solver import Iterate, IterativeSolver
from gamesolve.solvers.common import NormalFormSolver
from gamesolve.validation import check_choice, check_real

__all__ = [
    "MAX_EXPONENT",
    "TINY",
    "DynamicsSolver",
    "State",
    "check_geometry",
    "check_start",
    "lipschitz_bound",
    "max_abs_payoff",
    "mirror_step",
    "optional_positive",
    "payoff_gradients",
    "payoff_range",
    "project_floored",
    "project_simplex",
    "real_in",
    "safe_log",
    "sampling_generator",
    "softmax",
]

_GEOMETRIES = ("entropy", "euclidean")
#: Largest averaging exponent: iteration weights ``t ** averaging`` must stay finite for any
#: feasible number of iterations (above 20 the average is the last iterate to within rounding).
MAX_EXPONENT = 20.0
TINY = 1e-300

State = dict[str, NDArray[Any]]


def project_simplex(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """Euclidean projection of ``v`` ``[n]`` onto the probability simplex (sort-based, O(n log n))."""
    u = np.sort(v)[::-1]
    css = np.cumsum(u) - 1.0
    ind = np.arange(1, v.shape[0] + 1)
    rho = int(np.nonzero(u - css / ind > 0)[0][-1]) + 1
    theta = css[rho - 1] / rho
    return np.maximum(v - theta, 0.0)


def project_floored(v: NDArray[np.float64], floor: float) -> NDArray[np.float64]:
    """Euclidean projection of ``v`` ``[n]`` onto ``{x : sum x = 1, x >= floor}`` (``floor <= 1/n``)."""
    n = v.shape[0]
    mass = 1.0 - n * floor
    if mass <= 0:
        return np.full(n, 1.0 / n)
    return floor + mass * project_simplex((v - floor) / mass)


def softmax(logits: NDArray[np.float64]) -> NDArray[np.float64]:
    """``[n]`` probabilities ``exp(logits) / sum exp(logits)`` (shifted by the maximum, so finite)."""
    z = np.exp(logits - logits.max())
    return z / z.sum()


def safe_log(x: NDArray[np.float64]) -> NDArray[np.float64]:
    """``ln x`` with ``x`` floored at ``TINY``, so zero probabilities give a finite value."""
    return np.log(np.maximum(x, TINY))


def payoff_gradients(
    game: TensorGame, strategies: Sequence[NDArray[np.float64]]
) -> list[NDArray[np.float64]]:
    """Per player, ``[A_i]`` expected payoff of each pure action against the others' strategies."""
    if game.num_players == 2:
        return [game.payoffs[0] @ strategies[1], strategies[0] @ game.payoffs[1]]
    out = []
    for i in range(game.num_players):
        tensor = game.payoffs[i]
        for k in range(game.num_players - 1, -1, -1):  # contract the last axes first
            if k != i:
                tensor = np.tensordot(tensor, strategies[k], axes=([k], [0]))
        out.append(np.asarray(tensor, dtype=np.float64))
    return out


def mirror_step(
    geometry: str, x: NDArray[np.float64], g: NDArray[np.float64], eta: float
) -> NDArray[np.float64]:
    """One mirror step from ``x`` along payoff gradient ``g`` (ascent)."""
    if geometry == "entropy":
        return softmax(safe_log(x) + eta * g)
    return project_simplex(x + eta * g)


def lipschitz_bound(game: TensorGame) -> float:
    """A bound on the gradient operator's Lipschitz constant (spectral norm for 2 players)."""
    if game.num_players == 2:
        return max(_spectral_norm(game.payoffs[0]), _spectral_norm(game.payoffs[1]), 1e-12)
    return max(float(np.abs(game.payoffs).max()) * math.sqrt(max(game.num_actions)), 1e-12)


def _spectral_norm(a: NDArray[np.float64], iters: int = 50) -> float:
    if min(a.shape) <= 64:
        return float(np.linalg.norm(a, 2))
    v = np.ones(a.shape[1]) / math.sqrt(a.shape[1])
    sigma = 0.0
    for _ in range(iters):
        w = a.T @ (a @ v)
        norm = float(np.linalg.norm(w))
        if norm == 0:
            return 0.0
        v = w / norm
        sigma = math.sqrt(norm)
    return sigma * 1.01  # power iteration approaches from below


def max_abs_payoff(game: TensorGame) -> float:
    """``max |u|`` over all players and profiles (at least ``1e-12``)."""
    return max(float(np.abs(game.payoffs).max()), 1e-12)


def payoff_range(game: TensorGame) -> float:
    """Largest spread ``max u_i - min u_i`` over players (at least ``1e-12``)."""
    spread = [float(game.payoffs[i].max() - game.payoffs[i].min()) for i in range(game.num_players)]
    return max(max(spread), 1e-12)


def check_geometry(geometry: str) -> str:
    """``geometry`` lower-cased if it is ``"entropy"`` or ``"euclidean"``, else InvalidArgumentError."""
    return check_choice("geometry", geometry, _GEOMETRIES)


def optional_positive(name: str, value: float | None) -> float | None:
    """``value`` as a float if it is ``None`` or a finite positive number, else InvalidArgumentError."""
    if value is None:
        return None
    return check_real(name, value, minimum=0.0, min_inclusive=False)


def check_start(start: Sequence[ArrayLike] | None) -> list[list[float]] | None:
    """A start profile as JSON-ready nested lists (validated against the game in ``init``)."""
    if start is None:
        return None
    try:
        out = [[float(v) for v in np.asarray(s, dtype=np.float64).reshape(-1)] for s in start]
    except (TypeError, ValueError):
        raise InvalidArgumentError("start must be one probability vector per player") from None
    for k, s in enumerate(out):
        if not s or not all(math.isfinite(v) and v >= 0 for v in s) or abs(sum(s) - 1.0) > 1e-6:
            raise InvalidArgumentError(f"start[{k}] must be a probability vector, got {s}")
    return out


def sampling_generator(rng: np.random.Generator) -> NDArray[np.uint8]:
    """A fresh PCG64 generator seeded from the run's ``rng``, saved with gamesolve.checkpoint's codec.

    Sampling methods keep it in their state, so a sampled run is a pure function of (seed,
    iteration count) however the run loop chunks it, and checkpoints carry the generator.
    """
    return rng_to_array(np.random.Generator(np.random.PCG64(int(rng.integers(0, 2**63)))))


@functools.lru_cache(maxsize=256)
def _offsets_of(num_actions: tuple[int, ...]) -> tuple[int, ...]:
    """``(0, A_0, A_0 + A_1, ...)``: where each player's block starts in a flat profile."""
    return (0, *itertools.accumulate(num_actions))


class DynamicsSolver(NormalFormSolver, IterativeSolver):
    """Base of the normal-form dynamics: players' strategies live in one flat vector split by offsets.

    Subclasses implement ``_advance`` (one update at iteration ``t``); sampling methods keep their
    generator in the state array ``"rng"`` (gamesolve.checkpoint's codec).
    """

    name = "dynamics"
    output = Iterate.AVERAGE
    start: list[list[float]] | None = None

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_") and k not in ("name", "output")}

    # -- flat <-> per player
    @staticmethod
    def _offsets(game: TensorGame) -> tuple[int, ...]:
        return _offsets_of(game.num_actions)

    def _split(self, game: TensorGame, flat: NDArray[np.float64]) -> list[NDArray[np.float64]]:
        off = _offsets_of(game.num_actions)
        return [flat[off[i] : off[i + 1]] for i in range(len(off) - 1)]

    def _uniform(self, game: TensorGame) -> NDArray[np.float64]:
        return np.concatenate([np.full(n, 1.0 / n) for n in game.num_actions])

    def _start(self, game: TensorGame) -> NDArray[np.float64]:
        """The start profile, flat ``[sum A_i]``: ``start`` if given, else uniform."""
        if self.start is None:
            return self._uniform(game)
        if len(self.start) != game.num_players or any(
            len(s) != n for s, n in zip(self.start, game.num_actions, strict=False)
        ):
            raise InvalidArgumentError(
                f"start must give one probability vector per player with {game.num_actions} entries"
            )
        return np.concatenate([np.asarray(s, dtype=np.float64) / sum(s) for s in self.start])

    def _new_state(self, game: TensorGame, **extra: NDArray[Any]) -> State:
        x = self._start(game)
        state: State = {
            "t": np.zeros((), dtype=np.int64),
            "x": x,
            "avg": np.zeros_like(x),
            "weight": np.zeros(()),
        }
        state.update(extra)
        return state

    def _accumulate(self, state: State, point: NDArray[np.float64], w: float = 1.0) -> None:
        state["avg"] += w * point
        state["weight"] = np.asarray(float(state["weight"]) + w)

    #: What a resumed state must satisfy before any update sees it.
    state_rules = StateRules(
        counter="t", nonnegative=frozenset({"weight", "joint"}), generators=frozenset({"rng"})
    )

    def check_state(self, game: TensorGame, state: State) -> None:
        """Every player's part of the current and the average profile has positive mass."""
        for key in ("x", "avg"):
            if key == "avg" and float(state["weight"]) <= 0:
                continue  # no average yet: the current profile is reported
            for p, part in enumerate(self._split(game, state[key])):
                if not float(np.maximum(part, 0.0).sum()) > 0:
                    raise ValueError(f"array {key!r} gives player {p} no probability mass")

    def init(self, game: TensorGame, rng: np.random.Generator) -> State:
        """Start at the start profile (uniform by default)."""
        del rng
        return self._new_state(game)

    def step(self, game: TensorGame, state: State, iterations: int = 1) -> None:
        """Run ``iterations`` updates; a state with a generator ``"rng"`` runs the sampled ones."""
        if "rng" not in state:
            for _ in range(iterations):
                state["t"] = np.asarray(int(state["t"]) + 1)
                self._advance(game, state, int(state["t"]))
            return
        rng = rng_from_array(state["rng"])
        for _ in range(iterations):
            state["t"] = np.asarray(int(state["t"]) + 1)
            self._sampled_advance(game, state, int(state["t"]), rng)
        state["rng"] = rng_to_array(rng)

    @abc.abstractmethod
    def _advance(self, game: TensorGame, state: State, t: int) -> None:
        """One update at iteration ``t`` (counted from 1)."""

    def _sampled_advance(self, game: TensorGame, state: State, t: int, rng: np.random.Generator) -> None:
        """One sampled update at iteration ``t``, drawing from ``rng`` (methods with a sampled mode)."""
        raise NotImplementedError(f"{self.name} has no sampled mode")

    def policy(self, game: TensorGame, state: State, which: Iterate) -> MixedProfile:
        """The average (weighted) or the current profile."""
        if which is Iterate.AVERAGE and float(state["weight"]) > 0:
            flat = state["avg"] / float(state["weight"])
        else:
            flat = state["x"]
        parts = [np.maximum(p, 0.0) / np.maximum(p, 0.0).sum() for p in self._split(game, flat)]
        return MixedProfile.of(game, parts)

    def _mirror_steps(
        self, game: TensorGame, geometry: str, x: NDArray[np.float64], g: NDArray[np.float64], eta: float
    ) -> NDArray[np.float64]:
        """Every player's :func:`mirror_step` from its part of ``x`` along its part of ``g``, flat."""
        return np.concatenate(
            [
                mirror_step(geometry, xi, gi, eta)
                for xi, gi in zip(self._split(game, x), self._split(game, g), strict=True)
            ]
        )

    def _gradients(self, game: TensorGame, flat: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.concatenate(payoff_gradients(game, self._split(game, flat)))


def real_in(name: str, value: Any, *, low: float, high: float = math.inf, low_open: bool = False) -> float:
    """``value`` as a finite float in ``[low, high]`` (``(low, high]`` with ``low_open``)."""
    return check_real(
        name, value, minimum=low, maximum=high if math.isfinite(high) else None, min_inclusive=not low_open
    )
