"""Tournaments: fill a :class:`~gamesolve.population.MetaGame` by exact evaluation or seeded matches.

``tournament(game, population)`` evaluates every profile of population members (one member per
seat) and returns each player's mean payoff per profile, with standard errors and episode counts.
Members are tabular policies (or objects that tabulate to one) on compiled games, probability
vectors or pure indices on normal-form games, stationary strategies on tabular Markov games, and
:class:`~gamesolve.population.ActingPolicy` objects or callables on games that can only be sampled.

A tournament is a thin layer on the population backend
(:func:`gamesolve.population.meta_game_entries`): exact evaluation where the game allows it, seeded
sampled matches (``episodes=N`` per profile) otherwise, bit-identical whatever the executor, the
number of workers and the chunking.

>>> import gamesolve
>>> from gamesolve.tournament import tournament
>>> rps = gamesolve.zero_sum([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])
>>> meta = tournament(rps, {"rock": 0, "paper": 1, "scissors": 2})
>>> meta.payoffs[0].tolist()
[[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]]
"""

from __future__ import annotations

from typing import Any

from gamesolve.executors import Executor
from gamesolve.population.backend import BLOCK_SIZE, LOOP_BLOCK_SIZE, meta_game_entries, resolve_game
from gamesolve.population.members import as_population
from gamesolve.population.meta_game import MetaGame

__all__ = ["BLOCK_SIZE", "LOOP_BLOCK_SIZE", "tournament"]


def tournament(
    game: Any,
    policies_or_population: Any,
    *,
    episodes: int | None = None,
    seed: int = 0,
    executor: str | Executor = "local",
    exact: bool | None = None,
    previous: MetaGame | None = None,
    progress: bool | None = None,
    workers: int | None = None,
    address: str | None = None,
    max_steps: int | None = None,
) -> MetaGame:
    """Evaluate every profile of population members; returns the meta-game.

    Args:
        game: A compiled or compilable extensive-form game, a normal-form
            :class:`~gamesolve.normal_form.TensorGame`, a tabular Markov game, or any
            :class:`~gamesolve.markov.SampledMarkovGame` (e.g. a wrapped PettingZoo env), or a game
            string for :func:`gamesolve.load_game`. Extensive-form games that do not compile
            are played through their states (acting members only).
        policies_or_population: A :class:`~gamesolve.population.Population`; a list or
            ``{name: policy}`` mapping (a symmetric population: the same agents in every seat);
            or one list of policies per seat. A list of number lists is read as a symmetric list
            of probability vectors, so give per-seat normal-form strategies as a ``Population``.
            Members: on compiled games a :class:`~gamesolve.policy.TabularPolicy` or its ``[I,
            A]`` array (only the seat's rows are read), or an object whose ``tabulate(game)`` (or
            ``tabulate()``) returns one, or an ``ActingPolicy`` (sampled only; it sees the one-hot
            of its infoset, as in :class:`gamesolve.rl_env.ResponseEnv`); on normal-form games a
            probability vector ``[A_p]`` or a pure strategy index; on tabular Markov games a
            stationary strategy ``[S, A_p]`` or an ``ActingPolicy`` (sampled only); on sampled games
            an ``ActingPolicy`` or a callable ``(player, observation, legal, rng) -> action``. A
            :class:`~gamesolve.population.StateActingPolicy` (OpenSpiel's MCTS bot,
            :class:`gamesolve.mcts.MCTSPolicy`) plays any extensive-form game given as itself (not
            its compiled form): the matches then step the game's states, also where it compiles.
        episodes: Matches per profile for sampled tournaments (``None``: exact when possible).
        seed: Base seed (a non-negative integer); same seed, same meta-game.
        executor: ``"local"`` (worker processes, default), ``"inprocess"``, ``"ray"``, or an
            executor object (which is not closed afterwards). Exact evaluation always runs in
            process; a sampled tournament small enough for one task runs in process under
            ``"local"`` (identical results, no pool start-up).
        exact: Force exact evaluation (``True``) or sampling (``False``); default: exact when the
            game and members allow it and ``episodes`` is ``None``.
        previous: A meta-game over a prefix of the population (the first members of every seat);
            its entries are kept and only the new profiles are evaluated (PSRO grows this way).
        progress: Show a tqdm bar on stderr for sampled tournaments (default: when stderr is a
            terminal).
        workers: Processes of the ``"local"`` executor (default: available CPUs).
        address: Ray cluster address for ``executor="ray"``.
        max_steps: Episode step cap for sampled Markov games (default: the game's own).

    Returns:
        A :class:`~gamesolve.population.MetaGame` with ``payoffs [P, K0, ...]``, ``stderr`` (0
        where exact) and ``counts`` (0 where exact).

    Raises:
        InvalidPolicyError: A member does not fit the game (the message names the player and the
            member index).
        InvalidArgumentError: ``episodes``, ``seed``, ``workers`` or ``max_steps`` not an integer
            in range, ``exact`` or ``progress`` not a boolean, an unknown executor, or a Ray
            address that does not parse (checked before anything runs).
        ValueError: Contradictory ``exact``/``episodes``, or a ``previous`` meta-game that is not
            a prefix of this population.
        UnsupportedGame: Not a game a tournament can play.
        GamesolveError: The Ray cluster cannot be reached (before any match is played).
    """
    if isinstance(game, str):
        from gamesolve.registry import load_game

        game = load_game(game)
    _, compiled, _ = resolve_game(game)
    n_players = compiled.num_players if compiled is not None else int(game.spec.num_players)
    population = as_population(policies_or_population, n_players)
    return meta_game_entries(
        game,
        population,
        episodes=episodes,
        seed=seed,
        previous=previous,
        executor=executor,
        exact=exact,
        workers=workers,
        address=address,
        max_steps=max_steps,
        progress=progress,
    )
