"""Learning dynamics for normal-form games, all driven by :func:`gamesolve.solve`.

Every method updates one mixed strategy per player from the payoff gradients ``g_i = u_i(., x_-i)``
(players maximize); each class states which iterate converges and how fast, and
:func:`gamesolve.solve` records that iterate's exact NashConv. Temperatures are in payoff units (the
logit QRE at temperature ``tau`` solves ``x_i = softmax(g_i(x_-i) / tau)``); geometries are
``"entropy"`` (multiplicative updates) and ``"euclidean"`` (projection onto the simplex).

* :class:`RegretMatching` [``regret-matching``, ``rm+``]: Hart & Mas-Colell 2000, RM+ (Tammelin
  2014), predictive RM+ (Farina, Kroer & Sandholm 2021); the average converges, ``O(1/sqrt(T))``.
* :class:`MirrorDescent` [``hedge``, ``omd``, ``ftrl``, ``omwu``]: Hedge / OMD / FTRL, optionally
  optimistic (Rakhlin & Sridharan 2013; Syrgkanis et al. 2015): average ``O(1/sqrt(T))``, or
  ``O(1/T)`` optimistic, whose last iterate converges under a unique equilibrium (Wei et al. 2021).
* :class:`ExtraGradient` [``extragradient``, ``mirror-prox``, ``ogda``]: Korpelevich 1976,
  Nemirovski 2004, Popov 1980; average of half-iterates ``O(1/T)``, Euclidean last iterate
  ``O(1/sqrt(T))``, linear on polyhedral bilinear games.
* :class:`AcceleratedOptimisticGradient` [``aog``]: Cai & Zheng 2023; last-iterate gap ``O(1/T)``.
* :class:`MagneticMirrorDescent` [``mmd``]: Sokota et al. 2023; the last iterate converges
  linearly to the logit QRE at temperature ``alpha``.
* :class:`FictitiousPlay` [``fictitious-play``, ``smooth-fp``]: Brown 1951, Robinson 1951; smooth FP
  (Fudenberg & Kreps 1993) converges to the logit QRE (Hofbauer & Sandholm 2002).
* :class:`Replicator` [``replicator``, ``projected-replicator``]: Taylor & Jonker 1978, the projected
  variant of PSRO (Lanctot et al. 2017); the time average converges in 2p0s games with an
  interior equilibrium.
* :class:`LogitQRE` [``qre``]: McKelvey & Palfrey 1995, by regularized extragradient (Cen, Wei & Chi
  2021), homotopy (Turocy 2005) or damped fixed-point iteration.
* :class:`NashLossSGD` [``ne-loss-sgd``]: Gemp, Marris & Piliouras 2024, SGD on a loss whose zeros
  are the QREs.
* :class:`InternalRegret` [``internal-regret``]: Hart & Mas-Colell 2000, Blum & Mansour 2007; the
  empirical joint play converges to the correlated equilibria.
"""

from __future__ import annotations

import abc
import functools
import itertools
import logging
import math
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.checkpoint import StateRules
from gamesolve.errors import InvalidArgumentError
from gamesolve.normal_form import MixedProfile, TensorGame
from gamesolve.registry import SolverEntry
from gamesolve.report import ExploitabilityReport
from gamesolve.solver import Iterate, IterativeSolver
from gamesolve.solvers._common import check_normal_form, prepare_normal_form, require_two_player_zero_sum
from gamesolve.solvers.dilated import (
    EXTRAGRADIENT_EXTENSIVE_ENTRY,
    FTRL_EXTENSIVE_ENTRY,
    MIRROR_PROX_EXTENSIVE_ENTRY,
    MMD_EXTENSIVE_ENTRY,
    OMD_EXTENSIVE_ENTRY,
    OMWU_EXTENSIVE_ENTRY,
)
from gamesolve.solvers.homotopy import LogitPath
from gamesolve.spec import GameSpec, Utility
from gamesolve.validation import check_bool, check_choice, check_int, check_real

__all__ = [
    "AcceleratedOptimisticGradient",
    "ExtraGradient",
    "FictitiousPlay",
    "InternalRegret",
    "LogitQRE",
    "MagneticMirrorDescent",
    "MirrorDescent",
    "NashLossSGD",
    "RegretMatching",
    "Replicator",
    "ne_loss",
    "ne_loss_estimate",
    "ne_loss_gradient",
    "ne_loss_gradient_estimate",
    "ne_loss_samples",
    "payoff_gradients",
    "project_simplex",
]

log = logging.getLogger(__name__)

_GEOMETRIES = ("entropy", "euclidean")
#: Largest averaging exponent: iteration weights ``t ** averaging`` must stay finite for any
#: feasible number of iterations (above 20 the average is the last iterate to within rounding).
_MAX_EXPONENT = 20.0
_TINY = 1e-300

State = dict[str, NDArray[Any]]

# ----------------------------------------------------------------------------------------- helpers


def project_simplex(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """Euclidean projection of ``v`` ``[n]`` onto the probability simplex (sort-based, O(n log n))."""
    u = np.sort(v)[::-1]
    css = np.cumsum(u) - 1.0
    ind = np.arange(1, v.shape[0] + 1)
    rho = int(np.nonzero(u - css / ind > 0)[0][-1]) + 1
    theta = css[rho - 1] / rho
    return np.maximum(v - theta, 0.0)


def _project_floored(v: NDArray[np.float64], floor: float) -> NDArray[np.float64]:
    """Euclidean projection of ``v`` ``[n]`` onto ``{x : sum x = 1, x >= floor}`` (``floor <= 1/n``)."""
    n = v.shape[0]
    mass = 1.0 - n * floor
    if mass <= 0:
        return np.full(n, 1.0 / n)
    return floor + mass * project_simplex((v - floor) / mass)


def _softmax(logits: NDArray[np.float64]) -> NDArray[np.float64]:
    z = np.exp(logits - logits.max())
    return z / z.sum()


def _log(x: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.log(np.maximum(x, _TINY))


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


def _cross_jacobian(
    game: TensorGame, strategies: Sequence[NDArray[np.float64]], i: int, j: int
) -> NDArray[np.float64]:
    """``[A_i, A_j]``: ``d g_i / d x_j``, player ``i``'s payoff with ``i`` and ``j`` free (``i != j``)."""
    if game.num_players == 2:
        return game.payoffs[0] if i == 0 else game.payoffs[1].T
    tensor = game.payoffs[i]
    for k in range(game.num_players - 1, -1, -1):
        if k not in (i, j):
            tensor = np.tensordot(tensor, strategies[k], axes=([k], [0]))
    return np.asarray(tensor if i < j else tensor.T, dtype=np.float64)


def _prox(geometry: str, x: NDArray[np.float64], g: NDArray[np.float64], eta: float) -> NDArray[np.float64]:
    """One mirror step from ``x`` along payoff gradient ``g`` (ascent)."""
    if geometry == "entropy":
        return _softmax(_log(x) + eta * g)
    return project_simplex(x + eta * g)


def _lipschitz(game: TensorGame) -> float:
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


def _max_abs(game: TensorGame) -> float:
    return max(float(np.abs(game.payoffs).max()), 1e-12)


def _payoff_range(game: TensorGame) -> float:
    """Largest spread ``max u_i - min u_i`` over players (at least ``1e-12``)."""
    spread = [float(game.payoffs[i].max() - game.payoffs[i].min()) for i in range(game.num_players)]
    return max(max(spread), 1e-12)


def _is_two_player_zero_sum(spec: GameSpec) -> bool:
    return spec.num_players == 2 and spec.utility in (Utility.ZERO_SUM, Utility.CONSTANT_SUM)


def _require_geometry(geometry: str) -> str:
    return check_choice("geometry", geometry, _GEOMETRIES)


def _positive(name: str, value: float | None) -> float | None:
    """``value`` as a float if it is ``None`` or a finite positive number, else InvalidArgumentError."""
    if value is None:
        return None
    return check_real(name, value, minimum=0.0, min_inclusive=False)


def _choice(name: str, value: str, allowed: Sequence[str]) -> str:
    return check_choice(name, value, allowed)


def _check_start(start: Sequence[ArrayLike] | None) -> list[list[float]] | None:
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


# PCG64 state <-> uint64 array, so a sampling run is a pure function of (seed, iteration count)
# however the run loop chunks it, and checkpoints carry the generator.
_MASK64 = (1 << 64) - 1


def _rng_to_array(rng: np.random.Generator) -> NDArray[np.uint64]:
    st = rng.bit_generator.state
    s, inc = int(st["state"]["state"]), int(st["state"]["inc"])
    words = [s >> 64, s & _MASK64, inc >> 64, inc & _MASK64, int(st["has_uint32"]), int(st["uinteger"])]
    return np.array(words, dtype=np.uint64)


def _rng_from_array(words: NDArray[Any]) -> np.random.Generator:
    w = [int(v) for v in np.asarray(words, dtype=np.uint64)]
    bit = np.random.PCG64()
    bit.state = {
        "bit_generator": "PCG64",
        "state": {"state": (w[0] << 64) | w[1], "inc": (w[2] << 64) | w[3]},
        "has_uint32": w[4],
        "uinteger": w[5],
    }
    return np.random.Generator(bit)


def _sampling_rng(rng: np.random.Generator) -> NDArray[np.uint64]:
    """A fresh PCG64 generator seeded from the run's ``rng``, as a state array."""
    return _rng_to_array(np.random.Generator(np.random.PCG64(int(rng.integers(0, 2**63)))))


@functools.lru_cache(maxsize=256)
def _offsets_of(num_actions: tuple[int, ...]) -> tuple[int, ...]:
    """``(0, A_0, A_0 + A_1, ...)``: where each player's block starts in a flat profile."""
    return (0, *itertools.accumulate(num_actions))


class _Base(IterativeSolver):
    """Shared plumbing: players' strategies live in one flat vector split by offsets."""

    name = "dynamics"
    output = Iterate.AVERAGE
    start: list[list[float]] | None = None

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_") and k not in ("name", "output")}

    def prepare(self, game: Any) -> TensorGame:
        """The game as a tensor game."""
        return prepare_normal_form(self.name, game)

    def check(self, spec: GameSpec) -> None:
        """Normal-form games; 2p0s-only methods override this."""
        check_normal_form(self.name, spec)

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
    state_rules = StateRules(counter="t", nonnegative=frozenset({"weight", "joint"}))

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
        """Run ``iterations`` updates."""
        for _ in range(iterations):
            state["t"] = np.asarray(int(state["t"]) + 1)
            self._advance(game, state, int(state["t"]))

    @abc.abstractmethod
    def _advance(self, game: TensorGame, state: State, t: int) -> None:
        """One update at iteration ``t`` (counted from 1)."""

    def policy(self, game: TensorGame, state: State, which: Iterate) -> MixedProfile:
        """The average (weighted) or the current profile."""
        if which is Iterate.AVERAGE and float(state["weight"]) > 0:
            flat = state["avg"] / float(state["weight"])
        else:
            flat = state["x"]
        parts = [np.maximum(p, 0.0) / np.maximum(p, 0.0).sum() for p in self._split(game, flat)]
        return MixedProfile.of(game, parts)

    def _gradients(self, game: TensorGame, flat: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.concatenate(payoff_gradients(game, self._split(game, flat)))


def _real(name: str, value: Any, *, low: float, high: float = math.inf, low_open: bool = False) -> float:
    """``value`` as a finite float in ``[low, high]`` (``(low, high]`` with ``low_open``)."""
    return check_real(
        name, value, minimum=low, maximum=high if math.isfinite(high) else None, min_inclusive=not low_open
    )


def _integer(name: str, value: Any, *, minimum: int) -> int:
    return check_int(name, value, minimum=minimum)


def _player_gradient(game: TensorGame, parts: Sequence[NDArray[np.float64]], i: int) -> NDArray[np.float64]:
    """``[A_i]``: player ``i``'s payoff gradient against the others' strategies."""
    if game.num_players == 2:
        return game.payoffs[0] @ parts[1] if i == 0 else parts[0] @ game.payoffs[1]
    return game.action_values(list(parts), i)


def _strategy_from_regrets(r: NDArray[np.float64], fallback: NDArray[np.float64]) -> NDArray[np.float64]:
    """Regret matching: ``[r]^+`` normalized, or ``fallback`` when no regret is positive."""
    pos = np.maximum(r, 0.0)
    total = pos.sum()
    return pos / total if total > 0 else fallback


# ---------------------------------------------------------------------------------- regret matching


class RegretMatching(_Base):
    """Regret matching, RM+ and predictive RM+ (simultaneous or alternating updates).

    Each player plays ``[R]^+ / sum [R]^+`` of its cumulative regrets ``R`` (Hart & Mas-Colell
    2000); RM+ clips ``R`` at zero after every update (Tammelin 2014); predictive RM+ plays
    ``[R + r_last]^+`` (Farina, Kroer & Sandholm 2021).

    Convergence: the **average** profile (weights ``t ** averaging``) converges; each player's
    regret is ``O(sqrt(T))`` (Hart & Mas-Colell 2000; Zinkevich et al. 2007 for the bound), so in
    2p0s games the average's NashConv is ``O(1/sqrt(T))``. With simultaneous updates in N-player
    games the empirical joint play converges to the set of coarse correlated equilibria, not to a
    Nash equilibrium. The current iterate need not converge. Alternating updates (player 0 first,
    then player 1 against the new strategy, as in CFR) are much faster in practice in 2p0s games:
    RM+ with linear averaging and predictive RM+ with quadratic averaging get within ``0.01`` of
    biased RPS's equilibrium in 2000 iterations.

    Args:
        plus: Clip cumulative regrets at zero (RM+).
        predictive: Play ``[R + r_last]^+`` (predictive RM+).
        averaging: Weight of iteration ``t`` in the average is ``t ** averaging`` (0 uniform,
            1 linear, 2 quadratic); a finite number in ``[0, 20]`` (larger weights would overflow
            and already make the average the last iterate).
        alternating: Update the players one after another instead of simultaneously.

    Every option is checked when the solver is built; a bad value raises
    :class:`~gamesolve.errors.InvalidArgumentError` naming it.
    """

    def __init__(
        self, plus: bool = False, predictive: bool = False, averaging: float = 0.0, alternating: bool = False
    ) -> None:
        self.plus = check_bool("plus", plus)
        self.predictive = check_bool("predictive", predictive)
        self.averaging = _real("averaging", averaging, low=0.0, high=_MAX_EXPONENT)
        self.alternating = check_bool("alternating", alternating)
        self.name = "rm+" if plus else "regret-matching"

    def init(self, game: TensorGame, rng: np.random.Generator) -> State:
        """Zero regrets; uniform play."""
        del rng
        n = int(sum(game.num_actions))
        return self._new_state(game, regrets=np.zeros(n), last=np.zeros(n))

    def _advance(self, game: TensorGame, state: State, t: int) -> None:
        w = float(t) ** self.averaging
        self._accumulate(state, state["x"], w)
        x_parts = [p.copy() for p in self._split(game, state["x"])]
        r_parts = [p.copy() for p in self._split(game, state["regrets"])]
        last_parts = [p.copy() for p in self._split(game, state["last"])]
        if self.alternating:
            # one player at a time against the others' newest strategies (CFR's schedule)
            for i in range(game.num_players):
                self._update_player(i, _player_gradient(game, x_parts, i), x_parts, r_parts, last_parts)
        else:
            grads = payoff_gradients(game, x_parts)
            for i in range(game.num_players):
                self._update_player(i, grads[i], x_parts, r_parts, last_parts)
        state["x"] = np.concatenate(x_parts)
        state["regrets"] = np.concatenate(r_parts)
        state["last"] = np.concatenate(last_parts)

    def _update_player(
        self,
        i: int,
        g: NDArray[np.float64],
        x_parts: list[NDArray[np.float64]],
        r_parts: list[NDArray[np.float64]],
        last_parts: list[NDArray[np.float64]],
    ) -> None:
        inst = g - g @ x_parts[i]  # [A_i] instantaneous regrets
        regrets = r_parts[i] + inst
        if self.plus:
            regrets = np.maximum(regrets, 0.0)
        r_parts[i] = regrets
        last_parts[i] = inst
        n = g.shape[0]
        target = regrets + inst if self.predictive else regrets
        x_parts[i] = _strategy_from_regrets(target, np.full(n, 1.0 / n))


# ---------------------------------------------------------------------- mirror descent / FTRL family


class MirrorDescent(_Base):
    """Hedge / online mirror descent / FTRL, plain or optimistic, entropy or Euclidean.

    Plain (Freund & Schapire 1999 for Hedge; Zinkevich 2003 for projected gradient): the **average**
    profile converges; with the default anytime step ``eta_t = eta / sqrt(t)`` every player's
    regret is ``O(sqrt(T))``, so the average's NashConv in 2p0s games is ``O(1/sqrt(T))`` (a
    constant step only reaches an ``O(eta)`` neighborhood). The last iterate cycles (its KL to the
    equilibrium grows) and is not a solution.

    Optimistic (OMWU / optimistic FTRL / optimistic OMD; Rakhlin & Sridharan 2013, Syrgkanis et
    al. 2015): the sum of regrets is ``O(1)`` in 2p0s self-play (RVU property), so the average's
    gap is ``O(1/T)``; the **last iterate** (the default output) converges in 2p0s games with a
    unique equilibrium, linearly at an instance-dependent rate (Wei, Lee, Zhang & Luo 2021).

    Args:
        eta: Step size, a finite number > 0. Default: optimistic ``0.1 / max|u|``; plain
            ``sqrt(8 ln m) / range(u)`` (entropy) or ``sqrt(2) / (range(u) sqrt(m))``
            (Euclidean), with ``m`` the largest number of actions.
        geometry: ``"entropy"`` or ``"euclidean"``.
        lazy: FTRL (play the regularized best response to the cumulative gradient) instead of
            greedy OMD steps. With entropy the two coincide.
        optimistic: Add the last gradient as a prediction (OMWU / optimistic FTRL / OOMD).
        output: ``"average"`` (default for plain) or ``"last"`` (default for optimistic).
        schedule: ``"sqrt"`` (``eta_t = eta / sqrt(t)``, default for plain) or ``"constant"``
            (default for optimistic).
        start: Start profile ``x_1`` (default uniform); FTRL forms use it as the regularizer's
            center (``x_{t+1} ∝ x_1 exp(eta G_t)`` with entropy).
    """

    def __init__(
        self,
        eta: float | None = None,
        geometry: str = "entropy",
        lazy: bool = False,
        optimistic: bool = False,
        output: str | None = None,
        schedule: str | None = None,
        start: Sequence[ArrayLike] | None = None,
    ) -> None:
        self.eta = _positive("eta", eta)
        self.start = _check_start(start)
        self.geometry = geometry = _require_geometry(geometry)
        self.lazy = lazy = check_bool("lazy", lazy)
        self.optimistic = optimistic = check_bool("optimistic", optimistic)
        out = _choice("output", output or ("last" if optimistic else "average"), ("average", "last"))
        self.output_iterate = out
        self.output = Iterate.CURRENT if out == "last" else Iterate.AVERAGE
        self.schedule = _choice(
            "schedule", schedule or ("constant" if optimistic else "sqrt"), ("constant", "sqrt")
        )
        if optimistic:
            self.name = "omwu" if geometry == "entropy" else "optimistic-omd"
        else:
            self.name = (
                ("ftrl" if lazy else "hedge") if geometry == "entropy" else ("ftrl" if lazy else "omd")
            )

    def _eta(self, game: TensorGame, t: int) -> float:
        if self.eta is not None:
            base = self.eta
        elif self.optimistic:
            base = 0.1 / (_max_abs(game) if self.geometry == "entropy" else _lipschitz(game))
        else:
            m = max(max(game.num_actions), 2)
            if self.geometry == "entropy":
                base = math.sqrt(8.0 * math.log(m)) / _payoff_range(game)
            else:
                base = math.sqrt(2.0) / (_payoff_range(game) * math.sqrt(m))
        return base / math.sqrt(t) if self.schedule == "sqrt" else base

    def init(self, game: TensorGame, rng: np.random.Generator) -> State:
        """Start profile (also the FTRL center), zero cumulative gradient."""
        del rng
        state = self._new_state(game, cumulative=np.zeros(int(sum(game.num_actions))))
        state["base"] = state["x"].copy()
        state["center"] = state["x"].copy()
        return state

    def _advance(self, game: TensorGame, state: State, t: int) -> None:
        eta = self._eta(game, t)
        x = state["x"]
        self._accumulate(state, x)
        g = self._gradients(game, x)
        state["cumulative"] = state["cumulative"] + g
        # The next step size (eta_{t+1}) weighs the cumulative gradient in FTRL form.
        eta_next = self._eta(game, t + 1)
        entropy_ftrl = self.geometry == "entropy" and (self.optimistic or self.schedule == "sqrt")
        if self.lazy or entropy_ftrl:
            # FTRL centered at x_1: argmax <G_t + m_{t+1}, x> - D(x, x_1) / eta. With entropy and a
            # constant step this equals greedy Hedge; with a decreasing step it is the anytime form.
            target = state["cumulative"] + (g if self.optimistic else 0.0)
            parts = [
                _prox(self.geometry, ci, gi, eta_next)
                for ci, gi in zip(self._split(game, state["center"]), self._split(game, target), strict=True)
            ]
            state["x"] = np.concatenate(parts)
            return
        if self.optimistic:
            # optimistic OMD: base_t = prox(base_{t-1}, g_t); play prox(base_t, g_t)
            base = np.concatenate(
                [
                    _prox(self.geometry, b, gi, eta)
                    for b, gi in zip(self._split(game, state["base"]), self._split(game, g), strict=True)
                ]
            )
            state["base"] = base
            state["x"] = np.concatenate(
                [
                    _prox(self.geometry, b, gi, eta_next)
                    for b, gi in zip(self._split(game, base), self._split(game, g), strict=True)
                ]
            )
            return
        state["x"] = np.concatenate(
            [
                _prox(self.geometry, xi, gi, eta)
                for xi, gi in zip(self._split(game, x), self._split(game, g), strict=True)
            ]
        )


# --------------------------------------------------------------------- extragradient family


class ExtraGradient(_Base):
    """Extragradient / mirror-prox, and the one-call optimistic gradient (Popov / OGDA).

    ``z_{t+1/2} = prox(z_t, eta g(z_t))``, ``z_{t+1} = prox(z_t, eta g(z_{t+1/2}))`` (Korpelevich
    1976; Nemirovski 2004); Popov (1980) / OGDA replaces ``g(z_t)`` by the previous half-step
    gradient.

    Convergence in monotone games (2p0s, N-player monotone): the **ergodic average of the
    half-iterates** has gap ``<= (ln m + ln n) / (eta T)`` for entropic mirror-prox with ``eta <=
    1 / max|A|`` (Nemirovski 2004), i.e. ``O(1/T)``. The Euclidean **last iterate** has gap
    ``O(1/sqrt(T))`` in general (Golowich, Pattathil, Daskalakis & Ozdaglar 2020; Cai, Oikonomou &
    Zheng 2022) and converges linearly on polyhedral bilinear games (Wei, Lee, Zhang & Luo 2021);
    the entropic last iterate also converges linearly in 2p0s games with a unique equilibrium
    (observed: gap < 1e-12 after 20k iterations on AMP and BRPS/50).

    Args:
        eta: Step size (finite, > 0); default ``0.5 / L`` (``L`` = spectral norm for two players; Popov
            ``0.25 / L``) for the Euclidean geometry, ``0.5 / max|u|`` for entropy.
        geometry: ``"euclidean"`` (extragradient, OGDA) or ``"entropy"`` (mirror-prox).
        popov: Reuse the previous half-step gradient (one gradient call per iteration): OGDA.
        output: ``"average"`` (the ergodic average of half-iterates; default for entropy) or
            ``"last"`` (default for Euclidean).
        start: Start profile, one probability vector per player (default uniform).
    """

    def __init__(
        self,
        eta: float | None = None,
        geometry: str = "euclidean",
        popov: bool = False,
        output: str | None = None,
        start: Sequence[ArrayLike] | None = None,
    ) -> None:
        self.eta = _positive("eta", eta)
        self.geometry = geometry = _require_geometry(geometry)
        self.popov = popov = check_bool("popov", popov)
        out = _choice(
            "output", output or ("average" if geometry == "entropy" else "last"), ("average", "last")
        )
        self.output_iterate = out
        self.output = Iterate.CURRENT if out == "last" else Iterate.AVERAGE
        self.start = _check_start(start)
        self.name = "ogda" if popov else ("mirror-prox" if geometry == "entropy" else "extragradient")

    def _eta(self, game: TensorGame) -> float:
        if self.eta is not None:
            return self.eta
        if self.geometry == "entropy":
            return 0.5 / _max_abs(game)
        return (0.25 if self.popov else 0.5) / _lipschitz(game)

    def init(self, game: TensorGame, rng: np.random.Generator) -> State:
        """Start profile; the previous half-step gradient is the gradient at the start."""
        del rng
        state = self._new_state(game)
        state["half_grad"] = self._gradients(game, state["x"])
        return state

    def _step_all(
        self, game: TensorGame, x: NDArray[np.float64], g: NDArray[np.float64], eta: float
    ) -> NDArray[np.float64]:
        return np.concatenate(
            [
                _prox(self.geometry, xi, gi, eta)
                for xi, gi in zip(self._split(game, x), self._split(game, g), strict=True)
            ]
        )

    def _advance(self, game: TensorGame, state: State, t: int) -> None:
        eta = self._eta(game)
        x = state["x"]
        g0 = state["half_grad"] if self.popov else self._gradients(game, x)
        half = self._step_all(game, x, g0, eta)
        g_half = self._gradients(game, half)
        state["half_grad"] = g_half
        self._accumulate(state, half)
        state["x"] = self._step_all(game, x, g_half, eta)


class AcceleratedOptimisticGradient(_Base):
    """Accelerated optimistic gradient (Cai & Zheng, ICML 2023): OG with Halpern anchoring.

    ``z_{t+1/2} = P(z_t + eta g(z_{t-1/2}) + b_t (z_0 - z_t))``,
    ``z_{t+1} = P(z_t + eta g(z_{t+1/2}) + b_t (z_0 - z_t))`` with ``b_t = 1 / (t + 2)`` for
    ``t = 0, 1, ...`` and ``g(z_{-1/2}) = g(z_0)`` (Euclidean projections, per player).

    Convergence: the **last iterate**'s gap (tangent residual) is ``O(1/T)`` in smooth monotone
    games, which is optimal (Cai & Zheng 2023), so ``T * gap(z_T)`` stays bounded; each player's
    dynamic regret is ``O(log T)``. The iterate is pulled toward the anchor ``z_0``, so the rate is
    exactly ``Theta(1/T)`` even where plain extragradient converges linearly.

    Args:
        eta: Step size (finite, > 0); default ``0.2 / L`` with ``L`` the spectral norm.
        start: Anchor and start profile ``z_0``, one probability vector per player (default
            uniform).
    """

    output = Iterate.CURRENT

    def __init__(self, eta: float | None = None, start: Sequence[ArrayLike] | None = None) -> None:
        self.eta = _positive("eta", eta)
        self.start = _check_start(start)
        self.name = "aog"

    def init(self, game: TensorGame, rng: np.random.Generator) -> State:
        """Anchor and start at ``z_0``."""
        del rng
        state = self._new_state(game)
        state["anchor"] = state["x"].copy()
        state["half_grad"] = self._gradients(game, state["x"])
        return state

    def _advance(self, game: TensorGame, state: State, t: int) -> None:
        eta = self.eta if self.eta is not None else 0.2 / _lipschitz(game)
        beta = 1.0 / (t + 1)  # t counts from 1 here, so this is 1 / (s + 2) for s = t - 1
        x = state["x"]
        pull = beta * (state["anchor"] - x)

        def project(v: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.concatenate([project_simplex(p) for p in self._split(game, v)])

        half = project(x + eta * state["half_grad"] + pull)
        g_half = self._gradients(game, half)
        state["half_grad"] = g_half
        self._accumulate(state, half)
        state["x"] = project(x + eta * g_half + pull)


class MagneticMirrorDescent(_Base):
    """Magnetic mirror descent (Sokota et al., ICLR 2023), entropy or Euclidean.

    Entropy: ``x_{t+1} ∝ [x_t rho^(eta alpha) exp(eta g_t)]^(1 / (1 + eta alpha))``; Euclidean:
    ``P((x_t + eta alpha rho + eta g_t) / (1 + eta alpha))``.

    Convergence: in monotone games (2p0s) with ``eta <= alpha / L^2`` the **last iterate**
    converges linearly, ``KL(x*, x_{t+1}) <= (1 + eta alpha)^-t KL(x*, x_1)`` (Sokota et al.
    2023), to the logit QRE at temperature ``alpha`` (for a uniform magnet ``rho``). Its
    NE-exploitability is at most ``alpha * sum_i ln m_i``. For a Nash equilibrium anneal ``alpha``
    (``anneal=True``: ``alpha_t = alpha / sqrt(t)``, no rate claimed) or move the magnet toward
    the iterate (``magnet_rate`` > 0).

    Args:
        alpha: Regularization temperature in payoff units (> 0); default ``0.1 * max|u|``.
        eta: Step size (finite, > 0); default ``alpha / max|u|^2`` (OpenSpiel's default).
        geometry: ``"entropy"`` or ``"euclidean"``.
        anneal: Decay ``alpha`` as ``alpha / sqrt(t)``.
        magnet_rate: ``lambda`` in ``[0, 1]`` of the moving magnet ``rho <- rho^(1-lambda) x^lambda``
            (0 = fixed).
        start: Start profile, one probability vector per player (default uniform).
    """

    output = Iterate.CURRENT

    def __init__(
        self,
        alpha: float | None = None,
        eta: float | None = None,
        geometry: str = "entropy",
        anneal: bool = False,
        magnet_rate: float = 0.0,
        start: Sequence[ArrayLike] | None = None,
    ) -> None:
        self.alpha = _positive("alpha", alpha)
        self.eta = _positive("eta", eta)
        self.geometry = _require_geometry(geometry)
        self.anneal = check_bool("anneal", anneal)
        self.magnet_rate = _real("magnet_rate", magnet_rate, low=0.0, high=1.0)
        self.start = _check_start(start)
        self.name = "mmd"

    def _alpha(self, game: TensorGame) -> float:
        return self.alpha if self.alpha is not None else 0.1 * _max_abs(game)

    def init(self, game: TensorGame, rng: np.random.Generator) -> State:
        """Start profile and uniform magnet."""
        del rng
        return self._new_state(game, magnet=self._uniform(game))

    def _advance(self, game: TensorGame, state: State, t: int) -> None:
        alpha0 = self._alpha(game)
        alpha = alpha0 / math.sqrt(t) if self.anneal else alpha0
        eta = self.eta if self.eta is not None else alpha0 / _max_abs(game) ** 2
        x = state["x"]
        self._accumulate(state, x)
        g = self._gradients(game, x)
        parts = []
        for xi, gi, rho in zip(
            self._split(game, x), self._split(game, g), self._split(game, state["magnet"]), strict=True
        ):
            if self.geometry == "entropy":
                logits = (_log(xi) + eta * alpha * _log(rho) + eta * gi) / (1.0 + eta * alpha)
                parts.append(_softmax(logits))
            else:
                parts.append(project_simplex((xi + eta * alpha * rho + eta * gi) / (1.0 + eta * alpha)))
        new = np.concatenate(parts)
        state["x"] = new
        if self.magnet_rate > 0:
            lam = self.magnet_rate
            mags = [
                _softmax((1 - lam) * _log(rho) + lam * _log(xi))
                for rho, xi in zip(self._split(game, state["magnet"]), self._split(game, new), strict=True)
            ]
            state["magnet"] = np.concatenate(mags)


# ------------------------------------------------------------------ fictitious play, replicator


class FictitiousPlay(_Base):
    """Fictitious play and smooth (entropic) fictitious play, simultaneous updates.

    ``x_{t+1} = (1 - 1/(t+1)) x_t + 1/(t+1) BR(x_t)`` where ``x_t`` is the empirical average and BR
    the best response (lowest index on ties) or, with ``temperature > 0``, the logit response
    ``softmax(g / temperature)``.

    Convergence: the **empirical average** (the iterate itself) converges to the Nash equilibria
    in 2p0s games (Robinson 1951) and potential games (Monderer & Shapley 1996); Karlin's
    conjectured ``O(t^(-1/2))`` rate fails in general (with adversarial tie-breaking it can be as
    slow as ``t^(-1/n)``; Daskalakis & Pan 2014), and it may cycle in general-sum games (Shapley's
    game). Smooth FP converges to the logit QRE at that temperature in 2p0s and
    potential games (Hofbauer & Sandholm 2002); the deterministic steps ``1/(t+1)`` give an error
    that decays roughly like ``1/t`` in practice (no finite-time bound is claimed).

    Args:
        temperature: ``0`` for best responses, or the logit temperature in payoff units (finite,
            >= 0).
        start: Initial belief, one probability vector per player (default uniform).
    """

    output = Iterate.CURRENT

    def __init__(self, temperature: float = 0.0, start: Sequence[ArrayLike] | None = None) -> None:
        self.temperature = _real("temperature", temperature, low=0.0)
        self.start = _check_start(start)
        self.name = "smooth-fp" if self.temperature > 0 else "fictitious-play"

    def _advance(self, game: TensorGame, state: State, t: int) -> None:
        x = state["x"]
        g = self._gradients(game, x)
        parts = []
        for gi in self._split(game, g):
            if self.temperature > 0:
                parts.append(_softmax(gi / self.temperature))
            else:
                br = np.zeros_like(gi)
                br[int(np.argmax(gi))] = 1.0
                parts.append(br)
        step = 1.0 / (t + 1)
        state["x"] = (1 - step) * x + step * np.concatenate(parts)
        self._accumulate(state, state["x"])


class Replicator(_Base):
    """Replicator dynamics (Euler steps) and projected replicator dynamics.

    ``x <- x + dt * x * (g - x.g)`` with payoffs scaled to ``max|u| = 1``; the projected variant
    (Lanctot et al. 2017, PSRO's meta-solver) projects onto ``{x : x_a >= gamma}``.

    Convergence: in 2p0s games with an interior equilibrium ``KL(x*, x)`` is conserved by the
    continuous dynamics and the orbits cycle (Taylor & Jonker 1978; Hofbauer & Sigmund 1998), so
    only the **time average** (the default output) converges: in continuous time its duality gap is
    at most ``(KL(x*, x_0) + KL(y*, y_0)) / T`` after time ``T = t dt`` (the dynamics are
    continuous-time FTRL; Mertikopoulos, Papadimitriou & Piliouras 2018), and the Euler
    discretization adds an outward drift of order ``dt``. No convergence in general-sum games.

    Args:
        dt: Euler step, finite and > 0 (default 1e-3, relative to payoffs scaled to max|u| = 1).
        projected: Project onto the ``gamma``-floored simplex.
        gamma: Floor of the projected variant, in ``[0, 1)`` (default 1e-6).
        start: Start profile, one probability vector per player (default uniform, a rest point in
            symmetric games).
    """

    def __init__(
        self,
        dt: float = 1e-3,
        projected: bool = False,
        gamma: float = 1e-6,
        start: Sequence[ArrayLike] | None = None,
    ) -> None:
        self.dt = _real("dt", dt, low=0.0, low_open=True)
        self.projected = projected = check_bool("projected", projected)
        self.gamma = check_real("gamma", gamma, minimum=0.0, maximum=1.0, max_inclusive=False)
        self.start = _check_start(start)
        self.name = "projected-replicator" if projected else "replicator"

    def _advance(self, game: TensorGame, state: State, t: int) -> None:
        x = state["x"]
        self._accumulate(state, x)
        g = self._gradients(game, x) / _max_abs(game)
        parts = []
        for xi, gi in zip(self._split(game, x), self._split(game, g), strict=True):
            y = xi + self.dt * xi * (gi - xi @ gi)
            if self.projected:
                y = _project_floored(y, min(self.gamma, 1.0 / y.shape[0]))
            else:
                y = np.maximum(y, 0.0)
                y /= y.sum()
            parts.append(y)
        state["x"] = np.concatenate(parts)


# ---------------------------------------------------------------------------------------- QRE


class LogitQRE(_Base):
    """Logit quantal response equilibrium (McKelvey & Palfrey 1995) at a given temperature.

    Solves ``x_i = softmax(g_i(x_-i) / temperature)`` for every player. Methods:

    * ``"prox"`` (2p0s games only): entropy-regularized extragradient / policy extragradient (Cen,
      Wei & Chi 2021), ``x_{t+1/2} ∝ x_t^(1 - eta tau) exp(eta g(x_t))``,
      ``x_{t+1} ∝ x_t^(1 - eta tau) exp(eta g(x_{t+1/2}))``. The **last iterate** converges
      linearly to the unique QRE, ``KL(z*, z_t) <= (1 - eta tau)^t KL(z*, z_0)`` for ``eta <= 1 /
      (tau + 2 ||A||_max)`` (``||A||_max`` after centering the payoffs), i.e. about ``(2
      ||A||_max / tau) ln(1/eps)`` iterations.
    * ``"homotopy"`` (any game): pseudo-arclength continuation of the principal branch in
      ``lambda = 1 / temperature`` from uniform play at ``lambda = 0`` (the unique QRE there),
      with Newton corrector steps on the logit parametrization ``H(theta, lambda) = theta_i,a -
      lambda (g_i,a - g_i,0) = 0`` (Turocy 2005; the method of Gambit's ``logit`` solver), by the
      path follower :class:`~gamesolve.solvers.homotopy.LogitPath` that
      :class:`~gamesolve.solvers.homotopy.NashHomotopy`
      shares. The branch may fold back in ``lambda``; arclength steps follow it through turning points, and
      the first crossing of the target ``lambda`` is polished by ``scipy.optimize.root``. One
      iteration is one predictor-corrector step; after the landing the **current iterate** is the
      QRE to machine precision (quadratic convergence of the Newton corrector) and further
      iterations only re-polish it. As ``temperature -> 0`` the branch selects the limiting logit
      equilibrium.
    * ``"fixed-point"``: damped iteration ``x <- (1 - kappa) x + kappa softmax(g(x) / tau)`` with
      the damping halved whenever the residual stops shrinking. Converges for large temperatures
      (where the logit response is a contraction); it may stall at low temperatures.
    * ``"auto"`` (default): ``"prox"`` in 2p0s games, ``"homotopy"`` otherwise.

    The QRE's NE-exploitability is at most ``temperature * sum_i ln m_i``; :meth:`residual` gives
    ``max |x - softmax(g(x) / tau)|``.

    Args:
        temperature: ``tau > 0`` in payoff units.
        method: ``"auto"``, ``"prox"``, ``"homotopy"`` or ``"fixed-point"``.
        eta: Step of ``"prox"``; default ``1 / (tau + 2 ||A - mid||_max)``; needs ``eta tau < 1``.
        damping: Largest damping ``kappa`` in ``(0, 1]`` of ``"fixed-point"``.
    """

    output = Iterate.CURRENT
    METHODS = ("auto", "prox", "homotopy", "fixed-point")

    def __init__(
        self, temperature: float = 0.1, method: str = "auto", eta: float | None = None, damping: float = 0.5
    ) -> None:
        self.temperature = _real("temperature", temperature, low=0.0, low_open=True)
        self.method = _choice("method", method, self.METHODS)
        self.eta = _positive("eta", eta)
        if self.eta is not None and self.eta * self.temperature >= 1.0:
            raise InvalidArgumentError(
                f"eta must be below 1 / temperature = {1.0 / self.temperature:g}, got {eta!r}"
            )
        self.damping = _real("damping", damping, low=0.0, high=1.0, low_open=True)
        self.name = "qre"

    def _method(self, game: TensorGame) -> str:
        if self.method == "auto":
            return "prox" if _is_two_player_zero_sum(game.spec) else "homotopy"
        return self.method

    def check(self, spec: GameSpec) -> None:
        """Normal-form games; ``method="prox"`` needs a two-player zero-sum game."""
        super().check(spec)
        if self.method == "prox":
            require_two_player_zero_sum("qre with method='prox'", spec)

    def response(
        self, game: TensorGame, flat: NDArray[np.float64], temperature: float
    ) -> NDArray[np.float64]:
        """The logit response profile to ``flat`` (concatenated strategies ``[sum A_i]``)."""
        g = self._gradients(game, flat)
        return np.concatenate([_softmax(gi / temperature) for gi in self._split(game, g)])

    def residual(self, game: TensorGame, profile: MixedProfile | Sequence[ArrayLike]) -> float:
        """``max |x - softmax(g(x) / temperature)|``: zero exactly at the QRE."""
        strategies = profile.strategies if isinstance(profile, MixedProfile) else profile
        flat = np.concatenate([np.asarray(s, dtype=np.float64) for s in strategies])
        return float(np.abs(flat - self.response(game, flat, self.temperature)).max())

    def init(self, game: TensorGame, rng: np.random.Generator) -> State:
        """Uniform start (the unique QRE at infinite temperature)."""
        del rng
        state = self._new_state(
            game,
            residual=np.asarray(np.inf),
            damping=np.asarray(self.damping),
            best=np.asarray(np.inf),
            stall=np.asarray(0, dtype=np.int64),
        )
        if self._method(game) == "homotopy":
            path = LogitPath(game)
            n = path.size
            theta, tangent = path.start()
            state.update(
                theta=theta,
                lam=np.zeros(()),  # lambda * max|u|: the payoffs are scaled to max|u| = 1
                tangent=tangent,
                arc=np.asarray(0.25),
                done=np.asarray(int(n == 0), dtype=np.int64),
            )
        return state

    def _advance(self, game: TensorGame, state: State, t: int) -> None:
        method = self._method(game)
        if method == "prox":
            self._prox_step(game, state)
        elif method == "homotopy":
            self._homotopy_step(game, state)
        else:
            self._fixed_point_step(game, state)
        state["residual"] = np.asarray(self.residual(game, self._split(game, state["x"])))

    # -- prox: entropy-regularized extragradient (Cen, Wei & Chi 2021)
    def _prox_eta(self, game: TensorGame) -> float:
        if self.eta is not None:
            return self.eta
        a = game.payoffs[0]
        half_range = max(float(a.max() - a.min()) / 2.0, 1e-12)
        return 1.0 / (self.temperature + 2.0 * half_range)

    def _prox_step(self, game: TensorGame, state: State) -> None:
        eta = self._prox_eta(game)
        keep = 1.0 - eta * self.temperature
        x = state["x"]

        def move(g: NDArray[np.float64]) -> NDArray[np.float64]:
            return np.concatenate(
                [
                    _softmax(keep * _log(xi) + eta * gi)
                    for xi, gi in zip(self._split(game, x), self._split(game, g), strict=True)
                ]
            )

        half = move(self._gradients(game, x))
        state["x"] = move(self._gradients(game, half))

    # -- damped fixed point
    def _fixed_point_step(self, game: TensorGame, state: State) -> None:
        x = state["x"]
        response = self.response(game, x, self.temperature)
        residual = float(np.abs(response - x).max())
        damping = float(state["damping"])
        # Keep the damping while the best residual keeps improving; halve it after 50 steps
        # without a new best (the undamped logit response rotates around the QRE in zero-sum
        # games and contracts only with damping below 2 / (1 + rho^2), rho its spectral radius).
        if residual < float(state["best"]) * (1.0 - 1e-9):
            state["best"] = np.asarray(residual)
            state["stall"] = np.asarray(0, dtype=np.int64)
        else:
            state["stall"] = np.asarray(int(state["stall"]) + 1, dtype=np.int64)
            if int(state["stall"]) >= 50:
                damping = max(damping / 2.0, 1e-9)
                state["stall"] = np.asarray(0, dtype=np.int64)
                state["best"] = np.asarray(residual)
        state["damping"] = np.asarray(damping)
        state["x"] = (1 - damping) * x + damping * response

    # -- homotopy: the shared path follower of gamesolve.solvers.homotopy on the principal branch
    def _target_lambda(self, game: TensorGame) -> float:
        return _max_abs(game) / self.temperature

    def _homotopy_step(self, game: TensorGame, state: State) -> None:
        path = LogitPath(game)
        target = self._target_lambda(game)
        theta = state["theta"]
        if int(state["done"]):
            if theta.size and float(state["residual"]) > 1e-13:
                theta, _ = path.solve_at(theta, target)
                state["theta"] = theta
                state["x"] = np.concatenate(path.profile(theta))
            return
        lam = float(state["lam"])
        step = path.step(theta, lam, state["tangent"], float(state["arc"]))
        if step.point is None:  # no progress along the branch: try solving at the target from here
            log.warning("qre homotopy stalled at lambda=%g; solving at the target directly", lam)
            if not self._land(path, state, theta, target, math.inf):
                state["arc"] = np.asarray(1e-3)
            return
        new = step.point
        if float(new[-1]) >= target:
            # first crossing of the target: interpolate along the step, then solve at the target
            frac = (target - lam) / (float(new[-1]) - lam)
            guess = theta + frac * (new[:-1] - theta)
            if not self._land(path, state, guess, target, 0.2 * step.arc):
                state["arc"] = np.asarray(step.arc / 4.0)  # retry from here with a shorter step
            return
        state["theta"] = new[:-1]
        state["lam"] = np.asarray(float(new[-1]))
        state["tangent"] = step.tangent
        state["arc"] = np.asarray(step.next_arc)
        state["x"] = np.concatenate(path.profile(new[:-1]))

    def _land(
        self, path: LogitPath, state: State, theta0: NDArray[np.float64], target: float, radius: float
    ) -> bool:
        """Solve at the target from ``theta0``; on success store the QRE and return True.

        The solution must lie within ``radius`` of ``theta0`` (else it may be on another branch).
        """
        theta, residual = path.solve_at(theta0, target)
        if not (residual <= 1e-9 and float(np.linalg.norm(theta - theta0)) <= radius):
            return False
        state["theta"] = theta
        state["lam"] = np.asarray(target)
        state["done"] = np.asarray(1, dtype=np.int64)
        state["x"] = np.concatenate(path.profile(theta))
        return True


# ------------------------------------------------------------------------- Gemp et al. NE loss


def _profile_strategies(
    game: TensorGame, profile: MixedProfile | Sequence[ArrayLike]
) -> list[NDArray[np.float64]]:
    strategies = profile.strategies if isinstance(profile, MixedProfile) else profile
    out = [np.asarray(s, dtype=np.float64) for s in strategies]
    if len(out) != game.num_players or any(
        s.shape != (n,) for s, n in zip(out, game.num_actions, strict=False)
    ):
        raise InvalidArgumentError(f"profile must give one vector per player with {game.num_actions} entries")
    return out


def _temperature(value: float) -> float:
    return _real("temperature", value, low=0.0)


def _projected_gradients(
    game: TensorGame, strategies: Sequence[NDArray[np.float64]], temperature: float
) -> list[NDArray[np.float64]]:
    """Per player ``[A_k]``: ``Pi_T(g_k - tau (ln x_k + 1))`` (tangent projection removes the mean)."""
    out = []
    for gk, xk in zip(payoff_gradients(game, strategies), strategies, strict=True):
        grad = gk - temperature * (_log(xk) + 1.0)
        out.append(grad - grad.mean())
    return out


def ne_loss(game: TensorGame, profile: MixedProfile | Sequence[ArrayLike], temperature: float) -> float:
    """Exact loss of Gemp, Marris & Piliouras (2024): ``sum_k || Pi_T (g_k - tau (ln x_k + 1)) ||^2``.

    ``g_k`` is player ``k``'s payoff gradient and ``Pi_T`` the projection onto the simplex's
    tangent space (subtract the mean). The loss is zero exactly at interior logit QREs at
    temperature ``tau`` (at interior Nash equilibria for ``tau = 0``); on asymmetric matching
    pennies it is ``0.25`` at uniform play for every ``tau``.

    Args:
        game: A normal-form game.
        profile: One mixed strategy per player.
        temperature: ``tau >= 0`` in payoff units.

    Returns:
        The loss (all weights ``eta_k = 1``).
    """
    strategies = _profile_strategies(game, profile)
    return float(sum(p @ p for p in _projected_gradients(game, strategies, _temperature(temperature))))


def ne_loss_gradient(
    game: TensorGame, profile: MixedProfile | Sequence[ArrayLike], temperature: float
) -> list[NDArray[np.float64]]:
    """Exact gradient of :func:`ne_loss` with respect to each player's strategy (ambient coordinates).

    ``d L / d x_i = -2 tau Pi_T(grad_i) / x_i + sum_{j != i} 2 (d g_j / d x_i)^T Pi_T(grad_j)``,
    where ``d g_j / d x_i`` ``[A_j, A_i]`` is player ``j``'s payoff with ``i`` and ``j`` free.

    Args:
        game: A normal-form game.
        profile: One mixed strategy per player (entries > 0).
        temperature: ``tau >= 0``.

    Returns:
        Per player, ``[A_i]``.
    """
    strategies = _profile_strategies(game, profile)
    tau = _temperature(temperature)
    projected = _projected_gradients(game, strategies, tau)
    out = []
    for i, xi in enumerate(strategies):
        grad = -2.0 * tau * projected[i] / np.maximum(xi, _TINY)
        for j in range(game.num_players):
            if j != i:
                grad = grad + 2.0 * (_cross_jacobian(game, strategies, j, i).T @ projected[j])
        out.append(grad)
    return out


def _sample_payoffs(
    game: TensorGame,
    strategies: Sequence[NDArray[np.float64]],
    k: int,
    samples: int,
    rng: np.random.Generator,
) -> tuple[NDArray[np.float64], list[NDArray[np.int64]]]:
    """``[S, A_k]`` payoffs ``u_k(., a_-k)`` at ``S`` opponent profiles drawn from ``x_-k``, and the draws."""
    draws = [
        rng.choice(len(s), size=samples, p=s) if j != k else np.zeros(samples, dtype=np.int64)
        for j, s in enumerate(strategies)
    ]
    table = np.moveaxis(game.payoffs[k], k, -1)  # [A_-k..., A_k]
    index = tuple(draws[j] for j in range(game.num_players) if j != k)
    return table[index], draws


def ne_loss_samples(
    game: TensorGame,
    profile: MixedProfile | Sequence[ArrayLike],
    temperature: float,
    samples: int,
    *,
    rng: np.random.Generator,
) -> NDArray[np.float64]:
    """``[samples]`` independent unbiased estimates of :func:`ne_loss` (two-sample estimator).

    For each player ``k`` two *independent* opponent joint actions ``a_-k, b_-k ~ x_-k`` give
    ``<Pi_T(u_k(., a_-k) - tau (ln x_k + 1)), Pi_T(u_k(., b_-k) - tau (ln x_k + 1))>``, whose
    expectation is the exact term because ``Pi_T`` is linear and the draws are independent
    (Gemp, Marris & Piliouras 2024).

    Args:
        game: A normal-form game.
        profile: One mixed strategy per player.
        temperature: ``tau >= 0``.
        samples: Number of estimates (>= 1).
        rng: Source of randomness.

    Returns:
        ``[samples]`` estimates; their mean is unbiased for the loss.
    """
    strategies = _profile_strategies(game, profile)
    tau = _temperature(temperature)
    count = _integer("samples", samples, minimum=1)
    total = np.zeros(count)
    for k, xk in enumerate(strategies):
        entropy = tau * (_log(xk) + 1.0)  # [A_k]
        first, _ = _sample_payoffs(game, strategies, k, count, rng)
        second, _ = _sample_payoffs(game, strategies, k, count, rng)
        pa = first - entropy
        pb = second - entropy
        pa -= pa.mean(axis=1, keepdims=True)
        pb -= pb.mean(axis=1, keepdims=True)
        total += (pa * pb).sum(axis=1)
    return total


def ne_loss_estimate(
    game: TensorGame,
    profile: MixedProfile | Sequence[ArrayLike],
    temperature: float,
    *,
    rng: np.random.Generator,
) -> float:
    """One unbiased sample of :func:`ne_loss` from two independent opponent action samples.

    Args:
        game: A normal-form game.
        profile: One mixed strategy per player.
        temperature: ``tau >= 0``.
        rng: Source of randomness.

    Returns:
        The estimate (it can be negative; its expectation is the loss).
    """
    return float(ne_loss_samples(game, profile, temperature, 1, rng=rng)[0])


def ne_loss_gradient_estimate(
    game: TensorGame,
    profile: MixedProfile | Sequence[ArrayLike],
    temperature: float,
    samples: int = 1,
    *,
    rng: np.random.Generator,
) -> list[NDArray[np.float64]]:
    """Unbiased estimate of :func:`ne_loss_gradient` from independent pairs of opponent samples.

    For each player ``j``, two independent opponent joint actions ``a, b ~ x_-j`` (``samples``
    pairs, averaged) give unbiased projected gradients ``Pi_T grad_j^a`` and ``Pi_T grad_j^b``.
    Player ``j``'s own block gets ``-tau (Pi_T grad_j^a + Pi_T grad_j^b) / x_j``; player ``i != j``
    gets ``J_ji^b . Pi_T grad_j^a + J_ji^a . Pi_T grad_j^b``, where the Jacobian ``J_ji = d g_j /
    d x_i`` is read at the *other* draw's actions of the remaining players (exact in two-player
    games), so every product is of independent unbiased factors (Gemp, Marris & Piliouras 2024).

    Args:
        game: A normal-form game.
        profile: One mixed strategy per player (entries > 0).
        temperature: ``tau >= 0``.
        samples: Pairs of draws per player (>= 1).
        rng: Source of randomness.

    Returns:
        Per player, ``[A_i]``; the expectation is the exact gradient.
    """
    strategies = _profile_strategies(game, profile)
    tau = _temperature(temperature)
    s = _integer("samples", samples, minimum=1)
    n = game.num_players
    grads = [np.zeros(m) for m in game.num_actions]
    for j, xj in enumerate(strategies):
        entropy = tau * (_log(xj) + 1.0)
        first, draws_a = _sample_payoffs(game, strategies, j, s, rng)  # [S, A_j]
        second, draws_b = _sample_payoffs(game, strategies, j, s, rng)
        pa = first - entropy
        pb = second - entropy
        pa -= pa.mean(axis=1, keepdims=True)
        pb -= pb.mean(axis=1, keepdims=True)
        # own block: -tau diag(1/x_j) times the projected gradient, symmetrized over the pair
        grads[j] += -tau * (pa + pb).mean(axis=0) / np.maximum(xj, _TINY)
        for i in range(n):
            if i == j:
                continue
            if n == 2:  # d g_j / d x_i is exact in two-player games
                jac = _cross_jacobian(game, strategies, j, i)  # [A_j, A_i]
                grads[i] += jac.T @ (pa + pb).mean(axis=0)
                continue
            # [S, A_j, A_i]: u_j with j and i free at the other players' draws of each sample
            table = np.moveaxis(game.payoffs[j], (j, i), (-2, -1))
            rest = [k for k in range(n) if k not in (i, j)]
            jac_a = table[tuple(draws_a[k] for k in rest)]
            jac_b = table[tuple(draws_b[k] for k in rest)]
            # Jacobian from one draw times the projected gradient from the other
            grads[i] += (np.einsum("sji,sj->i", jac_b, pa) + np.einsum("sji,sj->i", jac_a, pb)) / s
    return grads


class NashLossSGD(_Base):
    """Minimize the Gemp, Marris & Piliouras (2024) NE loss by (stochastic) projected gradient.

    The loss ``L(x) = sum_k ||Pi_T(g_k - tau (ln x_k + 1))||^2`` is zero exactly at the interior
    logit QREs at temperature ``tau``. Each step moves every strategy along ``-grad L`` and projects
    onto ``{x_k : x_k >= floor_k}``, with ``floor_k = exp(-range(u_k) / tau) / m_k`` (every QRE
    lies above it; at least ``1e-12``).

    * ``samples=None``: exact gradients with an Armijo backtracking step, so the exact loss
      **decreases monotonically**; the **current iterate** converges to a stationary point of the
      loss, linearly near a nondegenerate QRE (a zero of the loss). The loss is non-convex, so in
      general-sum games a stationary point need not be a QRE.
    * ``samples=S``: unbiased two-sample estimates of the gradient (``S`` pairs per player and
      step; the Jacobian and the projected gradient come from independent draws) and the step
      ``lr / sqrt(t)``: projected SGD on a non-convex loss, whose expected stationarity measure
      decays like ``O(log t / sqrt(t))``; the iterate hovers around a QRE with noise that shrinks
      with the step.

    The QRE's NE-exploitability is at most ``tau * sum_k ln m_k``.

    Args:
        temperature: Entropy temperature ``tau`` (> 0) in payoff units.
        lr: Initial learning rate on payoffs scaled to ``range(u) = 1`` (default 0.1, OpenSpiel's);
            exact runs adapt it by backtracking.
        samples: ``None`` for exact gradients, or the number of sampled pairs per player and step.
        start: Start profile, one probability vector per player (default uniform).
    """

    output = Iterate.CURRENT

    def __init__(
        self,
        temperature: float = 0.05,
        lr: float = 0.1,
        samples: int | None = None,
        start: Sequence[ArrayLike] | None = None,
    ) -> None:
        self.temperature = _real("temperature", temperature, low=0.0, low_open=True)
        self.lr = _real("lr", lr, low=0.0, low_open=True)
        self.samples = None if samples is None else _integer("samples", samples, minimum=1)
        self.start = _check_start(start)
        self.name = "ne-loss-sgd"

    def init(self, game: TensorGame, rng: np.random.Generator) -> State:
        """Start profile, initial step and (sampled mode) a sampling generator."""
        state = self._new_state(game)
        state["x"] = np.concatenate(
            [
                _project_floored(p, f)
                for p, f in zip(self._split(game, state["x"]), self._floors(game), strict=True)
            ]
        )
        state["lr"] = np.asarray(self.lr / _payoff_range(game) ** 2)
        state["loss"] = np.asarray(ne_loss(game, self._split(game, state["x"]), self.temperature))
        if self.samples is not None:
            state["rng"] = _sampling_rng(rng)
        return state

    def _floors(self, game: TensorGame) -> list[float]:
        out = []
        for k, m in enumerate(game.num_actions):
            spread = float(game.payoffs[k].max() - game.payoffs[k].min())
            out.append(min(max(math.exp(-spread / self.temperature) / m, 1e-12), 1.0 / m))
        return out

    def step(self, game: TensorGame, state: State, iterations: int = 1) -> None:
        """Run ``iterations`` gradient steps."""
        if self.samples is None:
            super().step(game, state, iterations)
            return
        rng = _rng_from_array(state["rng"])
        for _ in range(iterations):
            state["t"] = np.asarray(int(state["t"]) + 1)
            self._sampled_step(game, state, int(state["t"]), rng)
        state["rng"] = _rng_to_array(rng)

    def _move(
        self, game: TensorGame, x: NDArray[np.float64], grad: NDArray[np.float64], lr: float
    ) -> NDArray[np.float64]:
        parts = zip(self._split(game, x - lr * grad), self._floors(game), strict=True)
        return np.concatenate([_project_floored(p, f) for p, f in parts])

    def _advance(self, game: TensorGame, state: State, t: int) -> None:
        """Exact gradient step with Armijo backtracking (the exact loss never increases)."""
        x = state["x"]
        parts = self._split(game, x)
        loss = ne_loss(game, parts, self.temperature)
        grad = np.concatenate(ne_loss_gradient(game, parts, self.temperature))
        lr = float(state["lr"])
        for _ in range(60):
            candidate = self._move(game, x, grad, lr)
            new_loss = ne_loss(game, self._split(game, candidate), self.temperature)
            if new_loss <= loss + 1e-4 * float(grad @ (candidate - x)):
                state["x"] = candidate
                state["loss"] = np.asarray(new_loss)
                state["lr"] = np.asarray(min(lr * 1.5, 100.0 * self.lr / _payoff_range(game) ** 2))
                self._accumulate(state, candidate)
                return
            lr *= 0.5
        state["lr"] = np.asarray(lr)  # no decrease found: x is stationary to working precision
        state["loss"] = np.asarray(loss)
        self._accumulate(state, x)

    def _sampled_step(self, game: TensorGame, state: State, t: int, rng: np.random.Generator) -> None:
        """Projected SGD step on the unbiased two-sample gradient estimate."""
        assert self.samples is not None
        strategies = self._split(game, state["x"])
        grads = ne_loss_gradient_estimate(game, strategies, self.temperature, self.samples, rng=rng)
        lr = float(state["lr"]) / math.sqrt(t)
        state["x"] = self._move(game, state["x"], np.concatenate(grads), lr)
        self._accumulate(state, state["x"])


# --------------------------------------------------------------------------- internal regret


def _stationary(rates: NDArray[np.float64], fallback: NDArray[np.float64]) -> NDArray[np.float64]:
    """A stationary distribution ``p`` of the chain with off-diagonal switching rates ``[m, m]``.

    Solves ``sum_j p_j rates[j, k] = p_k sum_l rates[k, l]`` with ``sum p = 1``, ``p >= 0``;
    ``fallback`` when no rate is positive.
    """
    m = rates.shape[0]
    out_rate = rates.sum(axis=1)  # [m]
    if not out_rate.any():
        return fallback
    if m == 2:
        p = np.array([rates[1, 0], rates[0, 1]])
        return p / p.sum() if p.sum() > 0 else fallback
    generator = rates - np.diag(out_rate)  # rows sum to 0
    system = generator.T.copy()
    system[-1] = 1.0
    rhs = np.zeros(m)
    rhs[-1] = 1.0
    try:
        p = np.linalg.solve(system, rhs)
        if np.all(p >= -1e-12) and np.abs(p @ generator).max() <= 1e-9 * max(1.0, out_rate.max()):
            p = np.maximum(p, 0.0)
            return p / p.sum()
    except np.linalg.LinAlgError:
        pass
    # Reducible chain: iterate the lazy chain (self-loop >= 1/2, so aperiodic) by squaring.
    chain = np.eye(m) + generator / (2.0 * out_rate.max())
    for _ in range(64):
        chain = chain @ chain
    p = np.maximum(fallback @ chain, 0.0)
    return p / p.sum()


class InternalRegret(_Base):
    """Internal (swap) regret matching; the empirical joint play converges to correlated equilibria.

    Each player ``i`` keeps conditional regrets ``R_i[j, k] = sum_s x_i^s(j) (g_i^s(k) - g_i^s(j))``
    (the gain, weighted by how often ``j`` was played, of having played ``k`` whenever ``j`` was
    played) and plays the stationary distribution ``p`` of the Markov chain that switches from
    ``j`` to ``k`` at rate ``[R_i[j, k]]^+``: ``sum_j p_j [R_i[j, k]]^+ = p_k sum_l [R_i[k, l]]^+``.
    This is the expected form of Hart & Mas-Colell's (2000) regret matching with inertia (the
    stationary distribution does not depend on the inertia constant) and the Blum & Mansour
    (2007) reduction with one regret-matching learner per action (Cesa-Bianchi & Lugosi
    2003; Greenwald & Jafari 2003). The output is the **empirical joint distribution**
    ``z_T = sum_t w_t (x_0^t ⊗ ... ⊗ x_{P-1}^t) / sum_t w_t``, ``[A_0, ..., A_{P-1}]``: every
    player's internal regret is ``O(range * m sqrt(T))``, so ``z_T`` violates every CE constraint by
    ``O(1/sqrt(T))``. With ``sampled=True`` the players instead draw actions and use Hart &
    Mas-Colell's procedure literally (switch from the last action ``j`` to ``k`` with probability
    ``[D_t(j, k)]^+ / mu``, ``D_t`` the average realized regret); the empirical distribution of the
    sampled joint actions converges almost surely to the CE set, also at ``O(1/sqrt(T))``.

    :func:`gamesolve.solve` reads :meth:`evaluate` and :meth:`report`: the reported "NashConv" of
    this solver is the CE gap (sum over players of the largest swap-deviation gain, computed with
    :func:`gamesolve.solvers.correlated.deviation_gains`).

    Args:
        plus: Clip the conditional regrets at zero after every update (an RM+ variant; faster in
            practice, same guarantee).
        averaging: Weight of round ``t`` in the joint distribution is ``t ** averaging`` (finite,
            in ``[0, 20]``).
        sampled: Sample actions (Hart & Mas-Colell with inertia) instead of mixing.
        inertia: ``mu`` (finite, > 0) of the sampled procedure; default ``2 (m_i - 1) range(u_i)`` per player
            (large enough that switching probabilities sum to at most 1/2).
    """

    output = Iterate.AVERAGE

    def __init__(
        self,
        plus: bool = False,
        averaging: float = 0.0,
        sampled: bool = False,
        inertia: float | None = None,
    ) -> None:
        self.plus = check_bool("plus", plus)
        self.averaging = _real("averaging", averaging, low=0.0, high=_MAX_EXPONENT)
        self.sampled = check_bool("sampled", sampled)
        self.inertia = _positive("inertia", inertia)
        if self.sampled and (self.plus or self.averaging != 0.0):
            raise InvalidArgumentError(
                "sampled=True uses Hart & Mas-Colell's rule: leave plus and averaging at defaults"
            )
        self.name = "internal-regret"

    def _square_offsets(self, game: TensorGame) -> NDArray[np.int64]:
        return np.concatenate(([0], np.cumsum([m * m for m in game.num_actions]))).astype(np.int64)

    def _regret_matrices(self, game: TensorGame, flat: NDArray[np.float64]) -> list[NDArray[np.float64]]:
        off = self._square_offsets(game)
        return [flat[off[i] : off[i + 1]].reshape(m, m) for i, m in enumerate(game.num_actions)]

    def init(self, game: TensorGame, rng: np.random.Generator) -> State:
        """Zero regrets, uniform play, empty joint distribution."""
        state = self._new_state(game)
        state["regrets"] = np.zeros(int(self._square_offsets(game)[-1]))
        state["joint"] = np.zeros(game.num_actions)
        if self.sampled:
            state["rng"] = _sampling_rng(rng)
            state["last"] = np.zeros(game.num_players, dtype=np.int64)
        return state

    def _inertia(self, game: TensorGame, i: int) -> float:
        if self.inertia is not None:
            return self.inertia
        spread = max(float(game.payoffs[i].max() - game.payoffs[i].min()), 1e-12)
        return 2.0 * max(game.num_actions[i] - 1, 1) * spread

    def step(self, game: TensorGame, state: State, iterations: int = 1) -> None:
        """Run ``iterations`` rounds."""
        if not self.sampled:
            super().step(game, state, iterations)
            return
        rng = _rng_from_array(state["rng"])
        for _ in range(iterations):
            state["t"] = np.asarray(int(state["t"]) + 1)
            self._sampled_round(game, state, int(state["t"]), rng)
        state["rng"] = _rng_to_array(rng)

    def _advance(self, game: TensorGame, state: State, t: int) -> None:
        w = float(t) ** self.averaging
        parts = self._split(game, state["x"])
        joint = parts[0]
        for p in parts[1:]:
            joint = np.multiply.outer(joint, p)
        state["joint"] += w * joint
        state["weight"] = np.asarray(float(state["weight"]) + w)
        state["avg"] += w * state["x"]
        grads = payoff_gradients(game, parts)
        regrets = self._regret_matrices(game, state["regrets"].copy())
        new_parts = []
        for i, (xi, gi) in enumerate(zip(parts, grads, strict=True)):
            r = regrets[i] + xi[:, None] * (gi[None, :] - gi[:, None])  # [m, m]: j -> k
            if self.plus:
                r = np.maximum(r, 0.0)
            regrets[i] = r
            rates = np.maximum(r, 0.0)
            np.fill_diagonal(rates, 0.0)
            new_parts.append(_stationary(rates, xi))
        state["regrets"] = np.concatenate([r.reshape(-1) for r in regrets])
        state["x"] = np.concatenate(new_parts)

    def _sampled_round(self, game: TensorGame, state: State, t: int, rng: np.random.Generator) -> None:
        """One round of Hart & Mas-Colell's procedure with sampled actions."""
        last = [int(a) for a in state["last"]]
        if t == 1:
            last = [int(rng.integers(m)) for m in game.num_actions]
        else:
            regrets = self._regret_matrices(game, state["regrets"])
            for i, m in enumerate(game.num_actions):
                j = last[i]
                probs = np.maximum(regrets[i][j] / (t - 1), 0.0) / self._inertia(game, i)  # [m]
                probs[j] = 0.0
                probs[j] = max(1.0 - probs.sum(), 0.0)
                cdf = np.cumsum(probs)
                last[i] = min(int(np.searchsorted(cdf, rng.random() * cdf[-1], side="right")), m - 1)
        state["joint"][tuple(last)] += 1.0
        state["weight"] = np.asarray(float(state["weight"]) + 1.0)
        state["last"] = np.asarray(last, dtype=np.int64)
        x = np.zeros(int(sum(game.num_actions)))
        off = self._offsets(game)
        for i, a in enumerate(last):
            x[off[i] + a] = 1.0
        state["x"] = x
        state["avg"] += x
        regrets = self._regret_matrices(game, state["regrets"].copy())
        for i, a in enumerate(last):
            index = tuple(slice(None) if k == i else last[k] for k in range(game.num_players))
            u = game.payoffs[i][index]  # [A_i]: u_i(., a_-i)
            regrets[i][a] += u - u[a]
        state["regrets"] = np.concatenate([r.reshape(-1) for r in regrets])

    def policy(self, game: TensorGame, state: State, which: Iterate) -> NDArray[np.float64]:  # type: ignore[override]
        """``[A_0, ..., A_{P-1}]``: the empirical joint distribution, or the current product one."""
        if which is Iterate.AVERAGE and float(state["weight"]) > 0:
            return np.asarray(state["joint"] / float(state["weight"]))
        parts = self._split(game, state["x"])
        joint = parts[0]
        for p in parts[1:]:
            joint = np.multiply.outer(joint, p)
        return np.asarray(joint)

    def report(self, game: TensorGame, policy: ArrayLike) -> ExploitabilityReport:
        """CE gap of a joint distribution ``[A_0, ..., A_{P-1}]``, in the run loop's report type.

        ``nash_conv`` is the sum over players of the largest swap-deviation gain (clipped at 0),
        zero exactly at a correlated equilibrium; ``best_response_values`` are the values after
        each player's best swap ``a -> a'``, and ``best_responses`` those swaps as pairs.
        """
        from gamesolve.solvers.correlated import deviation_gains

        z = np.asarray(policy, dtype=np.float64)
        gains = np.maximum(deviation_gains(game, z, "ce"), 0.0)  # [P]
        values = tuple(float((game.payoffs[i] * z).sum()) for i in range(game.num_players))
        swaps = []
        for i, m in enumerate(game.num_actions):
            u = np.moveaxis(game.payoffs[i], i, 0).reshape(m, -1)  # [A_i, R]
            zi = np.moveaxis(z, i, 0).reshape(m, -1)  # [A_i, R]
            gain = zi @ u.T - (zi * u).sum(axis=1, keepdims=True)  # [A_i, A_i]: a -> a'
            j, k = np.unravel_index(int(np.argmax(gain)), gain.shape)
            swaps.append((int(j), int(k)))
        total = float(gains.sum())
        return ExploitabilityReport(
            nash_conv=total,
            exploitability=total / game.num_players,
            on_policy_values=values,
            best_response_values=tuple(v + float(g) for v, g in zip(values, gains, strict=True)),
            best_responses=tuple(swaps),
        )

    def evaluate(self, game: TensorGame, policy: ArrayLike) -> float:
        """The CE gap per player (``report(...).exploitability``), what the run loop records."""
        return self.report(game, policy).exploitability


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
REGRET_MATCHING_ENTRY = SolverEntry("regret-matching", RegretMatching, "regret matching (average converges)")
RM_PLUS_ENTRY = SolverEntry(
    "rm+",
    RegretMatching,
    "regret matching+, alternating updates, linear averaging (CFR+ on a matrix game)",
    (("plus", True), ("averaging", 1.0), ("alternating", True)),
)
HEDGE_ENTRY = SolverEntry("hedge", MirrorDescent, "Hedge / multiplicative weights (average)")
OMD_ENTRY = SolverEntry(
    "omd",
    MirrorDescent,
    "projected gradient / Euclidean OMD (average)",
    (("geometry", "euclidean"),),
    extensive=OMD_EXTENSIVE_ENTRY,
)
FTRL_ENTRY = SolverEntry(
    "ftrl",
    MirrorDescent,
    "follow the regularized leader (average)",
    (("lazy", True),),
    extensive=FTRL_EXTENSIVE_ENTRY,
)
OMWU_ENTRY = SolverEntry(
    "omwu",
    MirrorDescent,
    "optimistic MWU (last iterate)",
    (("optimistic", True),),
    extensive=OMWU_EXTENSIVE_ENTRY,
)
EXTRAGRADIENT_ENTRY = SolverEntry(
    "extragradient",
    ExtraGradient,
    "extragradient, Euclidean (last iterate)",
    extensive=EXTRAGRADIENT_EXTENSIVE_ENTRY,
)
MIRROR_PROX_ENTRY = SolverEntry(
    "mirror-prox",
    ExtraGradient,
    "mirror-prox, entropic (average)",
    (("geometry", "entropy"),),
    extensive=MIRROR_PROX_EXTENSIVE_ENTRY,
)
OGDA_ENTRY = SolverEntry(
    "ogda",
    ExtraGradient,
    "optimistic gradient / Popov (last iterate)",
    (("popov", True),),
)
AOG_ENTRY = SolverEntry("aog", AcceleratedOptimisticGradient, "accelerated optimistic gradient (last)")
MMD_ENTRY = SolverEntry(
    "mmd",
    MagneticMirrorDescent,
    "magnetic mirror descent (last iterate, QRE)",
    extensive=MMD_EXTENSIVE_ENTRY,
)
FICTITIOUS_PLAY_ENTRY = SolverEntry("fictitious-play", FictitiousPlay, "fictitious play (empirical average)")
SMOOTH_FP_ENTRY = SolverEntry(
    "smooth-fp",
    FictitiousPlay,
    "smooth fictitious play (logit QRE)",
    (("temperature", 0.1),),
)
REPLICATOR_ENTRY = SolverEntry("replicator", Replicator, "replicator dynamics (time average)")
PROJECTED_REPLICATOR_ENTRY = SolverEntry(
    "projected-replicator",
    Replicator,
    "projected replicator dynamics",
    (("projected", True),),
)
QRE_ENTRY = SolverEntry("qre", LogitQRE, "logit quantal response equilibrium")
NE_LOSS_SGD_ENTRY = SolverEntry("ne-loss-sgd", NashLossSGD, "Gemp et al. NE loss minimized by SGD")
INTERNAL_REGRET_ENTRY = SolverEntry(
    "internal-regret",
    InternalRegret,
    "internal regret matching (empirical joint play -> correlated equilibrium)",
)
