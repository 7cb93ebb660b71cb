"""Learning dynamics for normal-form games, all driven by :func:`gamesolve.solve`.

Every method here updates one mixed strategy per player from the players' payoff gradients
``g_i = u_i(., x_-i)`` (the expected payoff of each pure action against the others). Players
maximize. Each class states which iterate converges and how fast; :func:`gamesolve.solve` evaluates
the exact NashConv (the duality gap in two-player zero-sum games) of that iterate.

Geometries: ``"entropy"`` (multiplicative updates, KL proximity) and ``"euclidean"`` (projection
onto the simplex by the sort-based algorithm).

Methods (registry names in brackets):

* :class:`RegretMatching` [``regret-matching``, ``rm+``] - Hart & Mas-Colell 2000; RM+ (Tammelin
  2014) and predictive RM+ (Farina, Kroer & Sandholm 2021). Average converges, ``O(1/sqrt(T))``.
* :class:`MirrorDescent` [``hedge``, ``omd``, ``ftrl``, ``omwu``] - Hedge / online mirror descent /
  FTRL, optionally optimistic (Syrgkanis et al. 2015; Rakhlin & Sridharan 2013). Plain: average
  converges at ``O(1/sqrt(T))``; optimistic: average at ``O(1/T)`` and, in 2p0s games with a unique
  equilibrium, the last iterate converges (Wei et al. 2021).
* :class:`ExtraGradient` [``extragradient``, ``mirror-prox``, ``ogda``] - Korpelevich 1976;
  Nemirovski 2004; Popov 1980. Average of half-iterates ``O(1/T)``; Euclidean last iterate
  ``O(1/sqrt(T))`` in general, linear on polyhedral bilinear games.
* :class:`AcceleratedOptimisticGradient` [``aog``] - Cai & Zheng 2023: optimistic gradient with
  Halpern anchoring; last-iterate gap ``O(1/T)``.
* :class:`MagneticMirrorDescent` [``mmd``] - Sokota et al. 2023: last iterate converges linearly
  to the logit QRE at temperature ``alpha`` (to a Nash equilibrium as ``alpha -> 0``).
* :class:`FictitiousPlay` [``fictitious-play``, ``smooth-fp``] - Brown 1951 / Robinson 1951;
  smooth FP (Fudenberg & Kreps 1993) converges to the logit QRE (Hofbauer & Sandholm 2002).
* :class:`Replicator` [``replicator``, ``projected-replicator``] - Taylor & Jonker 1978; the
  projected variant is PSRO's meta-solver (Lanctot et al. 2017). Time average converges in 2p0s
  games with an interior equilibrium.
* :class:`LogitQRE` [``qre``] - McKelvey & Palfrey 1995: damped fixed-point iteration, optionally
  along a temperature homotopy from uniform play.
* :class:`NashLossSGD` [``ne-loss-sgd``] - Gemp, Marris & Piliouras 2024: SGD on the projected-
  gradient loss whose zeros are the QREs, with the unbiased two-sample estimator.
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.errors import UnsupportedGame
from gamesolve.normal_form import MixedProfile, TensorGame
from gamesolve.run import Iterate
from gamesolve.spec import GameKind, GameSpec, Utility

__all__ = [
    "AcceleratedOptimisticGradient",
    "ExtraGradient",
    "FictitiousPlay",
    "LogitQRE",
    "MagneticMirrorDescent",
    "MirrorDescent",
    "NashLossSGD",
    "RegretMatching",
    "Replicator",
    "payoff_gradients",
    "project_simplex",
]

log = logging.getLogger(__name__)

_GEOMETRIES = ("entropy", "euclidean")


# ----------------------------------------------------------------------------------------- helpers


def project_simplex(v: NDArray[np.float64]) -> NDArray[np.float64]:
    """Euclidean projection of ``v`` onto the probability simplex (sort-based, O(n log n))."""
    u = np.sort(v)[::-1]
    css = np.cumsum(u) - 1.0
    ind = np.arange(1, v.shape[0] + 1)
    rho = int(np.nonzero(u - css / ind > 0)[0][-1]) + 1
    theta = css[rho - 1] / rho
    return np.maximum(v - theta, 0.0)


def _softmax(logits: NDArray[np.float64]) -> NDArray[np.float64]:
    z = np.exp(logits - logits.max())
    return z / z.sum()


def payoff_gradients(game: TensorGame, strategies: list[NDArray[np.float64]]) -> list[NDArray[np.float64]]:
    """Per player, ``[A_i]`` expected payoff of each pure action against the others' strategies."""
    if game.num_players == 2:
        return [game.payoffs[0] @ strategies[1], strategies[0] @ game.payoffs[1]]
    return [game.action_values(strategies, i) for i in range(game.num_players)]


def _prox(geometry: str, x: NDArray[np.float64], g: NDArray[np.float64], eta: float) -> NDArray[np.float64]:
    """One mirror step from ``x`` along payoff gradient ``g`` (ascent)."""
    if geometry == "entropy":
        return _softmax(np.log(np.maximum(x, 1e-300)) + eta * g)
    return project_simplex(x + eta * g)


def _lipschitz(game: TensorGame) -> float:
    """A bound on the gradient operator's Lipschitz constant (spectral norm for 2 players)."""
    if game.num_players == 2:
        a = game.payoffs[0]
        b = game.payoffs[1]
        return max(_spectral_norm(a), _spectral_norm(b), 1e-12)
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


class _Base:
    """Shared plumbing: players' strategies live in one flat vector split by offsets."""

    name = "dynamics"
    output = Iterate.AVERAGE

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {k: v for k, v in vars(self).items() if not k.startswith("_") and k not in ("name", "output")}

    def prepare(self, game: Any) -> TensorGame:
        """The game as a tensor game."""
        if not isinstance(game, TensorGame):
            raise UnsupportedGame(f"{self.name} solves normal-form games; got {type(game).__name__}")
        return game

    def check(self, spec: GameSpec) -> None:
        """Normal-form games; 2p0s-only methods override this."""
        if spec.kind is not GameKind.NORMAL_FORM:
            raise UnsupportedGame(f"{self.name} solves normal-form games, not {spec.kind.value} games")

    # -- flat <-> per player
    @staticmethod
    def _offsets(game: TensorGame) -> NDArray[np.int64]:
        return np.concatenate(([0], np.cumsum(game.num_actions))).astype(np.int64)

    def _split(self, game: TensorGame, flat: NDArray[np.float64]) -> list[NDArray[np.float64]]:
        off = self._offsets(game)
        return [flat[off[i] : off[i + 1]] for i in range(game.num_players)]

    def _uniform(self, game: TensorGame) -> NDArray[np.float64]:
        return np.concatenate([np.full(n, 1.0 / n) for n in game.num_actions])

    def _new_state(self, game: TensorGame, **extra: NDArray[Any]) -> dict[str, NDArray[Any]]:
        x = self._uniform(game)
        state: dict[str, NDArray[Any]] = {
            "t": np.zeros((), dtype=np.int64),
            "x": x,
            "avg": np.zeros_like(x),
            "weight": np.zeros(()),
        }
        state.update(extra)
        return state

    def _accumulate(self, state: dict[str, NDArray[Any]], point: NDArray[np.float64], w: float = 1.0) -> None:
        state["avg"] += w * point
        state["weight"] = np.asarray(float(state["weight"]) + w)

    def init(self, game: TensorGame, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Uniform start."""
        del rng
        return self._new_state(game)

    def step(self, game: TensorGame, state: dict[str, NDArray[Any]], iterations: int = 1) -> None:
        """Run ``iterations`` updates."""
        for _ in range(iterations):
            state["t"] = np.asarray(int(state["t"]) + 1)
            self._advance(game, state, int(state["t"]))

    def _advance(self, game: TensorGame, state: dict[str, NDArray[Any]], t: int) -> None:
        raise NotImplementedError  # pragma: no cover - every subclass defines it

    def policy(self, game: TensorGame, state: dict[str, NDArray[Any]], which: Iterate) -> MixedProfile:
        """The average (weighted) or the current profile."""
        if which is Iterate.AVERAGE and float(state["weight"]) > 0:
            flat = state["avg"] / float(state["weight"])
        else:
            flat = state["x"]
        parts = [np.maximum(p, 0.0) / np.maximum(p, 0.0).sum() for p in self._split(game, flat)]
        return MixedProfile.of(game, parts)

    def _gradients(self, game: TensorGame, flat: NDArray[np.float64]) -> NDArray[np.float64]:
        return np.concatenate(payoff_gradients(game, self._split(game, flat)))


def _require_geometry(geometry: str) -> str:
    if geometry not in _GEOMETRIES:
        raise ValueError(f"geometry must be one of {_GEOMETRIES}, got {geometry!r}")
    return geometry


def _positive(name: str, value: float | None) -> float | None:
    if value is not None and not (math.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return value


def _require_two_player_zero_sum(name: str, spec: GameSpec) -> None:
    if spec.num_players != 2 or spec.utility not in (Utility.ZERO_SUM, Utility.CONSTANT_SUM):
        raise UnsupportedGame(
            f"{name} needs a two-player zero-sum game; {spec.name!r} is "
            f"{spec.utility.value.replace('_', '-')} with {spec.num_players} players"
        )


# ---------------------------------------------------------------------------------- regret matching


class RegretMatching(_Base):
    """Regret matching, RM+ and predictive RM+, simultaneous updates.

    Args:
        plus: Clip cumulative regrets at zero (RM+).
        predictive: Play ``[R + r_last]^+`` (predictive RM+).
        averaging: Weight of iteration ``t`` in the average is ``t ** averaging`` (0 uniform,
            1 linear, 2 quadratic).

    The average profile converges: its NashConv is ``O(1/sqrt(T))`` (regret bound of regret
    matching; in N-player games the average joint play converges to the CCE set instead).
    """

    def __init__(self, plus: bool = False, predictive: bool = False, averaging: float = 0.0) -> None:
        self.plus = bool(plus)
        self.predictive = bool(predictive)
        if not (math.isfinite(averaging) and averaging >= 0):
            raise ValueError(f"averaging must be a number >= 0, got {averaging!r}")
        self.averaging = float(averaging)
        self.name = "rm+" if plus else "regret-matching"

    def init(self, game: TensorGame, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Zero regrets."""
        del rng
        n = int(sum(game.num_actions))
        return self._new_state(game, regrets=np.zeros(n), last=np.zeros(n))

    def _advance(self, game: TensorGame, state: dict[str, NDArray[Any]], t: int) -> None:
        x = state["x"]
        self._accumulate(state, x, float(t) ** self.averaging)
        grads = self._gradients(game, x)
        inst = np.concatenate(
            [g - g @ xi for g, xi in zip(self._split(game, grads), self._split(game, x), strict=True)]
        )
        regrets = state["regrets"] + inst
        if self.plus:
            regrets = np.maximum(regrets, 0.0)
        state["regrets"] = regrets
        state["last"] = inst
        target = regrets + inst if self.predictive else regrets
        parts = []
        for r in self._split(game, target):
            pos = np.maximum(r, 0.0)
            total = pos.sum()
            parts.append(pos / total if total > 0 else np.full(r.shape[0], 1.0 / r.shape[0]))
        state["x"] = np.concatenate(parts)


# ---------------------------------------------------------------------- mirror descent / FTRL family


class MirrorDescent(_Base):
    """Hedge / online mirror descent / FTRL, plain or optimistic, entropy or Euclidean.

    Args:
        eta: Step size; default ``0.1 / max|u|`` (entropy) or ``0.1 / L`` (Euclidean).
        geometry: ``"entropy"`` or ``"euclidean"``.
        lazy: FTRL (play the regularized best response to the cumulative gradient) instead of
            greedy OMD steps. With entropy the two coincide.
        optimistic: Add the last gradient as a prediction (OMWU / optimistic FTRL / OOMD).
        output: ``"average"`` (default for plain) or ``"last"`` (default for optimistic).

    Convergence: plain - average NashConv ``O(1/sqrt(T))`` with ``eta ~ 1/sqrt(T)``, the last
    iterate cycles; optimistic - average ``O(1/T)`` (RVU property), last iterate converges in 2p0s
    games with a unique equilibrium (linearly, at an instance-dependent rate).
    """

    def __init__(
        self,
        eta: float | None = None,
        geometry: str = "entropy",
        lazy: bool = False,
        optimistic: bool = False,
        output: str | None = None,
    ) -> None:
        self.eta = _positive("eta", eta)
        self.geometry = _require_geometry(geometry)
        self.lazy = bool(lazy)
        self.optimistic = bool(optimistic)
        out = output or ("last" if optimistic else "average")
        if out not in ("average", "last"):
            raise ValueError(f"output must be 'average' or 'last', got {output!r}")
        self.output_iterate = out
        self.output = Iterate.CURRENT if out == "last" else Iterate.AVERAGE
        if optimistic:
            self.name = "omwu" if geometry == "entropy" else "optimistic-omd"
        else:
            self.name = (
                ("ftrl" if lazy else "hedge") if geometry == "entropy" else ("ftrl" if lazy else "omd")
            )

    def _eta(self, game: TensorGame) -> float:
        if self.eta is not None:
            return self.eta
        return 0.1 / (_max_abs(game) if self.geometry == "entropy" else _lipschitz(game))

    def init(self, game: TensorGame, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Uniform start, zero cumulative gradient."""
        del rng
        n = int(sum(game.num_actions))
        return self._new_state(game, cumulative=np.zeros(n), last_grad=np.zeros(n), base=self._uniform(game))

    def _advance(self, game: TensorGame, state: dict[str, NDArray[Any]], t: int) -> None:
        eta = self._eta(game)
        x = state["x"]
        self._accumulate(state, x)
        g = self._gradients(game, x)
        state["cumulative"] = state["cumulative"] + g
        prediction = g if self.optimistic else np.zeros_like(g)
        parts = []
        if self.lazy or (self.optimistic and self.geometry == "entropy"):
            # FTRL with the regularizer centered at uniform: argmax <G + m, x> - R(x) / eta
            target = state["cumulative"] + prediction
            for gi, ui in zip(self._split(game, target), self._split(game, self._uniform(game)), strict=True):
                parts.append(
                    _prox(self.geometry, ui, gi, eta)
                    if self.geometry == "entropy"
                    else project_simplex(ui + eta * gi)
                )
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
                    _prox(self.geometry, b, gi, eta)
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

    Args:
        eta: Step size; default ``0.5 / L`` (``L`` = spectral norm for two players) for the
            Euclidean geometry, ``0.5 / max|u|`` for entropy. Popov needs ``eta <= 1 / (2 L)``.
        geometry: ``"euclidean"`` (extragradient, OGDA) or ``"entropy"`` (mirror-prox).
        popov: Reuse the previous half-step gradient (one gradient call per iteration): OGDA.
        output: ``"average"`` (the ergodic average of half-iterates, ``O(1/T)``, Nemirovski 2004)
            or ``"last"`` (default for Euclidean: ``O(1/sqrt(T))`` in monotone games, linear on
            polyhedral bilinear games).

    Monotone games (2p0s, or N-player monotone) are the setting of the guarantees.
    """

    def __init__(
        self,
        eta: float | None = None,
        geometry: str = "euclidean",
        popov: bool = False,
        output: str | None = None,
    ) -> None:
        self.eta = _positive("eta", eta)
        self.geometry = _require_geometry(geometry)
        self.popov = bool(popov)
        out = output or ("average" if geometry == "entropy" else "last")
        if out not in ("average", "last"):
            raise ValueError(f"output must be 'average' or 'last', got {output!r}")
        self.output_iterate = out
        self.output = Iterate.CURRENT if out == "last" else Iterate.AVERAGE
        self.name = "ogda" if popov else ("mirror-prox" if geometry == "entropy" else "extragradient")

    def _eta(self, game: TensorGame) -> float:
        if self.eta is not None:
            return self.eta
        if self.geometry == "entropy":
            return 0.5 / _max_abs(game)
        return (0.25 if self.popov else 0.5) / _lipschitz(game)

    def init(self, game: TensorGame, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Uniform start; the previous half-step gradient is the gradient at the start."""
        del rng
        x = self._uniform(game)
        return self._new_state(game, half_grad=self._gradients(game, x))

    def _step_all(
        self, game: TensorGame, x: NDArray[np.float64], g: NDArray[np.float64], eta: float
    ) -> NDArray[np.float64]:
        return np.concatenate(
            [
                _prox(self.geometry, xi, gi, eta)
                for xi, gi in zip(self._split(game, x), self._split(game, g), strict=True)
            ]
        )

    def _advance(self, game: TensorGame, state: dict[str, NDArray[Any]], t: int) -> None:
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
    ``z_{t+1} = P(z_t + eta g(z_{t+1/2}) + b_t (z_0 - z_t))`` with ``b_t = 1 / (t + 2)`` (Euclidean).
    The last iterate's gap is ``O(1/T)`` in smooth monotone games (optimal), so ``T * gap(z_T)``
    stays bounded.

    Args:
        eta: Step size; default ``0.2 / L`` with ``L`` the spectral norm.
    """

    output = Iterate.CURRENT

    def __init__(self, eta: float | None = None) -> None:
        self.eta = _positive("eta", eta)
        self.name = "aog"

    def init(self, game: TensorGame, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Uniform anchor and start."""
        del rng
        x = self._uniform(game)
        return self._new_state(game, anchor=x.copy(), half_grad=self._gradients(game, x))

    def _advance(self, game: TensorGame, state: dict[str, NDArray[Any]], t: int) -> None:
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

    Entropy: ``x_{t+1} ∝ [x_t rho^(eta alpha) exp(eta g_t)]^(1 / (1 + eta alpha))``. With
    ``eta <= alpha / L^2`` the last iterate converges linearly, ``KL(x*, x_t) <= (1 + eta
    alpha)^-t KL(x*, x_0)``, to the logit QRE at temperature ``alpha`` (the magnet ``rho`` is
    uniform by default). For a Nash equilibrium anneal ``alpha`` (``anneal=True``: ``alpha_t =
    alpha / sqrt(t)``) or move the magnet toward the iterate (``magnet_rate`` > 0).

    Args:
        alpha: Regularization temperature (relative to the payoff scale), > 0.
        eta: Step size; default ``alpha / max|u|^2`` (OpenSpiel's default).
        geometry: ``"entropy"`` or ``"euclidean"``.
        anneal: Decay ``alpha`` as ``alpha / sqrt(t)``.
        magnet_rate: ``lambda`` of the moving magnet ``rho <- rho^(1-lambda) x^lambda`` (0 = fixed).
    """

    output = Iterate.CURRENT

    def __init__(
        self,
        alpha: float = 0.1,
        eta: float | None = None,
        geometry: str = "entropy",
        anneal: bool = False,
        magnet_rate: float = 0.0,
    ) -> None:
        self.alpha = float(_positive("alpha", alpha) or alpha)
        self.eta = _positive("eta", eta)
        self.geometry = _require_geometry(geometry)
        self.anneal = bool(anneal)
        if not (0.0 <= magnet_rate <= 1.0):
            raise ValueError(f"magnet_rate must be in [0, 1], got {magnet_rate!r}")
        self.magnet_rate = float(magnet_rate)
        self.name = "mmd"

    def init(self, game: TensorGame, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Uniform start and magnet."""
        del rng
        return self._new_state(game, magnet=self._uniform(game))

    def _advance(self, game: TensorGame, state: dict[str, NDArray[Any]], t: int) -> None:
        alpha = self.alpha / math.sqrt(t) if self.anneal else self.alpha
        eta = self.eta if self.eta is not None else self.alpha / _max_abs(game) ** 2
        x = state["x"]
        self._accumulate(state, x)
        g = self._gradients(game, x)
        parts = []
        for xi, gi, rho in zip(
            self._split(game, x), self._split(game, g), self._split(game, state["magnet"]), strict=True
        ):
            if self.geometry == "entropy":
                logits = (
                    np.log(np.maximum(xi, 1e-300)) + eta * alpha * np.log(np.maximum(rho, 1e-300)) + eta * gi
                ) / (1.0 + eta * alpha)
                parts.append(_softmax(logits))
            else:
                parts.append(project_simplex((xi + eta * alpha * rho + eta * gi) / (1.0 + eta * alpha)))
        new = np.concatenate(parts)
        state["x"] = new
        if self.magnet_rate > 0:
            lam = self.magnet_rate
            mags = []
            for rho, xi in zip(self._split(game, state["magnet"]), self._split(game, new), strict=True):
                mags.append(
                    _softmax(
                        (1 - lam) * np.log(np.maximum(rho, 1e-300)) + lam * np.log(np.maximum(xi, 1e-300))
                    )
                )
            state["magnet"] = np.concatenate(mags)


# ------------------------------------------------------------------ fictitious play, replicator


class FictitiousPlay(_Base):
    """Fictitious play and smooth (entropic) fictitious play, simultaneous updates.

    ``x_{t+1} = (1 - 1/(t+1)) x_t + 1/(t+1) BR(x_t)`` where ``x_t`` is the empirical average and BR
    the best response (lowest index on ties) or, with ``temperature > 0``, the logit response
    ``softmax(g / temperature)``. FP's average converges in 2p0s and potential games (Robinson
    1951), possibly slowly; it may cycle in general-sum games (Shapley's game). Smooth FP converges
    to the logit QRE at that temperature (Hofbauer & Sandholm 2002).
    """

    output = Iterate.CURRENT

    def __init__(self, temperature: float = 0.0) -> None:
        if not (math.isfinite(temperature) and temperature >= 0):
            raise ValueError(f"temperature must be a number >= 0, got {temperature!r}")
        self.temperature = float(temperature)
        self.name = "smooth-fp" if temperature > 0 else "fictitious-play"

    def _advance(self, game: TensorGame, state: dict[str, NDArray[Any]], t: int) -> None:
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

    ``x <- x + dt * x * (g - x.g)``; the projected variant (Lanctot et al. 2017, PSRO) projects
    onto ``{x : x_a >= gamma}``. In 2p0s games with an interior equilibrium the orbits cycle and the
    *time average* converges (the default output).

    Args:
        dt: Euler step (default 1e-3 relative to payoffs scaled to max|u| = 1).
        projected: Project onto the ``gamma``-floored simplex.
        gamma: Floor of the projected variant (default 1e-6).
    """

    def __init__(self, dt: float = 1e-3, projected: bool = False, gamma: float = 1e-6) -> None:
        self.dt = float(_positive("dt", dt) or dt)
        self.projected = bool(projected)
        if not (0 <= gamma < 1):
            raise ValueError(f"gamma must be in [0, 1), got {gamma!r}")
        self.gamma = float(gamma)
        self.name = "projected-replicator" if projected else "replicator"

    def _advance(self, game: TensorGame, state: dict[str, NDArray[Any]], t: int) -> None:
        x = state["x"]
        self._accumulate(state, x)
        g = self._gradients(game, x) / _max_abs(game)
        parts = []
        for xi, gi in zip(self._split(game, x), self._split(game, g), strict=True):
            y = xi + self.dt * xi * (gi - xi @ gi)
            if self.projected:
                n = y.shape[0]
                floor = min(self.gamma, 1.0 / n)
                y = floor + project_simplex((y - floor) / max(1.0 - n * floor, 1e-300)) * (1.0 - n * floor)
            else:
                y = np.maximum(y, 0.0)
                y /= y.sum()
            parts.append(y)
        state["x"] = np.concatenate(parts)


# ---------------------------------------------------------------------------------------- QRE


class LogitQRE(_Base):
    """Logit quantal response equilibrium by damped fixed-point iteration.

    Solves ``x_i = softmax(g_i(x_-i) / temperature)`` for every player with
    ``x <- (1 - damping) x + damping softmax(g / temperature)``. With ``homotopy=True`` the
    temperature starts high (uniform play is the unique QRE there) and is lowered geometrically to
    ``temperature`` over ``homotopy_steps`` iterations, tracking the principal branch (the limiting
    logit equilibrium as ``temperature -> 0``; McKelvey & Palfrey 1995).

    Convergence of the plain iteration is guaranteed for large temperatures and in 2p0s games with
    enough damping; the run reports the NashConv of the current iterate (the QRE's NE-exploitability
    is at most ``temperature * max_i ln m_i``) and ``qre_residual``.
    """

    output = Iterate.CURRENT

    def __init__(
        self,
        temperature: float = 0.1,
        damping: float = 0.1,
        homotopy: bool = False,
        homotopy_steps: int = 2000,
    ) -> None:
        self.temperature = float(_positive("temperature", temperature) or temperature)
        if not (0 < damping <= 1):
            raise ValueError(f"damping must be in (0, 1], got {damping!r}")
        self.damping = float(damping)
        self.homotopy = bool(homotopy)
        if homotopy_steps < 1:
            raise ValueError(f"homotopy_steps must be >= 1, got {homotopy_steps!r}")
        self.homotopy_steps = int(homotopy_steps)
        self.name = "qre"

    def _temperature(self, game: TensorGame, t: int) -> float:
        if not self.homotopy or t >= self.homotopy_steps:
            return self.temperature
        start = 10.0 * _max_abs(game)
        frac = t / self.homotopy_steps
        return (
            float(start * (self.temperature / start) ** frac)
            if start > self.temperature
            else self.temperature
        )

    def response(
        self, game: TensorGame, flat: NDArray[np.float64], temperature: float
    ) -> NDArray[np.float64]:
        """The logit response profile to ``flat`` (concatenated strategies)."""
        g = self._gradients(game, flat)
        return np.concatenate([_softmax(gi / temperature) for gi in self._split(game, g)])

    def init(self, game: TensorGame, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Uniform start (the unique QRE at infinite temperature)."""
        del rng
        return self._new_state(game, damping=np.asarray(self.damping), residual=np.asarray(np.inf))

    def _advance(self, game: TensorGame, state: dict[str, NDArray[Any]], t: int) -> None:
        tau = self._temperature(game, t)
        x = state["x"]
        response = self.response(game, x, tau)
        residual = float(np.abs(response - x).max())
        damping = float(state["damping"])
        # Halve the damping whenever the residual stops shrinking (the plain iteration can cycle
        # in zero-sum games); grow it back slowly while it keeps shrinking.
        if residual >= float(state["residual"]) and tau == self.temperature:
            damping = max(damping / 2.0, 1e-6)
        else:
            damping = min(damping * 1.05, self.damping)
        state["damping"] = np.asarray(damping)
        state["residual"] = np.asarray(residual)
        state["x"] = (1 - damping) * x + damping * response

    def residual(self, game: TensorGame, profile: MixedProfile) -> float:
        """``max |x - softmax(g(x) / temperature)|``: zero exactly at the QRE."""
        flat = np.concatenate(profile.strategies)
        return float(np.abs(flat - self.response(game, flat, self.temperature)).max())


# ------------------------------------------------------------------------- Gemp et al. NE loss


def ne_loss(game: TensorGame, profile: MixedProfile | list[NDArray[np.float64]], temperature: float) -> float:
    """Exact loss of Gemp, Marris & Piliouras (2024): ``sum_k || Pi_T (g_k - tau (ln x_k + 1)) ||^2``.

    Zero exactly at interior logit QREs at temperature ``tau``.
    """
    strategies = list(profile.strategies if isinstance(profile, MixedProfile) else profile)
    total = 0.0
    for k, (gk, xk) in enumerate(zip(payoff_gradients(game, strategies), strategies, strict=True)):
        del k
        grad = gk - temperature * (np.log(np.maximum(xk, 1e-300)) + 1.0)
        proj = grad - grad.mean()
        total += float(proj @ proj)
    return total


def ne_loss_estimate(
    game: TensorGame,
    profile: MixedProfile | list[NDArray[np.float64]],
    temperature: float,
    *,
    rng: np.random.Generator,
) -> float:
    """One unbiased sample of :func:`ne_loss` from two independent opponent action samples."""
    strategies = list(profile.strategies if isinstance(profile, MixedProfile) else profile)
    total = 0.0
    n = game.num_players
    for k in range(n):
        samples = []
        for _ in range(2):
            actions = [int(rng.choice(len(s), p=s)) if j != k else 0 for j, s in enumerate(strategies)]
            index = tuple(slice(None) if j == k else actions[j] for j in range(n))
            g = game.payoffs[k][index] - temperature * (np.log(np.maximum(strategies[k], 1e-300)) + 1.0)
            samples.append(g - g.mean())
        total += float(samples[0] @ samples[1])
    return total


class NashLossSGD(_Base):
    """Minimize the Gemp et al. (2024) NE loss by stochastic gradient on the simplex.

    Each iteration samples two independent opponent joint actions per player, forms unbiased
    estimates of the projected entropy-regularized gradients, and takes a projected step on the
    exact gradient of the two-sample product (each player's strategy moves against the
    cross-player Jacobian terms). Converges to an approximate QRE at ``temperature``; with
    ``samples=None`` the exact gradients are used (deterministic gradient descent on the loss).

    Args:
        temperature: Entropy temperature ``tau`` (> 0).
        lr: Learning rate on payoffs scaled to ``max|u| = 1`` (default 0.1, OpenSpiel's); sampled
            runs decay it as ``lr / sqrt(t)``.
        samples: ``None`` for exact gradients, or the number of sampled pairs per step.
    """

    output = Iterate.CURRENT

    def __init__(self, temperature: float = 0.05, lr: float = 0.1, samples: int | None = None) -> None:
        self.temperature = float(_positive("temperature", temperature) or temperature)
        self.lr = float(_positive("lr", lr) or lr)
        if samples is not None and samples < 1:
            raise ValueError(f"samples must be None or >= 1, got {samples!r}")
        self.samples = samples
        self.name = "ne-loss-sgd"

    def check(self, spec: GameSpec) -> None:
        """Two-player normal-form games (the gradient uses the bimatrix Jacobian)."""
        super().check(spec)
        if spec.num_players != 2:
            raise UnsupportedGame(
                f"{self.name} is implemented for two-player games; this one has {spec.num_players}"
            )

    def init(self, game: TensorGame, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Uniform start and a sampling key."""
        state = self._new_state(game)
        state["key"] = np.asarray(int(rng.integers(0, 2**63)), dtype=np.int64)
        return state

    def _advance(self, game: TensorGame, state: dict[str, NDArray[Any]], t: int) -> None:
        a, b = game.payoffs[0], game.payoffs[1]  # [m, n] each
        x, y = self._split(game, state["x"])
        tau = self.temperature
        if self.samples is None:
            gx_a = gx_b = a @ y
            gy_a = gy_b = x @ b
        else:
            rng = np.random.default_rng([int(state["key"]), t])
            cols = rng.choice(len(y), size=(2, self.samples), p=y)
            rows = rng.choice(len(x), size=(2, self.samples), p=x)
            gx_a, gx_b = a[:, cols[0]].mean(axis=1), a[:, cols[1]].mean(axis=1)
            gy_a, gy_b = b[rows[0]].mean(axis=0), b[rows[1]].mean(axis=0)

        def proj(v: NDArray[np.float64]) -> NDArray[np.float64]:
            return v - v.mean()

        ent_x = tau * (np.log(np.maximum(x, 1e-300)) + 1.0)
        ent_y = tau * (np.log(np.maximum(y, 1e-300)) + 1.0)
        px_a, px_b = proj(gx_a - ent_x), proj(gx_b - ent_x)  # [m]
        py_a, py_b = proj(gy_a - ent_y), proj(gy_b - ent_y)  # [n]
        # Gradient of <px_a, px_b> + <py_a, py_b>: the entropy Jacobian -tau diag(1/x) on a player's
        # own term, and the exact cross Jacobian (P B^T for x, P A for y) times the other sample.
        grad_x = -tau * (px_a + px_b) / np.maximum(x, 1e-300) + 2.0 * (b @ py_b)
        grad_y = -tau * (py_a + py_b) / np.maximum(y, 1e-300) + 2.0 * (a.T @ px_b)
        lr = self.lr / _max_abs(game) ** 2
        if self.samples is not None:
            lr /= math.sqrt(t)
        new_x = np.maximum(project_simplex(x - lr * grad_x), math.exp(-1.0 / tau) / len(x))
        new_y = np.maximum(project_simplex(y - lr * grad_y), math.exp(-1.0 / tau) / len(y))
        state["x"] = np.concatenate([new_x / new_x.sum(), new_y / new_y.sum()])
        self._accumulate(state, state["x"])
