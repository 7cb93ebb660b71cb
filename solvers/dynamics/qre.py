"""The logit quantal response equilibrium (McKelvey & Palfrey 1995) at a given temperature.

:class:`LogitQRE` solves ``x_i = softmax(g_i(x_-i) / temperature)`` by entropy-regularized
extragradient in two-player zero-sum games (Cen, Wei & Chi 2021), by following the principal
branch of the logit correspondence (Turocy 2005) with the path follower of
:mod:`gamesolve.solvers.logit_path`, or by damped fixed-point iteration.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.errors import InvalidArgumentError
from gamesolve.normal_form import MixedProfile, TensorGame
from gamesolve.registry import SolverEntry
from gamesolve.solver import Iterate
from gamesolve.solvers.common import require_two_player_zero_sum
from gamesolve.solvers.dynamics.base import (
    DynamicsSolver,
    State,
    max_abs_payoff,
    optional_positive,
    real_in,
    safe_log,
    softmax,
)
from gamesolve.solvers.logit_path import LogitPath
from gamesolve.spec import GameSpec
from gamesolve.validation import check_choice

log = logging.getLogger(__name__)


__all__ = ["LogitQRE"]


class LogitQRE(DynamicsSolver):
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
      path follower :class:`~gamesolve.solvers.logit_path.LogitPath` that
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
        self.temperature = real_in("temperature", temperature, low=0.0, low_open=True)
        self.method = check_choice("method", method, self.METHODS)
        self.eta = optional_positive("eta", eta)
        if self.eta is not None and self.eta * self.temperature >= 1.0:
            raise InvalidArgumentError(
                f"eta must be below 1 / temperature = {1.0 / self.temperature:g}, got {eta!r}"
            )
        self.damping = real_in("damping", damping, low=0.0, high=1.0, low_open=True)
        self.name = "qre"

    def _method(self, game: TensorGame) -> str:
        if self.method == "auto":
            return "prox" if game.spec.is_two_player_zero_sum else "homotopy"
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
        return np.concatenate([softmax(gi / temperature) for gi in self._split(game, g)])

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
                    softmax(keep * safe_log(xi) + eta * gi)
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

    # -- homotopy: the shared path follower of gamesolve.solvers.logit_path on the principal branch
    def _target_lambda(self, game: TensorGame) -> float:
        return max_abs_payoff(game) / self.temperature

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


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
QRE_ENTRY = SolverEntry("qre", LogitQRE, "logit quantal response equilibrium")
