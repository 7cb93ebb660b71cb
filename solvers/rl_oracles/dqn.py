"""Double DQN best response, the ``"dqn"`` oracle.

Mnih et al. 2015, "Human-level control through deep reinforcement learning"; van Hasselt, Guez &
Silver 2016, "Deep reinforcement learning with double Q-learning": a replay buffer filled by
epsilon-greedy batched episodes, a target network synced every ``target_sync`` updates, and the
greedy policy of the learned Q-values as the response.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.compiled import CompiledGame
from gamesolve.rl_env import ResponseEnv
from gamesolve.solvers.rl_oracles.base import (
    Curve,
    Learned,
    RLOracle,
    forward_torch,
    from_torch,
    init_layers,
    to_torch,
)
from gamesolve.solvers.rl_oracles.response import masked_argmax
from gamesolve.validation import check_bool, check_int

__all__ = ["DQNOracle", "dqn_oracle"]


def _random_legal(legal: NDArray[np.bool_], u: NDArray[np.float64]) -> NDArray[np.int64]:
    """A uniform legal slot per row (legal slots are a prefix 0..n-1)."""
    width = legal.sum(axis=1)
    return np.minimum((u * width).astype(np.int64), np.maximum(width - 1, 0))


class DQNOracle(RLOracle):
    """Double DQN best response (the ``"dqn"`` oracle).

    Args:
        hidden: Hidden layer widths (ReLU), a non-empty list of integers >= 1.
        learning_rate: Adam step size (finite, > 0).
        batch_size: Minibatch size (>= 1).
        buffer_size: Replay capacity in transitions (>= ``batch_size``).
        warmup: Transitions collected before the first update (>= 0).
        updates_per_step: Gradient steps per batched environment step (``num_envs`` transitions;
            >= 1).
        target_sync: Gradient steps between copies of the online weights into the target network
            (>= 1).
        epsilon_start: Exploration probability at the start, in ``[0, 1]``.
        epsilon_end: Exploration probability after the decay, in ``[0, 1]``.
        epsilon_fraction: Fraction of ``steps`` over which epsilon decays linearly, in ``[0, 1]``.
        anneal_lr: Decay the learning rate linearly to 0 over the budget (default ``True``): the
            last Q-values are then an average rather than a noisy last SGD step, which matters
            where two actions' values are close (responses to near-equilibrium policies).
        num_envs, device, threads, features, draw: The options every oracle has, see
            :class:`~gamesolve.solvers.rl_oracles.base.RLOracle` (defaults: 32 parallel episodes,
            ``"cpu"``, 1 thread, ``"auto"`` features, ``"profile"`` draws).

    Raises:
        InvalidArgumentError: An option outside these ranges, naming it.
    """

    name = "dqn"

    def __init__(
        self,
        *,
        hidden: Sequence[int] = (128,),
        learning_rate: float = 1e-3,
        batch_size: int = 128,
        buffer_size: int = 50_000,
        warmup: int = 500,
        updates_per_step: int = 1,
        target_sync: int = 100,
        epsilon_start: float = 1.0,
        epsilon_end: float = 0.05,
        epsilon_fraction: float = 0.5,
        anneal_lr: bool = True,
        num_envs: int = 32,
        device: str = "cpu",
        threads: int = 1,
        features: str | Callable[[CompiledGame, int], ArrayLike] | None = "auto",
        draw: str = "profile",
    ) -> None:
        super().__init__(
            hidden=hidden,
            num_envs=num_envs,
            device=device,
            threads=threads,
            features=features,
            draw=draw,
        )
        self.learning_rate = self._positive("learning_rate", learning_rate)
        self.batch_size = self._checked(check_int, "batch_size", batch_size, minimum=1)
        self.buffer_size = self._checked(check_int, "buffer_size", buffer_size, minimum=self.batch_size)
        self.warmup = self._checked(check_int, "warmup", warmup, minimum=0)
        self.updates_per_step = self._checked(check_int, "updates_per_step", updates_per_step, minimum=1)
        self.target_sync = self._checked(check_int, "target_sync", target_sync, minimum=1)
        self.epsilon_start = self._fraction("epsilon_start", epsilon_start)
        self.epsilon_end = self._fraction("epsilon_end", epsilon_end)
        self.epsilon_fraction = self._fraction("epsilon_fraction", epsilon_fraction)
        self.anneal_lr = self._checked(check_bool, "anneal_lr", anneal_lr)

    def options(self) -> dict[str, Any]:
        """The DQN options as JSON-ready values (``config()`` adds the shared ones)."""
        return {
            "learning_rate": self.learning_rate,
            "batch_size": self.batch_size,
            "buffer_size": self.buffer_size,
            "warmup": self.warmup,
            "updates_per_step": self.updates_per_step,
            "target_sync": self.target_sync,
            "epsilon_start": self.epsilon_start,
            "epsilon_end": self.epsilon_end,
            "epsilon_fraction": self.epsilon_fraction,
            "anneal_lr": self.anneal_lr,
        }

    def learn(
        self, torch: Any, device: Any, env: ResponseEnv, rng: np.random.Generator, steps: int
    ) -> Learned:
        """Double DQN with a replay buffer and epsilon-greedy exploration for ``steps`` transitions."""
        scale = env.utility_scale
        widths = [env.obs_dim, *self.hidden, env.num_actions]
        params = to_torch(torch, init_layers(rng, widths, 1.0), device)
        target = [p.detach().clone() for p in params]
        opt = torch.optim.Adam(params, lr=self.learning_rate)
        cap = min(self.buffer_size, max(steps, self.batch_size))
        buf_obs = np.zeros((cap, env.obs_dim), dtype=np.float32)
        buf_next = np.zeros((cap, env.obs_dim), dtype=np.float32)
        buf_next_legal = np.zeros((cap, env.num_actions), dtype=bool)
        buf_act = np.zeros(cap, dtype=np.int64)
        buf_rew = np.zeros(cap, dtype=np.float32)
        buf_done = np.zeros(cap, dtype=np.float32)
        size = head = 0
        updates = 0
        curve = Curve(steps)
        decay = max(1.0, self.epsilon_fraction * steps)
        step = env.reset(rng)
        t = 0
        b = env.num_envs
        while t < steps:
            eps = self.epsilon_start + min(1.0, t / decay) * (self.epsilon_end - self.epsilon_start)
            with torch.no_grad():
                q = forward_torch(torch, params, torch.from_numpy(step.observation).to(device))
            greedy = masked_argmax(q.cpu().numpy().astype(np.float64), step.legal)
            draws = rng.random((b, 2))
            actions = np.where(draws[:, 0] < eps, _random_legal(step.legal, draws[:, 1]), greedy)
            nxt = env.step(actions, rng)
            # Store the batch (autoreset: every slot was waiting on a decision).
            pos = (head + np.arange(b)) % cap
            buf_obs[pos] = step.observation
            buf_act[pos] = actions
            buf_rew[pos] = nxt.reward / scale
            buf_done[pos] = nxt.done
            buf_next[pos] = nxt.observation
            buf_next_legal[pos] = nxt.legal
            head = (head + b) % cap
            size = min(cap, size + b)
            t += b
            curve.add(t, nxt)
            step = nxt
            if t < self.warmup or size < self.batch_size:
                continue
            if self.anneal_lr:
                for group in opt.param_groups:
                    group["lr"] = self.learning_rate * max(0.0, 1.0 - t / steps)
            for _ in range(self.updates_per_step):
                idx = rng.integers(0, size, size=self.batch_size)
                self._update(
                    torch,
                    device,
                    params,
                    target,
                    opt,
                    idx,
                    buf_obs,
                    buf_act,
                    buf_rew,
                    buf_done,
                    buf_next,
                    buf_next_legal,
                )
                updates += 1
                if updates % self.target_sync == 0:
                    with torch.no_grad():
                        for tp, p in zip(target, params, strict=True):
                            tp.copy_(p)
        return Learned(from_torch(params), t, updates, curve.array())

    @staticmethod
    def _update(
        torch: Any,
        device: Any,
        params: list[Any],
        target: list[Any],
        opt: Any,
        idx: NDArray[np.int64],
        obs: NDArray[np.float32],
        act: NDArray[np.int64],
        rew: NDArray[np.float32],
        done: NDArray[np.float32],
        nxt: NDArray[np.float32],
        nxt_legal: NDArray[np.bool_],
    ) -> None:
        """One double-DQN step: ``y = r + (1 - done) Q_target(s', argmax_{a legal} Q(s', a))``."""
        o = torch.from_numpy(obs[idx]).to(device)
        n = torch.from_numpy(nxt[idx]).to(device)
        legal = torch.from_numpy(nxt_legal[idx]).to(device)
        with torch.no_grad():
            q_next_online = forward_torch(torch, params, n).masked_fill(~legal, -torch.inf)
            best = q_next_online.argmax(dim=1, keepdim=True)
            q_next = forward_torch(torch, target, n).gather(1, best)[:, 0]
            not_done = 1.0 - torch.from_numpy(done[idx]).to(device)
            y = torch.from_numpy(rew[idx]).to(device) + not_done * torch.nan_to_num(q_next, neginf=0.0)
        q = forward_torch(torch, params, o).gather(1, torch.from_numpy(act[idx]).to(device)[:, None])[:, 0]
        loss = torch.nn.functional.mse_loss(q, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


def dqn_oracle(**config: Any) -> DQNOracle:
    """A :class:`DQNOracle` with the given keyword configuration (entry point ``dqn`` of gamesolve.oracles).

    Raises:
        InvalidArgumentError: An unknown option name (the message lists the known ones) or a bad
            value.
    """
    return DQNOracle.from_options(config)
