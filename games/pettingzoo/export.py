"""gamesolve games as PettingZoo environments (:func:`to_pettingzoo`).

An extensive-form game becomes an :class:`ExtensiveFormEnv` (AEC; the acting agent observes the
one-hot of its information set and the action mask); a normal-form or Markov game a
:class:`MarkovEnv` (AEC) or a :class:`MarkovParallelEnv`. Every environment passes
``pettingzoo.test.api_test`` (Terry et al. 2021, "PettingZoo: Gym for multi-agent reinforcement
learning", NeurIPS). Agents are named ``"player_0", "player_1", ...``.
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray
from pettingzoo import AECEnv, ParallelEnv

from gamesolve.compiled import as_compiled
from gamesolve.errors import MalformedGameError, UnsupportedGame
from gamesolve.games.pettingzoo.api import as_action
from gamesolve.games.pettingzoo.tree_state import TreeState
from gamesolve.markov import MarkovEpisode, SampledMarkovGame, TabularMarkovGame
from gamesolve.normal_form import TensorGame, classify_utility
from gamesolve.protocols import CHANCE, State
from gamesolve.spec import GameKind, GameSpec

__all__ = [
    "ExtensiveFormEnv",
    "MarkovEnv",
    "MarkovParallelEnv",
    "NormalFormEpisode",
    "OneShotMarkovGame",
    "to_pettingzoo",
]

log = logging.getLogger(__name__)

_RENDER_MODES = ("ansi",)


def _metadata(name: str, *, parallelizable: bool) -> dict[str, Any]:
    """The class-level ``metadata`` PettingZoo reads (instances rename it after their game)."""
    return {"render_modes": list(_RENDER_MODES), "name": name, "is_parallelizable": parallelizable}


def _check_render_mode(render_mode: str | None) -> str | None:
    if render_mode is not None and render_mode not in _RENDER_MODES:
        raise ValueError(f"render_mode must be None or one of {list(_RENDER_MODES)}, got {render_mode!r}")
    return render_mode


def _draw(rng: np.random.Generator, probs: Sequence[float]) -> int:
    """Index drawn from ``probs`` (robust to rounding: the last index absorbs any shortfall)."""
    cumulative = np.cumsum(np.asarray(probs, dtype=np.float64))
    pick = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return min(pick, len(cumulative) - 1)


class _GameEnv(abc.ABC):
    """What every environment of this module shares: agents, spaces, generator, render and close.

    Subclasses set ``observation_spaces`` and ``action_spaces`` and describe themselves in
    :meth:`_describe`.
    """

    metadata: dict[str, Any]
    observation_spaces: dict[str, spaces.Space[Any]]
    action_spaces: dict[str, spaces.Space[Any]]

    def _init_game_env(self, name: str, num_players: int, render_mode: str | None, seed: int | None) -> None:
        self.metadata = {**type(self).metadata, "name": f"gamesolve_{name}"}
        self.render_mode = _check_render_mode(render_mode)
        self.possible_agents = [f"player_{i}" for i in range(num_players)]
        self.agents: list[str] = []
        self._rng = np.random.default_rng(seed)

    def observation_space(self, agent: str) -> spaces.Space[Any]:
        """The observation space of ``agent`` (the same object on every call)."""
        return self.observation_spaces[agent]

    def action_space(self, agent: str) -> spaces.Space[Any]:
        """``Discrete(A)``: the action ids of ``agent`` (the same object on every call)."""
        return self.action_spaces[agent]

    @abc.abstractmethod
    def _describe(self) -> str:
        """The one-line text of :meth:`render` (each env says what it shows)."""

    def render(self) -> str | None:
        """A one-line text description (``render_mode="ansi"``).

        Returns ``None`` (and logs a warning) without a render mode.
        """
        if self.render_mode is None:
            log.warning("render() called without a render_mode; pass render_mode='ansi'")
            return None
        return self._describe()

    def close(self) -> None:  # noqa: B027 - a real no-op, not a hook to override
        """Nothing to release."""


class _TurnBasedEnv(AECEnv):
    """The AEC bookkeeping the turn-based environments share: rewards, flags, infos, dead steps.

    Subclasses call ``super().__init__()`` last, once ``possible_agents`` is set.
    """

    def __init__(self) -> None:
        super().__init__()
        self.rewards: dict[str, float] = {}
        self._cumulative_rewards: dict[str, float] = {}
        self.terminations: dict[str, bool] = {}
        self.truncations: dict[str, bool] = {}
        self.infos: dict[str, dict[str, Any]] = {}
        self.agent_selection = self.possible_agents[0]

    def _start_agents(self, *, terminated: bool) -> None:
        """Every agent live again, with zero rewards and empty infos."""
        self.agents = list(self.possible_agents)
        self.rewards = dict.fromkeys(self.agents, 0.0)
        self._cumulative_rewards = dict.fromkeys(self.agents, 0.0)
        self.terminations = dict.fromkeys(self.agents, terminated)
        self.truncations = dict.fromkeys(self.agents, False)
        self.infos = {a: {} for a in self.agents}

    def _acting_agent(self, action: Any) -> str | None:
        """The agent ``action`` is for, or ``None`` once a finished agent's ``None`` step is taken."""
        agent = self.agent_selection
        if self.terminations[agent] or self.truncations[agent]:
            self._was_dead_step(action)
            return None
        return agent


# =============================================================================================
# Extensive-form games
# =============================================================================================


class ExtensiveFormEnv(_GameEnv, _TurnBasedEnv):
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

    metadata = _metadata("gamesolve_extensive_form_v0", parallelizable=False)

    def __init__(self, game: Any, *, render_mode: str | None = None, seed: int | None = None) -> None:
        compiled = as_compiled(game)
        initial = getattr(game, "initial_state", None)
        self.game = game
        self.compiled = compiled
        self._root: Callable[[], State] = initial if callable(initial) else (lambda: TreeState(compiled))
        self._init_game_env(compiled.spec.name, compiled.num_players, render_mode, seed)
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
        self._state: State | None = None
        self._legal: tuple[int, ...] = ()
        self._infoset = -1
        super().__init__()

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Start a new game; ``seed`` reseeds the chance generator."""
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._start_agents(terminated=False)
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
        agent = self._acting_agent(action)
        if agent is None:
            return
        a = as_action(action, agent)
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

    def _describe(self) -> str:
        """The acting agent and its infoset, or the returns."""
        if self._state is None:
            return "not started (call reset())"
        if self._state.is_terminal():
            return f"game over, returns {[float(r) for r in self._state.returns()]}"
        return f"{self.agent_selection} to act at infoset {self.compiled.infosets.key(self._infoset)!r}"


# =============================================================================================
# Normal-form and Markov games
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


class _MarkovBase(_GameEnv):
    """State shared by the AEC and parallel Markov environments (their constructor).

    Args:
        game: The Markov game (a normal-form game is wrapped by :class:`OneShotMarkovGame`).
        max_steps: Step limit (default: ``game.default_horizon`` if it has one, else none).
        render_mode: ``None`` or ``"ansi"``.
        seed: Seed of the generator used until the first ``reset(seed=...)``.
    """

    def __init__(
        self,
        game: SampledMarkovGame,
        *,
        max_steps: int | None = None,
        render_mode: str | None = None,
        seed: int | None = None,
    ) -> None:
        spec = game.spec
        if not callable(getattr(game, "new_episode", None)):
            raise UnsupportedGame(f"game must implement new_episode(rng=..., max_steps=...), got {game!r}")
        self.game = game
        self.discount = float(game.discount)
        self.max_steps = _resolve_max_steps(game, max_steps)
        self._init_game_env(spec.name, spec.num_players, render_mode, seed)
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
        self._episode: MarkovEpisode | None = None
        self._steps = 0
        self._movers: tuple[int, ...] = ()
        self._legal: dict[int, NDArray[np.int64]] = {}
        self._obs: dict[int, NDArray[np.float32]] = {}
        super().__init__()

    def _new_episode(self, seed: int | None) -> MarkovEpisode:
        if seed is not None:
            self._rng = np.random.default_rng(seed)
        self._steps = 0
        # One step of slack, so that the env (not the episode) decides truncation at max_steps.
        limit = None if self.max_steps is None else self.max_steps + 1
        self._episode = self.game.new_episode(rng=self._rng, max_steps=limit)
        return self._episode

    def _read_observations(self) -> MarkovEpisode:
        episode = self._episode
        assert episode is not None
        n = len(self.possible_agents)
        self._obs = {p: np.asarray(episode.observation(p), dtype=np.float32).reshape(-1) for p in range(n)}
        return episode

    def _read_step(self) -> None:
        """Cache observations and the movers' legal actions at the start of a step."""
        episode = self._read_observations()
        self._movers = () if episode.done else tuple(int(p) for p in episode.players_to_move)
        if not episode.done and not self._movers:
            raise MalformedGameError("the episode is not over but players_to_move is empty")
        self._legal = {p: np.asarray(episode.legal_actions(p), dtype=np.int64) for p in self._movers}
        for p, legal in self._legal.items():
            if legal.size == 0:
                raise MalformedGameError(f"player {p} is to move but has no legal actions")

    def _read_final(self) -> None:
        """Cache the final observations; nobody moves any more."""
        self._read_observations()
        self._movers = ()
        self._legal = {}

    def _play(self, joint: list[int]) -> tuple[NDArray[np.float64], bool, bool]:
        """Apply the joint action: the stage rewards ``[P]``, whether terminated, whether truncated."""
        episode = self._episode
        assert episode is not None
        stage = np.asarray(episode.step(joint), dtype=np.float64)  # [P]
        self._steps += 1
        terminated = bool(episode.done)
        truncated = not terminated and self.max_steps is not None and self._steps >= self.max_steps
        return stage, terminated, truncated

    def _observation(self, player: int, acting: bool) -> dict[str, NDArray[Any]]:
        mask = np.zeros(self._num_actions[player], dtype=np.int8)
        if acting and player in self._legal:
            mask[self._legal[player]] = 1
        return {"observation": self._obs[player].copy(), "action_mask": mask}

    def _check_action(self, player: int, action: Any) -> int:
        agent = self.possible_agents[player]
        a = as_action(action, agent)
        if a not in self._legal[player]:
            raise ValueError(
                f"action {a} is illegal for {agent}; legal actions are {self._legal[player].tolist()}"
            )
        return a

    def _describe(self) -> str:
        state = getattr(self._episode, "state", None)
        return f"step {self._steps}, state {state}, players to move {list(self._movers)}"


class MarkovEnv(_MarkovBase, _TurnBasedEnv):
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

    metadata = _metadata("gamesolve_markov_v0", parallelizable=True)

    _turn = 0  # movers of the current step who have chosen
    _pending: list[int]  # their actions (set by reset)

    def reset(self, seed: int | None = None, options: dict[str, Any] | None = None) -> None:
        """Start a new episode; ``seed`` reseeds the generator the episode draws from."""
        episode = self._new_episode(seed)
        self._start_agents(terminated=bool(episode.done))
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
        if self._episode is None:
            raise RuntimeError("call reset() before step()")
        agent = self._acting_agent(action)
        if agent is None:
            return
        player = self._movers[self._turn]
        self._pending.append(self._check_action(player, action))
        self._cumulative_rewards[agent] = 0.0
        self._clear_rewards()
        self._turn += 1
        if self._turn < len(self._movers):
            self.agent_selection = self.possible_agents[self._movers[self._turn]]
        else:
            stage, terminated, truncated = self._play(self._pending)
            for i, name in enumerate(self.possible_agents):
                self.rewards[name] = float(stage[i])
            if terminated:
                self.terminations = dict.fromkeys(self.agents, True)
            elif truncated:
                self.truncations = dict.fromkeys(self.agents, True)
            if terminated or truncated:
                self._read_final()
                self.agent_selection = self.agents[0]
            else:
                self._begin_step()
        self._accumulate_rewards()

    def observe(self, agent: str) -> dict[str, NDArray[Any]]:
        """The observation of ``agent`` at the start of the current step (mask zero unless acting)."""
        player = self.possible_agents.index(agent)
        acting = bool(self._movers) and agent == self.agent_selection
        return self._observation(player, acting)


class MarkovParallelEnv(_MarkovBase, ParallelEnv):
    """A PettingZoo parallel environment playing a :class:`~gamesolve.markov.SampledMarkovGame`.

    Build one with :func:`to_pettingzoo` (``parallel=True``). ``step`` takes one action per live
    agent; agents not among the episode's players to move (in turn-based games) are ignored and
    see an all-zero mask. Observations, rewards, termination and truncation, and the arguments, are
    as in :class:`MarkovEnv`.
    """

    metadata = _metadata("gamesolve_markov_parallel_v0", parallelizable=True)

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
        if self._episode is None or not self.agents:
            raise RuntimeError("no live episode; call reset()")
        joint = []
        for p in self._movers:
            name = self.possible_agents[p]
            if name not in actions:
                raise ValueError(f"actions has no action for {name}, who is to move")
            joint.append(self._check_action(p, actions[name]))
        stage, terminated, truncated = self._play(joint)
        live = list(self.agents)
        if terminated or truncated:
            self._read_final()
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
