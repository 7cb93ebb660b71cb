"""What a PSRO run outputs besides a policy: the correlated output and the report.

:class:`JointMixture` is the output of PSRO with a (coarse) correlated-equilibrium meta-solver
(JPSRO; Marris et al. 2021, "Multi-agent training beyond zero-sum with correlated equilibrium
meta-solvers"): a mediator's joint distribution over member profiles, whose exploitability is the
(C)CE gap. :class:`PSROReport` is the exact NashConv of the output with the run's population figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.solvers.psro.backends import State, make_backend
from gamesolve.solvers.psro.meta_solvers import WEIGHT_FLOOR, MetaStrategy

__all__ = ["JointMixture", "PSROReport"]


@dataclass(frozen=True, eq=False)
class JointMixture:
    """A correlated meta-strategy as the output of PSRO with a CE/CCE meta-solver.

    A mediator draws a profile of members ``k ~ joint`` and tells each player ``p`` to play its
    member ``k_p``. Its exploitability is the (coarse) correlated equilibrium gap: for ``"cce"``
    each player's best gain from ignoring the recommendation (a best response to the joint
    distribution of the others' members), for ``"ce"`` the expected best gain after seeing it.

    Attributes:
        game: The prepared game (compiled or normal-form).
        members: Per player, ``[K_p, I, A]`` (compiled) or ``[K_p, A_p]`` (normal-form) arrays.
        joint: ``[K_0, ..., K_{P-1}]`` probabilities of member profiles.
        kind: ``"ce"`` or ``"cce"``.
    """

    game: Any
    members: tuple[NDArray[np.float64], ...]
    joint: NDArray[np.float64]
    kind: str

    @property
    def strategy(self) -> MetaStrategy:
        """The joint distribution with its marginals."""
        return MetaStrategy.correlated(self.joint, self.kind)

    def marginal_policy(self) -> Any:
        """The product of the players' marginal mixtures (a TabularPolicy or MixedProfile)."""
        state = self._state()
        return make_backend(self.game).mixture(state, self.strategy.marginals)

    def _state(self) -> State:
        return {f"pop{p}": m for p, m in enumerate(self.members)}

    def gains(self) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """``(gain [P], on-policy value [P], deviation value [P])`` of every player."""
        backend = make_backend(self.game)
        state = self._state()
        sigma = self.strategy
        n = len(self.members)
        gain, value, deviation = np.zeros(n), np.zeros(n), np.zeros(n)
        for p in range(n):
            if self.kind == "ce":
                for k in np.flatnonzero(sigma.marginals[p] > WEIGHT_FLOOR):
                    mass = float(sigma.marginals[p][k])
                    _, br, on = backend.best_response(state, p, sigma, int(k))
                    gain[p] += mass * max(br - on, 0.0)
                    value[p] += mass * on
                    deviation[p] += mass * br
            else:
                _, br, on = backend.best_response(state, p, sigma, None)
                gain[p], value[p], deviation[p] = max(br - on, 0.0), on, br
        return gain, value, deviation

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (the members are left out)."""
        return {
            "kind": self.kind,
            "joint": self.joint.tolist(),
            "sizes": [int(m.shape[0]) for m in self.members],
        }


@dataclass(frozen=True)
class PSROReport:
    """Exploitability of PSRO's output plus the run's population figures (``extras``).

    Attributes:
        nash_conv: Sum of the players' best-response gains against the output.
        exploitability: ``nash_conv / P``.
        on_policy_values: ``[P]`` values of the output.
        best_response_values: ``[P]`` values of each player's best response to the output.
        extras: ``population``, ``meta_game``, ``meta_strategy``, ... (see :class:`PSRO`).
    """

    nash_conv: float
    exploitability: float
    on_policy_values: tuple[float, ...]
    best_response_values: tuple[float, ...]
    extras: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (extras are left out)."""
        return {
            "nash_conv": self.nash_conv,
            "exploitability": self.exploitability,
            "on_policy_values": list(self.on_policy_values),
            "best_response_values": list(self.best_response_values),
        }
