"""PettingZoo environments as gamesolve games (:func:`from_pettingzoo`).

Any PettingZoo AEC or parallel environment (Terry et al. 2021, "PettingZoo: Gym for multi-agent
reinforcement learning", NeurIPS) becomes a :class:`~gamesolve.markov.SampledMarkovGame`, so
sampled tournaments and RL best responses can play it. Players are the environment's
``possible_agents`` in order.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray
from pettingzoo import AECEnv, ParallelEnv

from gamesolve.errors import MalformedGameError, UnsupportedGame
from gamesolve.games.pettingzoo.api import (
    action_mask,
    as_action,
    discrete_action_counts,
    legal_from_mask,
    reward_vector,
    step_finished_agents,
)
from gamesolve.spec import GameKind, GameSpec, Utility

__all__ = ["PettingZooEpisode", "PettingZooMarkovGame", "from_pettingzoo"]


def _is_parallel(env: Any) -> bool:
    if isinstance(env, AECEnv):
        return False
    if isinstance(env, ParallelEnv):
        return True
    return not hasattr(env, "agent_selection")


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
        self._num_actions = discrete_action_counts(env, agents, "from_pettingzoo")
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

    def make_env(self) -> Any:
        """A fresh environment of this game: the factory's, else a deep copy of the given instance.

        Raises:
            UnsupportedGame: The game wraps an instance that cannot be copied (pass a factory).
        """
        if self._factory is not None:
            return self._factory()
        try:
            return copy.deepcopy(self._env)
        except Exception as exc:  # any failure of a foreign env's copy
            raise UnsupportedGame(
                f"{self._spec.name}: the environment instance cannot be copied ({type(exc).__name__}: "
                f"{exc}); pass a factory to from_pettingzoo to run episodes side by side"
            ) from None

    def flatten_observation(self, player: int, obs: Any) -> NDArray[np.float32]:
        """``player``'s observation (its ``"observation"`` entry of a dict) flattened to float32."""
        return self._flatten[player](obs)

    def vector_env(self, *, num_envs: int, seed: int, observation: str = "observation") -> Any:
        """``num_envs`` environments of this game stepped together (:func:`gamesolve.vector_env`).

        See :class:`~gamesolve.games.pettingzoo.vector.PettingZooVectorEnv`; the only observation
        kind is ``"observation"`` (what the environment shows the acting agent).

        Raises:
            UnsupportedGame: ``observation="info_state"`` (the message names ``"observation"``).
        """
        from gamesolve.games.pettingzoo.vector import PettingZooVectorEnv

        return PettingZooVectorEnv(self, num_envs=num_envs, seed=seed, observation=observation)

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
        source = self._env.rewards if rewards is None else rewards
        out = reward_vector(source, self._game._index, self._n)
        self._returns += self._weight * out
        return out

    def _settle(self) -> NDArray[np.float64]:
        """Take the ``None`` steps of finished AEC agents; returns the rewards they carried."""
        return step_finished_agents(self._env, self._collect, self._n)

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
        return legal_from_mask(action_mask(obs, info), self._game.num_actions[player])

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
            value = as_action(a, agent)
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
