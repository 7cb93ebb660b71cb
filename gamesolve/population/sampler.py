"""The seeded episode sampler: every match the population backend, the RL environment and NeuPL play.

Two entry points share one rule for chance and actions (inverse CDF over a row, zero-probability
entries never chosen):

* :func:`run_task` plays blocks of seeded episodes of one profile for the backend's sampled
  meta-game entries: numba kernels (:mod:`gamesolve.kernels.matches`) for tabular members on
  compiled, normal-form and tabular Markov games, where every draw is a counter-based hash of
  ``(profile key, episode, node)`` so the result does not depend on how blocks are split; the
  Python ``ActingPolicy`` loop for acting members and games that can only be sampled, with episode
  ``e`` drawing chance and actions from one generator seeded by ``(profile key, e)``.
* :class:`TreeSampler` moves a batch of episodes of a compiled game through chance and decision
  nodes with uniforms the caller draws from its generator: :class:`gamesolve.rl_env.ResponseEnv`
  (one learner against fixed opponents) and NeuPL's matches play through it.

Block statistics are merged in block order with the pairwise formula of Chan, Golub & LeVeque
(1979, "Updating formulae and a pairwise algorithm for computing sample variances").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.compiled import CHANCE_NODE, TERMINAL_NODE, CompiledGame
from gamesolve.errors import InvalidPolicyError
from gamesolve.kernels.matches import (
    compiled_match_blocks,
    fold_blocks_py,
    markov_match_blocks,
    normal_form_match_blocks,
)
from gamesolve.kernels.mccfr import pick_py
from gamesolve.kernels.tree import TreeArrays
from gamesolve.population.members import acts_on_states
from gamesolve.protocols import ExtensiveFormGame, State, TensorState

__all__ = [
    "CompiledEpisodes",
    "MatchContext",
    "MatchTask",
    "StateEpisodes",
    "TreeSampler",
    "merge_blocks",
    "profile_key",
    "run_task",
]

Profile = tuple[int, ...]


@dataclass(frozen=True)
class MatchContext:
    """What every task of one meta-game shares: the game (as arrays or object) and the members.

    ``kind`` is ``"compiled"`` (numba kernel over ``tree``), ``"normal"`` or ``"markov"`` (numba
    kernels over ``arrays``) or ``"loop"`` (the ``ActingPolicy`` loop over ``game``).
    """

    kind: str
    arrays: dict[str, NDArray[Any]]
    members: tuple[tuple[Any, ...], ...]
    num_episodes: int
    block_size: int
    game: Any = None
    max_steps: int | None = None
    tree: TreeArrays | None = None


@dataclass(frozen=True)
class MatchTask:
    """Blocks to play: per item ``(profile, key, first block, number of blocks)``."""

    context: MatchContext
    items: tuple[tuple[Profile, int, int, int], ...]


def profile_key(seed: int, profile: Profile) -> int:
    """The 64-bit key of ``profile``'s episodes under ``seed``."""
    return int(np.random.SeedSequence([seed, *profile]).generate_state(1, dtype=np.uint64)[0])


def run_task(task: MatchTask) -> list[tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """Play every item of a task; per item, block means and squared deviations ``[B, P]``."""
    ctx = task.context
    out = []
    for profile, key, first_block, n_blocks in task.items:
        n_players = len(profile)
        mean = np.empty((n_blocks, n_players))
        m2 = np.empty((n_blocks, n_players))
        a = ctx.arrays
        if ctx.kind == "compiled":
            assert ctx.tree is not None
            probs = np.empty_like(ctx.members[0][profile[0]])
            for p, k in enumerate(profile):
                rows = a[f"rows{p}"]
                probs[rows] = ctx.members[p][k][rows]
            compiled_match_blocks(
                ctx.tree, a["node_terminal"], probs, np.uint64(key), first_block, ctx.block_size,
                ctx.num_episodes, mean, m2,
            )  # fmt: skip
        elif ctx.kind == "normal":
            probs = np.zeros((n_players, int(a["num_actions"].max())))
            for p, k in enumerate(profile):
                probs[p, : a["num_actions"][p]] = ctx.members[p][k]
            normal_form_match_blocks(
                a["payoffs"], probs, a["num_actions"], np.uint64(key), first_block, ctx.block_size,
                ctx.num_episodes, mean, m2,
            )  # fmt: skip
        elif ctx.kind == "markov":
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


def _act(member: Any, player: int, k: int, episode: Any, rng: np.random.Generator) -> int:
    legal = episode.legal_actions(player)
    if isinstance(member, np.ndarray):  # a tabular Markov strategy [S, A]
        row = member[episode.state]
        action = int(rng.choice(row.shape[0], p=row))
    elif acts_on_states(member):
        history = getattr(episode, "history", None)
        if history is None:
            raise InvalidPolicyError(
                f"player {player} member {k} acts on game states, which these matches do not expose "
                "(give the extensive-form game itself, not its compiled form)"
            )
        action = int(member.act_state(player, history, legal, rng))
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
                f"player {player} member {k}: act() failed or returned a non-integer: {exc}"
            ) from exc
    if not np.any(legal == action):
        raise InvalidPolicyError(
            f"player {player} member {k} chose action {action}, which is illegal (legal: {legal.tolist()})"
        )
    return action


def _play_loop(
    ctx: MatchContext,
    profile: Profile,
    key: int,
    first_block: int,
    mean: NDArray[np.float64],
    m2: NDArray[np.float64],
) -> None:
    """Blocks of episodes of a sampled game; episode ``e`` draws everything from one seeded generator."""
    game = ctx.game

    def episode(e: int) -> list[float]:
        rng = np.random.default_rng(np.random.SeedSequence(entropy=key, spawn_key=(e,)))
        play = game.new_episode(rng=rng, max_steps=ctx.max_steps)
        while not play.done:
            movers = play.players_to_move
            play.step([_act(ctx.members[p][profile[p]], p, profile[p], play, rng) for p in movers])
        return list(np.asarray(play.returns, dtype=np.float64).tolist())

    fold_blocks_py(episode, first_block, ctx.block_size, ctx.num_episodes, mean, m2)


def merge_blocks(
    blocks: list[tuple[NDArray[np.float64], NDArray[np.float64]]], num_episodes: int, block_size: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Merge block statistics in block order: mean ``[P]`` and its standard error ``[P]``.

    The standard error is NaN for a single episode.
    """
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


# ---------------------------------------------------------------------------------------------
# A compiled game as a game that is only sampled (acting members)
# ---------------------------------------------------------------------------------------------


class CompiledEpisodes:
    """A compiled game seen through ``new_episode``, so acting members can play it.

    A player sees the one-hot encoding of its infoset (the encoding of
    :class:`gamesolve.rl_env.ResponseEnv`, which RL-trained responses act on); its legal actions
    are the infoset's slots. Chance and actions draw from the episode's generator (inverse CDF,
    :func:`gamesolve.kernels.mccfr.pick_py`).
    """

    def __init__(self, game: CompiledGame) -> None:
        self.game = game
        self.spec = game.spec
        local = np.full(game.num_infosets, -1, dtype=np.int64)
        for p in range(game.num_players):
            mine = game.infosets_of(p)
            local[mine] = np.arange(mine.size)
        self.local = local  # [I] index among the owner's infosets
        term = np.full(game.num_nodes, -1, dtype=np.int64)
        term[game.terminal_node] = np.arange(game.num_terminals)
        self.terminal_index = term  # [N]

    def new_episode(self, *, rng: np.random.Generator, max_steps: int | None = None) -> TreeEpisode:
        """An episode from the root (``max_steps`` is ignored: the tree is finite)."""
        del max_steps
        return TreeEpisode(self, rng)


class TreeEpisode:
    """One play of a compiled game (see :class:`CompiledEpisodes`); ``state`` is the infoset to move."""

    def __init__(self, view: CompiledEpisodes, rng: np.random.Generator) -> None:
        self._view = view
        self._game = view.game
        self._rng = rng
        self._node = 0
        self._chance()

    def _chance(self) -> None:
        g = self._game
        while int(g.node_player[self._node]) == CHANCE_NODE:
            first = int(g.node_first_child[self._node])
            m = int(g.node_num_children[self._node])
            self._node = first + pick_py(g.node_prob[first : first + m].tolist(), float(self._rng.random()))

    @property
    def done(self) -> bool:
        """Whether the episode reached a terminal."""
        return int(self._game.node_player[self._node]) == TERMINAL_NODE

    @property
    def players_to_move(self) -> tuple[int, ...]:
        """The one player to move (none once done)."""
        return () if self.done else (int(self._game.node_player[self._node]),)

    @property
    def state(self) -> int:
        """The infoset to move (the row a table member plays)."""
        return int(self._game.node_infoset[self._node])

    def observation(self, player: int) -> NDArray[np.float32]:
        """One-hot of ``player``'s infoset among its own infosets."""
        g = self._game
        out = np.zeros(int(g.infosets_of(player).size), dtype=np.float32)
        out[self._view.local[self.state]] = 1.0
        return out

    def legal_actions(self, player: int) -> NDArray[np.int64]:
        """The infoset's slots ``0 .. m - 1``."""
        del player
        return np.arange(int(self._game.infoset_num_actions[self.state]), dtype=np.int64)

    def step(self, actions: Sequence[int]) -> NDArray[np.float64]:
        """Take the mover's slot; returns the rewards (the terminal utility once done, else 0)."""
        self._node = int(self._game.node_first_child[self._node]) + int(actions[0])
        self._chance()
        return self.returns if self.done else np.zeros(self._game.num_players)

    @property
    def returns(self) -> NDArray[np.float64]:
        """``[P]`` the terminal utility (0 before the end)."""
        if not self.done:
            return np.zeros(self._game.num_players)
        t = int(self._view.terminal_index[self._node])
        return np.asarray(self._game.terminal_utility[t], dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# An extensive-form game too large to compile, played through its states
# ---------------------------------------------------------------------------------------------


class StateEpisodes:
    """An extensive-form game that does not compile, seen through ``new_episode``.

    Episodes step the game's own states (``initial_state``, ``child``), chance outcomes drawn from
    the episode's generator by the same inverse-CDF rule as everywhere else. A player sees its
    information-state tensor where the state offers one (:class:`~gamesolve.protocols.TensorState`:
    OpenSpiel's ``information_state_tensor``, the tensor that batched environments and networks
    use), else an empty observation; its legal actions are the game's action ids. Members that act
    on states (:class:`~gamesolve.population.StateActingPolicy`) read :attr:`StateEpisode.history`.
    """

    def __init__(self, game: ExtensiveFormGame) -> None:
        self.game = game
        self.spec = game.spec

    def new_episode(self, *, rng: np.random.Generator, max_steps: int | None = None) -> StateEpisode:
        """An episode from the root; ``max_steps`` (if given) bounds the number of decisions."""
        return StateEpisode(self.game, rng, max_steps)


class StateEpisode:
    """One play of an extensive-form game through its states (see :class:`StateEpisodes`)."""

    def __init__(self, game: ExtensiveFormGame, rng: np.random.Generator, max_steps: int | None) -> None:
        self._num_players = int(game.spec.num_players)
        self._rng = rng
        self._left = max_steps
        self._state = game.initial_state()
        self._chance()

    def _chance(self) -> None:
        while not self._state.is_terminal() and self._state.current_player() == CHANCE_NODE:
            outcomes = self._state.chance_outcomes()
            pick = pick_py([float(q) for _, q in outcomes], float(self._rng.random()))
            self._state = self._state.child(int(outcomes[pick][0]))

    @property
    def done(self) -> bool:
        """Whether the episode reached a terminal history (or its step limit)."""
        return self._state.is_terminal() or self._left == 0

    @property
    def players_to_move(self) -> tuple[int, ...]:
        """The one player to move (none once done)."""
        return () if self.done else (int(self._state.current_player()),)

    @property
    def state(self) -> int:
        """Not a table row: games played through states have no tabular members."""
        return -1

    @property
    def history(self) -> State:
        """The game's current state (what :class:`~gamesolve.population.StateActingPolicy` members read)."""
        return self._state

    def observation(self, player: int) -> NDArray[np.float32]:
        """``player``'s information-state tensor (empty where the state has none)."""
        if isinstance(self._state, TensorState):
            return np.asarray(self._state.information_state_tensor(player), dtype=np.float32)
        return np.zeros(0, dtype=np.float32)

    def legal_actions(self, player: int) -> NDArray[np.int64]:
        """The legal action ids of the history."""
        del player
        return np.asarray(self._state.legal_actions(), dtype=np.int64)

    def step(self, actions: Sequence[int]) -> NDArray[np.float64]:
        """Play the mover's action id; returns the rewards (the returns once done, else 0)."""
        self._state = self._state.child(int(actions[0]))
        if self._left is not None:
            self._left -= 1
        self._chance()
        return self.returns if self.done else np.zeros(self._num_players)

    @property
    def returns(self) -> NDArray[np.float64]:
        """``[P]`` the returns of a terminal history (0 before the end or when cut by the step limit)."""
        if not self._state.is_terminal():
            return np.zeros(self._num_players)
        return np.asarray(self._state.returns(), dtype=np.float64)


# ---------------------------------------------------------------------------------------------
# Batched episodes on a compiled tree
# ---------------------------------------------------------------------------------------------


def cumulative_tables(game: CompiledGame, probs: NDArray[np.float64]) -> NDArray[np.float64]:
    """``[K, I, A]`` cumulative rows of ``K`` tables, the last legal slot (and padding) pinned to 1."""
    cdf = np.cumsum(probs, axis=2)
    pad = np.arange(game.max_actions)[None, :] >= (game.infoset_num_actions[:, None] - 1)
    cdf[:, pad] = 1.0
    return cdf


class TreeSampler:
    """Chance and action sampling for a batch of episodes of a compiled game.

    :meth:`move` advances episodes one node with one uniform each: at a chance node by the
    chance probabilities, at a decision node by the row of the acting seat's table (given as
    :func:`cumulative_tables`). Callers draw the uniforms from their generator.
    """

    def __init__(self, game: CompiledGame) -> None:
        self.game = game
        chance = np.flatnonzero(game.node_player == CHANCE_NODE)
        width = int(game.node_num_children[chance].max()) if chance.size else 1
        row = np.full(game.num_nodes, -1, dtype=np.int64)
        row[chance] = np.arange(chance.size)
        slots = np.arange(width)
        kids = game.node_first_child[chance][:, None] + np.minimum(
            slots[None, :], game.node_num_children[chance][:, None] - 1
        )
        cp = np.where(slots[None, :] < game.node_num_children[chance][:, None], game.node_prob[kids], 0.0)
        ccdf = np.cumsum(cp, axis=1)
        ccdf[slots[None, :] >= game.node_num_children[chance][:, None] - 1] = 1.0
        self._chance_row = row  # [N]
        self._chance_cdf = ccdf  # [C, W]
        term = np.full(game.num_nodes, -1, dtype=np.int64)
        term[game.terminal_node] = np.arange(game.num_terminals)
        #: ``[N]`` terminal index of terminal nodes, -1 elsewhere.
        self.terminal_index = term
        #: ``[N]`` int64 node owner (``CHANCE_NODE``, ``TERMINAL_NODE`` or a player).
        self.node_player = np.asarray(game.node_player, dtype=np.int64)

    def move(
        self,
        nodes: NDArray[np.int64],
        u: NDArray[np.float64],
        cdf: NDArray[np.float64],
        table: NDArray[np.int64],
    ) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
        """Children of non-terminal ``nodes`` and the slots taken, one uniform ``u`` each.

        ``table[i]`` is the row of ``cdf [K, I, A]`` that plays at decision node ``nodes[i]``
        (ignored at chance nodes).
        """
        g = self.game
        slot = np.empty(nodes.shape[0], dtype=np.int64)
        is_chance = self.node_player[nodes] == CHANCE_NODE
        if is_chance.any():
            rows = self._chance_cdf[self._chance_row[nodes[is_chance]]]
            slot[is_chance] = (rows < u[is_chance, None]).sum(axis=1)
        dec = ~is_chance
        if dec.any():
            rows = cdf[table[dec], g.node_infoset[nodes[dec]]]
            slot[dec] = (rows < u[dec, None]).sum(axis=1)
        return g.node_first_child[nodes] + slot, slot

    def is_terminal(self, nodes: NDArray[np.int64]) -> NDArray[np.bool_]:
        """Which ``nodes`` are terminal."""
        return self.node_player[nodes] == TERMINAL_NODE
