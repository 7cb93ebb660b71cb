"""Neural population learning, NeuPL (Liu, Marris, Hennes, Merel, Heess & Graepel, ICLR 2022).

Liu et al. 2022, "NeuPL: Neural Population Learning", Section 3 and Algorithm 1. One conditional
policy ``Pi_theta(a | o, sigma)`` represents a whole population of ``N`` policies of a symmetric
two-player zero-sum game: policy ``i`` is ``Pi_theta(. | ., sigma_i)``, where ``sigma_i``, row ``i``
of the interaction graph ``Sigma [N, N]``, is the mixture of the population that policy ``i`` must
best-respond to. A meta-graph solver maps the payoff matrix ``U [N, N]`` to the graph (``"psro-n"``,
``"fsp"``, ``"self-play"``, ``"cycle"``). Each iteration recomputes ``Sigma``, improves every trained
row against its mixture (exact soft best-response steps, or PPO on sampled episodes), refills ``U``
and grows the population when the newest policy has converged. Games: compiled two-player zero-sum
extensive-form games played from both seats, or symmetric zero-sum normal-form games.

What converges: with exact best responses and the PSRO-N graph the population is the sequence of
PSRO iterates, so the output, the Nash mixture of the population, inherits Double Oracle's
convergence to a Nash equilibrium (the tabular policy reproduces PSRO exactly). The network and RL
training are approximate. Every number of the run lives in the solver state, so a checkpointed run
resumes to exactly the numbers of an uninterrupted one.

The package's modules: :mod:`~gamesolve.solvers.neupl.graphs` (interaction graphs and the meta-game
Nash), :mod:`~gamesolve.solvers.neupl.arenas` (the games the policies play: exact values and
sampling), :mod:`~gamesolve.solvers.neupl.network` (the torch conditional policy) and
:mod:`~gamesolve.solvers.neupl.solver` (the solver and its registry entry).

>>> import gamesolve
>>> from gamesolve.solvers.neupl import NeuPL
>>> rps = gamesolve.load_game("rps")
>>> solver = NeuPL(policy="tabular", initial="first", max_population=3)
>>> result = gamesolve.solve(rps, solver, iterations=2, progress=False)
>>> [p.tolist() for p in result.extras["members"]], round(result.exploitability, 12)
([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]], 0.0)
"""

from gamesolve.solvers.neupl.graphs import (
    GRAPHS,
    cycle_graph,
    fictitious_play_graph,
    interaction_graph,
    meta_nash,
    psro_n_graph,
    self_play_graph,
)
from gamesolve.solvers.neupl.solver import NeuPL, NeuPLReport

__all__ = [
    "GRAPHS",
    "NeuPL",
    "NeuPLReport",
    "cycle_graph",
    "fictitious_play_graph",
    "interaction_graph",
    "meta_nash",
    "psro_n_graph",
    "self_play_graph",
]
