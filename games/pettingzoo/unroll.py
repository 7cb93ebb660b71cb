"""Exact game trees of small PettingZoo environments (:func:`compile_pettingzoo`).

A small AEC environment (Terry et al. 2021, "PettingZoo: Gym for multi-agent reinforcement
learning", NeurIPS) that ``copy.deepcopy`` can copy is expanded into its state graph, merging
states that agree on everything that determines their future, and the graph is unrolled into an
exact extensive-form game (:class:`PettingZooTree`), so ``gamesolve.solve(tree, "cfr+")`` and
``gamesolve.exploitability`` work on it.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeAlias

import numpy as np
from numpy.typing import NDArray
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec

from gamesolve.compiled import TERMINAL_NODE, CompiledGame, build_compiled_game
from gamesolve.errors import MalformedGameError, UnsupportedGame
from gamesolve.games.pettingzoo.api import (
    action_mask,
    discrete_action_counts,
    legal_from_mask,
    reward_vector,
    step_finished_agents,
)
from gamesolve.games.pettingzoo.snapshot import canonical, copy_env, fingerprint, shared_objects
from gamesolve.games.pettingzoo.tree_state import TreeState
from gamesolve.normal_form import classify_utility
from gamesolve.spec import GameKind, GameSpec, Utility

__all__ = ["MergeKey", "PettingZooTree", "compile_pettingzoo"]

log = logging.getLogger(__name__)

#: How :func:`compile_pettingzoo` merges transpositions: ``True``/``"state"``, ``"observations"``,
#: ``False`` (no merging) or a function ``env -> hashable key``.
MergeKey: TypeAlias = bool | str | Callable[[Any], Hashable]


class PettingZooTree:
    """The exact game tree of a PettingZoo AEC environment (from :func:`compile_pettingzoo`).

    An extensive-form game: :func:`gamesolve.as_compiled` returns :attr:`compiled`, and
    :meth:`initial_state` walks it as :class:`TreeState` objects. The tree has no chance nodes: it
    is the game for the environment's generator after ``reset(seed=seed)``.

    Information sets are keyed by the acting agent's own history: the sequence of its observations
    at its own turns and its own actions, e.g. ``"player_1|o0|a4|o7"`` (observation ids index
    :meth:`observation`). That is perfect recall by construction, and it assumes the agent sees
    only what ``observe(agent)`` (with the action mask) shows at its turns.

    Attributes:
        compiled: The compiled game.
        agents: The environment's ``possible_agents`` (player ``i`` is ``agents[i]``).
        seed: The reset seed.
        num_states: Distinct environment states explored (graph nodes; equals the tree size when
            transpositions are not merged).
        num_edges: Graph edges (environment steps taken while exploring).
        explore_seconds: Time spent stepping and copying the environment.
        unroll_seconds: Time spent unrolling the graph into the compiled tree.
    """

    def __init__(
        self,
        compiled: CompiledGame,
        *,
        agents: tuple[str, ...],
        seed: int,
        observations: list[tuple[int, Any, tuple[int, ...]]],
        num_states: int,
        num_edges: int,
        explore_seconds: float,
        unroll_seconds: float,
    ) -> None:
        self.compiled = compiled
        self.agents = agents
        self.seed = seed
        self._observations = observations
        self.num_states = num_states
        self.num_edges = num_edges
        self.explore_seconds = explore_seconds
        self.unroll_seconds = unroll_seconds

    @property
    def spec(self) -> GameSpec:
        """The game's description (extensive form, no chance)."""
        return self.compiled.spec

    def compile(self, *, max_nodes: int | None = None) -> CompiledGame:
        """The compiled tree (built by :func:`compile_pettingzoo`).

        Raises:
            UnsupportedGame: The tree has more than ``max_nodes`` nodes.
        """
        if max_nodes is not None and self.compiled.num_nodes > max_nodes:
            raise UnsupportedGame(
                f"{self.spec.name} has {self.compiled.num_nodes:,} nodes, more than max_nodes={max_nodes:,}"
            )
        return self.compiled

    def initial_state(self) -> TreeState:
        """The root of the tree."""
        return TreeState(self.compiled)

    def observation(self, obs_id: int) -> tuple[str, Any, tuple[int, ...]]:
        """``(agent, raw observation, legal actions)`` of an observation id used in infoset keys."""
        player, obs, legal = self._observations[obs_id]
        return self.agents[player], obs, legal

    def __repr__(self) -> str:
        c = self.compiled
        return (
            f"PettingZooTree({self.spec.name!r}, seed={self.seed}, nodes={c.num_nodes:,}, "
            f"infosets={c.num_infosets:,}, states={self.num_states:,})"
        )


class _Explorer:
    """Builds the state graph of an AEC environment by copying it (internal)."""

    def __init__(self, env: Any, *, merge: MergeKey, max_nodes: int, name: str) -> None:
        self.agents: tuple[str, ...] = tuple(env.possible_agents)
        self.index = {a: i for i, a in enumerate(self.agents)}
        self.n = len(self.agents)
        if merge is True:
            merge = "state"
        if not (merge is False or merge in ("state", "observations") or callable(merge)):
            raise ValueError(
                "merge_transpositions must be True, False, 'state', 'observations' or a callable "
                f"env -> hashable key, got {merge!r}"
            )
        self.merge = merge is not False
        self._merge_mode = merge
        self.max_nodes = max_nodes
        self.name = name
        self.num_actions = discrete_action_counts(env, self.agents, "compile_pettingzoo")
        self.shared = shared_objects(env)
        # graph nodes
        self.player: list[int] = []  # acting player, TERMINAL_NODE at the end
        self.obs: list[int] = []  # observation id of the acting player, -1 at the end
        self.first: list[int] = []  # first edge
        self.width: list[int] = []  # number of edges
        # graph edges
        self.child: list[int] = []
        self.action: list[int] = []
        self.reward: list[float] = []  # [E * P], flattened
        self.table: dict[Hashable, int] = {}
        self.obs_ids: dict[Hashable, int] = {}
        self.observations: list[tuple[int, Any, tuple[int, ...]]] = []
        self.legal: list[tuple[int, ...]] = []  # legal actions per observation id

    def rewards(self, env: Any) -> NDArray[np.float64]:
        """The rewards ``env`` reports now, as a vector ``[P]``."""
        return reward_vector(env.rewards, self.index, self.n)

    def settle(self, env: Any) -> NDArray[np.float64]:
        """Take finished agents' ``None`` steps; returns the rewards reported along the way."""
        return step_finished_agents(env, lambda: self.rewards(env), self.n)

    def state_key(self, env: Any) -> Hashable:
        """What identifies an environment state for merging (documented in compile_pettingzoo)."""
        mode = self._merge_mode
        if callable(mode):
            return mode(env)
        key = self.observation_key(env)
        if mode == "observations":
            return key
        try:
            return fingerprint((key, env), self.shared)
        except Exception as exc:
            raise UnsupportedGame(
                f"cannot fingerprint the state of {self.name} for merging ({type(exc).__name__}: {exc}); "
                "pass merge_transpositions='observations', a key function, or False"
            ) from None

    def observation_key(self, env: Any) -> Hashable:
        """Agent to move, live agents, their observations, flags and cumulative rewards."""
        live = tuple(env.agents)
        cumulative = getattr(env, "_cumulative_rewards", {})
        return (
            env.agent_selection if live else None,
            live,
            tuple(canonical(env.observe(a)) for a in live),
            tuple(bool(env.terminations.get(a, False)) for a in live),
            tuple(bool(env.truncations.get(a, False)) for a in live),
            tuple(float(cumulative.get(a, 0.0)) for a in live),
        )

    def add_node(self, env: Any) -> tuple[int, bool]:
        """The graph node of ``env`` (new or merged) and whether it was new."""
        key: Hashable = self.state_key(env) if self.merge else None
        if key is not None:
            found = self.table.get(key)
            if found is not None:
                return found, False
        node = len(self.player)
        if node >= self.max_nodes:
            what = "distinct states" if self.merge else "nodes"
            raise UnsupportedGame(
                f"{self.name} has more than max_nodes={self.max_nodes:,} {what}; too large to expand "
                "(pass a larger max_nodes to try anyway)"
            )
        if key is not None:
            self.table[key] = node
        if not env.agents:
            self.player.append(TERMINAL_NODE)
            self.obs.append(-1)
        else:
            agent = env.agent_selection
            player = self.index.get(agent)
            if player is None:
                raise MalformedGameError(f"agent_selection {agent!r} is not in possible_agents")
            obs = env.observe(agent)
            mask = action_mask(obs, env.infos.get(agent, {}))
            legal = tuple(int(a) for a in legal_from_mask(mask, self.num_actions[player]))
            if not legal:
                raise MalformedGameError(f"{agent} is to move but its action mask allows no action")
            if max(legal) >= self.num_actions[player]:
                raise MalformedGameError(f"the action mask of {agent} is longer than its action space")
            okey = (player, canonical(obs), legal)
            obs_id = self.obs_ids.get(okey)
            if obs_id is None:
                obs_id = len(self.observations)
                self.obs_ids[okey] = obs_id
                self.observations.append((player, copy.deepcopy(obs), legal))
                self.legal.append(legal)
            self.player.append(player)
            self.obs.append(obs_id)
        self.first.append(-1)
        self.width.append(0)
        return node, True

    def check_copies(self, env: Any) -> None:
        """Refuse environments whose copies do not carry their state (checked one step in)."""
        if not env.agents:
            return
        agent = env.agent_selection
        mask = action_mask(env.observe(agent), env.infos.get(agent, {}))
        first = 0 if mask is None or not mask.any() else int(np.flatnonzero(mask)[0])
        moved = copy_env(env, self.shared)
        try:
            moved.step(first)
            self.settle(moved)
            again = copy_env(moved, self.shared)
            key = self.state_key if self.merge else self.observation_key
            same = key(again) == key(moved)
        except UnsupportedGame:
            raise
        except Exception as exc:
            raise UnsupportedGame(
                f"a copy of {self.name} made with copy.deepcopy cannot be stepped "
                f"({type(exc).__name__}: {exc}); its state cannot be copied"
            ) from None
        if not same:
            raise UnsupportedGame(
                f"copy.deepcopy does not copy the state of {self.name}: a copy observes differently "
                "from the original"
            )

    def explore(self, root_env: Any) -> None:
        """Depth-first expansion; every graph node is expanded once (the last child reuses the env)."""
        root, _ = self.add_node(root_env)
        stack: list[tuple[int, Any]] = [] if self.player[root] == TERMINAL_NODE else [(root, root_env)]
        while stack:
            node, env = stack.pop()
            legal = self.legal[self.obs[node]]
            self.first[node] = len(self.child)
            self.width[node] = len(legal)
            for k, a in enumerate(legal):
                kid_env = env if k == len(legal) - 1 else copy_env(env, self.shared)
                kid_env.step(a)
                reward = self.rewards(kid_env)
                reward += self.settle(kid_env)
                kid, new = self.add_node(kid_env)
                self.child.append(kid)
                self.action.append(a)
                self.reward.extend(reward.tolist())
                if new and self.player[kid] != TERMINAL_NODE:
                    stack.append((kid, kid_env))


def _topological_order(
    first: NDArray[np.int64], width: NDArray[np.int64], child: NDArray[np.int64]
) -> NDArray[np.int64]:
    """Kahn's algorithm on the state graph; raises when it has a cycle."""
    d = first.shape[0]
    indegree = np.bincount(child, minlength=d).astype(np.int64)
    order = np.empty(d, dtype=np.int64)
    ready = [int(v) for v in np.flatnonzero(indegree == 0)]
    filled = 0
    while ready:
        v = ready.pop()
        order[filled] = v
        filled += 1
        for e in range(int(first[v]), int(first[v]) + int(width[v])):
            c = int(child[e])
            indegree[c] -= 1
            if indegree[c] == 0:
                ready.append(c)
    if filled != d:
        raise UnsupportedGame(
            "the environment's state graph has a cycle (a state can recur), so its game tree is "
            "infinite; add a step limit to the environment (or, if the merge key misses part of the "
            "state, pass merge_transpositions=False)"
        )
    return order


def _ranges(widths: NDArray[np.int64]) -> NDArray[np.int64]:
    """``concatenate([arange(w) for w in widths])``."""
    total = int(widths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.repeat(np.cumsum(widths) - widths, widths)
    return np.arange(total, dtype=np.int64) - starts


def compile_pettingzoo(
    env: Any,
    *,
    seed: int = 0,
    max_nodes: int = 1_000_000,
    merge_transpositions: MergeKey = True,
    name: str | None = None,
) -> PettingZooTree:
    """Expand a small PettingZoo environment into its exact extensive-form game tree.

    The environment is reset with ``seed`` and explored by copying it with ``copy.deepcopy`` before
    each action. Its randomness, if any, is whatever its generator does after that reset (copies
    share the generator's state), so the result is the game *for that seed*, with no chance nodes.

    Exploring merges transpositions, states reached by different paths that have the same future,
    so that each is stepped once. Two states are merged when their keys are equal:

    * ``True`` or ``"state"`` (default): the agent to move, the live agents, every live agent's
      ``observe()`` output (compared by bytes), terminations, truncations, ``_cumulative_rewards``,
      and a fingerprint of every attribute of the environment and its wrappers (pickled and hashed
      with BLAKE2b-128; spaces and metadata are left out, and objects that cannot be pickled, such
      as render surfaces, count by type only). This is sound whenever the game state lives in
      picklable attributes. Hidden state such as a pending simultaneous move is covered.
    * ``"observations"``: the same without the fingerprint, which assumes that what the agents
      observe determines the rest of the game (true of tic-tac-toe, whose observation is the board;
      false of ``rps_v2``, whose observations hide the pending move).
    * a function ``env -> hashable key``; or ``False``: no merging (every history is stepped).

    The tree size is counted on the merged graph and the expansion is refused before unrolling if it
    exceeds ``max_nodes``; the tree is then unrolled with array operations, without further
    environment calls. Finished agents' ``None`` steps are taken automatically, and a terminal's
    payoffs are the sum of the rewards the environment reports after every step on its path
    (PettingZoo's own accounting in ``api_test``).

    Information sets: the acting agent's own history, i.e. its observation (with its legal actions)
    at each of its turns and the actions it took, so the tree has perfect recall. In a game whose
    observations reveal the board (tic-tac-toe) every information set is a single history.

    Args:
        env: A PettingZoo ``AECEnv`` (a ``ParallelEnv`` is converted with
            ``pettingzoo.utils.parallel_to_aec``) with ``Discrete`` action spaces.
        seed: The reset seed.
        max_nodes: Refuse trees (or, while exploring, state graphs) with more nodes than this.
        merge_transpositions: How to merge transpositions while exploring (see above).
        name: Name in the spec (default: the environment's ``metadata["name"]``).

    Returns:
        A :class:`PettingZooTree`; ``gamesolve.as_compiled(tree)`` is its compiled form.

    Raises:
        UnsupportedGame: The environment cannot be deep-copied, has a non-Discrete action space,
            its state graph has a cycle, or the tree has more than ``max_nodes`` nodes (the message
            gives the count).
        MalformedGameError: An agent to move has no legal action, or the payoffs are not finite.
    """
    if isinstance(env, ParallelEnv) and not isinstance(env, AECEnv):
        env = parallel_to_aec(env)
    if not isinstance(env, AECEnv):
        raise UnsupportedGame(
            f"compile_pettingzoo needs a PettingZoo AECEnv (or ParallelEnv), got {type(env).__name__}"
        )
    if isinstance(max_nodes, bool) or not isinstance(max_nodes, int) or max_nodes < 1:
        raise ValueError(f"max_nodes must be a positive integer, got {max_nodes!r}")
    metadata = getattr(env, "metadata", None) or {}
    label = name or str(metadata.get("name", type(env).__name__))
    start = time.perf_counter()
    explorer = _Explorer(env, merge=merge_transpositions, max_nodes=max_nodes, name=label)
    env.reset(seed=seed)
    root_env = copy_env(env, explorer.shared)  # never step the caller's environment
    root_reward = explorer.rewards(root_env)
    root_reward += explorer.settle(root_env)
    explorer.check_copies(root_env)
    explorer.explore(root_env)
    explore_seconds = time.perf_counter() - start

    start = time.perf_counter()
    n = explorer.n
    player = np.asarray(explorer.player, dtype=np.int64)  # [D]
    obs = np.asarray(explorer.obs, dtype=np.int64)  # [D]
    first = np.asarray(explorer.first, dtype=np.int64)  # [D]
    width = np.asarray(explorer.width, dtype=np.int64)  # [D]
    child = np.asarray(explorer.child, dtype=np.int64)  # [E]
    action = np.asarray(explorer.action, dtype=np.int64)  # [E]
    reward = np.asarray(explorer.reward, dtype=np.float64).reshape(-1, n)  # [E, P]
    d = player.shape[0]

    # Tree size from the graph, children before parents.
    order = _topological_order(first, width, child) if explorer.merge else np.arange(d)
    size = [1] * d
    for v in order[::-1].tolist():
        f, w = int(first[v]), int(width[v])
        if w:
            size[v] = 1 + sum(size[c] for c in child[f : f + w].tolist())
    total = size[0]
    if total > max_nodes:
        raise UnsupportedGame(
            f"the game tree of {label} has {total:,} nodes (from {d:,} distinct states), more than "
            f"max_nodes={max_nodes:,}; pass a larger max_nodes to expand it anyway"
        )
    compiled, infoset_count = _unroll(
        explorer, player, obs, first, width, child, action, reward, root_reward, total, label
    )
    unroll_seconds = time.perf_counter() - start
    object.__setattr__(compiled, "compile_seconds", explore_seconds + unroll_seconds)
    log.info(
        "expanded %s: %d states, %d edges in %.2f s; unrolled %s (%d infosets) in %.2f s",
        label,
        d,
        child.shape[0],
        explore_seconds,
        compiled,
        infoset_count,
        unroll_seconds,
    )
    tree = PettingZooTree(
        compiled,
        agents=explorer.agents,
        seed=seed,
        observations=explorer.observations,
        num_states=d,
        num_edges=int(child.shape[0]),
        explore_seconds=explore_seconds,
        unroll_seconds=unroll_seconds,
    )
    object.__setattr__(compiled, "source", tree)
    return tree


def _unroll(
    explorer: _Explorer,
    player: NDArray[np.int64],
    obs: NDArray[np.int64],
    first: NDArray[np.int64],
    width: NDArray[np.int64],
    child: NDArray[np.int64],
    action: NDArray[np.int64],
    reward: NDArray[np.float64],
    root_reward: NDArray[np.float64],
    total: int,
    label: str,
) -> tuple[CompiledGame, int]:
    """Unroll the state graph into tree arrays, level by level, and compile them."""
    n = explorer.n
    agents = explorer.agents
    stride = max(1, max((len(x) for x in explorer.legal), default=1))  # slots per infoset
    node_player = np.empty(total, dtype=np.int8)
    node_infoset = np.full(total, -1, dtype=np.int32)
    node_parent = np.full(total, -1, dtype=np.int32)
    node_first_child = np.full(total, -1, dtype=np.int32)
    node_num_children = np.zeros(total, dtype=np.int32)
    node_action = np.full(total, -1, dtype=np.int32)
    node_prob = np.ones(total, dtype=np.float64)
    utilities: list[NDArray[np.float64]] = []
    table: dict[tuple[int, int, int], int] = {}
    infoset_player: list[int] = []
    infoset_obs: list[int] = []
    infoset_keys: list[str] = []

    cur = np.zeros(1, dtype=np.int64)  # graph node of each tree node in the level
    acc = root_reward[None, :].copy()  # [n, P] rewards so far
    seq = np.zeros((1, n), dtype=np.int64)  # [n, P] each player's last own sequence (0: empty)
    start = 0
    while cur.size:
        count = cur.shape[0]
        ids = np.arange(start, start + count)
        pl = player[cur]
        node_player[ids] = pl
        terminal = pl == TERMINAL_NODE
        if terminal.any():
            utilities.append(acc[terminal])
        # Information sets: (player, own last sequence, observation), numbered in first-seen order.
        decision = np.flatnonzero(~terminal)
        infosets = np.full(count, -1, dtype=np.int64)
        own = seq[decision, pl[decision]]
        for k, p, s, o in zip(
            decision.tolist(), pl[decision].tolist(), own.tolist(), obs[cur[decision]].tolist(), strict=True
        ):
            key = (p, s, o)
            found = table.get(key)
            if found is None:
                found = len(infoset_player)
                table[key] = found
                infoset_player.append(p)
                infoset_obs.append(o)
                if s == 0:
                    infoset_keys.append(f"{agents[p]}|o{o}")
                else:
                    parent, slot = divmod(s - 1, stride)
                    taken = explorer.legal[infoset_obs[parent]][slot]
                    infoset_keys.append(f"{infoset_keys[parent]}|a{taken}|o{o}")
            infosets[k] = found
        node_infoset[ids] = infosets
        # Children: one block per inner node, in order.
        widths = np.where(terminal, 0, width[cur])
        offsets = np.cumsum(widths) - widths
        next_start = start + count
        inner = ~terminal
        node_first_child[ids[inner]] = next_start + offsets[inner]
        node_num_children[ids] = widths
        parent_of = np.repeat(np.arange(count), widths)
        slot = _ranges(widths)
        edge = first[cur][parent_of] + slot
        kids = next_start + np.arange(parent_of.shape[0])
        node_parent[kids] = ids[parent_of]
        node_action[kids] = action[edge]
        acc = acc[parent_of] + reward[edge]
        seq = seq[parent_of].copy()
        movers = pl[parent_of]
        seq[np.arange(parent_of.shape[0]), movers] = infosets[parent_of] * stride + slot + 1
        cur = child[edge]
        start = next_start
    if start != total:  # pragma: no cover - the count and the unrolling walk the same graph
        raise MalformedGameError(f"unrolled {start} nodes, expected {total}")

    terminal_utility = np.concatenate(utilities) if utilities else np.zeros((0, n))
    if not np.all(np.isfinite(terminal_utility)):
        raise MalformedGameError(f"{label} reported non-finite rewards")
    infoset_actions = np.full((len(infoset_player), stride), -1, dtype=np.int32)
    for i, o in enumerate(infoset_obs):
        legal = explorer.legal[o]
        infoset_actions[i, : len(legal)] = legal
    singletons = len(infoset_player) == int(np.count_nonzero(node_player >= 0))
    spec = GameSpec(
        name=label,
        kind=GameKind.EXTENSIVE_FORM,
        num_players=n,
        utility=classify_utility(terminal_utility.T) if terminal_utility.size else Utility.ZERO_SUM,
        has_chance=False,
        simultaneous=False,
        perfect_recall=True,
        perfect_information=singletons,
    )
    compiled = build_compiled_game(
        spec,
        node_player=node_player,
        node_infoset=node_infoset,
        node_parent=node_parent,
        node_first_child=node_first_child,
        node_num_children=node_num_children,
        node_action=node_action,
        node_prob=node_prob,
        terminal_utility=terminal_utility,
        infoset_player=np.asarray(infoset_player, dtype=np.int32),
        infoset_actions=infoset_actions,
        infoset_keys=infoset_keys,
    )
    return compiled, len(infoset_player)
