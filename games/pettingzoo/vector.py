"""Batched environments on PettingZoo games: ``B`` environments stepped agent by agent.

:class:`PettingZooVectorEnv` runs ``B`` copies of a PettingZoo AEC or parallel environment (Terry
et al. 2021, "PettingZoo: Gym for multi-agent reinforcement learning", NeurIPS) behind
:class:`~gamesolve.vector_env.VectorEnv`: the acting agent's ``observation`` flattened, its
``action_mask`` as the legal mask, the rewards summed per agent and delivered when the episode
ends, and a fresh episode (seeded from the slot's own generator) in its place.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from gamesolve.errors import InvalidArgumentError, MalformedGameError, UnsupportedGame
from gamesolve.games.pettingzoo.api import action_mask, reward_vector, step_finished_agents
from gamesolve.games.pettingzoo.sampled import PettingZooMarkovGame
from gamesolve.validation import check_choice, check_int
from gamesolve.vector_env.base import OBSERVATION_KINDS, TimeStep, VectorEnv

__all__ = ["PettingZooVectorEnv"]

#: Largest reset seed drawn from a slot's generator.
_SEED_LIMIT = 2**31 - 1


class _Slot:
    """One environment of the batch, with the episode's returns so far."""

    __slots__ = ("env", "generator", "pending", "returns", "stage_infos", "stage_obs", "weight")

    def __init__(self, env: Any, generator: np.random.Generator, num_players: int) -> None:
        self.env = env
        self.generator = generator
        self.returns = np.zeros(num_players)
        self.weight = 1.0
        self.pending: dict[str, int] = {}  # parallel envs: the actions chosen so far this stage
        self.stage_obs: dict[str, Any] = {}
        self.stage_infos: dict[str, Any] = {}


class PettingZooVectorEnv(VectorEnv):
    """``num_envs`` environments of a PettingZoo game, stepped together one agent at a time.

    AEC environments move their selected agent (finished agents' ``None`` steps are taken
    automatically); parallel environments are asked for one live agent's action at a time, in
    ``possible_agents`` order, and stepped once every live agent has chosen (each chooses from the
    observation of the stage before, so no agent sees another's choice of the same stage). Returns
    add up the rewards the environment reports, discounted by the game's ``discount`` per step,
    and arrive in ``reward`` when the episode ends.

    Every slot has its own generator (spawned from ``seed``) that draws the seed of each reset, so
    a slot's episodes depend only on ``seed``, the slot and the actions played in it.

    Args:
        game: A :class:`~gamesolve.games.pettingzoo.sampled.PettingZooMarkovGame`
            (:func:`~gamesolve.games.pettingzoo.from_pettingzoo`); given an instance rather than a
            factory, the slots hold deep copies of it.
        num_envs: ``B``.
        seed: Seeds the slots' generators.
        observation: ``"observation"``, the only kind PettingZoo environments have.

    Raises:
        UnsupportedGame: ``observation="info_state"`` (the message names ``"observation"``), or an
            instance that cannot be copied.
    """

    def __init__(
        self, game: PettingZooMarkovGame, *, num_envs: int, seed: int, observation: str = "observation"
    ) -> None:
        if not isinstance(game, PettingZooMarkovGame):
            raise UnsupportedGame(f"PettingZooVectorEnv needs a PettingZoo game, got {type(game).__name__}")
        self.num_envs = check_int("num_envs", num_envs, minimum=1)
        self.seed = check_int("seed", seed, minimum=0)
        self.observation_kind = check_choice("observation", observation, OBSERVATION_KINDS)
        if self.observation_kind != "observation":
            raise UnsupportedGame(
                f"PettingZoo game {game.spec.name!r} has no information-state tensor; its environments "
                'show observations: use observation="observation"'
            )
        self.game = game
        self.spec = game.spec
        self.num_players = len(game.agents)
        self.num_actions = max(game.num_actions)
        self.observation_size = max(game.observation_sizes)
        self.episodes = 0
        self._index = {agent: i for i, agent in enumerate(game.agents)}
        generators = [
            np.random.default_rng(s) for s in np.random.SeedSequence(self.seed).spawn(self.num_envs)
        ]
        self._slots = [_Slot(game.make_env(), g, self.num_players) for g in generators]
        self._started = False
        B = self.num_envs
        self._observation = np.zeros((B, self.observation_size), dtype=np.float32)
        self._legal = np.zeros((B, self.num_actions), dtype=bool)
        self._player = np.zeros(B, dtype=np.int64)
        self._reward = np.zeros((B, self.num_players), dtype=np.float64)
        self._done = np.zeros(B, dtype=bool)

    @property
    def environments(self) -> tuple[Any, ...]:
        """The slots' PettingZoo environments (read them, do not step them)."""
        return tuple(slot.env for slot in self._slots)

    def reset(self) -> TimeStep:
        """Start ``B`` fresh episodes (the generators go on where they were)."""
        self._reward.fill(0.0)
        self._done.fill(False)
        for b, slot in enumerate(self._slots):
            self._start(slot)
            self._show(b, slot)
        self._started = True
        return self._time_step()

    def step(self, actions: ArrayLike) -> TimeStep:
        """Play ``actions[b]`` in slot ``b``; an episode that ends restarts in the same call.

        Raises:
            InvalidArgumentError: :meth:`reset` was not called, ``actions`` is not ``[B]`` integer
                action ids, or one is illegal (the message names the slot and its legal ids);
                nothing is played then.
        """
        if not self._started:
            raise InvalidArgumentError("call reset() before step(actions)")
        chosen = self.check_actions(actions, self._legal)
        self._reward.fill(0.0)
        self._done.fill(False)
        for b, (slot, action) in enumerate(zip(self._slots, chosen.tolist(), strict=True)):
            if self._play(slot, int(self._player[b]), action):
                self._reward[b] = slot.returns
                self._done[b] = True
                self.episodes += 1
                self._start(slot)
            self._show(b, slot)
        return self._time_step()

    def close(self) -> None:
        """Close the slots' environments."""
        for slot in self._slots:
            close = getattr(slot.env, "close", None)
            if callable(close):
                close()

    def __repr__(self) -> str:
        kind = "parallel" if self.game.parallel else "AEC"
        return (
            f"PettingZooVectorEnv({self.spec.name!r}, {kind}, num_envs={self.num_envs}, "
            f"F={self.observation_size}, A={self.num_actions})"
        )

    # ------------------------------------------------------------------ internals
    def _time_step(self) -> TimeStep:
        return TimeStep(
            observation=self._observation.copy(),
            legal=self._legal.copy(),
            player=self._player.copy(),
            reward=self._reward.copy(),
            done=self._done.copy(),
        )

    def _collect(self, slot: _Slot, rewards: Any) -> None:
        slot.returns += slot.weight * reward_vector(rewards, self._index, self.num_players)

    def _start(self, slot: _Slot) -> None:
        """Reset the slot's environment with a seed from its generator; settle finished agents."""
        slot.returns = np.zeros(self.num_players)
        slot.weight = 1.0
        slot.pending = {}
        env = slot.env
        reset_seed = int(slot.generator.integers(0, _SEED_LIMIT))
        if self.game.parallel:
            obs, infos = env.reset(seed=reset_seed)
            slot.stage_obs, slot.stage_infos = dict(obs), dict(infos)
        else:
            env.reset(seed=reset_seed)
            self._collect(slot, env.rewards)
            self._settle(slot)
        if not env.agents:
            raise MalformedGameError(f"{self.spec.name}: an episode ended at its reset, before any move")

    def _settle(self, slot: _Slot) -> None:
        def collect() -> Any:
            self._collect(slot, slot.env.rewards)
            return np.zeros(self.num_players)

        step_finished_agents(slot.env, collect, self.num_players)

    def _acting(self, slot: _Slot) -> str:
        """The agent to act next in the slot."""
        env = slot.env
        if not self.game.parallel:
            return str(env.agent_selection)
        live = set(env.agents)
        return next(a for a in self.game.agents if a in live and a not in slot.pending)

    def _play(self, slot: _Slot, player: int, action: int) -> bool:
        """Play ``player``'s ``action`` in the slot; whether its episode ended."""
        env = slot.env
        if self.game.parallel:
            slot.pending[self.game.agents[player]] = action
            if any(a not in slot.pending for a in env.agents):
                return False
            obs, rewards, _, _, infos = env.step(dict(slot.pending))
            slot.pending = {}
            slot.stage_obs.update(obs)
            slot.stage_infos.update(infos)
            self._collect(slot, rewards)
        else:
            env.step(action)
            self._collect(slot, env.rewards)
            self._settle(slot)
        slot.weight *= self.game.discount
        return not env.agents

    def _show(self, b: int, slot: _Slot) -> None:
        """Write the acting agent's observation, mask and index into row ``b``."""
        agent = self._acting(slot)
        player = self._index[agent]
        if self.game.parallel:
            obs, info = slot.stage_obs.get(agent), slot.stage_infos.get(agent, {})
        else:
            obs, info = slot.env.observe(agent), slot.env.infos.get(agent, {})
        flat = self.game.flatten_observation(player, obs)
        row = self._observation[b]
        row[: flat.size] = flat
        row[flat.size :] = 0.0
        mask = action_mask(obs, info)
        legal = self._legal[b]
        legal.fill(False)
        n = self.game.num_actions[player]
        if mask is None:
            legal[:n] = True
        else:
            allowed = mask[:n] != 0
            legal[: allowed.size] = allowed
        if not legal.any():
            raise MalformedGameError(
                f"{self.spec.name}: agent {agent!r} must act but its action mask allows nothing"
            )
        self._player[b] = player
