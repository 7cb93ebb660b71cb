"""Populations of policies, the meta-games between them, ratings, and the one backend that fills them.

* :class:`Population` (:mod:`~gamesolve.population.members`): ``members[p][k]`` is policy ``k``
  of player (seat) ``p``; a member is a table, an :class:`ActingPolicy` or a
  :class:`StateActingPolicy` (a search bot that reads the game state).
* :class:`MetaGame` (:mod:`~gamesolve.population.meta_game`): the normal-form game between
  members, with standard errors and episode counts when sampled.
* :func:`meta_game_entries` (:mod:`~gamesolve.population.backend`): fills a meta-game, exactly
  where the game compiles (or is normal-form or tabular Markov), by seeded sampled matches
  otherwise; tournaments, PSRO and NeuPL all get their meta-games from it.
* :class:`Ratings` (:mod:`~gamesolve.population.ratings`): Elo, alpha-Rank and Nash averaging.
"""

from __future__ import annotations

from gamesolve.population.backend import meta_game_entries
from gamesolve.population.members import ActingPolicy, Population, StateActingPolicy
from gamesolve.population.meta_game import META_GAME_FORMAT, MetaGame
from gamesolve.population.ratings import ELO_SCALE, Ratings, elo_scale

__all__ = [
    "ELO_SCALE",
    "META_GAME_FORMAT",
    "ActingPolicy",
    "MetaGame",
    "Population",
    "Ratings",
    "StateActingPolicy",
    "elo_scale",
    "meta_game_entries",
]
