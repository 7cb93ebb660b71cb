"""Markov (stochastic) games: the tabular form, episodes, stationary profiles and exact evaluation.

A discounted stochastic game has states ``s``, one action set per player, a stage reward
``r_i(s, a)`` for every player ``i`` and joint action ``a = (a_0, ..., a_{P-1})``, transition
probabilities ``P(s' | s, a)`` and a discount ``gamma`` in ``[0, 1)``. Players maximize the
expected discounted sum of their rewards. Terminal states are absorbing with value 0.

:class:`TabularMarkovGame` stores the transitions as one sparse matrix ``[S * J, S]`` (row
``s * J + j`` for joint action ``j``, the C-order flattening of ``(a_0, ..., a_{P-1})``), so games
with many states and few successors per state fit in memory; ``transition`` gives the dense
``[S, A0, ..., A_{P-1}, S]`` view for small games. Build one with :func:`markov_game`.

Every tabular game is also a *sampling* game (:class:`SampledMarkovGame`): ``new_episode(rng=...)``
plays it step by step, which is all that sampled tournaments, RL best responses and the PettingZoo
adapters need. Games too large to tabulate implement the same protocol.

A stationary profile (:class:`MarkovProfile`) gives each player a strategy ``[S, A_i]`` per state;
:func:`policy_values`, :func:`best_response_values` and :func:`nash_conv` evaluate it exactly.

Modules: :mod:`~gamesolve.markov.sampling` (the protocols and the tabular episode),
:mod:`~gamesolve.markov.game` (the tabular form), :mod:`~gamesolve.markov.profile` (profiles and
their JSON form), :mod:`~gamesolve.markov.evaluation` (values, best responses, NashConv).

>>> import numpy as np, gamesolve
>>> amp = np.array([[2.0, -1.0], [-1.0, 1.0]])
>>> game = gamesolve.markov_game(np.ones((1, 2, 2, 1)), amp[None], 0.9)  # one state, forever
>>> round(float(gamesolve.solve(game, "shapley").value[0]), 9)  # 0.2 / (1 - 0.9)
2.0
"""

from gamesolve.markov.evaluation import (
    MarkovExploitabilityReport,
    best_response_values,
    nash_conv,
    policy_values,
)
from gamesolve.markov.game import TabularMarkovGame, markov_game
from gamesolve.markov.profile import MarkovProfile
from gamesolve.markov.sampling import MarkovEpisode, SampledMarkovGame, TabularEpisode

__all__ = [
    "MarkovEpisode",
    "MarkovExploitabilityReport",
    "MarkovProfile",
    "SampledMarkovGame",
    "TabularEpisode",
    "TabularMarkovGame",
    "best_response_values",
    "markov_game",
    "nash_conv",
    "policy_values",
]
