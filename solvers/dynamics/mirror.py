"""Mirror-descent dynamics: Hedge, online mirror descent and FTRL (plain or optimistic), and MMD.

:class:`MirrorDescent` covers Hedge (Freund & Schapire 1999), projected gradient (Zinkevich 2003),
FTRL and their optimistic forms (Rakhlin & Sridharan 2013; Syrgkanis et al. 2015), whose last
iterate converges under a unique equilibrium (Wei, Lee, Zhang & Luo 2021);
:class:`MagneticMirrorDescent` (Sokota et al. 2023) converges linearly to the logit QRE.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from gamesolve.normal_form import TensorGame
from gamesolve.registry import SolverEntry
from gamesolve.solver import Iterate
from gamesolve.solvers.dilated import (
    FTRL_EXTENSIVE_ENTRY,
    MMD_EXTENSIVE_ENTRY,
    OMD_EXTENSIVE_ENTRY,
    OMWU_EXTENSIVE_ENTRY,
)
from gamesolve.solvers.dynamics.base import (
    DynamicsSolver,
    State,
    check_geometry,
    check_start,
    lipschitz_bound,
    max_abs_payoff,
    optional_positive,
    payoff_range,
    project_simplex,
    real_in,
    safe_log,
    softmax,
)
from gamesolve.validation import check_bool, check_choice

__all__ = ["MagneticMirrorDescent", "MirrorDescent"]


class MirrorDescent(DynamicsSolver):
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
        self.eta = optional_positive("eta", eta)
        self.start = check_start(start)
        self.geometry = geometry = check_geometry(geometry)
        self.lazy = lazy = check_bool("lazy", lazy)
        self.optimistic = optimistic = check_bool("optimistic", optimistic)
        out = check_choice("output", output or ("last" if optimistic else "average"), ("average", "last"))
        self.output_iterate = out
        self.output = Iterate.CURRENT if out == "last" else Iterate.AVERAGE
        self.schedule = check_choice(
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
            base = 0.1 / (max_abs_payoff(game) if self.geometry == "entropy" else lipschitz_bound(game))
        else:
            m = max(max(game.num_actions), 2)
            if self.geometry == "entropy":
                base = math.sqrt(8.0 * math.log(m)) / payoff_range(game)
            else:
                base = math.sqrt(2.0) / (payoff_range(game) * math.sqrt(m))
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
            state["x"] = self._mirror_steps(game, self.geometry, state["center"], target, eta_next)
            return
        if self.optimistic:
            # optimistic OMD: base_t = prox(base_{t-1}, g_t); play prox(base_t, g_t)
            base = self._mirror_steps(game, self.geometry, state["base"], g, eta)
            state["base"] = base
            state["x"] = self._mirror_steps(game, self.geometry, base, g, eta_next)
            return
        state["x"] = self._mirror_steps(game, self.geometry, x, g, eta)


class MagneticMirrorDescent(DynamicsSolver):
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
        self.alpha = optional_positive("alpha", alpha)
        self.eta = optional_positive("eta", eta)
        self.geometry = check_geometry(geometry)
        self.anneal = check_bool("anneal", anneal)
        self.magnet_rate = real_in("magnet_rate", magnet_rate, low=0.0, high=1.0)
        self.start = check_start(start)
        self.name = "mmd"

    def _alpha(self, game: TensorGame) -> float:
        return self.alpha if self.alpha is not None else 0.1 * max_abs_payoff(game)

    def init(self, game: TensorGame, rng: np.random.Generator) -> State:
        """Start profile and uniform magnet."""
        del rng
        return self._new_state(game, magnet=self._uniform(game))

    def _advance(self, game: TensorGame, state: State, t: int) -> None:
        alpha0 = self._alpha(game)
        alpha = alpha0 / math.sqrt(t) if self.anneal else alpha0
        eta = self.eta if self.eta is not None else alpha0 / max_abs_payoff(game) ** 2
        x = state["x"]
        self._accumulate(state, x)
        g = self._gradients(game, x)
        parts = []
        for xi, gi, rho in zip(
            self._split(game, x), self._split(game, g), self._split(game, state["magnet"]), strict=True
        ):
            if self.geometry == "entropy":
                logits = (safe_log(xi) + eta * alpha * safe_log(rho) + eta * gi) / (1.0 + eta * alpha)
                parts.append(softmax(logits))
            else:
                parts.append(project_simplex((xi + eta * alpha * rho + eta * gi) / (1.0 + eta * alpha)))
        new = np.concatenate(parts)
        state["x"] = new
        if self.magnet_rate > 0:
            lam = self.magnet_rate
            mags = [
                softmax((1 - lam) * safe_log(rho) + lam * safe_log(xi))
                for rho, xi in zip(self._split(game, state["magnet"]), self._split(game, new), strict=True)
            ]
            state["magnet"] = np.concatenate(mags)


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
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
MMD_ENTRY = SolverEntry(
    "mmd",
    MagneticMirrorDescent,
    "magnetic mirror descent (last iterate, QRE)",
    extensive=MMD_EXTENSIVE_ENTRY,
)
