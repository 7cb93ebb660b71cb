"""Policy-Space Response Oracles (PSRO), with Double Oracle and fictitious self-play as cases.

Lanctot, Zambaldi, Gruslys, Lazaridou, Tuyls, Pérolat, Silver & Graepel 2017, "A Unified
Game-Theoretic Approach to Multiagent Reinforcement Learning" (NeurIPS), Algorithm 1. Each player
keeps a population of policies and the empirical meta-game ``U [P, K_0, ..., K_{P-1}]`` holds the
expected utility of every profile of members. One iteration: a meta-solver maps ``U`` to a
meta-strategy ``sigma``; an oracle computes each player's best response to ``sigma_{-i}`` (exact on
compiled and normal-form games, or a torch DQN / PPO response from
:mod:`gamesolve.solvers.rl_oracles`); the responses join the populations and the new entries of
``U`` are filled, exactly or by seeded sampled matches. The output is the reporting meta-solver's
mixture as one policy (realization-equivalent, :mod:`gamesolve.mixture`), whose exact exploitability
the run loop records. The meta-solvers (Nash, uniform, projected replicator dynamics, alpha-Rank,
(coarse) correlated equilibria, anytime maximin, any registry normal-form solver) are listed on
:class:`PSRO`.

The package's modules: :mod:`~gamesolve.solvers.psro.meta_solvers` (meta-strategies and the
meta-solvers), :mod:`~gamesolve.solvers.psro.backends` (the populations of compiled and normal-form
games and their exact meta-game), :mod:`~gamesolve.solvers.psro.mixture` (the correlated output and
the report) and :mod:`~gamesolve.solvers.psro.solver` (the solver and its registry entries).

What converges: with exact responses and the Nash meta-solver on a two-player zero-sum game PSRO is
Double Oracle (McMahan, Gordon & Blum 2003): when no response improves on ``sigma`` by more than
``epsilon`` the population stops growing and ``sigma`` is an ``epsilon``-equilibrium of the full game,
after finitely many iterations. The meta-Nash mixture's exploitability is *not* monotone; the
``"anytime"`` report is. With ``"uniform"`` it decreases like fictitious play's, slowly; with more
players or general-sum payoffs there is no guarantee. The state holds every number as arrays and
every random draw derives from the run's seed, so a resumed run repeats an uninterrupted one exactly.

>>> import gamesolve
>>> from gamesolve.solvers.psro import PSRO
>>> result = gamesolve.solve(gamesolve.load_game("rps"), PSRO(), iterations=2, progress=False)
>>> result.extras["population_sizes"], result.exploitability < 1e-12
([3, 3], True)
"""

from gamesolve.solvers.psro.meta_solvers import (
    META_SOLVERS,
    MetaStrategy,
    projected_replicator_dynamics,
    solve_meta_game,
)
from gamesolve.solvers.psro.mixture import JointMixture, PSROReport
from gamesolve.solvers.psro.solver import PSRO

__all__ = [
    "META_SOLVERS",
    "PSRO",
    "JointMixture",
    "MetaStrategy",
    "PSROReport",
    "projected_replicator_dynamics",
    "solve_meta_game",
]
