"""The batched-environment interface: ``B`` episodes of one game stepped together.

Every backend (compiled trees in numba, OpenSpiel states, PettingZoo envs) implements
:class:`VectorEnv`; learners and evaluators see only this interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.errors import InvalidArgumentError
from gamesolve.spec import GameSpec

__all__ = ["OBSERVATION_KINDS", "TimeStep", "VectorEnv"]

#: ``"info_state"``: what the acting player knows (OpenSpiel's ``information_state_tensor`` or the
#: native encoder); ``"observation"``: what it sees now (``observation_tensor``, PettingZoo's
#: ``observation``).
OBSERVATION_KINDS = ("info_state", "observation")


@dataclass(frozen=True)
class TimeStep:
    """The batch after :meth:`VectorEnv.reset` or :meth:`VectorEnv.step`.

    Attributes:
        observation: ``[B, F]`` float32: the acting player's observation in each episode.
        legal: ``[B, A]`` bool: column ``j`` is action id ``j`` (``A``: distinct action ids).
        player: ``[B]`` int64: the player to act in each episode.
        reward: ``[B, P]`` float64: every player's return of the episodes that ended in this call
            (zero elsewhere: rewards arrive when an episode ends).
        done: ``[B]`` bool: the episode in this slot ended in this call; the slot already holds a
            fresh episode, whose first decision ``observation``, ``legal`` and ``player`` describe.
    """

    observation: NDArray[np.float32]
    legal: NDArray[np.bool_]
    player: NDArray[np.int64]
    reward: NDArray[np.float64]
    done: NDArray[np.bool_]


class VectorEnv(ABC):
    """``num_envs`` episodes of one game, stepped together; finished episodes restart by themselves.

    Chance is sampled from the environment's own generator (seeded at construction), so the same
    seed and the same actions give the same episode stream.

    Attributes:
        spec: What the game is (:class:`~gamesolve.spec.GameSpec`).
        num_envs: ``B``.
        num_players: ``P``.
        num_actions: ``A``, the number of distinct action ids.
        observation_size: ``F``.
        observation_kind: One of :data:`OBSERVATION_KINDS`.
        episodes: Episodes finished so far.
    """

    spec: GameSpec
    num_envs: int
    num_players: int
    num_actions: int
    observation_size: int
    observation_kind: str
    episodes: int

    @abstractmethod
    def reset(self) -> TimeStep:
        """Start ``B`` fresh episodes (the generator is not rewound) and return their first step."""

    @abstractmethod
    def step(self, actions: ArrayLike) -> TimeStep:
        """Play one action id per episode (``[B]`` int) and advance to the next decisions."""

    def check_actions(self, actions: ArrayLike, legal: NDArray[np.bool_]) -> NDArray[np.int64]:
        """``actions`` as ``[B]`` int64 action ids that are legal in ``legal``, or a clear error."""
        arr = np.asarray(actions)
        if arr.shape != (self.num_envs,) or not (
            np.issubdtype(arr.dtype, np.integer) or (arr.dtype == bool and arr.size == 0)
        ):
            raise InvalidArgumentError(
                f"actions must be {self.num_envs} integer action ids (shape ({self.num_envs},)), "
                f"got {_describe(arr)}"
            )
        out = arr.astype(np.int64, copy=False)
        bad = (out < 0) | (out >= self.num_actions)
        if not bad.any():
            bad = ~legal[np.arange(self.num_envs), out]
        if bad.any():
            b = int(np.flatnonzero(bad)[0])
            allowed = np.flatnonzero(legal[b]).tolist()
            raise InvalidArgumentError(
                f"actions[{b}] = {int(out[b])} is not legal in slot {b}; legal action ids: {allowed}"
            )
        return out

    @property
    def observation_shape(self) -> tuple[int, ...]:
        """The observation's own shape (its ``F`` values in C order).

        ``(F,)`` unless the backend knows better: OpenSpiel's board games give ``(C, H, W)``.
        """
        return (int(self.observation_size),)

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release what the backend holds (processes, envs); the default holds nothing."""

    def __enter__(self) -> VectorEnv:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _describe(arr: NDArray[Any]) -> str:
    return f"dtype {arr.dtype} and shape {arr.shape}"
