"""Batched environments for any game: ``B`` episodes stepped together, observations as tensors.

>>> import gamesolve
>>> env = gamesolve.vector_env("kuhn_poker", num_envs=4, seed=0)
>>> ts = env.reset()
>>> ts.observation.shape[0], ts.legal.shape, ts.player.shape
(4, (4, 2), (4,))

Backends: compiled trees stepped in numba (native games and any game small enough to compile),
OpenSpiel states through pyspiel (games far too large to compile), PettingZoo envs. A game that
brings its own backend implements :class:`VectorEnvSource`; every other game is compiled and
stepped on its tree.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from gamesolve.errors import InvalidArgumentError
from gamesolve.validation import check_choice, check_int
from gamesolve.vector_env.base import OBSERVATION_KINDS, TimeStep, VectorEnv

__all__ = ["OBSERVATION_KINDS", "TimeStep", "VectorEnv", "VectorEnvSource", "vector_env"]


@runtime_checkable
class VectorEnvSource(Protocol):
    """A game that builds its own batched environment (OpenSpiel, PettingZoo, native games)."""

    def vector_env(self, *, num_envs: int, seed: int, observation: str) -> VectorEnv:
        """``num_envs`` episodes of this game with ``observation`` tensors, chance seeded by ``seed``."""
        ...


def vector_env(
    game: Any,
    *,
    num_envs: int = 1,
    seed: int = 0,
    observation: str = "info_state",
    workers: int | None = None,
    executor: str = "local",
    address: str | None = None,
) -> VectorEnv:
    """``num_envs`` episodes of ``game`` stepped together.

    Args:
        game: Anything :func:`gamesolve.load_game` returns, or a game string.
        num_envs: ``B``, the number of episodes in the batch.
        seed: Seeds the environment's own generator (chance); the same seed and the same actions
            give the same episode stream.
        observation: ``"info_state"`` (what the acting player knows) or ``"observation"`` (what it
            sees now).
        workers: ``None`` (default): stepped in this process. A number: the batch is cut into that
            many shards stepped by worker processes (``executor="local"``) or Ray actors
            (``executor="ray"``, on this machine or the cluster at ``address``), see
            :class:`~gamesolve.vector_env.sharded.ShardedVectorEnv`; shard ``i`` is seeded from
            ``(seed, i)``, so the stream depends on the seed and the worker count only.
        executor: Where the workers run (with ``workers``): ``"local"`` or ``"ray"``.
        address: The Ray cluster (with ``executor="ray"``; default: this machine's Ray).

    Raises:
        InvalidArgumentError: a bad ``num_envs``, ``seed`` or ``observation``.
        UnsupportedGame: the game has no tensors of that kind (the message names the alternative),
            or is neither compilable nor able to build its own environment.
    """
    num_envs = check_int("num_envs", num_envs, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    observation = check_choice("observation", observation, OBSERVATION_KINDS)
    if workers is not None:
        from gamesolve.vector_env.sharded import ShardedVectorEnv

        return ShardedVectorEnv(
            game,
            num_envs=num_envs,
            seed=seed,
            observation=observation,
            workers=check_int("workers", workers, minimum=1),
            executor=executor,
            address=address,
        )
    if executor != "local" or address is not None:
        raise InvalidArgumentError("executor and address apply with workers=N only")
    if isinstance(game, str):
        from gamesolve.registry import load_game

        game = load_game(game)
    if isinstance(game, VectorEnvSource):
        return game.vector_env(num_envs=num_envs, seed=seed, observation=observation)
    from gamesolve.vector_env.tree import TreeVectorEnv

    return TreeVectorEnv(game, num_envs=num_envs, seed=seed, observation=observation)
