"""PettingZoo adapters, both ways, and exact game trees of small PettingZoo games.

Three bridges to `PettingZoo <https://pettingzoo.farama.org>`_ (Terry et al. 2021, "PettingZoo: Gym
for multi-agent reinforcement learning", NeurIPS), one module each:

* :mod:`~gamesolve.games.pettingzoo.export`: :func:`to_pettingzoo` turns a gamesolve game into an
  environment that passes ``pettingzoo.test.api_test``.
* :mod:`~gamesolve.games.pettingzoo.sampled`: :func:`from_pettingzoo` wraps any PettingZoo AEC or
  parallel environment as a :class:`~gamesolve.markov.SampledMarkovGame`.
* :mod:`~gamesolve.games.pettingzoo.unroll`: :func:`compile_pettingzoo` expands a small AEC
  environment into an exact extensive-form game (:class:`PettingZooTree`).

Agents of gamesolve games are named ``"player_0", "player_1", ...``; players of wrapped PettingZoo
environments are the environment's ``possible_agents`` in order.
"""

from __future__ import annotations

from gamesolve.games.pettingzoo.export import (
    ExtensiveFormEnv,
    MarkovEnv,
    MarkovParallelEnv,
    NormalFormEpisode,
    OneShotMarkovGame,
    to_pettingzoo,
)
from gamesolve.games.pettingzoo.sampled import PettingZooEpisode, PettingZooMarkovGame, from_pettingzoo
from gamesolve.games.pettingzoo.tree_state import TreeState
from gamesolve.games.pettingzoo.unroll import MergeKey, PettingZooTree, compile_pettingzoo

__all__ = [
    "ExtensiveFormEnv",
    "MarkovEnv",
    "MarkovParallelEnv",
    "MergeKey",
    "NormalFormEpisode",
    "OneShotMarkovGame",
    "PettingZooEpisode",
    "PettingZooMarkovGame",
    "PettingZooTree",
    "TreeState",
    "compile_pettingzoo",
    "from_pettingzoo",
    "to_pettingzoo",
]
