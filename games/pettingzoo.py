"""PettingZoo adapters, both ways, and exact game trees of small PettingZoo games.

Three bridges to `PettingZoo <https://pettingzoo.farama.org>`_ (Terry et al. 2021, "PettingZoo: Gym
for multi-agent reinforcement learning", NeurIPS):

* :func:`to_pettingzoo` turns a gamesolve game into an environment that passes
  ``pettingzoo.test.api_test``: an extensive-form game becomes an :class:`ExtensiveFormEnv` (AEC;
  the acting agent observes the one-hot of its information set and the action mask), a normal-form
  or Markov game a :class:`MarkovEnv` (AEC) or :class:`MarkovParallelEnv`.
* :func:`from_pettingzoo` wraps any PettingZoo AEC or parallel environment as a
  :class:`~gamesolve.markov.SampledMarkovGame`, so sampled tournaments and RL best responses can
  play it.
* :func:`compile_pettingzoo` expands a small AEC environment that ``copy.deepcopy`` can copy into an
  exact extensive-form game (:class:`PettingZooTree`), merging states that agree on everything an
  agent can observe, so ``gamesolve.solve(tree, "cfr+")`` and ``gamesolve.exploitability`` work on
  it.

Agents of gamesolve games are named ``"player_0", "player_1", ...``; players of wrapped PettingZoo
environments are the environment's ``possible_agents`` in order.
"""

from __future__ import annotations

import copy
import hashlib
import io
import logging
import pickle
import time
import types
from collections.abc import Callable, Hashable, Sequence
from typing import Any, TypeAlias

import numpy as np
from gymnasium import spaces
from gymnasium.utils import EzPickle
from numpy.typing import NDArray
from pettingzoo import AECEnv, ParallelEnv
from pettingzoo.utils.conversions import parallel_to_aec

from gamesolve.compiled import TERMINAL_NODE, CompiledGame, as_compiled, build_compiled_game
from gamesolve.errors import MalformedGameError, UnsupportedGame
from gamesolve.markov import MarkovEpisode, SampledMarkovGame, TabularMarkovGame
from gamesolve.normal_form import TensorGame, classify_utility
from gamesolve.protocols import CHANCE, TERMINAL, State
from gamesolve.spec import GameKind, GameSpec, Utility

__all__ = [
    "ExtensiveFormEnv",
    "MarkovEnv",
    "MarkovParallelEnv",
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

log = logging.getLogger(__name__)

#: How :func:`compile_pettingzoo` merges transpositions: ``True``/``"state"``, ``"observations"``,
#: ``False`` (no merging) or a function ``env -> hashable key``.
MergeKey: TypeAlias = bool | str | Callable[[Any], Hashable]

_RENDER_MODES = ("ansi",)


def _agent_names(num_players: int) -> list[str]:
    return [f"player_{i}" for i in range(num_players)]


def _check_render_mode(render_mode: str | None) -> str | None:
    if render_mode is not None and render_mode not in _RENDER_MODES:
        raise ValueError(f"render_mode must be None or one of {list(_RENDER_MODES)}, got {render_mode!r}")
    return render_mode


def _as_action(action: Any, agent: str) -> int:
    """An integer action id from ``action`` (Python or NumPy integer, or a 0-d integer array)."""
    try:
        value = np.asarray(action)
        if value.shape != () or not np.issubdtype(value.dtype, np.integer):
            raise TypeError
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"the action of {agent} must be an integer action id, got {action!r}") from None


def _draw(rng: np.random.Generator, probs: Sequence[float]) -> int:
    """Index drawn from ``probs`` (robust to rounding: the last index absorbs any shortfall)."""
    cumulative = np.cumsum(np.asarray(probs, dtype=np.float64))
    pick = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return min(pick, len(cumulative) - 1)


# =============================================================================================
# gamesolve -> PettingZoo: extensive-form games
# =============================================================================================


class TreeState:
    """A history of a :class:`~gamesolve.CompiledGame`, read from its arrays (implements ``State``).

    Lets environments and tools walk games that exist only in compiled form. Only the acting
    player's information set is recorded in a compiled game, so :meth:`infoset_key` answers for
    the acting player only.

    Args:
        game: The compiled game.
        node: Node id of the history (0 is the root).
    """

    __slots__ = ("_game", "_node")

    def __init__(self, game: CompiledGame, node: int = 0) -> None:
        self._game = game
        self._node = int(node)

    @property
    def node(self) -> int:
        """Node id of this history in the compiled game."""
        return self._node

    def current_player(self) -> int:
        """Player to act, :data:`~gamesolve.CHANCE` or :data:`~gamesolve.TERMINAL`."""
        return int(self._game.node_player[self._node])

    def is_terminal(self) -> bool:
        """Whether the history is complete."""
        return self.current_player() == TERMINAL

    def legal_actions(self) -> Sequence[int]:
        """Legal action ids of the acting player (empty at chance and terminal nodes)."""
        if self.current_player() < 0:
            return []
        infoset = int(self._game.node_infoset[self._node])
        width = int(self._game.infoset_num_actions[infoset])
        return [int(a) for a in self._game.infoset_actions[infoset, :width]]

    def chance_outcomes(self) -> Sequence[tuple[int, float]]:
        """``(outcome, probability)`` pairs at a chance node (empty elsewhere)."""
        if self.current_player() != CHANCE:
            return []
        first = int(self._game.node_first_child[self._node])
        width = int(self._game.node_num_children[self._node])
        kids = range(first, first + width)
        return [(int(self._game.node_action[c]), float(self._game.node_prob[c])) for c in kids]

    def child(self, action: int) -> TreeState:
        """The history after ``action``.

        Raises:
            ValueError: ``action`` is not an edge out of this history.
        """
        if self.is_terminal():
            raise ValueError("no action is legal at a terminal history")
        first = int(self._game.node_first_child[self._node])
        width = int(self._game.node_num_children[self._node])
        hits = np.flatnonzero(self._game.node_action[first : first + width] == int(action))
        if hits.size == 0:
            raise ValueError(f"action {action} is not legal at node {self._node}")
        return TreeState(self._game, first + int(hits[0]))

    def returns(self) -> Sequence[float]:
        """Every player's payoff at a terminal history (zeros elsewhere)."""
        if not self.is_terminal():
            return [0.0] * self._game.num_players
        t = int(np.searchsorted(self._game.terminal_node, self._node))
        return [float(x) for x in self._game.terminal_utility[t]]

    def infoset_key(self, player: int) -> str:
        """Information-set key of ``player``, who must be the acting player.

        Raises:
            ValueError: ``player`` does not act here (a compiled game does not record it).
        """
        if player != self.current_player() or player < 0:
            raise ValueError(
                f"a compiled game records only the acting player's information set; player {player} "
                f"does not act at node {self._node}"
            )
        return self._game.infosets.key(int(self._game.node_infoset[self._node]))

    def __repr__(self) -> str:
        return f"TreeState(node={self._node}, history={self._game.history(self._node)})"


class ExtensiveFormEnv(AECEnv):
    """A PettingZoo AEC environment playing an extensive-form game through its states.

    Build one with :func:`to_pettingzoo`. Agents are ``"player_0", ...``. Chance moves are drawn
    from the env's generator (``reset(seed=...)`` reseeds it). The acting agent's observation is
    ``{"observation": float32 one-hot [I] of its information set in the compiled game's
    InfosetIndex, "action_mask": int8 [A]}`` where ``A`` is one more than the largest action id; the
    action of an agent is the game's action id. Other agents observe zeros. Each agent's reward is
    its terminal return, paid when the game ends; ``infos[agent]["infoset"]`` holds the acting
    agent's information-set key.

    Args:
        game: An extensive-form game (anything :func:`gamesolve.as_compiled` accepts).
        render_mode: ``None`` or ``"ansi"`` (``render()`` names the acting agent and its infoset).
        seed: Seed of the generator used until the first ``reset(seed=...)``.
    """

    metadata: dict[str, Any] = {  # noqa: RUF012 - PettingZoo reads it as a class attribute
        "render_modes": list(_RENDER_MODES),
        "name": "gamesolve_extensive_form_v0",
        "is_parallelizable": False,
    }

    def __init__(self, game: Any, *, render_mode: str | None = None, seed: int | None = None) -> None:
        super().__init__()
        compiled = as_compiled(game)
        initial = getattr(game, "initial_state", None)
        self.game = game
        self.compiled = compiled
        self._root: Callable[[], State] = initial if callable(initial) else (lambda: TreeState(compiled))
        self.metadata = {**type(self).metadata, "name": f"gamesolve_{compiled.spec.name}"}
        self.render_mode = _check_render_mode(render_mode)
        self.possible_agents = _agent_names(compiled.num_players)
        self.agents: list[str] = []
        self._num_obs = max(1, compiled.num_infosets)
        self._num_actions = max(1, int(compiled.infoset_actions.max(initial=0)) + 1)
        self.observation_spaces = {
            a: spaces.Dict(
                {
                    "observation": spaces.Box(0.0, 1.0, (self._num_obs,), np.float32),
                    "action_mask": spaces.Box(0, 1, (self._num_actions,), np.int8),
                }
            )
            for a in self.possible_agents
        }
        self.action_spaces = {a: spaces.Discrete(self._num_actions) for a in self.possible_agents}
        self._rng = np.random.default_rng(seed)
        self._state: State | None = None
        self._legal: tuple[int, ...] = ()
        self._infoset = -1
        self.rewards: dict[str, float] = {}
        self._cumulative_rewards: dict[str, float] = {}
        self.terminations: dict[str, bool] = {}
        self.truncations: dict[str, bool] = {}
        self.infos: dict[str, dict[str, Any]] = {}
        self.agent_selection = self.possible_agents[0]

    # ------------------------------------------------------------------ spaces
    def observation_space(self, agent: str) -> spaces.Space[Any]:
        """The observation space of ``agent`` (the same object on every call)."""
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space[Any]:
        """``Discrete(A)``: action ids of the game (the same object on every call)."""
        return self.action_spaces[agent]

    # ------------------------------------------------------------------ play
    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Start a new game; ``seed`` reseeds the chance generator."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self.agents = list(self.possible_agents)
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, False)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos = {a: {} for a in self.agents}
        self._state = self._skip_chance(self._root())
        self._enter_state()

    def _skip_chance(self, state: State) -> State:
        while not state.is_terminal() and state.current_player() == CHANCE:
            outcomes = state.chance_outcomes()
            pick = _draw(self._rng, [p for _, p in outcomes])
            state = state.child(outcomes[pick][0])
        return state

    def _enter_state(self) -> None:
        """Point ``agent_selection`` at the player to act, or pay the returns at the end."""
        state = self._state
        assert state is not None
        self.infos = {a: {} for a in self.agents}
        if state.is_terminal():
            returns = state.returns()
            for i, agent in enumerate(self.possible_agents):
                self.rewards[agent] = float(returns[i])
            self.terminations = dict.fromkeys(self.agents, True)
            self._legal = ()
            self._infoset = -1
            self.agent_selection = self.agents[0]
            return
        player = state.current_player()
        key = state.infoset_key(player)
        try:
            self._infoset = self.compiled.infosets.id(key)
        except KeyError:
            raise MalformedGameError(
                f"the state's infoset key {key!r} is not in the compiled game's InfosetIndex"
            ) from None
        self._legal = tuple(int(a) for a in state.legal_actions())
        agent = self.possible_agents[player]
        self.infos[agent] = {"infoset": key}
        self.agent_selection = agent

    def step(self, action: Any) -> None:
        """Play ``action`` (a legal action id) for ``agent_selection``; ``None`` for finished agents.

        Raises:
            RuntimeError: ``reset()`` was not called.
            ValueError: ``action`` is not a legal action id of the acting agent.
        """
        if self._state is None:
            raise RuntimeError("call reset() before step()")
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        a = _as_action(action, agent)
        if a not in self._legal:
            raise ValueError(f"action {a} is illegal for {agent}; legal actions are {list(self._legal)}")
        self._cumulative_rewards[agent] = 0.0
        self._clear_rewards()
        self._state = self._skip_chance(self._state.child(a))
        self._enter_state()
        self._accumulate_rewards()

    def observe(self, agent: str) -> dict[str, NDArray[Any]]:
        """``{"observation": one-hot [I] float32, "action_mask": [A] int8}`` (zeros if not acting)."""
        obs = np.zeros(self._num_obs, dtype=np.float32)
        mask = np.zeros(self._num_actions, dtype=np.int8)
        if self._infoset >= 0 and agent == self.agent_selection and agent in self.terminations:
            obs[self._infoset] = 1.0
            mask[list(self._legal)] = 1
        return {"observation": obs, "action_mask": mask}

    def infoset_key(self, observation: dict[str, NDArray[Any]] | NDArray[Any]) -> str | None:
        """The information-set key an observation encodes (``None`` for an all-zero observation)."""
        vec = observation["observation"] if isinstance(observation, dict) else observation
        hits = np.flatnonzero(np.asarray(vec))
        return self.compiled.infosets.key(int(hits[0])) if hits.size else None

    @property
    def state_object(self) -> State | None:
        """The current history (a gamesolve ``State``), or ``None`` before ``reset()``."""
        return self._state

    def render(self) -> str | None:
        """The acting agent and its infoset, or the returns (``render_mode="ansi"``).

        Returns ``None`` (and logs a warning) without a render mode.
        """
        if self.render_mode is None:
            log.warning("render() called without a render_mode; pass render_mode='ansi'")
            return None
        if self._state is None:
            return "not started (call reset())"
        if self._state.is_terminal():
            return f"game over, returns {[float(r) for r in self._state.returns()]}"
        return f"{self.agent_selection} to act at infoset {self.compiled.infosets.key(self._infoset)!r}"

    def close(self) -> None:
        """Nothing to release."""


# =============================================================================================
# gamesolve -> PettingZoo: normal-form and Markov games
# =============================================================================================


class NormalFormEpisode:
    """The single simultaneous step of a normal-form game (a :class:`~gamesolve.markov.MarkovEpisode`).

    The observation of every player is ``[1, 0]`` before the step and ``[0, 1]`` after it.
    """

    def __init__(self, payoffs: NDArray[np.float64]) -> None:
        self._payoffs = payoffs  # [P, A0, ..., A_{P-1}]
        self._num_players = int(payoffs.shape[0])
        self._returns = np.zeros(self._num_players)
        self._played = False

    @property
    def players_to_move(self) -> tuple[int, ...]:
        """Every player before the step, nobody after."""
        return () if self._played else tuple(range(self._num_players))

    @property
    def done(self) -> bool:
        """Whether the players have chosen."""
        return self._played

    @property
    def returns(self) -> NDArray[np.float64]:
        """The payoffs ``[P]`` once played (zeros before)."""
        return self._returns.copy()

    def observation(self, player: int) -> NDArray[np.float32]:
        """``[1, 0]`` before the step, ``[0, 1]`` after (nothing else is observed)."""
        return np.array([0.0, 1.0] if self._played else [1.0, 0.0], dtype=np.float32)

    def legal_actions(self, player: int) -> NDArray[np.int64]:
        """Every action of ``player``."""
        return np.arange(self._payoffs.shape[1 + player], dtype=np.int64)

    def step(self, actions: Sequence[int]) -> NDArray[np.float64]:
        """Apply one action per player; returns the payoffs ``[P]``.

        Raises:
            RuntimeError: The game was already played.
            ValueError: Wrong number of actions or an action out of range.
        """
        if self._played:
            raise RuntimeError("the normal-form game was already played; start a new episode")
        if len(actions) != self._num_players:
            raise ValueError(
                f"actions must give one action per player ({self._num_players}), got {actions!r}"
            )
        index = []
        for p, a in enumerate(actions):
            if not 0 <= int(a) < self._payoffs.shape[1 + p]:
                raise ValueError(f"action {a} of player {p} is not in [0, {self._payoffs.shape[1 + p]})")
            index.append(int(a))
        where: tuple[Any, ...] = (slice(None), *index)
        self._returns = np.array(self._payoffs[where], dtype=np.float64)
        self._played = True
        return self._returns.copy()


class OneShotMarkovGame:
    """A normal-form game as a one-step :class:`~gamesolve.markov.SampledMarkovGame`.

    Args:
        game: A normal-form game with a ``payoffs`` tensor ``[P, A0, ..., A_{P-1}]``.
    """

    def __init__(self, game: Any) -> None:
        payoffs = np.asarray(getattr(game, "payoffs", None), dtype=np.float64)
        if payoffs.ndim < 2 or payoffs.shape[0] != payoffs.ndim - 1:
            raise UnsupportedGame(
                "game must be a normal-form game with payoffs [P, A0, ..., A_(P-1)], "
                f"got {type(game).__name__}"
            )
        self.game = game
        self._payoffs = payoffs
        inner = getattr(game, "spec", None)
        name = inner.name if isinstance(inner, GameSpec) else "normal_form"
        self._spec = GameSpec(
            name=name,
            kind=GameKind.MARKOV,
            num_players=int(payoffs.shape[0]),
            utility=inner.utility if isinstance(inner, GameSpec) else classify_utility(payoffs),
            has_chance=False,
            simultaneous=payoffs.shape[0] > 1,
            perfect_recall=True,
            perfect_information=payoffs.shape[0] == 1,
        )

    @property
    def spec(self) -> GameSpec:
        """The game's description (kind :attr:`GameKind.MARKOV`)."""
        return self._spec

    @property
    def num_actions(self) -> tuple[int, ...]:
        """Number of actions of every player."""
        return tuple(int(n) for n in self._payoffs.shape[1:])

    @property
    def discount(self) -> float:
        """1.0: the game has one step."""
        return 1.0

    @property
    def default_horizon(self) -> int:
        """1: the game has one step."""
        return 1

    def new_episode(self, *, rng: np.random.Generator, max_steps: int | None = None) -> NormalFormEpisode:
        """One play (``rng`` is unused: there is no chance)."""
        return NormalFormEpisode(self._payoffs)

    def __repr__(self) -> str:
        return f"OneShotMarkovGame({self._spec.name!r}, actions={self.num_actions})"


def _resolve_max_steps(game: Any, max_steps: int | None) -> int | None:
    if max_steps is not None:
        if isinstance(max_steps, bool) or not isinstance(max_steps, int | np.integer) or max_steps < 1:
            raise ValueError(f"max_steps must be a positive integer or None, got {max_steps!r}")
        return int(max_steps)
    horizon = getattr(game, "default_horizon", None)
    return None if horizon is None else int(horizon)


def _markov_observation_boxes(game: Any) -> list[spaces.Box]:
    """One observation Box per player: exact bounds for tabular games, else probed and unbounded."""
    n = game.spec.num_players
    if isinstance(game, TabularMarkovGame):
        feats = np.asarray(game.features, dtype=np.float32)  # [S, F]
        low = float(feats.min(initial=0.0))
        high = float(feats.max(initial=1.0))
        high = high if high > low else low + 1.0
        return [spaces.Box(low, high, (feats.shape[1],), np.float32) for _ in range(n)]
    if isinstance(game, OneShotMarkovGame):
        return [spaces.Box(0.0, 1.0, (2,), np.float32) for _ in range(n)]
    known = getattr(game, "observation_sizes", None)
    if known is not None:
        sizes = [int(k) for k in known]
    else:
        probe = game.new_episode(rng=np.random.default_rng(0), max_steps=1)
        sizes = [int(np.asarray(probe.observation(p)).size) for p in range(n)]
    return [spaces.Box(-np.inf, np.inf, (max(1, s),), np.float32) for s in sizes]


class _MarkovBase:
    """State shared by the AEC and parallel Markov environments."""

    def _setup(
        self,
        game: SampledMarkovGame,
        *,
        max_steps: int | None,
        render_mode: str | None,
        seed: int | None,
    ) -> None:
        spec = game.spec
        if not callable(getattr(game, "new_episode", None)):
            raise UnsupportedGame(f"game must implement new_episode(rng=..., max_steps=...), got {game!r}")
        self.game = game
        self.discount = float(game.discount)
        self.max_steps = _resolve_max_steps(game, max_steps)
        self.render_mode = _check_render_mode(render_mode)
        self.possible_agents = _agent_names(spec.num_players)
        self.agents: list[str] = []
        self._num_actions = tuple(int(n) for n in game.num_actions)
        self.observation_spaces = {
            a: spaces.Dict({"observation": box, "action_mask": spaces.Box(0, 1, (k,), np.int8)})
            for a, box, k in zip(
                self.possible_agents, _markov_observation_boxes(game), self._num_actions, strict=True
            )
        }
        self.action_spaces = {
            a: spaces.Discrete(k) for a, k in zip(self.possible_agents, self._num_actions, strict=True)
        }
        self._rng = np.random.default_rng(seed)
        self._episode: MarkovEpisode | None = None
        self._steps = 0
        self._movers: tuple[int, ...] = ()
        self._legal: dict[int, NDArray[np.int64]] = {}
        self._obs: dict[int, NDArray[np.float32]] = {}

    def observation_space(self, agent: str) -> spaces.Space[Any]:
        """The observation space of ``agent`` (the same object on every call)."""
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space[Any]:
        """``Discrete(A_i)`` (the same object on every call)."""
        return self.action_spaces[agent]

    def _new_episode(self, seed: int | None) -> MarkovEpisode:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._steps = 0
        # One step of slack, so that the env (not the episode) decides truncation at max_steps.
        limit = None if self.max_steps is None else self.max_steps + 1
        self._episode = self.game.new_episode(rng=self._rng, max_steps=limit)
        return self._episode

    def _read_step(self) -> None:
        """Cache observations and the movers' legal actions at the start of a step."""
        episode = self._episode
        assert episode is not None
        n = len(self.possible_agents)
        self._obs = {p: np.asarray(episode.observation(p), dtype=np.float32).reshape(-1) for p in range(n)}
        self._movers = () if episode.done else tuple(int(p) for p in episode.players_to_move)
        if not episode.done and not self._movers:
            raise MalformedGameError("the episode is not over but players_to_move is empty")
        self._legal = {p: np.asarray(episode.legal_actions(p), dtype=np.int64) for p in self._movers}
        for p, legal in self._legal.items():
            if legal.size == 0:
                raise MalformedGameError(f"player {p} is to move but has no legal actions")

    def _observation(self, player: int, acting: bool) -> dict[str, NDArray[Any]]:
        mask = np.zeros(self._num_actions[player], dtype=np.int8)
        if acting and player in self._legal:
            mask[self._legal[player]] = 1
        return {"observation": self._obs[player].copy(), "action_mask": mask}

    def _check_action(self, player: int, action: Any) -> int:
        agent = self.possible_agents[player]
        a = _as_action(action, agent)
        if a not in self._legal[player]:
            raise ValueError(
                f"action {a} is illegal for {agent}; legal actions are {self._legal[player].tolist()}"
            )
        return a

    def render(self) -> str | None:
        """A one-line text description (``render_mode="ansi"``); ``None`` without a render mode."""
        if self.render_mode is None:
            log.warning("render() called without a render_mode; pass render_mode='ansi'")
            return None
        state = getattr(self._episode, "state", None)
        return f"step {self._steps}, state {state}, players to move {list(self._movers)}"

    def close(self) -> None:
        """Nothing to release."""


class MarkovEnv(_MarkovBase, AECEnv):
    """A PettingZoo AEC environment playing a :class:`~gamesolve.markov.SampledMarkovGame`.

    Build one with :func:`to_pettingzoo`. The players of a step choose in turn; the joint action is
    applied when the last one has chosen, and every mover observes the state at the start of the
    step (earlier movers' choices are invisible). Observations are ``{"observation": the episode's
    float32 observation, "action_mask": int8 [A_i]}`` (the mask is zero for agents not to move).
    Rewards are the stage rewards of every step. The episode ends by termination when the game's
    episode is over, and by truncation after ``max_steps`` steps.

    Args:
        game: The Markov game (a normal-form game is wrapped by :class:`OneShotMarkovGame`).
        max_steps: Step limit (default: ``game.default_horizon`` if it has one, else none).
        render_mode: ``None`` or ``"ansi"``.
        seed: Seed of the generator used until the first ``reset(seed=...)``.
    """

    metadata: dict[str, Any] = {  # noqa: RUF012 - PettingZoo reads it as a class attribute
        "render_modes": list(_RENDER_MODES),
        "name": "gamesolve_markov_v0",
        "is_parallelizable": True,
    }

    def __init__(
        self,
        game: SampledMarkovGame,
        *,
        max_steps: int | None = None,
        render_mode: str | None = None,
        seed: int | None = None,
    ) -> None:
        AECEnv.__init__(self)
        self._setup(game, max_steps=max_steps, render_mode=render_mode, seed=seed)
        self.metadata = {**type(self).metadata, "name": f"gamesolve_{game.spec.name}"}
        self.rewards: dict[str, float] = {}
        self._cumulative_rewards: dict[str, float] = {}
        self.terminations: dict[str, bool] = {}
        self.truncations: dict[str, bool] = {}
        self.infos: dict[str, dict[str, Any]] = {}
        self.agent_selection = self.possible_agents[0]
        self._turn = 0
        self._pending: list[int] = []

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Start a new episode; ``seed`` reseeds the generator the episode draws from."""
        episode = self._new_episode(seed)
        self.agents = list(self.possible_agents)
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, bool(episode.done))
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos = {a: {} for a in self.agents}
        self._begin_step()

    def _begin_step(self) -> None:
        self._read_step()
        self._turn = 0
        self._pending = []
        if self._movers:
            self.agent_selection = self.possible_agents[self._movers[0]]
        else:
            self.agent_selection = self.agents[0]

    def step(self, action: Any) -> None:
        """Record ``action`` for ``agent_selection``; the last mover of a step applies the joint action.

        Raises:
            RuntimeError: ``reset()`` was not called.
            ValueError: ``action`` is not a legal action of the acting agent.
        """
        episode = self._episode
        if episode is None:
            raise RuntimeError("call reset() before step()")
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return
        player = self._movers[self._turn]
        self._pending.append(self._check_action(player, action))
        self._cumulative_rewards[agent] = 0.0
        self._clear_rewards()
        self._turn += 1
        if self._turn < len(self._movers):
            self.agent_selection = self.possible_agents[self._movers[self._turn]]
        else:
            stage = np.asarray(episode.step(self._pending), dtype=np.float64)  # [P]
            self._steps += 1
            for i, name in enumerate(self.possible_agents):
                self.rewards[name] = float(stage[i])
            terminated = bool(episode.done)
            truncated = not terminated and self.max_steps is not None and self._steps >= self.max_steps
            if terminated:
                self.terminations = dict.fromkeys(self.agents, True)
            elif truncated:
                self.truncations = dict.fromkeys(self.agents, True)
            if terminated or truncated:
                self._read_step_final()
                self.agent_selection = self.agents[0]
            else:
                self._begin_step()
        self._accumulate_rewards()

    def _read_step_final(self) -> None:
        episode = self._episode
        assert episode is not None
        n = len(self.possible_agents)
        self._obs = {p: np.asarray(episode.observation(p), dtype=np.float32).reshape(-1) for p in range(n)}
        self._movers = ()
        self._legal = {}

    def observe(self, agent: str) -> dict[str, NDArray[Any]]:
        """The observation of ``agent`` at the start of the current step (mask zero unless acting)."""
        player = self.possible_agents.index(agent)
        acting = bool(self._movers) and agent == self.agent_selection
        return self._observation(player, acting)


class MarkovParallelEnv(_MarkovBase, ParallelEnv):
    """A PettingZoo parallel environment playing a :class:`~gamesolve.markov.SampledMarkovGame`.

    Build one with :func:`to_pettingzoo` (``parallel=True``). ``step`` takes one action per live
    agent; agents not among the episode's players to move (in turn-based games) are ignored and
    see an all-zero mask. Observations, rewards, termination and truncation are as in
    :class:`MarkovEnv`.

    Args:
        game: The Markov game (a normal-form game is wrapped by :class:`OneShotMarkovGame`).
        max_steps: Step limit (default: ``game.default_horizon`` if it has one, else none).
        render_mode: ``None`` or ``"ansi"``.
        seed: Seed of the generator used until the first ``reset(seed=...)``.
    """

    metadata: dict[str, Any] = {  # noqa: RUF012 - PettingZoo reads it as a class attribute
        "render_modes": list(_RENDER_MODES),
        "name": "gamesolve_markov_parallel_v0",
        "is_parallelizable": True,
    }

    def __init__(
        self,
        game: SampledMarkovGame,
        *,
        max_steps: int | None = None,
        render_mode: str | None = None,
        seed: int | None = None,
    ) -> None:
        self._setup(game, max_steps=max_steps, render_mode=render_mode, seed=seed)
        self.metadata = {**type(self).metadata, "name": f"gamesolve_{game.spec.name}"}

    def _observations(self, agents: Sequence[str]) -> dict[str, dict[str, NDArray[Any]]]:
        return {a: self._observation(self.possible_agents.index(a), True) for a in agents}

    def reset(
        self, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[dict[str, dict[str, NDArray[Any]]], dict[str, dict[str, Any]]]:
        """Start a new episode; returns every agent's observation and info."""
        episode = self._new_episode(seed)
        self.agents = list(self.possible_agents)
        self._read_step()
        observations = self._observations(self.agents)
        if episode.done:
            self.agents = []
        return observations, {a: {} for a in self.possible_agents}

    def step(
        self, actions: dict[str, Any]
    ) -> tuple[
        dict[str, dict[str, NDArray[Any]]],
        dict[str, float],
        dict[str, bool],
        dict[str, bool],
        dict[str, dict[str, Any]],
    ]:
        """Apply one action per live agent; returns observations, rewards, terminations, truncations, infos.

        Raises:
            RuntimeError: No live episode (call ``reset()``).
            ValueError: A mover's action is missing or illegal.
        """
        episode = self._episode
        if episode is None or not self.agents:
            raise RuntimeError("no live episode; call reset()")
        joint = []
        for p in self._movers:
            name = self.possible_agents[p]
            if name not in actions:
                raise ValueError(f"actions has no action for {name}, who is to move")
            joint.append(self._check_action(p, actions[name]))
        stage = np.asarray(episode.step(joint), dtype=np.float64)  # [P]
        self._steps += 1
        live = list(self.agents)
        terminated = bool(episode.done)
        truncated = not terminated and self.max_steps is not None and self._steps >= self.max_steps
        if terminated or truncated:
            self._read_step_final()
            self.agents = []
        else:
            self._read_step()
        observations = self._observations(live)
        rewards = {a: float(stage[self.possible_agents.index(a)]) for a in live}
        return (
            observations,
            rewards,
            dict.fromkeys(live, terminated),
            dict.fromkeys(live, truncated),
            {a: {} for a in live},
        )

    def _read_step_final(self) -> None:
        episode = self._episode
        assert episode is not None
        n = len(self.possible_agents)
        self._obs = {p: np.asarray(episode.observation(p), dtype=np.float32).reshape(-1) for p in range(n)}
        self._movers = ()
        self._legal = {}


def to_pettingzoo(
    game: Any,
    *,
    parallel: bool = False,
    render_mode: str | None = None,
    max_steps: int | None = None,
    seed: int | None = None,
) -> Any:
    """A PettingZoo environment that plays ``game``.

    Extensive-form games walk the game's own :class:`~gamesolve.State` objects, drawing chance
    outcomes from the env's generator (``reset(seed=...)`` makes play reproducible). The acting
    agent observes ``{"observation": one-hot of its information set over the compiled game's
    InfosetIndex, "action_mask": legal actions}`` (:meth:`ExtensiveFormEnv.infoset_key` decodes
    it); other agents observe zeros; rewards are the terminal returns, paid once at the end. In
    the AEC form of a simultaneous game the players choose in turn and the joint action applies
    when the last one has chosen, so later movers never see earlier choices; rewards are the
    undiscounted stage rewards (the game's discount is ``env.discount``) and a step limit ends an
    episode by truncation.

    Args:
        game: An extensive-form game (anything :func:`gamesolve.as_compiled` accepts, e.g.
            ``load_game("kuhn")``, ``load_game("leduc_poker")`` or a :class:`PettingZooTree`), a
            normal-form game (:class:`~gamesolve.TensorGame`, e.g. ``load_game("rps")``) or a Markov
            game implementing :class:`~gamesolve.markov.SampledMarkovGame`.
        parallel: Return a ``ParallelEnv`` (normal-form and Markov games only).
        render_mode: ``None`` or ``"ansi"``.
        max_steps: Step limit of Markov episodes (default ``game.default_horizon`` if present).
        seed: Seed of the env's generator until the first ``reset(seed=...)``.

    Returns:
        An :class:`ExtensiveFormEnv`, :class:`MarkovEnv` or :class:`MarkovParallelEnv`.

    Raises:
        UnsupportedGame: ``game`` is none of the above, or ``parallel=True`` for an
            extensive-form game.
        ValueError: ``max_steps`` or ``render_mode`` is invalid, or ``max_steps`` was given for an
            extensive-form game.

    >>> import gamesolve
    >>> env = to_pettingzoo(gamesolve.load_game("kuhn"))
    >>> env.reset(seed=0)
    >>> env.agent_selection, int(env.observe("player_0")["observation"].sum())
    ('player_0', 1)
    """
    spec = getattr(game, "spec", None)
    kind = spec.kind if isinstance(spec, GameSpec) else None
    markov: Any = None
    if isinstance(game, TensorGame) or (kind is GameKind.NORMAL_FORM and hasattr(game, "payoffs")):
        markov = OneShotMarkovGame(game)
    elif callable(getattr(game, "new_episode", None)) and kind in (GameKind.MARKOV, None):
        markov = game
    elif kind is GameKind.MARKOV:
        raise UnsupportedGame(
            f"Markov game {type(game).__name__} cannot be played: it has no "
            "new_episode(rng=..., max_steps=...)"
        )
    if markov is not None:
        cls = MarkovParallelEnv if parallel else MarkovEnv
        return cls(markov, max_steps=max_steps, render_mode=render_mode, seed=seed)
    if parallel:
        raise UnsupportedGame(
            "parallel=True needs a normal-form or Markov game; extensive-form games are turn-based "
            "(use the AEC env, or pettingzoo.utils.aec_to_parallel for turn-based parallel play)"
        )
    if max_steps is not None:
        raise ValueError("max_steps applies to Markov games only; extensive-form games end at terminals")
    return ExtensiveFormEnv(game, render_mode=render_mode, seed=seed)


# =============================================================================================
# PettingZoo -> gamesolve: sampled Markov games
# =============================================================================================


def _is_parallel(env: Any) -> bool:
    if isinstance(env, AECEnv):
        return False
    if isinstance(env, ParallelEnv):
        return True
    return not hasattr(env, "agent_selection")


def _discrete_actions(env: Any, agents: Sequence[str], what: str) -> tuple[int, ...]:
    out = []
    for agent in agents:
        space = env.action_space(agent)
        if not isinstance(space, spaces.Discrete):
            raise UnsupportedGame(
                f"{what} needs Discrete action spaces; agent {agent!r} has {space!r} "
                "(discretize it with a wrapper first)"
            )
        if int(space.start) != 0:
            raise UnsupportedGame(
                f"{what} needs Discrete action spaces starting at 0; agent {agent!r} has {space!r}"
            )
        out.append(int(space.n))
    return tuple(out)


class _Flattener:
    """Turns one agent's observations into flat float32 vectors of a fixed length."""

    def __init__(self, space: spaces.Space[Any], agent: str) -> None:
        self.inner = isinstance(space, spaces.Dict) and "observation" in space.spaces
        self.space = space["observation"] if isinstance(space, spaces.Dict) and self.inner else space
        try:
            self.size = int(spaces.flatdim(self.space))
        except (ValueError, NotImplementedError, TypeError) as exc:
            raise UnsupportedGame(
                f"the observation space of agent {agent!r} cannot be flattened: {exc}"
            ) from None

    def __call__(self, obs: Any) -> NDArray[np.float32]:
        if obs is None:
            return np.zeros(self.size, dtype=np.float32)
        if self.inner and isinstance(obs, dict):
            obs = obs["observation"]
        flat = np.asarray(spaces.flatten(self.space, obs), dtype=np.float32).reshape(-1)
        if flat.size != self.size:
            raise MalformedGameError(f"observation has {flat.size} entries, expected {self.size}")
        return flat


def _mask_of(obs: Any, info: Any) -> NDArray[np.int8] | None:
    if isinstance(obs, dict) and "action_mask" in obs:
        return np.asarray(obs["action_mask"], dtype=np.int8).reshape(-1)
    if isinstance(info, dict) and "action_mask" in info:
        return np.asarray(info["action_mask"], dtype=np.int8).reshape(-1)
    return None


class PettingZooMarkovGame:
    """A PettingZoo environment as a :class:`~gamesolve.markov.SampledMarkovGame`.

    Build one with :func:`from_pettingzoo`. Players are the environment's ``possible_agents`` in
    order. Given an environment instance, episodes share it: starting an episode resets the
    environment and ends the previous episode (using it afterwards raises ``RuntimeError``). Given
    a factory, every episode gets its own environment, so episodes can run side by side.

    Args:
        env_or_factory: A PettingZoo ``AECEnv`` or ``ParallelEnv``, or a callable returning one.
        discount: Discount in ``[0, 1]`` applied to the returns per step (default 1.0).
        utility: The players' payoff relation (default: general-sum).
        name: Name in the spec (default: the environment's ``metadata["name"]``).
        has_chance: Recorded in the spec (the environment's randomness cannot be inspected).

    Raises:
        UnsupportedGame: Not a PettingZoo environment, no ``possible_agents``, a non-Discrete
            action space, or an observation space that cannot be flattened.
        ValueError: ``discount`` outside ``[0, 1]``.
    """

    def __init__(
        self,
        env_or_factory: Any,
        *,
        discount: float = 1.0,
        utility: Utility | str | None = None,
        name: str | None = None,
        has_chance: bool = True,
    ) -> None:
        if isinstance(env_or_factory, AECEnv | ParallelEnv):
            env, factory = env_or_factory, None
        elif callable(env_or_factory):
            factory = env_or_factory
            env = factory()
        else:
            raise UnsupportedGame(
                f"env_or_factory must be a PettingZoo AECEnv or ParallelEnv, or a callable returning one, "
                f"got {type(env_or_factory).__name__}"
            )
        if not callable(getattr(env, "reset", None)) or not callable(getattr(env, "step", None)):
            raise UnsupportedGame(f"{type(env).__name__} is not a PettingZoo environment (no reset/step)")
        try:
            agents = list(env.possible_agents)
        except AttributeError:
            raise UnsupportedGame(
                f"{type(env).__name__} has no possible_agents; the players must be known in advance"
            ) from None
        if not agents:
            raise UnsupportedGame(f"{type(env).__name__} has no agents")
        try:
            gamma = float(discount)
        except (TypeError, ValueError):
            raise ValueError(f"discount must be a number in [0, 1], got {discount!r}") from None
        if not 0.0 <= gamma <= 1.0:
            raise ValueError(f"discount must be in [0, 1], got {discount!r}")
        if utility is None:
            kind = Utility.GENERAL_SUM
        else:
            try:
                kind = utility if isinstance(utility, Utility) else Utility(str(utility).lower())
            except ValueError:
                raise ValueError(
                    f"utility must be one of {[u.value for u in Utility]}, got {utility!r}"
                ) from None
        self._env = env
        self._factory = factory
        self._generation = 0
        self.parallel = _is_parallel(env)
        self.agents: tuple[str, ...] = tuple(agents)
        self._index = {a: i for i, a in enumerate(agents)}
        self._num_actions = _discrete_actions(env, agents, "from_pettingzoo")
        self._flatten = [_Flattener(env.observation_space(a), a) for a in agents]
        self._discount = gamma
        metadata = getattr(env, "metadata", None) or {}
        self._spec = GameSpec(
            name=name or str(metadata.get("name", type(env).__name__)),
            kind=GameKind.MARKOV,
            num_players=len(agents),
            utility=kind,
            has_chance=bool(has_chance),
            simultaneous=self.parallel,
            perfect_recall=True,
            perfect_information=False,
        )

    @property
    def spec(self) -> GameSpec:
        """The game's description (kind :attr:`GameKind.MARKOV`)."""
        return self._spec

    @property
    def num_actions(self) -> tuple[int, ...]:
        """Size of each agent's ``Discrete`` action space."""
        return self._num_actions

    @property
    def discount(self) -> float:
        """Discount applied to the returns per step."""
        return self._discount

    @property
    def observation_sizes(self) -> tuple[int, ...]:
        """Length of each player's flattened observation."""
        return tuple(f.size for f in self._flatten)

    def new_episode(self, *, rng: np.random.Generator, max_steps: int | None = None) -> PettingZooEpisode:
        """Reset an environment with a seed drawn from ``rng`` and return the episode.

        Args:
            rng: Source of the reset seed.
            max_steps: End the episode (truncated) after this many steps (``None``: the env decides).
        """
        if max_steps is not None and max_steps < 1:
            raise ValueError(f"max_steps must be >= 1, got {max_steps}")
        seed = int(rng.integers(0, 2**31 - 1))
        if self._factory is not None:
            env = self._factory()
        else:
            env = self._env
            self._generation += 1
        return PettingZooEpisode(
            self, env, seed, max_steps, self._generation if self._factory is None else -1
        )

    def __repr__(self) -> str:
        kind = "parallel" if self.parallel else "AEC"
        return f"PettingZooMarkovGame({self._spec.name!r}, {kind}, agents={list(self.agents)})"


class PettingZooEpisode:
    """One play of a :class:`PettingZooMarkovGame` (a :class:`~gamesolve.markov.MarkovEpisode`).

    AEC environments move one agent per step (finished agents' ``None`` steps are taken
    automatically); parallel environments move every live agent at once. Returns add up the
    rewards the environment reports after every step, weighted by ``discount ** t`` for step ``t``.
    """

    def __init__(
        self, game: PettingZooMarkovGame, env: Any, seed: int, max_steps: int | None, generation: int
    ) -> None:
        self._game = game
        self._env = env
        self._generation = generation
        self._n = len(game.agents)
        self._returns = np.zeros(self._n)
        self._weight = 1.0
        self.steps = 0
        self.max_steps = max_steps
        self.seed = seed
        self._truncated = False
        self._obs: dict[str, Any] = {}
        self._infos: dict[str, Any] = {}
        if game.parallel:
            obs, infos = env.reset(seed=seed)
            self._obs, self._infos = dict(obs), dict(infos)
        else:
            env.reset(seed=seed)
            self._collect()
            self._settle()

    # ------------------------------------------------------------------ internals
    def _check_live(self) -> None:
        if self._generation >= 0 and self._generation != self._game._generation:
            raise RuntimeError(
                "this episode's environment was reset by a newer episode; pass a factory to "
                "from_pettingzoo to run episodes side by side"
            )

    def _collect(self, rewards: dict[str, Any] | None = None) -> NDArray[np.float64]:
        """Add the rewards the env reports now (weighted) to the returns; the raw rewards ``[P]``."""
        out = np.zeros(self._n)
        source = self._env.rewards if rewards is None else rewards
        for agent, value in source.items():
            i = self._game._index.get(agent)
            if i is not None:
                out[i] += float(value)
        self._returns += self._weight * out
        return out

    def _settle(self) -> NDArray[np.float64]:
        """Take the ``None`` steps of finished AEC agents; returns the rewards they carried."""
        env = self._env
        total = np.zeros(self._n)
        while env.agents:
            agent = env.agent_selection
            if not (env.terminations.get(agent, False) or env.truncations.get(agent, False)):
                break
            env.step(None)
            total += self._collect()
        return total

    # ------------------------------------------------------------------ protocol
    @property
    def done(self) -> bool:
        """Whether every agent has finished (or ``max_steps`` was reached)."""
        self._check_live()
        return self._truncated or not self._env.agents

    @property
    def players_to_move(self) -> tuple[int, ...]:
        """The selected agent (AEC) or every live agent (parallel); empty when done."""
        if self.done:
            return ()
        if self._game.parallel:
            return tuple(sorted(self._game._index[a] for a in self._env.agents))
        return (self._game._index[self._env.agent_selection],)

    @property
    def returns(self) -> NDArray[np.float64]:
        """Discounted sum of each player's rewards so far ``[P]``."""
        return self._returns.copy()

    @property
    def env(self) -> Any:
        """The underlying PettingZoo environment."""
        return self._env

    def _raw(self, player: int) -> tuple[Any, Any]:
        agent = self._game.agents[player]
        if self._game.parallel:
            return self._obs.get(agent), self._infos.get(agent, {})
        try:
            obs = self._env.observe(agent)
        except (KeyError, ValueError, AttributeError):
            obs = None
        return obs, self._env.infos.get(agent, {})

    def observation(self, player: int) -> NDArray[np.float32]:
        """The player's observation, flattened to float32 (zeros if the env has none for it)."""
        self._check_live()
        obs, _ = self._raw(player)
        return self._game._flatten[player](obs)

    def legal_actions(self, player: int) -> NDArray[np.int64]:
        """From the ``action_mask`` in the observation or info, else every action of the space."""
        self._check_live()
        obs, info = self._raw(player)
        mask = _mask_of(obs, info)
        if mask is None:
            return np.arange(self._game.num_actions[player], dtype=np.int64)
        return np.flatnonzero(mask).astype(np.int64)

    def step(self, actions: Sequence[int]) -> NDArray[np.float64]:
        """Apply one action per player in :attr:`players_to_move`; the step's rewards ``[P]``.

        Raises:
            RuntimeError: The episode is over, or a newer episode reset the shared environment.
            ValueError: Wrong number of actions or an illegal action.
        """
        movers = self.players_to_move
        if not movers:
            raise RuntimeError("the episode is over; start a new one")
        if len(actions) != len(movers):
            raise ValueError(f"actions must give one action per player to move {movers}, got {actions!r}")
        chosen = {}
        for p, a in zip(movers, actions, strict=True):
            agent = self._game.agents[p]
            value = _as_action(a, agent)
            legal = self.legal_actions(p)
            if value not in legal:
                raise ValueError(f"action {value} is illegal for {agent}; legal actions are {legal.tolist()}")
            chosen[agent] = value
        if self._game.parallel:
            obs, rewards, _, _, infos = self._env.step(chosen)
            self._obs.update(obs)
            self._infos.update(infos)
            stage = self._collect(rewards)
        else:
            self._env.step(next(iter(chosen.values())))
            stage = self._collect()
            stage += self._settle()
        self.steps += 1
        self._weight *= self._game.discount
        if self.max_steps is not None and self.steps >= self.max_steps and self._env.agents:
            self._truncated = True
        return stage


def from_pettingzoo(
    env_or_factory: Any,
    *,
    discount: float = 1.0,
    utility: Utility | str | None = None,
    name: str | None = None,
    has_chance: bool = True,
) -> PettingZooMarkovGame:
    """Wrap a PettingZoo environment as a :class:`~gamesolve.markov.SampledMarkovGame`.

    Players are ``possible_agents`` in order. ``new_episode(rng=...)`` resets the environment with
    a seed drawn from ``rng``; ``players_to_move`` is the selected agent (AEC) or every live agent
    (parallel); legal actions come from the ``action_mask`` in the observation dict or in
    ``info["action_mask"]``, else all actions of the ``Discrete`` space; observations are
    flattened to float32 (the ``"observation"`` entry of a dict observation).

    Args:
        env_or_factory: A PettingZoo ``AECEnv`` or ``ParallelEnv`` (episodes then share it), or a
            callable returning a fresh one (one environment per episode).
        discount: Discount in ``[0, 1]`` of the returns per step (default 1.0).
        utility: The payoff relation for the spec (:class:`~gamesolve.Utility` or its value);
            default general-sum, since it cannot be read off an environment.
        name: Name in the spec (default: the environment's ``metadata["name"]``).
        has_chance: Recorded in the spec.

    Raises:
        UnsupportedGame: Not a PettingZoo environment, a non-Discrete action space, or an
            observation space that cannot be flattened.

    >>> import numpy as np
    >>> from pettingzoo.classic import tictactoe_v3
    >>> game = from_pettingzoo(tictactoe_v3.env, utility="zero_sum")
    >>> episode = game.new_episode(rng=np.random.default_rng(0))
    >>> episode.players_to_move, episode.legal_actions(0).tolist()
    ((0,), [0, 1, 2, 3, 4, 5, 6, 7, 8])
    """
    return PettingZooMarkovGame(
        env_or_factory, discount=discount, utility=utility, name=name, has_chance=has_chance
    )


# =============================================================================================
# PettingZoo -> gamesolve: exact game trees
# =============================================================================================


def _canonical(x: Any) -> Hashable:
    """A hashable value that is equal for equal observations (arrays by dtype, shape and bytes)."""
    if isinstance(x, np.ndarray):
        return (x.dtype.str, x.shape, x.tobytes())
    if isinstance(x, np.generic):
        return (x.dtype.str, x.tobytes())
    if isinstance(x, dict):
        return tuple((str(k), _canonical(v)) for k, v in sorted(x.items(), key=lambda kv: str(kv[0])))
    if isinstance(x, list | tuple):
        return tuple(_canonical(v) for v in x)
    if x is None or isinstance(x, bool | int | float | str | bytes):
        return x
    return repr(x)


def _wrapper_chain(env: Any) -> list[Any]:
    """``[env, env.env, env.env.env, ...]`` read through ``__dict__`` (wrappers forward getattr)."""
    chain: list[Any] = []
    obj = env
    while obj is not None and all(obj is not seen for seen in chain):
        chain.append(obj)
        obj = vars(obj).get("env") if hasattr(obj, "__dict__") else None
    return chain


def _shared_objects(env: Any) -> dict[int, Any]:
    """Objects copies may share (a deepcopy memo seed): spaces and metadata, which are not state."""
    shared: dict[int, Any] = {}
    for agent in env.possible_agents:
        for space in (env.observation_space(agent), env.action_space(agent)):
            shared[id(space)] = space
    for obj in _wrapper_chain(env):
        attrs = vars(obj) if hasattr(obj, "__dict__") else {}
        for name in ("observation_spaces", "action_spaces", "metadata"):
            value = attrs.get(name)
            if isinstance(value, dict):
                shared[id(value)] = value
    return shared


def _copy_env(env: Any, shared: dict[int, Any] | None = None) -> Any:
    """A deep copy of ``env`` with its state; the objects in ``shared`` are not copied.

    ``gymnasium.utils.EzPickle`` (the base of PettingZoo's own environments) pickles an env as its
    constructor arguments, so a plain ``copy.deepcopy`` returns a fresh, un-reset environment. The
    EzPickle objects on the wrapper chain (``env.env.env...``) are therefore copied by their
    ``__dict__``; everything else goes through ``copy.deepcopy``.
    """
    memo: dict[int, Any] = dict(shared) if shared else {}
    try:
        for obj in reversed(_wrapper_chain(env)):  # innermost first; outer copies find them in memo
            if isinstance(obj, EzPickle) and not hasattr(type(obj), "__deepcopy__"):
                clone = object.__new__(type(obj))
                memo[id(obj)] = clone
                clone.__dict__.update(copy.deepcopy(vars(obj), memo))
        return copy.deepcopy(env, memo)
    except Exception as exc:  # deepcopy can fail in many ways (locks, C handles, sockets, ...)
        raise UnsupportedGame(
            f"compile_pettingzoo needs an environment that copy.deepcopy can copy; copying "
            f"{type(env).__name__} failed: {type(exc).__name__}: {exc}"
        ) from None


def _fingerprint_marker(*args: Any) -> None:
    """Reduce callable named in state fingerprints (fingerprints are hashed, never unpickled)."""


_NOT_STATE = (
    type,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.ModuleType,
    types.MethodType,
    np.ndarray,
    np.generic,
)


_SLOT_NAMES: dict[type, tuple[str, ...]] = {}


def _slot_names(cls: type) -> tuple[str, ...]:
    """Every ``__slots__`` attribute name of ``cls`` and its bases (cached)."""
    cached = _SLOT_NAMES.get(cls)
    if cached is not None:
        return cached
    names: list[str] = []
    for klass in cls.__mro__:
        declared = klass.__dict__.get("__slots__", ())
        for name in (declared,) if isinstance(declared, str) else declared:
            if name not in ("__dict__", "__weakref__") and name not in names:
                names.append(name)
    _SLOT_NAMES[cls] = tuple(names)
    return _SLOT_NAMES[cls]


class _FingerprintPickler(pickle.Pickler):
    """Serializes an environment's attributes for the merge key (never unpickled).

    Objects with a ``__dict__`` are written as their type, attributes, slots and (for container
    subclasses) items, so EzPickle's constructor-argument pickling is bypassed; the ``shared``
    objects (spaces, metadata) by identity; objects that cannot be pickled (render surfaces, locks)
    by their type name only; everything else as ``pickle`` writes it.
    """

    def __init__(self, file: io.BytesIO, shared: dict[int, Any]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._shared = shared

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _NOT_STATE):
            return NotImplemented
        if id(obj) in self._shared:
            return (_fingerprint_marker, ("shared", id(obj)))
        attrs = getattr(obj, "__dict__", None)
        if isinstance(attrs, dict):
            cls = type(obj)
            slots = {name: getattr(obj, name) for name in _slot_names(cls) if hasattr(obj, name)}
            contents: Any = None
            if isinstance(obj, dict):
                contents = list(obj.items())
            elif isinstance(obj, list | tuple | set | frozenset):
                contents = list(obj)
            return (_fingerprint_marker, (cls.__module__, cls.__qualname__), (attrs, slots, contents))
        try:
            obj.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
        except Exception:  # not picklable: not game state we can compare
            return (_fingerprint_marker, ("opaque", type(obj).__qualname__))
        return NotImplemented


def _digest(value: Any, shared: dict[int, Any]) -> bytes:
    buffer = io.BytesIO()
    _FingerprintPickler(buffer, shared).dump(value)
    return hashlib.blake2b(buffer.getvalue(), digest_size=16).digest()


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
        self.num_actions = _discrete_actions(env, self.agents, "compile_pettingzoo")
        self.shared = _shared_objects(env)
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
        out = np.zeros(self.n)
        for agent, value in env.rewards.items():
            i = self.index.get(agent)
            if i is not None:
                out[i] += float(value)
        return out

    def settle(self, env: Any) -> NDArray[np.float64]:
        """Take finished agents' ``None`` steps; returns the rewards reported along the way."""
        total = np.zeros(self.n)
        while env.agents:
            agent = env.agent_selection
            if not (env.terminations.get(agent, False) or env.truncations.get(agent, False)):
                break
            env.step(None)
            total += self.rewards(env)
        return total

    def state_key(self, env: Any) -> Hashable:
        """What identifies an environment state for merging (documented in compile_pettingzoo)."""
        mode = self._merge_mode
        if callable(mode):
            return mode(env)
        key = self.observation_key(env)
        if mode == "observations":
            return key
        try:
            return _digest((key, env), self.shared)
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
            tuple(_canonical(env.observe(a)) for a in live),
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
            mask = _mask_of(obs, env.infos.get(agent, {}))
            if mask is None:
                legal = tuple(range(self.num_actions[player]))
            else:
                legal = tuple(int(a) for a in np.flatnonzero(mask))
            if not legal:
                raise MalformedGameError(f"{agent} is to move but its action mask allows no action")
            if max(legal) >= self.num_actions[player]:
                raise MalformedGameError(f"the action mask of {agent} is longer than its action space")
            okey = (player, _canonical(obs), legal)
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
        mask = _mask_of(env.observe(agent), env.infos.get(agent, {}))
        first = 0 if mask is None or not mask.any() else int(np.flatnonzero(mask)[0])
        moved = _copy_env(env, self.shared)
        try:
            moved.step(first)
            self.settle(moved)
            again = _copy_env(moved, self.shared)
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
                kid_env = env if k == len(legal) - 1 else _copy_env(env, self.shared)
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
    root_env = _copy_env(env, explorer.shared)  # never step the caller's environment
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
