"""Complete self-play episodes on the batched environment, for the on-policy deep learners.

:func:`collect_episodes` plays ``num_envs`` episodes of a :class:`~gamesolve.solvers.deep.common.DeepGame`
at once with one network acting for every player: ``min_steps`` batched steps, after which the
episodes under way are played to their end and no new ones are recorded, so every recorded episode
is complete and no value needs bootstrapping. The result is a :class:`Rollout` in *step-major*
layout: row ``s * num_envs + e`` is batched step ``s`` of environment ``e`` (reshape any per-row
array to ``[steps, num_envs]`` for a time-major view), with each player's decisions linked along its
own episode (``next``) and its return credited at its last decision (``reward``, ``terminal``).
Rows outside a recorded episode have ``valid`` false. PPO, neural MMD and R-NaD build on it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.errors import GamesolveError
from gamesolve.solvers.deep.common import DeepGame
from gamesolve.vector_env import VectorEnv

__all__ = ["MAX_EXTRA_STEPS", "Rollout", "collect_episodes", "gae", "training_batch"]

#: Batched steps past ``min_steps`` after which unfinished episodes are dropped from a rollout.
MAX_EXTRA_STEPS = 10_000

#: ``act(observation [B, F], legal [B, A]) -> (log-probabilities [B, A], values [B] or None)``.
ActFn = Callable[
    [NDArray[np.float32], NDArray[np.bool_]], tuple[NDArray[np.float64], NDArray[np.float64] | None]
]


@dataclass(eq=False)
class Rollout:
    """Self-play transitions in step-major layout (``N = steps * num_envs`` rows).

    Attributes:
        obs: ``[N, F]`` the acting player's observation.
        legal: ``[N, A]`` its legal actions.
        action: ``[N]`` the action taken.
        logp: ``[N]`` its log-probability under the behaviour network.
        value: ``[N]`` the network's value for the acting player (zeros without a value head).
        player: ``[N]`` who acted.
        serial: ``[N]`` episode number within the row's environment.
        next: ``[N]`` the row of the same player's next decision in the episode, ``-1`` at its last.
        reward: ``[N]`` the acting player's return at its last decision in the episode, else 0.
        terminal: ``[N]`` whether the row is that last decision.
        valid: ``[N]`` whether the row belongs to a recorded, complete episode.
        num_envs: ``B``.
        steps: Batched steps taken.
        episodes: Recorded episodes that ended.
    """

    obs: NDArray[np.float32]
    legal: NDArray[np.bool_]
    action: NDArray[np.int64]
    logp: NDArray[np.float64]
    value: NDArray[np.float64]
    player: NDArray[np.int64]
    serial: NDArray[np.int64]
    next: NDArray[np.int64]
    reward: NDArray[np.float64]
    terminal: NDArray[np.bool_]
    valid: NDArray[np.bool_]
    num_envs: int
    steps: int
    episodes: int


def collect_episodes(
    game: DeepGame,
    act: ActFn,
    *,
    num_envs: int,
    min_steps: int,
    rng: np.random.Generator,
    name: str,
    update: int,
    env: VectorEnv | None = None,
) -> Rollout:
    """Play ``num_envs`` environments for ``min_steps`` batched steps, then finish the episodes under way.

    Args:
        game: The prepared game.
        act: The acting network (see :data:`ActFn`), called once per batched step.
        num_envs: Environments stepped together.
        min_steps: Batched steps after which no new episode is recorded.
        rng: Seeds the environment and draws the actions.
        name: The learner's name, for error messages.
        update: The update this rollout is for, for error messages.
        env: The environment to play (``num_envs`` slots; closed afterwards); default: a fresh
            ``game.env`` seeded from ``rng``.

    Raises:
        GamesolveError: The network gives non-finite outputs (the message names ``update``).
    """
    from gamesolve.neural.policy import sample_rows

    b, players = num_envs, game.num_players
    if env is None:
        env = game.env(b, int(rng.integers(1 << 31)))
    elif env.num_envs != b:
        raise ValueError(f"env has {env.num_envs} slots, not num_envs={b}")
    rows = np.arange(b)
    capacity = (min_steps + 64) * b
    nxt = np.full(capacity, -1, dtype=np.int64)
    rew = np.zeros(capacity)
    term = np.zeros(capacity, dtype=np.bool_)
    episodes = 0
    try:
        ts = env.reset()
        collecting = np.ones(b, dtype=np.bool_)
        serial = np.zeros(b, dtype=np.int64)
        last = np.full((b, players), -1, dtype=np.int64)
        steps: list[dict[str, NDArray[np.generic]]] = []
        s = 0
        while collecting.any() and s < min_steps + MAX_EXTRA_STEPS:
            logp_np, value_np = act(ts.observation, ts.legal)
            if value_np is None:
                value_np = np.zeros(b)
            if not (np.isfinite(logp_np[ts.legal]).all() and np.isfinite(value_np).all()):
                raise GamesolveError(
                    f"{name}: the network gives non-finite outputs at update {update}; the state keeps "
                    f"update {update - 1}: lower learning_rate or check the game's rewards"
                )
            probs = np.where(ts.legal, np.exp(logp_np), 0.0)
            actions = sample_rows(probs, rng.random(b))
            steps.append(
                {
                    "obs": ts.observation.copy(),
                    "legal": ts.legal.copy(),
                    "action": actions,
                    "logp": logp_np[rows, actions],
                    "value": value_np,
                    "player": ts.player.astype(np.int64),
                    "rec": collecting.copy(),
                    "serial": serial.copy(),
                }
            )
            if (s + 1) * b > capacity:
                capacity *= 2
                nxt = np.concatenate([nxt, np.full(capacity - nxt.size, -1, dtype=np.int64)])
                rew = np.concatenate([rew, np.zeros(capacity - rew.size)])
                term = np.concatenate([term, np.zeros(capacity - term.size, dtype=np.bool_)])
            flat = s * b + rows
            rec = collecting
            p = ts.player
            prev = last[rows, p]
            link = rec & (prev >= 0)
            nxt[prev[link]] = flat[link]
            last[rows[rec], p[rec]] = flat[rec]
            ts = env.step(actions)
            ended = ts.done & rec
            episodes += int(ended.sum())
            js = last[ended]  # [E, P] each player's last decision in the ended episodes
            has = js >= 0
            rew[js[has]] = ts.reward[ended][has]
            term[js[has]] = True
            last[ts.done] = -1
            serial[ts.done] += 1
            s += 1
            if s >= min_steps:
                collecting &= ~ts.done
    finally:
        env.close()
    cat = {k: np.concatenate([st[k] for st in steps]) for k in steps[0]}
    valid = cat["rec"].copy()
    if collecting.any():  # episodes cut off by MAX_EXTRA_STEPS: dropped
        env_of = np.tile(rows, s)
        cut = collecting[env_of] & (cat["serial"] == serial[env_of])
        valid &= ~cut
    return Rollout(
        obs=cat["obs"],
        legal=cat["legal"],
        action=cat["action"],
        logp=cat["logp"],
        value=cat["value"],
        player=cat["player"],
        serial=cat["serial"],
        next=nxt[: s * b],
        reward=rew[: s * b],
        terminal=term[: s * b],
        valid=valid,
        num_envs=b,
        steps=s,
        episodes=episodes,
    )


def gae(rollout: Rollout, value: NDArray[np.float64], *, gamma: float, lam: float) -> NDArray[np.float64]:
    """Generalized advantage estimates along each player's own decisions (Schulman et al. 2016).

    ``value`` is the per-row value estimate (usually ``rollout.value``); a player's return arrives at
    its last decision, and nothing is bootstrapped past it. Returns the ``[N]`` advantages; the value
    targets are ``advantages + value``.
    """
    b = rollout.num_envs
    adv = np.zeros_like(value)
    for k in range(rollout.steps - 1, -1, -1):
        sl = slice(k * b, (k + 1) * b)
        nx = rollout.next[sl]
        tm = rollout.terminal[sl] | (nx < 0)
        safe = np.where(tm, 0, nx)
        next_value = np.where(tm, 0.0, value[safe])
        next_adv = np.where(tm, 0.0, adv[safe])
        delta = rollout.reward[sl] + gamma * next_value - value[sl]
        adv[sl] = delta + gamma * lam * next_adv
    return adv


def training_batch(
    rollout: Rollout, adv: NDArray[np.float64], keep: NDArray[np.int64]
) -> dict[str, NDArray[Any]]:
    """The rows ``keep`` of a rollout as the batch :meth:`PPO.fit_rollout` trains on.

    ``adv`` are the ``[N]`` advantages (:func:`gae`); the value targets are ``adv + value``.
    """
    return {
        "obs": rollout.obs[keep],
        "legal": rollout.legal[keep],
        "action": rollout.action[keep],
        "logp": rollout.logp[keep],
        "adv": adv[keep],
        "ret": (adv + rollout.value)[keep],
        "episodes": np.asarray(rollout.episodes),
        "steps": np.asarray(rollout.steps),
    }
