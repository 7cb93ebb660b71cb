"""A single-agent environment view of a compiled game: one learner against fixed opponents.

:class:`ResponseEnv` turns a compiled extensive-form game (or a two-player normal-form game, played
as a one-decision tree), a learning ``player`` and a fixed mixture of opponent profiles into an
episodic environment batched over ``num_envs`` episodes, in plain numpy. The RL best-response
oracles of :mod:`gamesolve.solvers.rl_oracles` train on it and
:func:`gamesolve.lower_bounds.rl_exploitability_bound` evaluates with it.

Each episode draws one opponent profile ``k`` with probability ``weights[k]`` (``draw="profile"``)
or one member per seat (``draw="seat"``); chance and the opponents are sampled by the population
backend's :class:`~gamesolve.population.sampler.TreeSampler` with uniforms from an explicit
:class:`numpy.random.Generator` until the learner acts or the game ends. The learner sees an
``observation [B, F]`` float32 (by default the one-hot of its infoset, exact for any perfect-recall
game) and the ``legal [B, A]`` slots, chooses a slot, and is paid its terminal utility. This is
PSRO's best response to a meta-strategy (Lanctot et al. 2017): against a fixed mixture the
learner's infoset is a sufficient statistic, so it faces a finite-horizon MDP whose optimal policies
are exactly the best responses. Episodes in which the learner never acts are skipped under
``autoreset=True`` but counted, so :func:`sample_returns` stays unbiased.

>>> import numpy as np, gamesolve
>>> game = gamesolve.load_game("kuhn")
>>> env = ResponseEnv(game, 0, [gamesolve.uniform_policy(game)], num_envs=4)
>>> step = env.reset(np.random.default_rng(0))
>>> step.observation.shape, step.legal.shape
((4, 6), (4, 2))
"""

from __future__ import annotations

import logging
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.compiled import CHANCE_NODE, TERMINAL_NODE, CompiledGame, as_compiled, build_compiled_game
from gamesolve.errors import InvalidPolicyError, UnsupportedGame
from gamesolve.kernels.evaluation import forward_reach
from gamesolve.normal_form import MixedProfile, TensorGame
from gamesolve.policy import TabularPolicy
from gamesolve.population.members import table_of
from gamesolve.population.sampler import TreeSampler, cumulative_tables
from gamesolve.spec import GameKind, GameSpec

__all__ = [
    "FEATURE_KINDS",
    "BatchActor",
    "ResponseEnv",
    "TimeStep",
    "infoset_features",
    "normal_form_tree",
    "sample_returns",
    "tabular_actor",
]

log = logging.getLogger(__name__)

#: A batch policy: ``(timestep, rng) -> slots [B] int64`` (entries of finished episodes ignored).
BatchActor = Callable[["TimeStep", np.random.Generator], NDArray[np.int64]]

_DRAWS = ("profile", "seat")


@dataclass(frozen=True)
class TimeStep:
    """What the learner sees after :meth:`ResponseEnv.reset` or :meth:`ResponseEnv.step`.

    Attributes:
        observation: ``[B, F]`` float32: the encoding of each episode's current infoset (zeros
            where the episode has no decision pending).
        legal: ``[B, A]`` bool: legal slots (all ``False`` where no decision is pending).
        infoset: ``[B]`` int64: the learner's current infoset id in the game, -1 where none.
        reward: ``[B]`` float64: the learner's utility of episodes that ended in this call, else 0.
        done: ``[B]`` bool: whether the episode of this slot ended in this call (with
            ``autoreset`` the slot already holds a fresh episode).
    """

    observation: NDArray[np.float32]
    legal: NDArray[np.bool_]
    infoset: NDArray[np.int64]
    reward: NDArray[np.float64]
    done: NDArray[np.bool_]


# ------------------------------------------------------------------------------- normal form


_NF_TREES: weakref.WeakKeyDictionary[TensorGame, CompiledGame] = weakref.WeakKeyDictionary()


def normal_form_tree(game: TensorGame) -> CompiledGame:
    """The two-player normal-form ``game`` as a compiled one-decision extensive-form game.

    Player 0 moves at the root (infoset ``"p0"``), then player 1 moves without seeing that move
    (infoset ``"p1"``); slot ``j`` of each infoset is action ``j``. Cached per game object.

    Raises:
        UnsupportedGame: The game does not have exactly two players.
    """
    if game.num_players != 2:
        raise UnsupportedGame(
            f"the RL environment plays two-player normal-form games only; this one has {game.num_players}"
        )
    cached = _NF_TREES.get(game)
    if cached is not None:
        return cached
    n0, n1 = game.num_actions
    n_nodes = 1 + n0 + n0 * n1
    node_player = np.full(n_nodes, TERMINAL_NODE, dtype=np.int8)
    node_player[: 1 + n0] = [0] + [1] * n0
    node_infoset = np.full(n_nodes, -1, dtype=np.int32)
    node_infoset[0] = 0
    node_infoset[1 : 1 + n0] = 1
    node_parent = np.full(n_nodes, -1, dtype=np.int32)
    node_parent[1 : 1 + n0] = 0
    node_parent[1 + n0 :] = 1 + np.repeat(np.arange(n0), n1)
    node_first_child = np.full(n_nodes, -1, dtype=np.int32)
    node_first_child[0] = 1
    node_first_child[1 : 1 + n0] = 1 + n0 + n1 * np.arange(n0)
    node_num_children = np.zeros(n_nodes, dtype=np.int32)
    node_num_children[0] = n0
    node_num_children[1 : 1 + n0] = n1
    node_action = np.full(n_nodes, -1, dtype=np.int32)
    node_action[1 : 1 + n0] = np.arange(n0)
    node_action[1 + n0 :] = np.tile(np.arange(n1), n0)
    width = max(n0, n1)
    infoset_actions = np.full((2, width), -1, dtype=np.int32)
    infoset_actions[0, :n0] = np.arange(n0)
    infoset_actions[1, :n1] = np.arange(n1)
    utility = np.stack([game.payoffs[p].reshape(-1) for p in range(2)], axis=1)  # [n0 * n1, 2]
    spec = GameSpec(
        name=f"{game.spec.name} (sequential view)",
        kind=GameKind.EXTENSIVE_FORM,
        num_players=2,
        utility=game.spec.utility,
    )
    tree = build_compiled_game(
        spec,
        node_player=node_player,
        node_infoset=node_infoset,
        node_parent=node_parent,
        node_first_child=node_first_child,
        node_num_children=node_num_children,
        node_action=node_action,
        node_prob=np.ones(n_nodes),
        terminal_utility=utility,
        infoset_player=np.array([0, 1], dtype=np.int32),
        infoset_actions=infoset_actions,
        infoset_keys=["p0", "p1"],
        source=game,
    )
    _NF_TREES[game] = tree
    return tree


def _nf_member(tree: CompiledGame, game: TensorGame, member: Any, player: int, k: int) -> TabularPolicy:
    """An opponent of ``player`` in a normal-form game: a vector, a MixedProfile or a TabularPolicy."""
    if isinstance(member, TabularPolicy):
        return member
    other = 1 - player
    vec = member[other] if isinstance(member, MixedProfile) else member
    try:
        arr = np.asarray(vec, dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidPolicyError(f"opponent {k} must be a probability vector") from None
    n = game.num_actions[other]
    if arr.shape != (n,):
        raise InvalidPolicyError(
            f"opponent {k} must be a probability vector over player {other}'s {n} actions, got shape "
            f"{arr.shape}"
        )
    probs = TabularPolicy.uniform(tree).probs.copy()
    probs[other] = 0.0
    probs[other, :n] = arr
    return TabularPolicy(tree, probs)


# ------------------------------------------------------------------------------- features

#: Names accepted by ``features=`` (see :func:`infoset_features`).
FEATURE_KINDS = ("onehot", "tokens", "onehot+tokens", "auto")

_FEATURE_CACHE: weakref.WeakKeyDictionary[CompiledGame, dict[tuple[int, str], NDArray[np.float32]]] = (
    weakref.WeakKeyDictionary()
)


def infoset_features(game: Any, player: int, kind: str = "onehot") -> NDArray[np.float32]:
    """``[n_p, F]`` float32 observation features of ``player``'s infosets (``infosets_of`` order).

    Kinds:

    * ``"onehot"``: the identity: exact for every perfect-recall game, no generalization.
    * ``"tokens"``: a multi-hot vector of what the infoset *knows for certain*, read off the
      compiled tree alone: for every chance event ``k`` on the path (the ``k``-th chance move) its
      outcome, and for every player move ``k`` its actor and action, whenever that value is the same
      in every history of the infoset. In poker this is the player's own cards, the public cards
      and the betting sequence; cards or moves hidden from the player differ across the infoset's
      histories and do not appear. Similar infosets share tokens, so a network generalizes across
      them. Infosets with identical tokens are merged (not exact on their own); when nothing is
      known for certain anywhere (a normal-form game) the tokens are one constant input.
    * ``"onehot+tokens"``: both, concatenated: exact, and generalizing.
    * ``"auto"``: ``"tokens"`` when the tokens tell every infoset apart (Kuhn, Leduc and other
      poker-like games: small inputs, fast training), else ``"onehot+tokens"``.

    Results are cached per compiled game; the returned array is read-only.

    Raises:
        ValueError: Unknown ``kind`` or ``player``.
    """
    if kind not in FEATURE_KINDS:
        raise ValueError(f"features must be one of {', '.join(FEATURE_KINDS)} or a matrix, got {kind!r}")
    compiled = _as_compiled_game(game)
    compiled.check_player(player)
    cache = _FEATURE_CACHE.setdefault(compiled, {})
    cached = cache.get((player, kind))
    if cached is None:
        cached = _features(compiled, player, kind)
        cached.setflags(write=False)
        cache[(player, kind)] = cached
    return cached


def _features(compiled: CompiledGame, player: int, kind: str) -> NDArray[np.float32]:
    mine = compiled.infosets_of(player)
    onehot = np.eye(mine.size, dtype=np.float32)
    if kind == "onehot":
        return onehot
    local = {int(i): r for r, i in enumerate(mine)}
    parent = compiled.node_parent
    actor = compiled.node_player
    action = compiled.node_action
    known: dict[int, set[tuple[int, ...]]] = {}
    for node in np.flatnonzero((actor == player) & (compiled.node_infoset >= 0)):
        path: list[tuple[int, int, int]] = []  # (actor, action) from the root
        n = int(node)
        while n > 0:
            up = int(parent[n])
            path.append((int(actor[up]), int(action[n]), 0))
            n = up
        path.reverse()
        tokens: set[tuple[int, ...]] = set()
        chance_k = move_k = 0
        for who, what, _ in path:
            if who == CHANCE_NODE:
                tokens.add((0, chance_k, what))
                chance_k += 1
            else:
                tokens.add((1, move_k, who, what))
                move_k += 1
        row = local[int(compiled.node_infoset[node])]
        known[row] = tokens if row not in known else known[row] & tokens
    vocab = sorted(set().union(*known.values())) if known else []
    column = {tok: c for c, tok in enumerate(vocab)}
    multi = np.zeros((mine.size, len(vocab)), dtype=np.float32)
    for row, tokens in known.items():
        multi[row, [column[t] for t in tokens]] = 1.0
    if not vocab:  # nothing is known for certain (e.g. a normal-form game): one constant input
        multi = np.ones((mine.size, 1), dtype=np.float32)
    if kind == "tokens":
        return multi
    if kind == "auto" and np.unique(multi, axis=0).shape[0] == mine.size:
        return multi
    return np.concatenate([onehot, multi], axis=1)


# -------------------------------------------------------------------------------- the env


def _as_compiled_game(game: Any) -> CompiledGame:
    if isinstance(game, TensorGame):
        return normal_form_tree(game)
    try:
        return as_compiled(game)
    except UnsupportedGame:
        raise UnsupportedGame(
            "the RL environment needs an extensive-form game (compiled or compilable) or a "
            f"two-player normal-form game, got {type(game).__name__}"
        ) from None


def _check_weights(weights: ArrayLike | None, count: int) -> NDArray[np.float64]:
    if weights is None:
        return np.full(count, 1.0 / count)
    try:
        w = np.asarray(weights, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"weights must be a numeric vector, got {weights!r}") from None
    if w.shape != (count,):
        raise ValueError(f"weights must have one entry per opponent ({count}), got shape {w.shape}")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or not w.sum() > 0:
        raise ValueError(f"weights must be finite, >= 0 and not all 0, got {w.tolist()}")
    return w / w.sum()


class ResponseEnv:
    """``num_envs`` parallel episodes of ``game`` for ``player`` against a fixed opponent mixture.

    Args:
        game: A compiled or compilable extensive-form game, or a two-player
            :class:`~gamesolve.normal_form.TensorGame`.
        player: The learning player.
        opponents: Opponent profiles: :class:`~gamesolve.policy.TabularPolicy` objects (or
            ``[I, A]`` arrays, a stacked ``[K, I, A]`` array, or objects with ``tabulate(game)``)
            of the game; only the rows of the other players are used. For normal-form games,
            probability vectors over the opponent's actions.
        weights: ``[K]`` mixture weights of the opponents (normalized; default uniform).
        num_envs: Number of parallel episodes ``B``.
        features: ``None`` or ``"onehot"`` (one-hot of the learner's infoset, exact), another kind
            of :func:`infoset_features` (``"tokens"``, ``"onehot+tokens"``), or a ``[n_p, F]``
            matrix whose row ``r`` encodes the learner's ``r``-th infoset
            (``game.infosets_of(player)`` order).
        draw: ``"profile"`` (one profile per episode for all other seats) or ``"seat"`` (one
            member per other seat, independently). Identical for two players.
        autoreset: Restart finished episodes inside :meth:`step` (training); with ``False``
            finished slots stay finished until :meth:`reset` (evaluation).

    Raises:
        UnsupportedGame: Not an extensive-form or two-player normal-form game, or ``player``
            never acts against these opponents.
        InvalidPolicyError: An opponent does not fit the game.
        ValueError: Bad ``player``, ``weights``, ``num_envs``, ``features`` or ``draw``.
    """

    def __init__(
        self,
        game: Any,
        player: int,
        opponents: Sequence[Any],
        weights: ArrayLike | None = None,
        *,
        num_envs: int = 1,
        features: str | ArrayLike | None = None,
        draw: str = "profile",
        autoreset: bool = True,
    ) -> None:
        compiled = _as_compiled_game(game)
        if isinstance(player, bool) or not isinstance(player, int | np.integer):
            raise ValueError(f"player must be an integer, got {player!r}")
        player = int(player)
        compiled.check_player(player)
        if isinstance(num_envs, bool) or not isinstance(num_envs, int | np.integer) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        if draw not in _DRAWS:
            raise ValueError(f"draw must be one of {', '.join(_DRAWS)}, got {draw!r}")
        if isinstance(opponents, np.ndarray) and opponents.ndim == 3:
            opponents = list(opponents)  # [K, I, A] stacked members
        elif isinstance(opponents, TabularPolicy | np.ndarray | MixedProfile):
            opponents = [opponents]
        members = list(opponents)
        if not members:
            raise ValueError("opponents must hold at least one policy")
        if isinstance(game, TensorGame):
            members = [_nf_member(compiled, game, m, player, k) for k, m in enumerate(members)]
        probs = np.stack([table_of(compiled, m, f"opponent {k}") for k, m in enumerate(members)])  # [K, I, A]
        self._weights = _check_weights(weights, len(members))
        self.game: CompiledGame = compiled
        self.player = player
        self.num_envs = int(num_envs)
        self.draw = draw
        self.autoreset = bool(autoreset)

        mine = compiled.infosets_of(player)
        if mine.size == 0:
            raise UnsupportedGame(f"player {player} has no decision in {compiled.spec.name}")
        self.infosets: NDArray[np.int32] = mine  # [n_p] the learner's infoset ids
        local = np.full(compiled.num_infosets, -1, dtype=np.int64)
        local[mine] = np.arange(mine.size)
        self._local = local  # [I] index among the learner's infosets, -1 elsewhere
        self.num_actions = int(compiled.infoset_num_actions[mine].max())
        if features is None or isinstance(features, str):
            feats = infoset_features(compiled, player, features or "onehot")
        else:
            feats = np.array(features, dtype=np.float32)
            if feats.ndim != 2 or feats.shape[0] != mine.size or not np.all(np.isfinite(feats)):
                raise ValueError(
                    f"features must be a finite [{mine.size}, F] matrix (one row per infoset of player "
                    f"{player}), got shape {feats.shape}"
                )
            feats.setflags(write=False)
        self.features: NDArray[np.float32] = feats  # [n_p, F]
        self.obs_dim = int(feats.shape[1])

        # Sampling: cumulative tables (last legal entry and padding pinned to 1), one tree sampler
        self._opp_cdf = cumulative_tables(compiled, probs)  # [K, I, A]
        self._probs = probs
        self._sampler = TreeSampler(compiled)
        self._terminal_index = self._sampler.terminal_index  # [N]
        self._utility = np.ascontiguousarray(compiled.terminal_utility[:, player])  # [T]
        self.act_probability = self._decision_probability()
        if not self.act_probability > 0:
            raise UnsupportedGame(
                f"player {player} never acts against these opponents (every episode ends first)"
            )

        b = self.num_envs
        self._node = np.zeros(b, dtype=np.int64)
        self._member = np.zeros((b, compiled.num_players), dtype=np.int64)
        self._started = False
        #: Episodes that ended before the learner acted (skipped by ``autoreset``), and their return.
        self.skipped_episodes = 0
        self.skipped_return = 0.0
        #: Episodes finished by the learner (counted in :meth:`step`).
        self.finished_episodes = 0

    # ------------------------------------------------------------------------- properties
    @property
    def weights(self) -> NDArray[np.float64]:
        """``[K]`` normalized opponent weights (a copy)."""
        return self._weights.copy()

    @property
    def num_opponents(self) -> int:
        """Number of opponent profiles ``K``."""
        return int(self._weights.shape[0])

    @property
    def utility_scale(self) -> float:
        """``max |u_player|`` over terminals (1 if all are 0): a natural reward scale."""
        scale = float(np.abs(self._utility).max()) if self._utility.size else 0.0
        return scale if scale > 0 else 1.0

    def with_batch(self, num_envs: int, *, autoreset: bool | None = None) -> ResponseEnv:
        """A new environment over the same game and opponents with another batch size."""
        env = object.__new__(ResponseEnv)
        env.__dict__.update(self.__dict__)
        if isinstance(num_envs, bool) or not isinstance(num_envs, int | np.integer) or num_envs < 1:
            raise ValueError(f"num_envs must be a positive integer, got {num_envs!r}")
        env.num_envs = int(num_envs)
        env.autoreset = self.autoreset if autoreset is None else bool(autoreset)
        env._node = np.zeros(env.num_envs, dtype=np.int64)
        env._member = np.zeros((env.num_envs, self.game.num_players), dtype=np.int64)
        env._started = False
        env.skipped_episodes = 0
        env.skipped_return = 0.0
        env.finished_episodes = 0
        return env

    def observation_of(self, infosets: ArrayLike) -> NDArray[np.float32]:
        """``[n, F]`` observations of the learner's infosets given by game infoset ids."""
        ids = np.asarray(infosets, dtype=np.int64)
        local = self._local[ids]
        if np.any(local < 0):
            raise ValueError(f"not all of these infosets belong to player {self.player}")
        return self.features[local]

    def legal_of(self, infosets: ArrayLike) -> NDArray[np.bool_]:
        """``[n, A]`` legal slots of the given infoset ids."""
        ids = np.asarray(infosets, dtype=np.int64)
        return np.arange(self.num_actions)[None, :] < self.game.infoset_num_actions[ids][:, None]

    # ---------------------------------------------------------------------------- dynamics
    def _decision_probability(self) -> float:
        """Probability that the learner acts at least once in an episode (exact)."""
        g = self.game
        root = g.infosets_of(self.player)
        first = root[g.infoset_parent_seq[root] == 0]
        at_first = np.isin(g.node_infoset, first) & (g.node_player == self.player)
        reach = np.empty((g.num_nodes, g.num_players + 1))
        total = 0.0
        for k in np.flatnonzero(self._weights > 0):
            forward_reach(g.tree, self._probs[k], reach)
            others = np.delete(reach[at_first], self.player, axis=1).prod(axis=1)
            total += float(self._weights[k]) * float(others.sum())
        return total

    def _draw_members(self, idx: NDArray[np.int64], rng: np.random.Generator) -> None:
        cum = np.cumsum(self._weights)
        cum[-1] = 1.0
        n_players = self.game.num_players
        if self.draw == "profile":
            k = np.searchsorted(cum, rng.random(idx.size), side="right")
            self._member[idx] = k[:, None]
        else:
            k = np.searchsorted(cum, rng.random((idx.size, n_players)), side="right")
            self._member[idx] = k

    def _advance(self, idx: NDArray[np.int64], rng: np.random.Generator) -> None:
        """Move the episodes ``idx`` through chance and opponent nodes to a learner node or a terminal."""
        g = self.game
        node = self._node
        while idx.size:
            pl = g.node_player[node[idx]]
            moving = (pl != TERMINAL_NODE) & (pl != self.player)
            idx = idx[moving]
            if not idx.size:
                break
            pl = pl[moving].astype(np.int64)
            u = rng.random(idx.size)
            table = self._member[idx, np.maximum(pl, 0)]  # the acting seat's member (unused at chance)
            node[idx], _ = self._sampler.move(node[idx], u, self._opp_cdf, table)

    def _restart(self, idx: NDArray[np.int64], rng: np.random.Generator) -> NDArray[np.float64]:
        """Start fresh episodes in ``idx``; with ``autoreset`` re-draw those that end at once.

        Returns ``[idx.size]`` the return of episodes that ended before the learner acted (NaN
        for the slots now waiting on a learner decision). With ``autoreset`` every slot ends up
        waiting on a decision and the skipped returns are only counted.
        """
        out = np.full(idx.size, np.nan)
        pending = np.arange(idx.size)
        rounds = 0
        while pending.size:
            sub = idx[pending]
            self._node[sub] = 0
            self._draw_members(sub, rng)
            self._advance(sub, rng)
            ended = self.game.node_player[self._node[sub]] == TERMINAL_NODE
            if not ended.any():
                break
            values = self._utility[self._terminal_index[self._node[sub[ended]]]]
            if not self.autoreset:
                out[pending[ended]] = values
                break
            self.skipped_episodes += int(ended.sum())
            self.skipped_return += float(values.sum())
            pending = pending[ended]
            rounds += 1
            if rounds > 100_000:  # pragma: no cover - act_probability > 0 makes this astronomically rare
                raise RuntimeError("the learner did not get to act in 100000 restarts")
        return out

    def _timestep(self, reward: NDArray[np.float64], done: NDArray[np.bool_]) -> TimeStep:
        g = self.game
        node = self._node
        waiting = g.node_player[node] == self.player
        infoset = np.where(waiting, g.node_infoset[node], -1).astype(np.int64)
        obs = np.zeros((self.num_envs, self.obs_dim), dtype=np.float32)
        legal = np.zeros((self.num_envs, self.num_actions), dtype=bool)
        if waiting.any():
            ids = infoset[waiting]
            obs[waiting] = self.features[self._local[ids]]
            legal[waiting] = self.legal_of(ids)
        return TimeStep(obs, legal, infoset, reward, done)

    @property
    def waiting(self) -> NDArray[np.bool_]:
        """``[B]`` bool: which slots wait on a learner decision."""
        return self.game.node_player[self._node] == self.player

    def reset(self, rng: np.random.Generator) -> TimeStep:
        """Start ``num_envs`` fresh episodes and play them up to the learner's first decision.

        Without ``autoreset``, episodes that end before the learner acts come back with
        ``done=True`` and their ``reward``.
        """
        idx = np.arange(self.num_envs, dtype=np.int64)
        early = self._restart(idx, rng)
        self._started = True
        done = ~np.isnan(early)
        reward = np.where(done, early, 0.0)
        return self._timestep(reward, done)

    def step(self, actions: ArrayLike, rng: np.random.Generator) -> TimeStep:
        """Play ``actions`` (``[B]`` slots) in the episodes waiting on the learner.

        Entries of slots that wait on no decision are ignored.

        Raises:
            ValueError: An action is not a legal slot of its infoset, or :meth:`reset` was not
                called first.
        """
        if not self._started:
            raise ValueError("call reset() before step()")
        g = self.game
        acts = np.asarray(actions)
        if acts.shape != (self.num_envs,):
            raise ValueError(f"actions must have shape ({self.num_envs},), got {acts.shape}")
        idx = np.flatnonzero(self.waiting)
        reward = np.zeros(self.num_envs)
        done = np.zeros(self.num_envs, dtype=bool)
        if idx.size:
            node = self._node[idx]
            slot = acts[idx].astype(np.int64)
            width = g.infoset_num_actions[g.node_infoset[node]]
            bad = (slot < 0) | (slot >= width)
            if bad.any():
                j = int(np.flatnonzero(bad)[0])
                raise ValueError(
                    f"action slot {int(slot[j])} is illegal in episode {int(idx[j])} (its infoset has "
                    f"{int(width[j])} legal slots)"
                )
            self._node[idx] = g.node_first_child[node] + slot
            self._advance(idx, rng)
            ended = idx[g.node_player[self._node[idx]] == TERMINAL_NODE]
            if ended.size:
                reward[ended] = self._utility[self._terminal_index[self._node[ended]]]
                done[ended] = True
                self.finished_episodes += int(ended.size)
                if self.autoreset:
                    self._restart(ended, rng)
        return self._timestep(reward, done)


# ------------------------------------------------------------------------------ evaluation


def tabular_actor(policy: TabularPolicy | NDArray[np.float64]) -> BatchActor:
    """A :data:`BatchActor` that samples the learner's slots from a tabular policy's rows."""
    probs = policy.probs if isinstance(policy, TabularPolicy) else np.asarray(policy, dtype=np.float64)
    cdf = np.cumsum(probs, axis=1)

    def act(step: TimeStep, rng: np.random.Generator) -> NDArray[np.int64]:
        out = np.zeros(step.infoset.shape[0], dtype=np.int64)
        live = step.infoset >= 0
        u = rng.random(int(live.sum()))
        rows = cdf[step.infoset[live]]
        width = step.legal[live].sum(axis=1)
        out[live] = np.minimum((rows < u[:, None] * rows[:, -1:]).sum(axis=1), width - 1)
        return out

    return act


def sample_returns(
    env: ResponseEnv, actor: BatchActor, episodes: int, rng: np.random.Generator, *, batch: int = 4096
) -> NDArray[np.float64]:
    """``[episodes]`` returns of whole episodes of ``env``'s game with the learner following ``actor``.

    Every episode is played to its end (including episodes in which the learner never acts), so the
    mean is an unbiased estimate of the learner's value against the opponent mixture.
    """
    if isinstance(episodes, bool) or not isinstance(episodes, int | np.integer) or episodes < 1:
        raise ValueError(f"episodes must be a positive integer, got {episodes!r}")
    out = np.empty(int(episodes))
    start = 0
    while start < episodes:
        n = min(batch, int(episodes) - start)
        sub = env.with_batch(n, autoreset=False)
        step = sub.reset(rng)
        total = step.reward.copy()
        while sub.waiting.any():
            step = sub.step(actor(step, rng), rng)
            total += step.reward
        out[start : start + n] = total
        start += n
    return out
