"""Minimax-DQN (Fan, Wang, Xie, Yang 2020) for two-player zero-sum Markov games, in torch.

A network maps a state's observation to player 0's payoff matrix ``Q_theta(s) [A, B]``. Both
players act epsilon-greedily around the maximin / minimax strategies of that matrix. Transitions go
to a replay buffer; minibatches regress ``Q_theta(s)[a, b]`` on the target
``y = r + gamma (1 - done) val[Q_target(s')]``, where ``val`` is the exact value of the target
network's matrix game at the next state (all games of a minibatch in one call of the batched
simplex kernel, :mod:`gamesolve.kernels.matrix_game`), and the target network is a copy of the
online one refreshed every ``target_sync`` steps.

One iteration of :func:`gamesolve.solve` is one environment step. The network runs on the CPU by
default (``device="auto"`` picks CUDA when available). Every random draw (weights, exploration,
transitions, minibatches) comes from one numpy generator whose state is part of the solver state,
and the weights, Adam moments and replay buffer are numpy arrays there too, so a checkpointed run
resumes exactly (on tabular games; a sampled game restarts its episode on resume).

Tabular games are played from their arrays, observed through ``features``; the result's policy
is the stationary profile read from the network in every state, evaluated exactly. Other games
implementing :class:`~gamesolve.markov.SampledMarkovGame` with two simultaneous movers train the
same way; their exploitability is reported as NaN.
"""

from __future__ import annotations

import itertools
import logging
from types import SimpleNamespace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.checkpoint import StateRules, rng_from_array, rng_to_array
from gamesolve.errors import UnsupportedGame
from gamesolve.kernels.matrix_game import solve_matrix_games
from gamesolve.markov import MarkovProfile, SampledMarkovGame, TabularMarkovGame, nash_conv
from gamesolve.registry import SolverEntry
from gamesolve.solver import Iterate, IterativeSolver
from gamesolve.solvers.markov import check_markov
from gamesolve.solvers.rl_oracles import check_widths
from gamesolve.spec import GameKind, GameSpec
from gamesolve.validation import check_choice, check_int, check_real

__all__ = ["MinimaxDQN"]

log = logging.getLogger(__name__)


class MinimaxDQN(IterativeSolver):
    """The registry's ``"minimax-dqn"`` solver.

    Args:
        hidden: Widths of the hidden layers (ReLU), a non-empty list of integers >= 1.
        learning_rate: Adam step size (finite, > 0).
        batch_size: Minibatch size (>= 1).
        buffer_size: Replay capacity (>= ``batch_size``; oldest transitions are overwritten).
        warmup: Steps of play before the first update (>= 0).
        train_every: Environment steps per gradient step (>= 1).
        target_sync: Steps between copies of the online weights into the target network (>= 1).
        epsilon_start: Exploration probability at the first step (each player independently), in
            ``[0, 1]``.
        epsilon_end: Exploration probability after ``epsilon_steps`` steps (linear decay), in
            ``[0, 1]``.
        epsilon_steps: Length of the decay (>= 1).
        horizon: Step limit of an episode (>= 1; default: the game's ``default_horizon``, else
            1000).
        device: ``"cpu"`` (default), ``"cuda"`` or ``"auto"`` (CUDA when available).
        threads: torch CPU threads (>= 1; default 1).

    Raises:
        InvalidArgumentError: An option outside these ranges, naming it.
    """

    name = "minimax-dqn"
    output = Iterate.CURRENT

    def __init__(
        self,
        hidden: tuple[int, ...] | list[int] = (64, 64),
        learning_rate: float = 1e-3,
        batch_size: int = 64,
        buffer_size: int = 20_000,
        warmup: int = 256,
        train_every: int = 1,
        target_sync: int = 100,
        epsilon_start: float = 1.0,
        epsilon_end: float = 0.1,
        epsilon_steps: int = 5_000,
        horizon: int | None = None,
        device: str = "cpu",
        threads: int = 1,
    ) -> None:
        self.hidden = check_widths("hidden", hidden)
        self.learning_rate = check_real("learning_rate", learning_rate, minimum=0.0, min_inclusive=False)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.buffer_size = check_int("buffer_size", buffer_size, minimum=self.batch_size)
        self.warmup = check_int("warmup", warmup, minimum=0)
        self.train_every = check_int("train_every", train_every, minimum=1)
        self.target_sync = check_int("target_sync", target_sync, minimum=1)
        self.epsilon_start = check_real("epsilon_start", epsilon_start, minimum=0.0, maximum=1.0)
        self.epsilon_end = check_real("epsilon_end", epsilon_end, minimum=0.0, maximum=1.0)
        self.epsilon_steps = check_int("epsilon_steps", epsilon_steps, minimum=1)
        self.horizon = None if horizon is None else check_int("horizon", horizon, minimum=1)
        self.device = check_choice("device", device, ("cpu", "cuda", "auto"))
        self.threads: int = check_int("threads", threads, minimum=1)
        self._episode: Any = None
        self._nets: dict[str, tuple[NDArray[Any], Any]] = {}

    # ----------------------------------------------------------------------------- protocol

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {
            "hidden": list(self.hidden),
            "learning_rate": self.learning_rate,
            "batch_size": self.batch_size,
            "buffer_size": self.buffer_size,
            "warmup": self.warmup,
            "train_every": self.train_every,
            "target_sync": self.target_sync,
            "epsilon_start": self.epsilon_start,
            "epsilon_end": self.epsilon_end,
            "epsilon_steps": self.epsilon_steps,
            "horizon": self.horizon,
            "device": self.device,
        }

    def prepare(self, game: Any) -> Any:
        """A tabular game, or a sampled game with two simultaneous movers."""
        if isinstance(game, TabularMarkovGame | SampledMarkovGame):
            return game
        raise UnsupportedGame(f"{self.name} solves Markov games, not {type(game).__name__}")

    def check(self, spec: GameSpec) -> None:
        """Two-player zero-sum Markov games only."""
        if spec.kind is not GameKind.MARKOV:
            raise UnsupportedGame(f"{self.name} solves Markov games, not {spec.kind.value} games")
        check_markov(self.name, spec)

    def _device(self) -> Any:
        import torch

        if self.device == "auto":
            return torch.device("cuda" if torch.cuda.is_available() else "cpu")
        return torch.device(self.device)

    def _obs_dim(self, game: Any) -> int:
        if isinstance(game, TabularMarkovGame):
            return int(game.features.shape[1])
        episode = game.new_episode(rng=np.random.default_rng(0))
        return int(episode.observation(0).shape[0])

    def _layers(self, obs_dim: int, game: Any) -> list[tuple[int, int]]:
        n_a, n_b = game.num_actions
        widths = [obs_dim, *self.hidden, n_a * n_b]
        return list(itertools.pairwise(widths))

    #: What a resumed state must satisfy before any update sees it.
    state_rules = StateRules(nonnegative=frozenset({"counters"}), generators=frozenset({"rng"}))

    def check_state(self, game: Any, state: dict[str, NDArray[Any]]) -> None:
        """Counters, buffer indices and stored joint actions are in range for this game."""
        step, size, head, _, current, _ = (int(v) for v in state["counters"])
        if not 0 <= size <= self.buffer_size or not 0 <= head < self.buffer_size:
            raise ValueError(f"replay-buffer size {size} / head {head} out of range for {self.buffer_size}")
        if not 0 <= current < game.num_states:
            raise ValueError(f"the current state {current} is not a state of this game")
        joints = state["buf_joint"][:size]
        n_joint = game.num_actions[0] * game.num_actions[1]
        if joints.size and (joints.min() < 0 or joints.max() >= n_joint):
            raise ValueError(
                f"stored joint actions must lie in [0, {n_joint}), found {joints.min()}..{joints.max()}"
            )
        del step

    def state_counter(self, state: dict[str, NDArray[Any]]) -> int:
        """Iterations done (environment steps), as a checkpoint's header must say."""
        return int(state["counters"][0])

    def init(self, game: Any, rng: np.random.Generator) -> dict[str, NDArray[Any]]:
        """Fresh weights (He-uniform from ``rng``), empty buffer, zero Adam moments."""
        n_a, n_b = game.num_actions
        if len(game.num_actions) != 2:
            raise UnsupportedGame(f"{self.name} needs two players")
        obs_dim = self._obs_dim(game)
        state: dict[str, NDArray[Any]] = {}
        for k, (fan_in, fan_out) in enumerate(self._layers(obs_dim, game)):
            bound = np.sqrt(6.0 / fan_in) if k < len(self.hidden) else np.sqrt(1.0 / fan_in)
            state[f"w{k}"] = rng.uniform(-bound, bound, size=(fan_out, fan_in)).astype(np.float32)
            state[f"b{k}"] = np.zeros(fan_out, dtype=np.float32)
        for key in [k for k in state if k[0] in "wb"]:
            state[f"target_{key}"] = state[key].copy()
            state[f"m_{key}"] = np.zeros_like(state[key])
            state[f"v_{key}"] = np.zeros_like(state[key])
        cap = self.buffer_size
        state["buf_obs"] = np.zeros((cap, obs_dim), dtype=np.float32)
        state["buf_next"] = np.zeros((cap, obs_dim), dtype=np.float32)
        state["buf_joint"] = np.zeros(cap, dtype=np.int64)
        state["buf_reward"] = np.zeros(cap, dtype=np.float32)
        state["buf_done"] = np.zeros(cap, dtype=np.float32)
        # counters: step, buffer size, buffer head, adam step, current tabular state, episode step
        start = (
            int(rng.choice(game.num_states, p=game.initial)) if isinstance(game, TabularMarkovGame) else -1
        )
        state["counters"] = np.array([0, 0, 0, 0, start, 0], dtype=np.int64)
        state["rng"] = rng_to_array(rng)
        self._episode = None
        self._nets.clear()
        del n_a, n_b
        return state

    # ------------------------------------------------------------------------ the networks

    def _forward(self, state: dict[str, NDArray[Any]], obs: Any, prefix: str = "") -> Any:
        import torch

        x = obs
        layers = len(self.hidden) + 1
        for k in range(layers):
            w = self._tensor(state, f"{prefix}w{k}")
            b = self._tensor(state, f"{prefix}b{k}")
            x = torch.nn.functional.linear(x, w, b)
            if k < layers - 1:
                x = torch.relu(x)
        return x

    def _tensor(self, state: dict[str, NDArray[Any]], key: str) -> Any:
        """A torch view (CPU) or copy (CUDA) of a state array; gradients for online weights."""
        import torch

        array = state[key]
        cached = self._nets.get(key)
        if cached is not None and cached[0] is array:
            return cached[1]
        t = torch.from_numpy(array).to(self._device())
        if key[0] in "wb":
            t.requires_grad_(True)
        self._nets[key] = (array, t)
        return t

    def _q_matrices(
        self, game: Any, state: dict[str, NDArray[Any]], obs: NDArray[np.float32]
    ) -> NDArray[Any]:
        import torch

        with torch.no_grad():
            q = self._forward(state, torch.tensor(obs, device=self._device()))
        return np.asarray(q.cpu().numpy(), dtype=np.float64).reshape(len(obs), *game.num_actions)

    # --------------------------------------------------------------------------- stepping

    def step(self, game: Any, state: dict[str, NDArray[Any]], iterations: int = 1) -> None:
        """Play and learn for ``iterations`` environment steps."""
        import torch

        torch.set_num_threads(self.threads)
        rng = rng_from_array(state["rng"])
        counters = state["counters"]
        n_a, n_b = game.num_actions
        horizon = self.horizon or getattr(game, "default_horizon", 1000)
        tabular = isinstance(game, TabularMarkovGame)
        for _ in range(iterations):
            t = int(counters[0])
            if tabular:
                obs = np.asarray(game.features[int(counters[4])], dtype=np.float32)
            else:
                if self._episode is None or self._episode.done:
                    self._episode = game.new_episode(rng=rng, max_steps=horizon)
                obs = np.asarray(self._episode.observation(0), dtype=np.float32)
            frac = min(1.0, t / self.epsilon_steps)
            eps = self.epsilon_start + frac * (self.epsilon_end - self.epsilon_start)
            _, x, y = solve_matrix_games(self._q_matrices(game, state, obs[None]))
            draws = rng.random(4)
            a = int(draws[1] * n_a) if draws[0] < eps else int(np.searchsorted(np.cumsum(x[0]), draws[1]))
            b = int(draws[3] * n_b) if draws[2] < eps else int(np.searchsorted(np.cumsum(y[0]), draws[3]))
            a, b = min(a, n_a - 1), min(b, n_b - 1)
            if tabular:
                s = int(counters[4])
                j = a * n_b + b
                reward = float(game.reward_flat[0, s, j])
                row = s * game.num_joint_actions + j
                m = game.transition_matrix
                lo, hi = int(m.indptr[row]), int(m.indptr[row + 1])
                pick = int(np.searchsorted(np.cumsum(m.data[lo:hi]), rng.random()))
                nxt = int(m.indices[lo + min(pick, hi - lo - 1)])
                done = bool(game.terminal[nxt])
                next_obs = np.asarray(game.features[nxt], dtype=np.float32)
                counters[5] += 1
                if done or counters[5] >= horizon:
                    nxt = int(rng.choice(game.num_states, p=game.initial))
                    counters[5] = 0
                counters[4] = nxt
            else:
                rewards = self._episode.step([a, b])
                reward = float(rewards[0])
                done = bool(self._episode.done and not self._episode.steps >= horizon)
                next_obs = (
                    np.zeros_like(obs)
                    if self._episode.done
                    else np.asarray(self._episode.observation(0), np.float32)
                )
            head = int(counters[2])
            state["buf_obs"][head] = obs
            state["buf_next"][head] = next_obs
            state["buf_joint"][head] = a * n_b + b
            state["buf_reward"][head] = reward
            state["buf_done"][head] = 1.0 if done else 0.0
            counters[2] = (head + 1) % self.buffer_size
            counters[1] = min(self.buffer_size, int(counters[1]) + 1)
            counters[0] = t + 1
            if t + 1 >= self.warmup and counters[1] >= self.batch_size and (t + 1) % self.train_every == 0:
                self._update(game, state, rng)
            if (t + 1) % self.target_sync == 0:
                for key in [k for k in state if k[0] in "wb" and k[1:].isdigit()]:
                    state[f"target_{key}"][...] = state[key]
        state["rng"] = rng_to_array(rng)

    def _update(self, game: Any, state: dict[str, NDArray[Any]], rng: np.random.Generator) -> None:
        """One Adam step on a minibatch (manual Adam so its moments live in ``state``)."""
        import torch

        size = int(state["counters"][1])
        idx = rng.integers(0, size, size=self.batch_size)
        next_q = self._q_matrices_target(game, state, state["buf_next"][idx])
        values = solve_matrix_games(next_q)[0]
        target = state["buf_reward"][idx] + game.discount * (1.0 - state["buf_done"][idx]) * values
        dev = self._device()
        q = self._forward(state, torch.from_numpy(state["buf_obs"][idx]).to(dev))
        chosen = q.gather(1, torch.from_numpy(state["buf_joint"][idx]).to(dev)[:, None])[:, 0]
        loss = torch.nn.functional.mse_loss(chosen, torch.as_tensor(target, dtype=torch.float32, device=dev))
        keys = [k for k in state if k[0] in "wb" and k[1:].isdigit()]
        params = [self._tensor(state, k) for k in keys]
        grads = torch.autograd.grad(loss, params)
        counters = state["counters"]
        counters[3] += 1
        step = int(counters[3])
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        with torch.no_grad():
            for key, p, g in zip(keys, params, grads, strict=True):
                m = torch.from_numpy(state[f"m_{key}"]).to(dev)
                v = torch.from_numpy(state[f"v_{key}"]).to(dev)
                m.mul_(beta1).add_(g, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                m_hat = m / (1 - beta1**step)
                v_hat = v / (1 - beta2**step)
                p.sub_(self.learning_rate * m_hat / (v_hat.sqrt() + eps))
                if dev.type != "cpu":  # CPU tensors share memory with the state arrays
                    state[f"m_{key}"][...] = m.cpu().numpy()
                    state[f"v_{key}"][...] = v.cpu().numpy()
                    state[key][...] = p.detach().cpu().numpy()

    def _q_matrices_target(
        self, game: Any, state: dict[str, NDArray[Any]], obs: NDArray[np.float32]
    ) -> NDArray[Any]:
        import torch

        with torch.no_grad():
            q = self._forward(state, torch.tensor(obs, device=self._device()), prefix="target_")
        return np.asarray(q.cpu().numpy(), dtype=np.float64).reshape(len(obs), *game.num_actions)

    # ---------------------------------------------------------------------------- outputs

    def _solve_states(self, game: TabularMarkovGame, state: dict[str, NDArray[Any]]) -> tuple[Any, Any, Any]:
        q = self._q_matrices(game, state, np.asarray(game.features, dtype=np.float32))
        return solve_matrix_games(q)

    def policy(self, game: Any, state: dict[str, NDArray[Any]], which: Iterate) -> Any:
        """The stationary profile read from the network in every state (tabular games), else ``None``."""
        if not isinstance(game, TabularMarkovGame):
            return None
        _, x, y = self._solve_states(game, state)
        return MarkovProfile.of(game, [x, y])

    def evaluate(self, game: Any, policy: Any) -> float:
        """Exact exploitability on tabular games; NaN otherwise."""
        if not isinstance(game, TabularMarkovGame):
            return float("nan")
        return nash_conv(game, policy).exploitability

    def report(self, game: Any, policy: Any) -> Any:
        """Exact NashConv report on tabular games."""
        if not isinstance(game, TabularMarkovGame):
            return SimpleNamespace(exploitability=float("nan"), nash_conv=float("nan"), on_policy_values=())
        return nash_conv(game, policy)

    def values(self, game: Any, state: dict[str, NDArray[Any]]) -> NDArray[np.float64] | tuple[float, ...]:
        """Player 0's values ``val Q_theta(s)`` ``[S]`` (0 at terminal states); ``()`` for sampled games."""
        if not isinstance(game, TabularMarkovGame):
            return ()
        values = np.where(game.terminal, 0.0, self._solve_states(game, state)[0])
        values.setflags(write=False)
        return values


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
MINIMAX_DQN_ENTRY = SolverEntry("minimax-dqn", MinimaxDQN, "Minimax-DQN in torch (Markov games)")
