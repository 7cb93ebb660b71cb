"""Classical population dynamics: fictitious play (plain and smooth) and replicator dynamics.

Fictitious play (Brown 1951; Robinson 1951) and smooth fictitious play (Fudenberg & Kreps 1993),
which converges to the logit QRE (Hofbauer & Sandholm 2002); replicator dynamics (Taylor & Jonker
1978) and the projected variant that PSRO uses as its meta-solver (Lanctot et al. 2017).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from gamesolve.normal_form import TensorGame
from gamesolve.registry import SolverEntry
from gamesolve.solver import Iterate
from gamesolve.solvers.dynamics.base import (
    DynamicsSolver,
    State,
    check_start,
    max_abs_payoff,
    project_floored,
    real_in,
    softmax,
)
from gamesolve.validation import check_bool, check_real

__all__ = ["FictitiousPlay", "Replicator"]


class FictitiousPlay(DynamicsSolver):
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
        self.temperature = real_in("temperature", temperature, low=0.0)
        self.start = check_start(start)
        self.name = "smooth-fp" if self.temperature > 0 else "fictitious-play"

    def _advance(self, game: TensorGame, state: State, t: int) -> None:
        x = state["x"]
        g = self._gradients(game, x)
        parts = []
        for gi in self._split(game, g):
            if self.temperature > 0:
                parts.append(softmax(gi / self.temperature))
            else:
                br = np.zeros_like(gi)
                br[int(np.argmax(gi))] = 1.0
                parts.append(br)
        step = 1.0 / (t + 1)
        state["x"] = (1 - step) * x + step * np.concatenate(parts)
        self._accumulate(state, state["x"])


class Replicator(DynamicsSolver):
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
        self.dt = real_in("dt", dt, low=0.0, low_open=True)
        self.projected = projected = check_bool("projected", projected)
        self.gamma = check_real("gamma", gamma, minimum=0.0, maximum=1.0, max_inclusive=False)
        self.start = check_start(start)
        self.name = "projected-replicator" if projected else "replicator"

    def _advance(self, game: TensorGame, state: State, t: int) -> None:
        x = state["x"]
        self._accumulate(state, x)
        g = self._gradients(game, x) / max_abs_payoff(game)
        parts = []
        for xi, gi in zip(self._split(game, x), self._split(game, g), strict=True):
            y = xi + self.dt * xi * (gi - xi @ gi)
            if self.projected:
                y = project_floored(y, min(self.gamma, 1.0 / y.shape[0]))
            else:
                y = np.maximum(y, 0.0)
                y /= y.sum()
            parts.append(y)
        state["x"] = np.concatenate(parts)


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
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
