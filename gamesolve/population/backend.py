"""The population backend: meta-game entries for a population of policies on a game.

:func:`meta_game_entries` fills a :class:`~gamesolve.population.MetaGame`: every player's payoff
for every profile of members (one member per seat). Where the game has a tabular form the entries
are exact expected values: realization plans turned into every member's reach of every terminal
on compiled games (von Stengel 1996, "Efficient computation of behavior strategies"), the payoff
tensor contracted with the members on normal-form games, policy evaluation on tabular Markov
games. Otherwise (acting members, or games that can only be sampled) entries are means of seeded
episodes with standard errors, played by :mod:`gamesolve.population.sampler`. Given a
``previous`` meta-game over a prefix of the population, only the new entries are computed.

Tournaments (:func:`gamesolve.tournament.tournament`), PSRO and NeuPL all get their meta-games
here; members are converted in one place (:func:`gamesolve.population.members.prepare_members`).
"""

from __future__ import annotations

import itertools
import logging
import math
import pickle
import weakref
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.compiled import CompiledGame, as_compiled
from gamesolve.errors import GameTooLargeError, InvalidPolicyError, MalformedGameError, UnsupportedGame
from gamesolve.executors import Executor, InProcessExecutor, available_cpus, check_executor, make_executor
from gamesolve.kernels.evaluation import forward_reach
from gamesolve.normal_form import TensorGame
from gamesolve.population.members import InfosetTableActor, Population, acts_on_states, prepare_members
from gamesolve.population.meta_game import MetaGame
from gamesolve.population.sampler import (
    CompiledEpisodes,
    MatchContext,
    MatchTask,
    StateEpisodes,
    merge_blocks,
    profile_key,
    run_task,
)
from gamesolve.progress import progress_bar
from gamesolve.protocols import ExtensiveFormGame
from gamesolve.sequence_form import behavior_to_plans, payoff_matrices
from gamesolve.validation import check_bool, check_int

__all__ = [
    "BLOCK_SIZE",
    "LOOP_BLOCK_SIZE",
    "chance_at_terminals",
    "fill_new_entries",
    "game_kind",
    "meta_game_entries",
    "resolve_game",
    "terminal_reach",
    "uses_states",
]

log = logging.getLogger(__name__)

#: Episodes per block in the numba kernels (part of the reproducibility contract).
BLOCK_SIZE = 1024
#: Episodes per block in the Python ``ActingPolicy`` loop.
LOOP_BLOCK_SIZE = 32

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
# Game kinds
# ---------------------------------------------------------------------------------------------


def game_kind(game: Any) -> str:
    """``"normal"``, ``"markov"`` (tabular), ``"compiled"`` (compiled or compilable) or ``"sampled"``.

    Raises:
        UnsupportedGame: None of these.
    """
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
        f"a meta-game needs a compiled/extensive-form, normal-form or Markov game, got {type(game).__name__}"
    )


def resolve_game(game: Any) -> tuple[str, CompiledGame | None, Any]:
    """The backend's view of ``game``: its kind, its compiled arrays, and what episodes step.

    An extensive-form game that does not compile (too large, or refused by its own compiler) is
    played through its states (:class:`~gamesolve.population.sampler.StateEpisodes`): its kind is
    then ``"sampled"`` and only acting members can play it. :func:`meta_game_entries` plays a game
    that compiles through its states too when a member acts on states (:func:`uses_states`).

    Raises:
        UnsupportedGame: Not a game the backend can play.
    """
    kind = game_kind(game)
    if kind != "compiled":
        return kind, None, game
    try:
        return kind, as_compiled(game), game
    except (GameTooLargeError, UnsupportedGame, MalformedGameError) as exc:
        if isinstance(game, CompiledGame) or not isinstance(game, ExtensiveFormGame):
            raise
        log.info("%s does not compile (%s); its matches step the game's states", game.spec.name, exc)
        return "sampled", None, StateEpisodes(game)


def uses_states(population: Population) -> bool:
    """Whether a member of ``population`` acts on game states (then matches step the game's states)."""
    return any(acts_on_states(m) for seat in population.members for m in seat)


def _has_states(game: Any) -> bool:
    return not isinstance(game, CompiledGame) and isinstance(game, ExtensiveFormGame)


# ---------------------------------------------------------------------------------------------
# Exact entries
# ---------------------------------------------------------------------------------------------

_CHANCE_AT_TERMINALS: weakref.WeakKeyDictionary[CompiledGame, NDArray[np.float64]] = (
    weakref.WeakKeyDictionary()
)


def chance_at_terminals(game: CompiledGame) -> NDArray[np.float64]:
    """``[T]`` chance reach of every terminal (cached per compiled game, read-only)."""
    cached = _CHANCE_AT_TERMINALS.get(game)
    if cached is None:
        reach = np.empty((game.num_nodes, game.num_players + 1))
        forward_reach(game.tree, np.ascontiguousarray(game.legal_mask, dtype=np.float64), reach)
        cached = np.ascontiguousarray(reach[game.terminal_node, game.num_players])
        cached.setflags(write=False)
        _CHANCE_AT_TERMINALS[game] = cached
    return cached


def terminal_reach(
    game: CompiledGame, members: Sequence[NDArray[np.float64]], player: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Tables -> plans -> reach for ``K`` tables of ``player``.

    Returns the realization plans ``[K, S_p]`` and each table's own reach of every terminal
    ``[K, T]``.
    """
    plans = _plans(game, members, player)
    return plans, np.ascontiguousarray(plans[:, game.terminal_seq[:, player]])


def _plans(game: CompiledGame, members: Sequence[NDArray[np.float64]], player: int) -> NDArray[np.float64]:
    """``[K, S_p]``: every table's realization plan of ``player``."""
    start = int(game.sequence_offset[player])
    stop = start + int(game.num_sequences[player])
    return np.stack([behavior_to_plans(game, m)[start:stop] for m in members])


def fill_new_entries(
    previous: NDArray[np.float64] | None,
    sizes: Sequence[int],
    block: Callable[[list[slice]], NDArray[np.float64]],
) -> NDArray[np.float64]:
    """``[P, K_0, ...]``: ``previous`` where it exists, new entries from ``block(slices)``.

    The new profiles (some member index beyond ``previous``) are cut into one block per player
    ``p``: ``k_p`` new, ``k_q`` old for ``q < p`` and any for ``q > p``.
    """
    n = len(sizes)
    out = np.zeros((n, *sizes))
    old = [0] * n if previous is None else list(previous.shape[1:])
    if previous is not None:
        out[(slice(None), *(slice(0, k) for k in old))] = previous
    for p in range(n):
        if old[p] == sizes[p]:
            continue
        slices = [slice(0, old[q]) if q < p else slice(0, sizes[q]) for q in range(n)]
        slices[p] = slice(old[p], sizes[p])
        if any(sl.stop == sl.start for sl in slices):
            continue
        out[(slice(None), *slices)] = block(slices)
    return out


def _exact_compiled(
    game: CompiledGame, members: list[list[NDArray[np.float64]]], previous: NDArray[np.float64] | None
) -> NDArray[np.float64]:
    """``sum_z c(z) u_q(z) prod_p x_{k_p}(z)`` for the new profiles.

    Two players: ``X_0 A_q X_1^T`` with the members' realization plans ``X_p [K_p, S_p]`` and the
    sparse sequence-form payoff matrices ``A_q`` (built once per game), never a ``[K, T]`` array.
    """
    n_players = game.num_players
    if n_players == 2:
        matrices = payoff_matrices(game)
        plans = [_plans(game, members[p], p) for p in range(2)]

        def pair_block(slices: Sequence[slice]) -> NDArray[np.float64]:
            right = [np.asarray(a @ plans[1][slices[1]].T) for a in matrices]  # [S_0, k_1]
            return np.stack([plans[0][slices[0]] @ r for r in right])

        return fill_new_entries(previous, [len(m) for m in members], pair_block)
    weighted = chance_at_terminals(game)[:, None] * game.terminal_utility  # [T, P]
    reach = [terminal_reach(game, members[p], p)[1] for p in range(n_players)]
    letters = "abcdefghijklmnopqrstuvwxy"[:n_players]
    terms = ",".join(f"{c}z" for c in letters)

    def block(slices: Sequence[slice]) -> NDArray[np.float64]:
        parts = [r[s] for r, s in zip(reach, slices, strict=True)]
        if n_players == 2:
            return np.stack([(parts[0] * weighted[:, q]) @ parts[1].T for q in range(2)])
        return np.einsum(f"zq,{terms}->q{letters}", weighted, *parts, optimize=True)

    return fill_new_entries(previous, [len(m) for m in members], block)


def _exact_normal(
    game: TensorGame, members: list[list[NDArray[np.float64]]], previous: NDArray[np.float64] | None
) -> NDArray[np.float64]:
    """The payoff tensor contracted with the members, for the new profiles."""
    n_players = game.num_players
    stacks = [np.stack(m) for m in members]  # [K_p, A_p]
    letters = "abcdefghijklm"[:n_players]
    upper = letters.upper()
    terms = ",".join(f"{k}{a}" for k, a in zip(upper, letters, strict=True))

    def block(slices: Sequence[slice]) -> NDArray[np.float64]:
        parts = [m[s] for m, s in zip(stacks, slices, strict=True)]
        if n_players == 2:
            return np.stack([parts[0] @ game.payoffs[q] @ parts[1].T for q in range(2)])
        return np.einsum(f"q{letters},{terms}->q{upper}", game.payoffs, *parts, optimize=True)

    return fill_new_entries(previous, [len(m) for m in members], block)


def _exact_markov(
    game: Any, members: list[list[Any]], previous: NDArray[np.float64] | None
) -> NDArray[np.float64]:
    """Policy evaluation of every new profile, weighted by the initial distribution."""
    from gamesolve.markov import MarkovProfile, policy_values

    def block(slices: Sequence[slice]) -> NDArray[np.float64]:
        ranges = [range(s.start, s.stop) for s in slices]
        out = np.empty((game.num_players, *(len(r) for r in ranges)))
        for profile in itertools.product(*ranges):
            strategies = [members[p][k] for p, k in enumerate(profile)]
            values = policy_values(game, MarkovProfile.of(game, strategies))  # [P, S]
            local = tuple(k - s.start for k, s in zip(profile, slices, strict=True))
            out[(slice(None), *local)] = values @ game.initial
        return out

    return fill_new_entries(previous, [len(m) for m in members], block)


# ---------------------------------------------------------------------------------------------
# Sampled entries
# ---------------------------------------------------------------------------------------------


def _plan_tasks(
    context: MatchContext, profiles: list[Profile], seed: int, workers: int
) -> tuple[list[MatchTask], list[list[tuple[int, int]]]]:
    """Cut the blocks of every profile into tasks; also where each profile's pieces land."""
    n_blocks = math.ceil(context.num_episodes / context.block_size)
    total = n_blocks * len(profiles)
    lo, hi = (
        (_MIN_LOOP_BLOCKS, _MAX_LOOP_BLOCKS)
        if context.kind == "loop"
        else (_MIN_KERNEL_BLOCKS, _MAX_KERNEL_BLOCKS)
    )
    per_task = min(max(math.ceil(total / (4 * max(1, workers))), lo), hi)
    tasks: list[MatchTask] = []
    pieces: list[list[tuple[int, int]]] = [[] for _ in profiles]  # (task index, item index)
    items: list[tuple[Profile, int, int, int]] = []
    room = per_task
    for index, profile in enumerate(profiles):
        key = profile_key(seed, profile)
        block = 0
        while block < n_blocks:
            take = min(room, n_blocks - block)
            pieces[index].append((len(tasks), len(items)))
            items.append((profile, key, block, take))
            block += take
            room -= take
            if room == 0:
                tasks.append(MatchTask(context, tuple(items)))
                items, room = [], per_task
    if items:
        tasks.append(MatchTask(context, tuple(items)))
    return tasks, pieces


def _contexts(
    kind: str,
    game: Any,
    compiled: CompiledGame | None,
    members: list[list[Any]],
    episodes: int,
    max_steps: int | None,
) -> tuple[MatchContext, MatchContext | None]:
    """The kernel context (tabular members) and the Python-loop context (acting policies)."""
    frozen = tuple(tuple(seat) for seat in members)
    if kind == "compiled":
        assert compiled is not None
        node_terminal = np.full(compiled.num_nodes, -1, dtype=np.int32)
        node_terminal[compiled.terminal_node] = np.arange(compiled.num_terminals, dtype=np.int32)
        arrays: dict[str, NDArray[Any]] = {"node_terminal": node_terminal}
        for p in range(compiled.num_players):
            arrays[f"rows{p}"] = compiled.infosets_of(p)
        # the kernel plays profiles of tables only; acting members join the loop's profiles
        stacks = tuple(
            tuple(np.ascontiguousarray(m) if isinstance(m, np.ndarray) else None for m in seat)
            for seat in members
        )
        loop = MatchContext(
            "loop",
            {},
            frozen,
            episodes,
            LOOP_BLOCK_SIZE,
            game=CompiledEpisodes(compiled),
            max_steps=max_steps,
        )
        return MatchContext("compiled", arrays, stacks, episodes, BLOCK_SIZE, tree=compiled.tree), loop
    if kind == "normal":
        arrays = {
            "payoffs": np.ascontiguousarray(game.payoffs.reshape(game.num_players, -1)),
            "num_actions": np.asarray(game.num_actions, dtype=np.int64),
        }
        return MatchContext("normal", arrays, frozen, episodes, BLOCK_SIZE), None
    loop = MatchContext("loop", {}, frozen, episodes, LOOP_BLOCK_SIZE, game=game, max_steps=max_steps)
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
        return MatchContext("markov", arrays, frozen, episodes, BLOCK_SIZE), loop
    return loop, loop


def _picklable(obj: Any) -> str | None:
    try:
        pickle.dumps(obj)
    except Exception as exc:  # PicklingError, TypeError, AttributeError from local objects
        return f"{type(exc).__name__}: {exc}"
    return None


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
    groups: list[tuple[MatchContext, list[Profile]]] = []
    if kind in ("compiled", "markov"):
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
        n_workers = available_cpus()
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
                    "running the matches in process: the game or a policy cannot be pickled (%s)", problem
                )
    else:
        runner = executor
    total = episodes * len(profiles)
    bar = progress_bar(progress, desc="tournament", unit="ep", total=total, unit_scale=True)
    results: list[list[tuple[NDArray[np.float64], NDArray[np.float64]]]] = []
    try:
        imap = getattr(runner, "imap", None)
        stream = imap(run_task, all_tasks) if callable(imap) else iter(runner.map(run_task, all_tasks))
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
            mean, err = merge_blocks(blocks, episodes, ctx.block_size)
            entry: tuple[Any, ...] = (slice(None), *profile)
            payoffs[entry] = mean
            stderr[entry] = err
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


def _episodes_in(item: tuple[Profile, int, int, int], ctx: MatchContext) -> int:
    _, _, first, n_blocks = item
    start = first * ctx.block_size
    return max(0, min((first + n_blocks) * ctx.block_size, ctx.num_episodes) - start)


# ---------------------------------------------------------------------------------------------
# The entry point
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


def meta_game_entries(
    game: Any,
    population: Population,
    *,
    episodes: int | None = None,
    seed: int = 0,
    previous: MetaGame | None = None,
    profiles: Sequence[Profile] | None = None,
    executor: str | Executor = "local",
    exact: bool | None = None,
    workers: int | None = None,
    address: str | None = None,
    max_steps: int | None = None,
    progress: bool | None = None,
) -> MetaGame:
    """The meta-game of ``population`` on ``game``; only the entries not in ``previous`` are computed.

    Args:
        game: A compiled or compilable extensive-form game, a normal-form
            :class:`~gamesolve.normal_form.TensorGame`, a tabular Markov game, or any game with
            ``new_episode`` (e.g. a wrapped PettingZoo environment).
        population: The members (see :func:`gamesolve.population.members.prepare_members` for
            what a member may be on each kind of game). Profiles of tables play in the numba match
            kernels; profiles with an acting member play the Python loop (on compiled games the
            member sees the one-hot of its infoset). When a member acts on game states (a search
            bot, :class:`~gamesolve.population.StateActingPolicy`), every match steps the game's
            states, where acting members see information-state tensors and tables cannot play.
        episodes: Matches per profile for sampled entries (``None``: exact when possible).
        seed: Base seed (a non-negative integer); same seed, same meta-game. Episode ``e`` of a
            profile draws from a key of ``(seed, profile)`` and ``e``, so entries do not depend on
            which other profiles are played, on the executor or on the chunking.
        previous: A meta-game over a prefix of the population (the first members of every seat);
            its entries are kept and only the new profiles are evaluated.
        profiles: Sampled entries only: the profiles to play (default: every profile not in
            ``previous``); other new entries stay 0 with count 0.
        executor: ``"local"`` (worker processes, default; small jobs run in process),
            ``"inprocess"``, ``"ray"``, or an executor object (not closed afterwards). Exact
            entries are always computed in process.
        exact: Force exact evaluation (``True``) or sampling (``False``); default: exact when the
            game and members allow it and ``episodes`` is ``None``.
        workers: Processes of the ``"local"`` executor (default: available CPUs).
        address: Ray cluster address for ``executor="ray"``.
        max_steps: Episode step cap for sampled Markov games (default: the game's own).
        progress: Show a tqdm bar on stderr for sampled entries (default: when stderr is a
            terminal).

    Raises:
        InvalidPolicyError: A member does not fit the game.
        InvalidArgumentError: An argument out of range or an unknown executor.
        ValueError: Contradictory ``exact``/``episodes``, or a ``previous`` meta-game that is not
            a prefix of this population.
        UnsupportedGame: Not a game the backend can play.
    """
    episodes = None if episodes is None else check_int("episodes", episodes, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    max_steps = None if max_steps is None else check_int("max_steps", max_steps, minimum=1)
    exact = None if exact is None else check_bool("exact", exact)
    progress = None if progress is None else check_bool("progress", progress)
    check_executor(executor, workers=workers, address=address)
    kind, compiled, game = resolve_game(game)
    on_states = kind == "compiled" and uses_states(population) and _has_states(game)
    spec = compiled.spec if compiled is not None else game.spec
    n_players = int(spec.num_players)
    if population.num_players != n_players:
        raise InvalidPolicyError(
            f"the population has {population.num_players} seat(s) but {spec.name} has {n_players} players"
        )
    if exact is None:
        exact = episodes is None
    members: list[list[Any]]
    if on_states:
        if exact:
            raise ValueError(
                "a member acts on game states (a search bot), so only sampled matches: pass episodes=N"
            )
        assert compiled is not None
        # a search bot reads states: every match steps them, tables look up the state's infoset
        log.info("a member acts on game states; the matches of %s step its states", spec.name)
        members = [
            [InfosetTableActor(compiled, m) if isinstance(m, np.ndarray) else m for m in seat]
            for seat in prepare_members(kind, compiled, population, acting=True)
        ]
        kind, compiled, game = "sampled", None, StateEpisodes(game)
    else:
        # acting members of compiled games play sampled matches; exact evaluation needs tables
        target = compiled if compiled is not None else game
        members = prepare_members(kind, target, population, acting=not exact)
    tabular = kind == "normal" or (
        kind in ("compiled", "markov") and all(isinstance(m, np.ndarray) for seat in members for m in seat)
    )
    if exact:
        if episodes is not None:
            raise ValueError("exact=True evaluates expected values; do not pass episodes")
        if not tabular:
            raise ValueError(
                "this game or population can only be sampled (acting policies or a game without a "
                "tabular form): pass episodes=N"
            )
    elif episodes is None:
        raise ValueError("a sampled meta-game needs episodes=N (matches per profile)")
    sizes = population.sizes
    if previous is not None:
        _check_previous(previous, sizes, population.names)
    old = None if previous is None else np.asarray(previous.payoffs)
    stderr = np.zeros((n_players, *sizes))
    counts = np.zeros(sizes, dtype=np.int64)
    if previous is not None:
        index = (slice(None), *(slice(0, k) for k in previous.sizes))
        stderr[index] = previous.stderr
        counts[index[1:]] = previous.counts
    if exact:
        if kind == "compiled":
            assert compiled is not None
            payoffs = _exact_compiled(compiled, members, old)
        elif kind == "normal":
            payoffs = _exact_normal(game, members, old)
        else:
            payoffs = _exact_markov(game, members, old)
    else:
        assert episodes is not None
        payoffs = fill_new_entries(
            old, sizes, lambda s: np.zeros((n_players, *(x.stop - x.start for x in s)))
        )
        if profiles is None:
            new_profiles = [
                profile
                for profile in itertools.product(*(range(k) for k in sizes))
                if previous is None or any(k >= n for k, n in zip(profile, previous.sizes, strict=True))
            ]
        else:
            new_profiles = [tuple(int(k) for k in pr) for pr in profiles]
        if new_profiles:
            _sample(
                kind, game, compiled, members, new_profiles, int(episodes), int(seed), executor, workers,
                address, max_steps, progress, payoffs, stderr, counts,
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
