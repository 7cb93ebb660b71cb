"""Tournaments: fill a :class:`~gamesolve.population.MetaGame` by exact evaluation or seeded matches.

``tournament(game, population)`` evaluates every profile of population members (one member per
seat) and returns each player's mean payoff per profile, with standard errors and episode counts.
Members are tabular policies (or objects that tabulate to one) on compiled games, probability
vectors or pure indices on normal-form games, stationary strategies on tabular Markov games, and
:class:`~gamesolve.population.ActingPolicy` objects or callables on games that can only be sampled.

Exact evaluation (the default where the game allows it) uses the members' realization plans on
compiled games (one matrix product for all profiles of a two-player game, equal to
:func:`gamesolve.expected_values`), the payoff tensor on normal-form games and
:func:`gamesolve.markov.policy_values` on tabular Markov games. Sampled matches (``episodes=N`` per
profile) draw all randomness of episode ``e`` of a profile from a key derived from ``(seed,
profile)`` and ``e`` (counter-based, :mod:`gamesolve.kernels.matches`), and merge fixed blocks of
episodes in order, so the meta-game is bit-identical whatever the executor, the number of workers
and the chunking. Tabular members run in numba kernels; sampled games (e.g. PettingZoo environments
through :func:`gamesolve.from_pettingzoo`) run the ``ActingPolicy`` loop.

>>> import gamesolve
>>> from gamesolve.tournament import tournament
>>> rps = gamesolve.zero_sum([[0, -1, 1], [1, 0, -1], [-1, 1, 0]])
>>> meta = tournament(rps, {"rock": 0, "paper": 1, "scissors": 2})
>>> meta.payoffs[0].tolist()
[[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]]
"""

from __future__ import annotations

import itertools
import logging
import math
import pickle
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.compiled import CompiledGame, as_compiled
from gamesolve.errors import InvalidPolicyError, UnsupportedGame
from gamesolve.executors import Executor, InProcessExecutor, check_executor, make_executor
from gamesolve.kernels.matches import compiled_match_blocks, markov_match_blocks, normal_form_match_blocks
from gamesolve.normal_form import TensorGame
from gamesolve.policy import TabularPolicy
from gamesolve.population import MetaGame, Population
from gamesolve.protocols import ExtensiveFormGame
from gamesolve.validation import check_bool, check_int

__all__ = ["BLOCK_SIZE", "LOOP_BLOCK_SIZE", "tournament"]

log = logging.getLogger(__name__)

#: Episodes per block in the numba kernels (part of the reproducibility contract).
BLOCK_SIZE = 1024
#: Episodes per block in the Python ``ActingPolicy`` loop.
LOOP_BLOCK_SIZE = 32

_ROW_ATOL = 1e-6
_NEG_ATOL = 1e-12

#: Work per task: at least this many kernel blocks (~32k episodes), at most this many.
_MIN_KERNEL_BLOCKS, _MAX_KERNEL_BLOCKS = 32, 512
_MIN_LOOP_BLOCKS, _MAX_LOOP_BLOCKS = 1, 16

#: Under the default ``"local"`` executor, sampled work estimated below this many seconds runs in
#: process: starting a pool costs about a second.
_POOL_MIN_SECONDS = 1.0
#: Rough costs for that estimate: seconds per kernel step and per Python-loop episode.
_KERNEL_STEP_SECONDS = 3e-8
_LOOP_EPISODE_SECONDS = 1e-3

Profile = tuple[int, ...]


# ---------------------------------------------------------------------------------------------
# Game kinds and member preparation
# ---------------------------------------------------------------------------------------------


def _kind_of(game: Any) -> str:
    if isinstance(game, TensorGame):
        return "normal"
    if getattr(game, "transition_matrix", None) is not None and hasattr(game, "reward_flat"):
        return "markov"
    if isinstance(game, CompiledGame) or callable(getattr(game, "compile", None)):
        return "compiled"
    if isinstance(game, ExtensiveFormGame):
        return "compiled"
    if callable(getattr(game, "new_episode", None)):
        return "sampled"
    raise UnsupportedGame(
        f"tournament needs a compiled/extensive-form, normal-form or Markov game, got {type(game).__name__}"
    )


def _as_population(policies: Any, players: int) -> Population:
    if isinstance(policies, Population):
        return policies
    if isinstance(policies, Mapping):
        return Population.symmetric(policies, players=players)
    if isinstance(policies, str) or not isinstance(policies, Sequence):
        raise TypeError(
            "policies must be a Population, a list or mapping of policies (symmetric), or one list per "
            f"player, got {type(policies).__name__}"
        )
    items = list(policies)
    if not items:
        raise ValueError("a tournament needs at least one policy")
    if all(isinstance(x, list | tuple) for x in items) and not all(
        all(isinstance(v, int | float | np.integer | np.floating) for v in x) for x in items
    ):
        return Population(members=tuple(tuple(x) for x in items))
    return Population.symmetric(items, players=players)


def _where(player: int, k: int) -> str:
    return f"player {player} member {k}"


def _check_rows(rows: NDArray[np.float64], widths: NDArray[np.int32], where: str, what: str) -> None:
    """Rows of probabilities: finite, non-negative, no illegal mass, summing to 1."""
    if not np.all(np.isfinite(rows)):
        bad = int(np.argwhere(~np.isfinite(rows))[0, 0])
        raise InvalidPolicyError(f"{where}: non-finite probability at {what} {bad}")
    if np.any(rows < -_NEG_ATOL):
        bad = int(np.argwhere(rows < -_NEG_ATOL)[0, 0])
        raise InvalidPolicyError(f"{where}: negative probability at {what} {bad}")
    legal = np.arange(rows.shape[1])[None, :] < widths[:, None]
    illegal = np.abs(np.where(legal, 0.0, rows)).max(axis=1, initial=0.0) > _NEG_ATOL
    if illegal.any():
        raise InvalidPolicyError(
            f"{where}: mass on an illegal action at {what} {int(np.flatnonzero(illegal)[0])}"
        )
    sums = np.where(legal, rows, 0.0).sum(axis=1)
    off = np.abs(sums - 1.0) > _ROW_ATOL
    if off.any():
        bad = int(np.flatnonzero(off)[0])
        raise InvalidPolicyError(f"{where}: probabilities at {what} {bad} sum to {sums[bad]:.9g}, expected 1")


def _compiled_member(game: CompiledGame, member: Any, player: int, k: int) -> NDArray[np.float64]:
    where = _where(player, k)
    tabulate = getattr(member, "tabulate", None)
    if not isinstance(member, TabularPolicy | np.ndarray) and callable(tabulate):
        try:  # e.g. gamesolve.solvers.rl_oracles' trained responses: tabulate(game) -> TabularPolicy
            member = tabulate(game)
        except TypeError:
            member = tabulate()
    if isinstance(member, TabularPolicy):
        other = member.game
        if other is not game and (
            other.infosets.keys != game.infosets.keys
            or not np.array_equal(other.infoset_actions, game.infoset_actions)
        ):
            raise InvalidPolicyError(
                f"{where}: the policy belongs to a different game ({other.num_infosets} infosets, "
                f"{other.max_actions} actions; this game has {game.num_infosets} and {game.max_actions})"
            )
        arr = np.asarray(member.probs, dtype=np.float64)
    elif isinstance(member, np.ndarray | list | tuple):
        try:
            arr = np.asarray(member, dtype=np.float64)
        except (TypeError, ValueError):
            raise InvalidPolicyError(f"{where}: expected a numeric [infosets, actions] array") from None
    else:
        raise InvalidPolicyError(
            f"{where}: a {type(member).__name__} cannot be evaluated on a compiled game; pass a "
            "TabularPolicy (tabulate acting policies first)"
        )
    expected = (game.num_infosets, game.max_actions)
    if arr.shape != expected:
        raise InvalidPolicyError(
            f"{where}: policy has shape {arr.shape}, expected {expected} (infosets, actions) "
            f"for {game.spec.name}"
        )
    rows = game.infosets_of(player)
    _check_rows(arr[rows], game.infoset_num_actions[rows], where, "infoset")
    return arr


def _normal_member(game: TensorGame, member: Any, player: int, k: int) -> NDArray[np.float64]:
    where = _where(player, k)
    n = game.num_actions[player]
    if isinstance(member, int | np.integer) and not isinstance(member, bool):
        if not 0 <= int(member) < n:
            raise InvalidPolicyError(f"{where}: pure strategy {int(member)} is not in [0, {n})")
        return np.eye(n)[int(member)]
    try:
        arr = np.asarray(member, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidPolicyError(f"{where}: expected a probability vector of length {n}") from None
    if arr.shape != (n,):
        raise InvalidPolicyError(f"{where}: strategy has shape {arr.shape}, expected ({n},) actions")
    _check_rows(arr[None, :], np.array([n], dtype=np.int32), where, "row")
    return arr


def _is_actor(member: Any) -> bool:
    return callable(getattr(member, "act", None)) or (callable(member) and not isinstance(member, np.ndarray))


def _markov_member(game: Any, member: Any, player: int, k: int) -> Any:
    if _is_actor(member):
        return member
    where = _where(player, k)
    try:
        arr = np.asarray(member, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidPolicyError(f"{where}: expected an [S, A] strategy or an acting policy") from None
    expected = (game.num_states, game.num_actions[player])
    if arr.shape != expected:
        raise InvalidPolicyError(
            f"{where}: strategy has shape {arr.shape}, expected {expected} (states, actions)"
        )
    widths = np.full(expected[0], expected[1], dtype=np.int32)
    _check_rows(arr, widths, where, "state")
    return arr


def _sampled_member(member: Any, player: int, k: int) -> Any:
    if _is_actor(member):
        return member
    raise InvalidPolicyError(
        f"{_where(player, k)}: a {type(member).__name__} cannot act; games that can only be sampled need "
        "an ActingPolicy (an object with act(player, observation, legal, rng)) or such a callable"
    )


# ---------------------------------------------------------------------------------------------
# Exact evaluation
# ---------------------------------------------------------------------------------------------


def _exact_compiled(game: CompiledGame, members: list[list[NDArray[np.float64]]]) -> NDArray[np.float64]:
    from gamesolve.kernels.evaluation import reach_kernel
    from gamesolve.sequence_form import behavior_to_plans

    n_players = game.num_players
    reach = np.empty((game.num_nodes, n_players + 1))
    reach_kernel(
        game.node_player,
        game.node_infoset,
        game.node_first_child,
        game.node_num_children,
        game.node_prob,
        np.asarray(TabularPolicy.uniform(game).probs),
        reach,
    )
    chance = reach[game.terminal_node, n_players]  # [T]
    live = chance > 0.0
    columns = []  # per player: [K_p, T'] plan value at each terminal's last own sequence
    for p in range(n_players):
        start = int(game.sequence_offset[p])
        stop = start + int(game.num_sequences[p])
        plans = np.stack([behavior_to_plans(game, m)[start:stop] for m in members[p]])  # [K_p, S_p]
        columns.append(plans[:, game.terminal_seq[live, p]])
    letters = "abcdefghijklmnopqrstuvwxy"[:n_players]
    spec = ",".join(f"{c}z" for c in letters) + ",z->" + letters
    out = np.empty((n_players, *(len(m) for m in members)))
    for i in range(n_players):
        weight = chance[live] * game.terminal_utility[live, i]
        out[i] = np.einsum(spec, *columns, weight, optimize=True)
    return out


def _exact_normal(game: TensorGame, members: list[list[NDArray[np.float64]]]) -> NDArray[np.float64]:
    n_players = game.num_players
    stacks = [np.stack(m) for m in members]  # [K_p, A_p]
    letters = "abcdefghijklm"[:n_players]
    upper = letters.upper()
    spec = upper + "," + ",".join(f"{c}{C}" for c, C in zip(letters, upper, strict=True)) + "->" + letters
    return np.stack([np.einsum(spec, game.payoffs[i], *stacks, optimize=True) for i in range(n_players)])


def _exact_markov(game: Any, members: list[list[Any]]) -> NDArray[np.float64]:
    from gamesolve.markov import MarkovProfile, policy_values

    sizes = tuple(len(m) for m in members)
    out = np.empty((game.num_players, *sizes))
    for profile in itertools.product(*(range(k) for k in sizes)):
        strategies = [members[p][k] for p, k in enumerate(profile)]
        values = policy_values(game, MarkovProfile.of(game, strategies))  # [P, S]
        out[_entry(profile)] = values @ game.initial
    return out


# ---------------------------------------------------------------------------------------------
# Sampled matches: tasks
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Context:
    """What every task of one tournament shares: the game (as arrays or object) and the members."""

    kind: str  # "compiled" | "normal" | "markov" (numba kernels) or "loop" (ActingPolicy loop)
    arrays: dict[str, NDArray[Any]]
    members: tuple[tuple[Any, ...], ...]
    num_episodes: int
    block_size: int
    game: Any = None
    max_steps: int | None = None


@dataclass(frozen=True)
class _Task:
    context: _Context
    items: tuple[tuple[Profile, int, int, int], ...]  # (profile, key, first block, number of blocks)


def _entry(profile: Profile) -> tuple[Any, ...]:
    """Index of every player's payoff for ``profile`` in a ``[P, K0, ...]`` array."""
    return (slice(None), *profile)


def _profile_key(seed: int, profile: Profile) -> int:
    return int(np.random.SeedSequence([seed, *profile]).generate_state(1, dtype=np.uint64)[0])


def _run_task(task: _Task) -> list[tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """Play every item of a task; per item, block means and squared deviations ``[B, P]``."""
    ctx = task.context
    out = []
    for profile, key, first_block, n_blocks in task.items:
        n_players = len(profile)
        mean = np.empty((n_blocks, n_players))
        m2 = np.empty((n_blocks, n_players))
        if ctx.kind == "compiled":
            _play_compiled(ctx, profile, key, first_block, mean, m2)
        elif ctx.kind == "normal":
            a = ctx.arrays
            probs = np.zeros((n_players, int(a["num_actions"].max())))
            for p, k in enumerate(profile):
                probs[p, : a["num_actions"][p]] = ctx.members[p][k]
            normal_form_match_blocks(
                a["payoffs"], probs, a["num_actions"], np.uint64(key), first_block, ctx.block_size,
                ctx.num_episodes, mean, m2,
            )  # fmt: skip
        elif ctx.kind == "markov":
            a = ctx.arrays
            n_states = a["terminal"].shape[0]
            strategies = np.zeros((n_players, n_states, int(a["num_actions"].max())))
            for p, k in enumerate(profile):
                strategies[p, :, : a["num_actions"][p]] = ctx.members[p][k]
            markov_match_blocks(
                a["indptr"], a["indices"], a["data"], a["reward"], a["terminal"], a["initial"],
                float(a["discount"]), int(a["max_steps"]), strategies, a["num_actions"], np.uint64(key),
                first_block, ctx.block_size, ctx.num_episodes, mean, m2,
            )  # fmt: skip
        else:
            _play_loop(ctx, profile, key, first_block, mean, m2)
        out.append((mean, m2))
    return out


def _play_compiled(
    ctx: _Context,
    profile: Profile,
    key: int,
    first_block: int,
    mean: NDArray[np.float64],
    m2: NDArray[np.float64],
) -> None:
    a = ctx.arrays
    probs = np.empty_like(ctx.members[0][profile[0]])
    for p, k in enumerate(profile):
        rows = a[f"rows{p}"]
        probs[rows] = ctx.members[p][k][rows]
    compiled_match_blocks(
        a["node_player"], a["node_infoset"], a["node_first_child"], a["node_num_children"], a["node_prob"],
        a["node_terminal"], a["terminal_utility"], probs, np.uint64(key), first_block, ctx.block_size,
        ctx.num_episodes, mean, m2,
    )  # fmt: skip


def _act(member: Any, player: int, k: int, episode: Any, rng: np.random.Generator) -> int:
    legal = episode.legal_actions(player)
    if isinstance(member, np.ndarray):  # a tabular Markov strategy [S, A]
        row = member[episode.state]
        action = int(rng.choice(row.shape[0], p=row))
    else:
        observation = episode.observation(player)
        act = getattr(member, "act", None)
        try:
            raw = (
                act(player, observation, legal, rng)
                if callable(act)
                else member(player, observation, legal, rng)
            )
            action = int(raw)
        except (TypeError, ValueError) as exc:
            raise InvalidPolicyError(
                f"{_where(player, k)}: act() failed or returned a non-integer: {exc}"
            ) from exc
    if not np.any(legal == action):
        raise InvalidPolicyError(
            f"{_where(player, k)} chose action {action}, which is illegal (legal: {legal.tolist()})"
        )
    return action


def _play_loop(
    ctx: _Context,
    profile: Profile,
    key: int,
    first_block: int,
    mean: NDArray[np.float64],
    m2: NDArray[np.float64],
) -> None:
    game = ctx.game
    n_players = len(profile)
    for b in range(mean.shape[0]):
        start = (first_block + b) * ctx.block_size
        stop = min(start + ctx.block_size, ctx.num_episodes)
        mu = np.zeros(n_players)
        ss = np.zeros(n_players)
        for n, e in enumerate(range(start, stop), start=1):
            rng = np.random.default_rng(np.random.SeedSequence(entropy=key, spawn_key=(e,)))
            episode = game.new_episode(rng=rng, max_steps=ctx.max_steps)
            while not episode.done:
                movers = episode.players_to_move
                actions = [_act(ctx.members[p][profile[p]], p, profile[p], episode, rng) for p in movers]
                episode.step(actions)
            value = np.asarray(episode.returns, dtype=np.float64)
            delta = value - mu
            mu += delta / n
            ss += delta * (value - mu)
        mean[b] = mu
        m2[b] = ss


def _merge_blocks(
    blocks: list[tuple[NDArray[np.float64], NDArray[np.float64]]], num_episodes: int, block_size: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Chan et al.'s pairwise merge of block statistics, in block order: mean ``[P]``, stderr ``[P]``."""
    n = 0
    mean: NDArray[np.float64] | None = None
    m2: NDArray[np.float64] | None = None
    b = 0
    for block_mean, block_m2 in blocks:
        for r in range(block_mean.shape[0]):
            nb = min(block_size, num_episodes - b * block_size)
            b += 1
            if mean is None or m2 is None:
                n, mean, m2 = nb, block_mean[r].copy(), block_m2[r].copy()
                continue
            total = n + nb
            delta = block_mean[r] - mean
            mean = mean + delta * (nb / total)
            m2 = m2 + block_m2[r] + delta * delta * (n * nb / total)
            n = total
    assert mean is not None and m2 is not None and n == num_episodes
    if n < 2:
        return mean, np.full_like(mean, np.nan)
    return mean, np.sqrt(np.maximum(m2, 0.0) / (n - 1) / n)


def _plan_tasks(
    context: _Context, profiles: list[Profile], seed: int, workers: int
) -> tuple[list[_Task], list[list[tuple[int, int]]]]:
    """Cut the blocks of every profile into tasks; also where each profile's pieces land."""
    n_blocks = math.ceil(context.num_episodes / context.block_size)
    total = n_blocks * len(profiles)
    lo, hi = (
        (_MIN_LOOP_BLOCKS, _MAX_LOOP_BLOCKS)
        if context.kind == "loop"
        else (_MIN_KERNEL_BLOCKS, _MAX_KERNEL_BLOCKS)
    )
    per_task = min(max(math.ceil(total / (4 * max(1, workers))), lo), hi)
    tasks: list[_Task] = []
    pieces: list[list[tuple[int, int]]] = [[] for _ in profiles]  # (task index, item index)
    items: list[tuple[Profile, int, int, int]] = []
    room = per_task
    for index, profile in enumerate(profiles):
        key = _profile_key(seed, profile)
        block = 0
        while block < n_blocks:
            take = min(room, n_blocks - block)
            pieces[index].append((len(tasks), len(items)))
            items.append((profile, key, block, take))
            block += take
            room -= take
            if room == 0:
                tasks.append(_Task(context, tuple(items)))
                items, room = [], per_task
    if items:
        tasks.append(_Task(context, tuple(items)))
    return tasks, pieces


# ---------------------------------------------------------------------------------------------
# The tournament
# ---------------------------------------------------------------------------------------------


def _payoff_range(kind: str, game: Any) -> NDArray[np.float64] | None:
    if kind == "compiled":
        u = as_compiled(game).terminal_utility
        return np.stack([u.min(axis=0), u.max(axis=0)], axis=1)
    if kind == "normal":
        flat = game.payoffs.reshape(game.num_players, -1)
        return np.stack([flat.min(axis=1), flat.max(axis=1)], axis=1)
    if kind == "markov":
        r = game.reward_flat.reshape(game.num_players, -1)
        gamma, horizon = float(game.discount), game.default_horizon
        steps = horizon if gamma == 1.0 else (1.0 - gamma**horizon) / (1.0 - gamma)
        return np.stack(
            [np.minimum(r.min(axis=1), 0.0) * steps, np.maximum(r.max(axis=1), 0.0) * steps], axis=1
        )
    return None


def _check_previous(previous: MetaGame, sizes: tuple[int, ...], names: tuple[tuple[str, ...], ...]) -> None:
    if not isinstance(previous, MetaGame):
        raise TypeError(f"previous must be a MetaGame, got {type(previous).__name__}")
    if previous.num_players != len(sizes) or any(a > b for a, b in zip(previous.sizes, sizes, strict=True)):
        raise ValueError(
            f"previous meta-game has sizes {previous.sizes}; it must cover a prefix of the population {sizes}"
        )
    for p, seat in enumerate(previous.names):
        if tuple(seat) != tuple(names[p][: len(seat)]):
            raise ValueError(
                f"previous meta-game's names of player {p} {list(seat)} differ from the population's "
                f"first members {list(names[p][: len(seat)])}"
            )


def _picklable(obj: Any) -> str | None:
    try:
        pickle.dumps(obj)
    except Exception as exc:  # PicklingError, TypeError, AttributeError from local objects
        return f"{type(exc).__name__}: {exc}"
    return None


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
            :class:`~gamesolve.markov.SampledMarkovGame` (e.g. a wrapped PettingZoo env).
        policies_or_population: A :class:`~gamesolve.population.Population`; a list or
            ``{name: policy}`` mapping (a symmetric population: the same agents in every seat);
            or one list of policies per seat. A list of number lists is read as a symmetric list
            of probability vectors, so give per-seat normal-form strategies as a ``Population``.
            Members: on compiled games a :class:`~gamesolve.policy.TabularPolicy` or its ``[I,
            A]`` array (only the seat's rows are read), or an object whose ``tabulate(game)`` (or
            ``tabulate()``) returns one; on normal-form games a probability vector ``[A_p]`` or a
            pure strategy index; on tabular Markov games a stationary strategy ``[S, A_p]`` or an
            ``ActingPolicy`` (sampled only); on sampled games an ``ActingPolicy`` or a callable
            ``(player, observation, legal, rng) -> action``.
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
    kind = _kind_of(game)
    episodes = None if episodes is None else check_int("episodes", episodes, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    max_steps = None if max_steps is None else check_int("max_steps", max_steps, minimum=1)
    exact = None if exact is None else check_bool("exact", exact)
    progress = None if progress is None else check_bool("progress", progress)
    check_executor(executor, workers=workers, address=address)
    compiled = as_compiled(game) if kind == "compiled" else None
    spec = compiled.spec if compiled is not None else game.spec
    n_players = int(spec.num_players)
    population = _as_population(policies_or_population, n_players)
    if population.num_players != n_players:
        raise InvalidPolicyError(
            f"the population has {population.num_players} seat(s) but {spec.name} has {n_players} players"
        )
    members: list[list[Any]] = []
    for p, seat in enumerate(population.members):
        prepared = []
        for k, member in enumerate(seat):
            if kind == "compiled":
                assert compiled is not None
                prepared.append(_compiled_member(compiled, member, p, k))
            elif kind == "normal":
                prepared.append(_normal_member(game, member, p, k))
            elif kind == "markov":
                prepared.append(_markov_member(game, member, p, k))
            else:
                prepared.append(_sampled_member(member, p, k))
        members.append(prepared)
    tabular = kind in ("compiled", "normal") or (
        kind == "markov" and all(isinstance(m, np.ndarray) for seat in members for m in seat)
    )
    if exact is None:
        exact = episodes is None
    if exact:
        if episodes is not None:
            raise ValueError("exact=True evaluates expected values; do not pass episodes")
        if not tabular:
            raise ValueError(
                "this game or population can only be sampled (acting policies or a game without a "
                "tabular form): pass episodes=N"
            )
    elif episodes is None:
        raise ValueError("a sampled tournament needs episodes=N (matches per profile)")
    sizes = population.sizes
    if previous is not None:
        _check_previous(previous, sizes, population.names)
    payoffs = np.zeros((n_players, *sizes))
    stderr = np.zeros((n_players, *sizes))
    counts = np.zeros(sizes, dtype=np.int64)
    if exact:
        if kind == "compiled":
            assert compiled is not None
            payoffs[...] = _exact_compiled(compiled, members)
        elif kind == "normal":
            payoffs[...] = _exact_normal(game, members)
        else:
            payoffs[...] = _exact_markov(game, members)
        new_profiles: list[Profile] = []
    else:
        assert episodes is not None
        new_profiles = [
            profile
            for profile in itertools.product(*(range(k) for k in sizes))
            if previous is None or any(k >= n for k, n in zip(profile, previous.sizes, strict=True))
        ]
    if previous is not None:
        index = (slice(None), *(slice(0, k) for k in previous.sizes))
        payoffs[index] = previous.payoffs
        stderr[index] = previous.stderr
        counts[index[1:]] = previous.counts
    if new_profiles:
        assert episodes is not None
        _sample(
            kind, game, compiled, members, new_profiles, int(episodes), int(seed), executor, workers, address,
            max_steps, progress, payoffs, stderr, counts,
        )  # fmt: skip
    return MetaGame(
        payoffs=payoffs,
        stderr=stderr,
        counts=counts,
        names=population.names,
        exact=bool(exact) and (previous is None or previous.exact),
        symmetric=population.is_symmetric,
        payoff_range=_payoff_range(kind, game),
    )


def _contexts(
    kind: str,
    game: Any,
    compiled: CompiledGame | None,
    members: list[list[Any]],
    episodes: int,
    max_steps: int | None,
) -> tuple[_Context, _Context | None]:
    """The kernel context (tabular members) and the Python-loop context (acting policies)."""
    frozen = tuple(tuple(seat) for seat in members)
    if kind == "compiled":
        assert compiled is not None
        node_terminal = np.full(compiled.num_nodes, -1, dtype=np.int32)
        node_terminal[compiled.terminal_node] = np.arange(compiled.num_terminals, dtype=np.int32)
        arrays: dict[str, NDArray[Any]] = {
            "node_player": compiled.node_player,
            "node_infoset": compiled.node_infoset,
            "node_first_child": compiled.node_first_child,
            "node_num_children": compiled.node_num_children,
            "node_prob": compiled.node_prob,
            "node_terminal": node_terminal,
            "terminal_utility": compiled.terminal_utility,
        }
        for p in range(compiled.num_players):
            arrays[f"rows{p}"] = compiled.infosets_of(p)
        stacks = tuple(tuple(np.ascontiguousarray(m) for m in seat) for seat in members)
        return _Context("compiled", arrays, stacks, episodes, BLOCK_SIZE), None
    if kind == "normal":
        arrays = {
            "payoffs": np.ascontiguousarray(game.payoffs.reshape(game.num_players, -1)),
            "num_actions": np.asarray(game.num_actions, dtype=np.int64),
        }
        return _Context("normal", arrays, frozen, episodes, BLOCK_SIZE), None
    loop = _Context("loop", {}, frozen, episodes, LOOP_BLOCK_SIZE, game=game, max_steps=max_steps)
    if kind == "markov":
        matrix = game.transition_matrix
        arrays = {
            "indptr": np.asarray(matrix.indptr, dtype=np.int64),
            "indices": np.asarray(matrix.indices, dtype=np.int64),
            "data": np.asarray(matrix.data, dtype=np.float64),
            "reward": np.ascontiguousarray(
                game.reward_flat.reshape(game.num_players, game.num_states, -1), dtype=np.float64
            ),
            "terminal": np.asarray(game.terminal, dtype=np.bool_),
            "initial": np.asarray(game.initial, dtype=np.float64),
            "discount": np.asarray(float(game.discount)),
            "max_steps": np.asarray(int(max_steps if max_steps is not None else game.default_horizon)),
            "num_actions": np.asarray(game.num_actions, dtype=np.int64),
        }
        return _Context("markov", arrays, frozen, episodes, BLOCK_SIZE), loop
    return loop, loop


def _sample(
    kind: str,
    game: Any,
    compiled: CompiledGame | None,
    members: list[list[Any]],
    profiles: list[Profile],
    episodes: int,
    seed: int,
    executor: str | Executor,
    workers: int | None,
    address: str | None,
    max_steps: int | None,
    progress: bool | None,
    payoffs: NDArray[np.float64],
    stderr: NDArray[np.float64],
    counts: NDArray[np.int64],
) -> None:
    """Play ``episodes`` matches of every profile in ``profiles`` and write the entries."""
    kernel_ctx, loop_ctx = _contexts(kind, game, compiled, members, episodes, max_steps)
    groups: list[tuple[_Context, list[Profile]]] = []
    if kind == "markov":
        by_kernel = [
            pr for pr in profiles if all(isinstance(members[p][k], np.ndarray) for p, k in enumerate(pr))
        ]
        kernel_set = set(by_kernel)
        groups = [
            (kernel_ctx, by_kernel),
            (loop_ctx or kernel_ctx, [pr for pr in profiles if pr not in kernel_set]),
        ]
    else:
        groups = [(kernel_ctx, profiles)]
    own = isinstance(executor, str)
    n_workers = workers
    if n_workers is None:
        n_workers = getattr(executor, "workers", None) if not own else None
    if n_workers is None:
        from gamesolve.executors import _available_cpus

        n_workers = _available_cpus()
    plans = []
    for ctx, group in groups:
        if group:
            tasks, pieces = _plan_tasks(ctx, group, seed, n_workers)
            plans.append((ctx, group, tasks, pieces))
    all_tasks = [t for _, _, tasks, _ in plans for t in tasks]
    runner: Executor
    if isinstance(executor, str):
        name = executor.strip().lower()
        runner = InProcessExecutor()
        if name != "local":
            runner = make_executor(name, workers=workers, address=address)
        elif len(all_tasks) > 1 and _estimated_seconds(plans, compiled, episodes) >= _POOL_MIN_SECONDS:
            # process pools pickle with the standard pickler (Ray uses cloudpickle and reports its own)
            used = [ctx for ctx, _, _, _ in plans if ctx.kind == "loop"]
            problem = _picklable(used[0]) if used else None
            if problem is None:
                runner = make_executor(name, workers=workers, address=address)
            else:
                log.warning(
                    "running the tournament in process: the game or a policy cannot be pickled (%s)", problem
                )
    else:
        runner = executor
    bar = _progress_bar(progress, episodes * len(profiles))
    results: list[list[tuple[NDArray[np.float64], NDArray[np.float64]]]] = []
    try:
        imap = getattr(runner, "imap", None)
        stream = imap(_run_task, all_tasks) if callable(imap) else iter(runner.map(_run_task, all_tasks))
        for task, result in zip(all_tasks, stream, strict=True):
            results.append(result)
            if bar is not None:
                bar.update(sum(_episodes_in(item, task.context) for item in task.items))
    finally:
        if bar is not None:
            bar.close()
        if own:
            runner.close()
    offset = 0
    for ctx, group, tasks, pieces in plans:
        chunk = results[offset : offset + len(tasks)]
        offset += len(tasks)
        for profile, where in zip(group, pieces, strict=True):
            blocks = [chunk[t][i] for t, i in where]
            mean, err = _merge_blocks(blocks, episodes, ctx.block_size)
            payoffs[_entry(profile)] = mean
            stderr[_entry(profile)] = err
            counts[profile] = episodes


def _estimated_seconds(plans: list[Any], compiled: CompiledGame | None, episodes: int) -> float:
    """A rough single-core time for the planned matches (to skip pools for small jobs)."""
    total = 0.0
    for ctx, group, _, _ in plans:
        n = episodes * len(group)
        if ctx.kind == "loop":
            total += n * _LOOP_EPISODE_SECONDS
        elif ctx.kind == "compiled":
            from gamesolve.kernels.mccfr import max_depth

            assert compiled is not None
            total += n * max(1, int(max_depth(compiled.node_parent))) * _KERNEL_STEP_SECONDS
        elif ctx.kind == "markov":
            total += n * int(ctx.arrays["max_steps"]) * _KERNEL_STEP_SECONDS
        else:
            total += n * _KERNEL_STEP_SECONDS
    return total


def _episodes_in(item: tuple[Profile, int, int, int], ctx: _Context) -> int:
    _, _, first, n_blocks = item
    start = first * ctx.block_size
    return max(0, min((first + n_blocks) * ctx.block_size, ctx.num_episodes) - start)


def _progress_bar(enabled: bool | None, total: int) -> Any:
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(
        total=total, desc="tournament", unit="ep", unit_scale=True, dynamic_ncols=True, file=sys.stderr
    )
