"""What the PettingZoo adapters read from PettingZoo's API, in one place.

Action ids given as Python or NumPy integers, action masks (in the observation dict or the info),
``Discrete`` action spaces, the rewards an environment reports, and the ``None`` steps that
finished agents of an AEC environment must take (Terry et al. 2021, "PettingZoo: Gym for
multi-agent reinforcement learning", NeurIPS).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
from gymnasium import spaces
from numpy.typing import NDArray

from gamesolve.errors import UnsupportedGame

__all__ = [
    "action_mask",
    "as_action",
    "discrete_action_counts",
    "legal_from_mask",
    "reward_vector",
    "step_finished_agents",
]


def as_action(action: Any, agent: str) -> int:
    """An integer action id from ``action`` (Python or NumPy integer, or a 0-d integer array).

    Raises:
        ValueError: ``action`` is not an integer (the message names ``agent``).
    """
    try:
        value = np.asarray(action)
        if value.shape != () or not np.issubdtype(value.dtype, np.integer):
            raise TypeError
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"the action of {agent} must be an integer action id, got {action!r}") from None


def action_mask(obs: Any, info: Any) -> NDArray[np.int8] | None:
    """The ``action_mask`` of an observation dict, else of the info dict, else ``None``."""
    if isinstance(obs, dict) and "action_mask" in obs:
        return np.asarray(obs["action_mask"], dtype=np.int8).reshape(-1)
    if isinstance(info, dict) and "action_mask" in info:
        return np.asarray(info["action_mask"], dtype=np.int8).reshape(-1)
    return None


def legal_from_mask(mask: NDArray[np.int8] | None, num_actions: int) -> NDArray[np.int64]:
    """The action ids a mask allows, in order; every action of the space without a mask."""
    if mask is None:
        return np.arange(num_actions, dtype=np.int64)
    return np.flatnonzero(mask).astype(np.int64)


def discrete_action_counts(env: Any, agents: Sequence[str], what: str) -> tuple[int, ...]:
    """The size of every agent's ``Discrete`` action space.

    Raises:
        UnsupportedGame: An action space is not ``Discrete`` or does not start at 0 (the message
            names ``what`` needs it).
    """
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


def reward_vector(
    rewards: Mapping[str, Any], index: Mapping[str, int], num_players: int
) -> NDArray[np.float64]:
    """Rewards keyed by agent as a vector ``[P]`` (agents not in ``index`` are left out)."""
    out = np.zeros(num_players)
    for agent, value in rewards.items():
        i = index.get(agent)
        if i is not None:
            out[i] += float(value)
    return out


def step_finished_agents(
    env: Any, collect: Callable[[], NDArray[np.float64]], num_players: int
) -> NDArray[np.float64]:
    """Take the ``None`` steps of finished agents of an AEC env; the sum of ``collect()`` after each.

    PettingZoo's AEC protocol asks every terminated or truncated agent to step once with ``None``
    while it is selected; ``collect`` reads the rewards reported after such a step.
    """
    total = np.zeros(num_players)
    while env.agents:
        agent = env.agent_selection
        if not (env.terminations.get(agent, False) or env.truncations.get(agent, False)):
            break
        env.step(None)
        total += collect()
    return total
