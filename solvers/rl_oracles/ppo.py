"""PPO best response, the ``"ppo"`` oracle.

Schulman et al. 2017, "Proximal policy optimization algorithms"; Schulman et al. 2016,
"High-dimensional continuous control using generalized advantage estimation": clipped surrogate,
GAE without discounting, learning rate and entropy bonus annealed to 0, so the stochastic policy
itself, the response, can become the deterministic best response.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.compiled import CompiledGame
from gamesolve.errors import GamesolveError
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
from gamesolve.solvers.rl_oracles.response import masked_softmax
from gamesolve.validation import check_int, check_real
from gamesolve.vector_env.response import VectorResponseEnv

__all__ = ["MAX_EXTRA_STEPS", "PPOOracle", "ppo_oracle"]

#: Batched steps past ``rollout_length`` within which every recorded episode must end.
MAX_EXTRA_STEPS = 10_000


class PPOOracle(RLOracle):
    """PPO best response (the ``"ppo"`` oracle).

    Args:
        hidden: Hidden layer widths of the actor and of the critic (ReLU), integers >= 1.
        learning_rate: Adam step size at the start (annealed linearly to 0; finite, > 0).
        rollout_length: Batched environment steps per update (``num_envs * rollout_length``
            transitions per batch; >= 1).
        epochs: Passes over each batch (>= 1).
        minibatches: Minibatches per pass (>= 1).
        clip: PPO ratio clip (finite, > 0).
        gae_lambda: GAE lambda in ``[0, 1]`` (no discounting: gamma = 1).
        entropy_coef: Entropy bonus at the start (annealed linearly to 0, so the policy can become
            the deterministic best response; finite, >= 0).
        value_coef: Weight of the critic's squared error (finite, >= 0).
        max_grad_norm: Gradient clipping norm (finite, > 0).
        minimax_coef: The Minimax Exploiter's shaping (Bairamian, Marcotte, Romoff, Robert and
            Nowrouzezahrai 2024, "Minimax Exploiter: A data efficient approach for competitive
            self-play"), tensor learner only: when :meth:`train_vector` is given the opponent's
            value function, every decision of the responder is also paid ``-minimax_coef`` times
            the opponent's own value estimate at the opponent's next decision (in a zero-sum game,
            a dense signal of how much the move hurt the opponent by its own account); 0 (default)
            trains on the game's rewards only. Finite, >= 0.
        num_envs, device, threads, features, draw: The options every oracle has, see
            :class:`~gamesolve.solvers.rl_oracles.base.RLOracle` (defaults: 64 parallel episodes,
            ``"cpu"``, 1 thread, ``"auto"`` features, ``"profile"`` draws).

    Raises:
        InvalidArgumentError: An option outside these ranges, naming it.
    """

    name = "ppo"

    def __init__(
        self,
        *,
        hidden: Sequence[int] = (128,),
        learning_rate: float = 3e-3,
        rollout_length: int = 8,
        epochs: int = 4,
        minibatches: int = 4,
        clip: float = 0.2,
        gae_lambda: float = 0.95,
        entropy_coef: float = 0.02,
        value_coef: float = 0.5,
        max_grad_norm: float = 1.0,
        minimax_coef: float = 0.0,
        num_envs: int = 64,
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
        self.rollout_length = self._checked(check_int, "rollout_length", rollout_length, minimum=1)
        self.epochs = self._checked(check_int, "epochs", epochs, minimum=1)
        self.minibatches = self._checked(check_int, "minibatches", minibatches, minimum=1)
        self.clip = self._positive("clip", clip)
        self.gae_lambda = self._fraction("gae_lambda", gae_lambda)
        self.entropy_coef = float(self._checked(check_real, "entropy_coef", entropy_coef, minimum=0.0))
        self.value_coef = float(self._checked(check_real, "value_coef", value_coef, minimum=0.0))
        self.max_grad_norm = self._positive("max_grad_norm", max_grad_norm)
        self.minimax_coef = float(self._checked(check_real, "minimax_coef", minimax_coef, minimum=0.0))

    def options(self) -> dict[str, Any]:
        """The PPO options as JSON-ready values (``config()`` adds the shared ones)."""
        return {
            "learning_rate": self.learning_rate,
            "rollout_length": self.rollout_length,
            "epochs": self.epochs,
            "minibatches": self.minibatches,
            "clip": self.clip,
            "gae_lambda": self.gae_lambda,
            "minimax_coef": self.minimax_coef,
            "entropy_coef": self.entropy_coef,
            "value_coef": self.value_coef,
            "max_grad_norm": self.max_grad_norm,
        }

    def learn(
        self, torch: Any, device: Any, env: ResponseEnv, rng: np.random.Generator, steps: int
    ) -> Learned:
        """PPO updates over batches of ``num_envs * rollout_length`` transitions (``steps`` rounded up)."""
        scale = env.utility_scale
        b, horizon = env.num_envs, self.rollout_length
        batch = b * horizon
        n_updates = max(1, -(-steps // batch))
        actor = to_torch(torch, init_layers(rng, [env.obs_dim, *self.hidden, env.num_actions], 0.01), device)
        critic = to_torch(torch, init_layers(rng, [env.obs_dim, *self.hidden, 1], 1.0), device)
        params = actor + critic
        opt = torch.optim.Adam(params, lr=self.learning_rate, eps=1e-5)
        obs = np.zeros((horizon, b, env.obs_dim), dtype=np.float32)
        legal = np.zeros((horizon, b, env.num_actions), dtype=bool)
        acts = np.zeros((horizon, b), dtype=np.int64)
        logp = np.zeros((horizon, b), dtype=np.float32)
        values = np.zeros((horizon + 1, b), dtype=np.float32)
        rew = np.zeros((horizon, b), dtype=np.float32)
        done = np.zeros((horizon, b), dtype=np.float32)
        curve = Curve(n_updates * batch)
        step = env.reset(rng)
        t = 0
        for update in range(n_updates):
            frac = 1.0 - update / n_updates
            for group in opt.param_groups:
                group["lr"] = self.learning_rate * frac
            ent_coef = self.entropy_coef * frac
            for h in range(horizon):
                o = torch.from_numpy(step.observation).to(device)
                with torch.no_grad():
                    logits = forward_torch(torch, actor, o).cpu().numpy().astype(np.float64)
                    v = forward_torch(torch, critic, o)[:, 0].cpu().numpy()
                probs = masked_softmax(logits, step.legal)
                cdf = np.cumsum(probs, axis=1)
                u = rng.random(b)
                a = np.minimum((cdf < u[:, None]).sum(axis=1), step.legal.sum(axis=1) - 1)
                obs[h], legal[h], acts[h], values[h] = step.observation, step.legal, a, v
                logp[h] = np.log(np.maximum(probs[np.arange(b), a], 1e-30))
                nxt = env.step(a, rng)
                rew[h], done[h] = nxt.reward / scale, nxt.done
                t += b
                curve.add(t, nxt)
                step = nxt
            with torch.no_grad():
                o = torch.from_numpy(step.observation).to(device)
                values[horizon] = forward_torch(torch, critic, o)[:, 0].cpu().numpy()
            adv = np.zeros((horizon, b), dtype=np.float32)
            last = np.zeros(b, dtype=np.float32)
            for h in range(horizon - 1, -1, -1):
                nonterminal = 1.0 - done[h]
                delta = rew[h] + nonterminal * values[h + 1] - values[h]
                last = delta + self.gae_lambda * nonterminal * last
                adv[h] = last
            returns = adv + values[:horizon]
            self._update(
                torch,
                device,
                actor,
                critic,
                opt,
                rng,
                ent_coef,
                obs.reshape(batch, -1),
                legal.reshape(batch, -1),
                acts.reshape(-1),
                logp.reshape(-1),
                adv.reshape(-1),
                returns.reshape(-1),
            )
        return Learned(from_torch(actor), t, n_updates, curve.array())

    def learn_vector(
        self,
        torch: Any,
        device: Any,
        env: VectorResponseEnv,
        rng: np.random.Generator,
        steps: int,
        opponent_values: Any = None,
        init: Any = None,
    ) -> Learned:
        """PPO on the batched environment: GAE along the responder's own decisions in each episode.

        Each update starts ``num_envs`` fresh episodes, records the responder's decisions for
        ``rollout_length`` batched steps and then plays the episodes under way to their end (every
        recorded episode is complete: its return arrives at the responder's last decision and
        nothing is bootstrapped), then runs the same clipped-surrogate updates as :meth:`learn`.
        Learning rate and entropy bonus anneal to 0 with the fraction of ``steps`` done.

        Raises:
            GamesolveError: An episode that does not end within
                :data:`MAX_EXTRA_STEPS` batched steps past the rollout.
        """
        scale = env.utility_scale
        actor_layers = init_layers(rng, [env.obs_dim, *self.hidden, env.num_actions], 0.01)
        critic_layers = init_layers(rng, [env.obs_dim, *self.hidden, 1], 1.0)
        if init is not None:  # continue a response trained before (the draws above keep the stream)
            actor_layers, critic_layers = _checked_init(init, actor_layers, critic_layers)
        actor = to_torch(torch, actor_layers, device)
        critic = to_torch(torch, critic_layers, device)
        opt = torch.optim.Adam(actor + critic, lr=self.learning_rate, eps=1e-5)
        curve = Curve(steps)
        values = opponent_values if self.minimax_coef > 0 else None
        t = updates = 0
        while t < steps:
            frac = 1.0 - t / steps
            for group in opt.param_groups:
                group["lr"] = self.learning_rate * frac
            batch = self._vector_rollout(torch, device, actor, critic, env, rng, scale, curve, t, values)
            n = int(batch[0].shape[0])
            t += n
            updates += 1
            if n:
                self._update(torch, device, actor, critic, opt, rng, self.entropy_coef * frac, *batch)
        return Learned(from_torch(actor), t, updates, curve.array(), from_torch(critic))

    def _vector_rollout(
        self,
        torch: Any,
        device: Any,
        actor: list[Any],
        critic: list[Any],
        env: VectorResponseEnv,
        rng: np.random.Generator,
        scale: float,
        curve: Curve,
        t0: int,
        opponent_values: Any = None,
    ) -> tuple[NDArray[Any], ...]:
        """The responder's transitions of complete episodes: obs, legal, actions, logp, adv, returns.

        With ``opponent_values`` (``(observation [n, F], legal [n, A]) -> [n]``, the opponent's
        value of its own decisions), each responder decision is also paid ``-minimax_coef`` times
        that value at the next opponent decision of its episode (see ``minimax_coef``).
        """
        b = env.num_envs
        step = env.reset()
        recording = np.ones(b, dtype=bool)
        last = np.full(b, -1, dtype=np.int64)
        chunks: dict[str, list[NDArray[Any]]] = {k: [] for k in ("obs", "legal", "act", "logp", "val")}
        links: list[tuple[NDArray[np.int64], NDArray[np.int64]]] = []
        ends: list[tuple[NDArray[np.int64], NDArray[np.float64]]] = []
        shaped: list[tuple[NDArray[np.int64], NDArray[np.float64]]] = []
        n = s = 0
        while recording.any():
            if s > self.rollout_length + MAX_EXTRA_STEPS:
                raise GamesolveError(
                    f"ppo: an episode of {env.spec.name} did not end within {MAX_EXTRA_STEPS} batched steps"
                )
            rows = np.flatnonzero(step.mine)
            actions = np.zeros(b, dtype=np.int64)
            if opponent_values is not None:
                theirs = np.flatnonzero(~step.mine & recording & (last >= 0))
                if theirs.size:
                    v_opp = np.asarray(opponent_values(step.observation[theirs], step.legal[theirs]))
                    shaped.append((last[theirs], -self.minimax_coef * v_opp.astype(np.float64)))
            if rows.size:
                o = torch.from_numpy(np.ascontiguousarray(step.observation[rows])).to(device)
                with torch.no_grad():
                    logits = forward_torch(torch, actor, o).cpu().numpy().astype(np.float64)
                    v = forward_torch(torch, critic, o)[:, 0].cpu().numpy()
                legal = step.legal[rows]
                probs = masked_softmax(logits, legal)
                cdf = np.cumsum(probs, axis=1)
                u = rng.random(rows.size)
                last_legal = env.num_actions - 1 - np.argmax(legal[:, ::-1], axis=1)
                a = np.minimum((cdf < u[:, None]).sum(axis=1), last_legal)
                actions[rows] = a
                rec = recording[rows]
                if rec.any():
                    k = int(rec.sum())
                    idx = np.arange(n, n + k)
                    slots = rows[rec]
                    chunks["obs"].append(step.observation[slots])
                    chunks["legal"].append(legal[rec])
                    chunks["act"].append(a[rec])
                    chunks["logp"].append(np.log(np.maximum(probs[rec, a[rec]], 1e-30)).astype(np.float32))
                    chunks["val"].append(v[rec])
                    prev = last[slots]
                    linked = prev >= 0
                    links.append((prev[linked], idx[linked]))
                    last[slots] = idx
                    n += k
            step = env.step(actions, rng)
            curve.add(t0 + n, step)
            ended = np.flatnonzero(step.done & recording & (last >= 0))
            if ended.size:
                ends.append((last[ended], step.reward[ended] / scale))
            last[step.done] = -1
            s += 1
            if s >= self.rollout_length:
                recording &= ~step.done
        if n == 0:
            return tuple(np.zeros((0,)) for _ in range(6))
        nxt = np.full(n, -1, dtype=np.int64)
        for prev, idx in links:
            nxt[prev] = idx
        reward = np.zeros(n)
        for idx, r in ends:
            reward[idx] = r
        for idx, r in shaped:
            np.add.at(reward, idx, r)
        value = np.concatenate(chunks["val"]).astype(np.float64)
        adv = np.zeros(n)
        for i in range(n - 1, -1, -1):  # next decisions come later, so one backward pass suffices
            j = nxt[i]
            adv[i] = reward[i] - value[i] + (value[j] + self.gae_lambda * adv[j] if j >= 0 else 0.0)
        return (
            np.concatenate(chunks["obs"]).astype(np.float32),
            np.concatenate(chunks["legal"]),
            np.concatenate(chunks["act"]).astype(np.int64),
            np.concatenate(chunks["logp"]),
            adv.astype(np.float32),
            (adv + value).astype(np.float32),
        )

    def _update(
        self,
        torch: Any,
        device: Any,
        actor: list[Any],
        critic: list[Any],
        opt: Any,
        rng: np.random.Generator,
        ent_coef: float,
        obs: NDArray[np.float32],
        legal: NDArray[np.bool_],
        acts: NDArray[np.int64],
        logp: NDArray[np.float32],
        adv: NDArray[np.float32],
        returns: NDArray[np.float32],
    ) -> None:
        """``epochs`` passes of clipped-surrogate minibatch steps over one batch."""
        n = obs.shape[0]
        size = max(1, n // self.minibatches)
        t_obs = torch.from_numpy(obs).to(device)
        t_legal = torch.from_numpy(legal).to(device)
        t_acts = torch.from_numpy(acts).to(device)
        t_logp = torch.from_numpy(logp).to(device)
        t_adv = torch.from_numpy(adv).to(device)
        t_ret = torch.from_numpy(returns).to(device)
        params = actor + critic
        for _ in range(self.epochs):
            order = torch.from_numpy(rng.permutation(n)).to(device)
            for lo in range(0, n, size):
                mb = order[lo : lo + size]
                logits = forward_torch(torch, actor, t_obs[mb]).masked_fill(~t_legal[mb], -1e9)
                logsm = torch.log_softmax(logits, dim=1)
                new_logp = logsm.gather(1, t_acts[mb][:, None])[:, 0]
                probs = logsm.exp()
                entropy = -(probs * logsm).masked_fill(~t_legal[mb], 0.0).sum(dim=1).mean()
                a = t_adv[mb]
                a = (a - a.mean()) / (a.std() + 1e-8) if a.numel() > 1 else a
                ratio = (new_logp - t_logp[mb]).exp()
                surrogate = torch.min(ratio * a, ratio.clamp(1 - self.clip, 1 + self.clip) * a).mean()
                v = forward_torch(torch, critic, t_obs[mb])[:, 0]
                value_loss = ((v - t_ret[mb]) ** 2).mean()
                loss = -surrogate + self.value_coef * value_loss - ent_coef * entropy
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, self.max_grad_norm)
                opt.step()


def _checked_init(init: Any, actor: Any, critic: Any) -> tuple[Any, Any]:
    """``init`` as ``(actor, critic)`` layers shaped like the fresh ones, or a clear error."""
    from gamesolve.errors import InvalidArgumentError

    try:
        got_actor, got_critic = init
        pairs = [*zip(got_actor, actor, strict=True), *zip(got_critic, critic, strict=True)]
        ok = all(np.shape(w) == np.shape(w0) and np.shape(b) == np.shape(b0) for (w, b), (w0, b0) in pairs)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise InvalidArgumentError(
            "init must be (actor layers, critic layers) shaped like this oracle's networks "
            f"(hidden={list(np.shape(w)[0] for w, _ in actor[:-1])})"
        )
    cast = [[(np.asarray(w, np.float32), np.asarray(b, np.float32)) for w, b in part] for part in init]
    return cast[0], cast[1]


def ppo_oracle(**config: Any) -> PPOOracle:
    """A :class:`PPOOracle` with the given keyword configuration (entry point ``ppo`` of gamesolve.oracles).

    Raises:
        InvalidArgumentError: An unknown option name (the message lists the known ones) or a bad
            value.
    """
    return PPOOracle.from_options(config)
