"""Neural Fictitious Self-Play on the batched environment of any game, the ``"nfsp"`` solver.

Heinrich & Silver 2016, "Deep reinforcement learning from self-play in imperfect-information games".
Every player mixes a best response, learned by DQN (Mnih et al. 2015, "Human-level control through
deep reinforcement learning": a target network, a circular replay buffer, epsilon-greedy acting with a
decaying epsilon), and its average policy, learned by supervised classification of its own
best-response actions kept in a reservoir buffer (Vitter 1985, "Random sampling with a reservoir").
In each episode each player plays its best response with probability ``anticipatory`` (the paper's
eta) and its average policy otherwise. The output is the average-policy network.

One iteration:

1. ``num_envs`` fresh episodes of :func:`gamesolve.vector_env`, seeded from the solver's generator,
   played to their end together, each player of each episode in best-response or average mode;
2. gradient steps on what the buffers held *before* this iteration: one DQN step (on the replay
   buffer) per ``rl_learn_every`` decisions and one average-policy step (on the reservoir) per
   ``sl_learn_every`` decisions, counted over the whole run; the target network is copied from the
   Q-network every ``target_update_every`` DQN steps;
3. this iteration's transitions written to the replay buffer (each player's decision, its next
   decision in the same episode or its return at the end; every mode, DQN learns off-policy) and its
   best-response decisions to the reservoir.

Writing the buffers last keeps a failed iteration out of the state: a non-finite loss or network
output raises :class:`~gamesolve.errors.GamesolveError` naming the iteration, and the state keeps the
previous one.

One network of each kind serves every player: it reads the acting player's tensor, which says who
acts (OpenSpiel's and the native information-state tensors start with the player's one-hot; a
perfect-information board such as Connect Four's tells whose turn it is by its pieces), so the
players' data trains shared features, the result is one :class:`~gamesolve.neural.NeuralPolicy`
without a dispatching wrapper, and the updates per decision are half those of two networks.

Everything of the run lives in the solver state: the Q-, target and average networks, both
optimizers, both buffers (the replay buffer with its write position and fill, the reservoir with the
number of items offered to it), the counters that place the epsilon schedule and the update cadence,
and the generator; so a resumed CPU run repeats an uninterrupted one exactly. The buffers are
allocated at full capacity: with ``F`` floats per observation and ``A`` action ids the state holds
about ``replay_capacity * (8F + A + 13)`` + ``reservoir_capacity * (4F + A + 4)`` bytes (for Leduc
with the defaults, ``F = 30``, ``A = 3``, about 26 MB + 25 MB; for Connect Four, ``F = 126``,
``A = 7``, about 102 MB + 100 MB), and so does every checkpoint.

The defaults (Adam, learning rates 0.01 for the Q-network and 0.003 for the average network,
otherwise the paper's Leduc settings: anticipatory 0.1, epsilon from 0.06, one hidden layer of 128)
bring native Leduc to an exact exploitability of about 0.5 after 60 CPU seconds on one core and
0.35 to 0.45 after 90 (two seeds).

On a compiled game every evaluation is the exact exploitability of the average network; elsewhere it
is NaN and the head-to-head figures against uniform random go to the log
(:mod:`~gamesolve.solvers.deep.common`). torch is imported when the solver is built.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.checkpoint import StateRules, rng_from_array, rng_to_array
from gamesolve.errors import GamesolveError, InvalidArgumentError
from gamesolve.mcts import DEFAULT_SIMULATIONS
from gamesolve.registry import SolverEntry
from gamesolve.solver import Iterate, State
from gamesolve.solvers.deep.common import (
    OBSERVATION_CHOICES,
    DeepGame,
)
from gamesolve.solvers.deep.shell import NetworkLearner
from gamesolve.spec import GameKind, GameSpec
from gamesolve.validation import check_choice, check_int, check_real

__all__ = ["NFSP", "NFSP_ENTRY"]

Q = "q."
TARGET = "q_target."
AVG = "avg."
Q_OPT = "q_opt."
AVG_OPT = "avg_opt."

#: Batched steps after which episodes still under way are dropped from an iteration.
MAX_EPISODE_STEPS = 100_000

OPTIMIZERS = ("adam", "sgd")

_COUNTERS = ("t", "decisions", "rl_updates", "sl_updates", "replay.pos", "replay.size", "reservoir.count")


class NFSP(NetworkLearner):
    """Neural Fictitious Self-Play with one Q-network and one average network for every player.

    Args:
        hidden: Hidden layer widths of both MLPs.
        torso: ``"mlp"`` or ``"conv"`` (3x3 convolutions over board-shaped observations, then
            the ``hidden`` layers; see :mod:`gamesolve.solvers.deep.shell`).
        channels: Output channels of each convolution (``torso="conv"`` only).
        num_envs: Episodes per iteration, played together (>= 1).
        anticipatory: Probability that a player plays its best response in an episode (the paper's
            eta, in ``(0, 1]``).
        rl_learning_rate: Step size of the Q-network's optimizer (finite, > 0).
        sl_learning_rate: Step size of the average network's optimizer (finite, > 0).
        optimizer: ``"adam"`` or ``"sgd"`` (plain SGD), for both networks.
        batch_size: Minibatch of each gradient step (>= 1); a network learns once its buffer holds
            that many items.
        rl_learn_every: Decisions (all players, both modes) per DQN step (>= 1).
        sl_learn_every: Decisions per average-network step (>= 1).
        target_update_every: DQN steps between copies of the Q-network into the target network (>= 1).
        replay_capacity: Transitions of the circular replay buffer (>= 1).
        reservoir_capacity: Best-response decisions of the reservoir (>= 1).
        epsilon_start: Exploration of the best response at the start, in ``[0, 1]``.
        epsilon_end: Exploration after ``epsilon_decay`` decisions, in ``[0, 1]``.
        epsilon_decay: Decisions (all players, both modes) over which epsilon falls linearly (>= 1).
        observation: ``"auto"`` (information-state tensors when the game has them), ``"info_state"``
            or ``"observation"``.
        device, threads, eval_matches, eval_seed, eval_mcts_matches, eval_mcts_simulations,
        eval_rl_bound_steps, log_dir, tensorboard, rollout_workers,
        rollout_executor: The options every deep learner shares (see
            :mod:`gamesolve.solvers.deep.shell`); the logs are ``updates.csv``, one row per
            iteration, and ``evaluations.csv``, one row per evaluation.

    Raises:
        InvalidArgumentError: An option outside these ranges (naming it), or a device that does not
            exist here.
    """

    name = "nfsp"
    logged_losses = ("rl_loss", "sl_loss", "epsilon")
    output = Iterate.AVERAGE
    default_iterations = 2_000

    def __init__(
        self,
        *,
        hidden: Sequence[int] = (128,),
        torso: str = "mlp",
        channels: Sequence[int] = (32,),
        num_envs: int = 128,
        anticipatory: float = 0.1,
        rl_learning_rate: float = 0.01,
        sl_learning_rate: float = 0.003,
        optimizer: str = "adam",
        batch_size: int = 128,
        rl_learn_every: int = 64,
        sl_learn_every: int = 64,
        target_update_every: int = 300,
        replay_capacity: int = 100_000,
        reservoir_capacity: int = 200_000,
        epsilon_start: float = 0.06,
        epsilon_end: float = 0.001,
        epsilon_decay: int = 10_000_000,
        observation: str = "auto",
        device: str = "cpu",
        threads: int = 1,
        eval_matches: int = 100,
        eval_seed: int = 0,
        eval_mcts_matches: int = 0,
        eval_mcts_simulations: int = DEFAULT_SIMULATIONS,
        eval_rl_bound_steps: int = 0,
        log_dir: str | os.PathLike[str] | None = None,
        tensorboard: bool = False,
        rollout_workers: int = 0,
        rollout_executor: str = "local",
    ) -> None:
        self.setup_shell(
            device=device,
            threads=threads,
            eval_matches=eval_matches,
            eval_seed=eval_seed,
            eval_mcts_matches=eval_mcts_matches,
            eval_mcts_simulations=eval_mcts_simulations,
            eval_rl_bound_steps=eval_rl_bound_steps,
            log_dir=log_dir,
            tensorboard=tensorboard,
            rollout_workers=rollout_workers,
            rollout_executor=rollout_executor,
        )
        self.setup_network(hidden=hidden, torso=torso, channels=channels)
        self.num_envs = check_int("num_envs", num_envs, minimum=1)
        self.anticipatory = check_real(
            "anticipatory", anticipatory, minimum=0.0, maximum=1.0, min_inclusive=False
        )
        self.rl_learning_rate = check_real(
            "rl_learning_rate", rl_learning_rate, minimum=0.0, min_inclusive=False
        )
        self.sl_learning_rate = check_real(
            "sl_learning_rate", sl_learning_rate, minimum=0.0, min_inclusive=False
        )
        self.optimizer = check_choice("optimizer", optimizer, OPTIMIZERS)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.rl_learn_every = check_int("rl_learn_every", rl_learn_every, minimum=1)
        self.sl_learn_every = check_int("sl_learn_every", sl_learn_every, minimum=1)
        self.target_update_every = check_int("target_update_every", target_update_every, minimum=1)
        self.replay_capacity = check_int("replay_capacity", replay_capacity, minimum=1)
        self.reservoir_capacity = check_int("reservoir_capacity", reservoir_capacity, minimum=1)
        self.epsilon_start = check_real("epsilon_start", epsilon_start, minimum=0.0, maximum=1.0)
        self.epsilon_end = check_real("epsilon_end", epsilon_end, minimum=0.0, maximum=1.0)
        self.epsilon_decay = check_int("epsilon_decay", epsilon_decay, minimum=1)
        self.observation = check_choice("observation", observation, OBSERVATION_CHOICES)
        self._modules: tuple[DeepGame, dict[str, Any]] | None = None

    # ------------------------------------------------------------------------------ contract
    def config(self) -> dict[str, Any]:
        """The options as JSON values (the log directory and device are not part of the run's identity)."""
        return {
            **self.network_config(),
            "num_envs": self.num_envs,
            "anticipatory": self.anticipatory,
            "rl_learning_rate": self.rl_learning_rate,
            "sl_learning_rate": self.sl_learning_rate,
            "optimizer": self.optimizer,
            "batch_size": self.batch_size,
            "rl_learn_every": self.rl_learn_every,
            "sl_learn_every": self.sl_learn_every,
            "target_update_every": self.target_update_every,
            "replay_capacity": self.replay_capacity,
            "reservoir_capacity": self.reservoir_capacity,
            "epsilon_start": self.epsilon_start,
            "epsilon_end": self.epsilon_end,
            "epsilon_decay": self.epsilon_decay,
            "observation": self.observation,
            **self.shell_config(),
        }

    def check(self, spec: GameSpec) -> None:
        """Extensive-form games only (:meth:`prepare` already refused the others)."""
        if spec.kind is not GameKind.EXTENSIVE_FORM:  # pragma: no cover - prepare refuses first
            raise InvalidArgumentError(f"nfsp plays extensive-form games, not {spec.kind.value} games")

    def _network(self, game: DeepGame) -> Any:
        return self.make_network(game, value_head=False)

    def _optimizer(self, net: Any, lr: float) -> Any:
        import torch

        if self.optimizer == "sgd":
            return torch.optim.SGD(net.parameters(), lr=lr)
        return torch.optim.Adam(net.parameters(), lr=lr)

    def _cached(self, game: DeepGame) -> dict[str, Any]:
        if self._modules is None or self._modules[0] is not game:
            q, target, avg = self._network(game), self._network(game), self._network(game)
            target.requires_grad_(False)
            parts = {
                "q": q,
                "target": target,
                "avg": avg,
                "q_opt": self._optimizer(q, self.rl_learning_rate),
                "avg_opt": self._optimizer(avg, self.sl_learning_rate),
            }
            self._modules = (game, parts)
        return self._modules[1]

    def init(self, game: DeepGame, rng: np.random.Generator) -> State:
        """Fresh networks (target = Q), fresh optimizers, empty buffers, the generator."""
        import torch

        from gamesolve.neural.state import optimizer_nonnegative, pack_module, pack_optimizer

        seed = int(rng.integers(1 << 62))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            q, avg = self._network(game), self._network(game)
        q_opt = self._optimizer(q, self.rl_learning_rate)
        avg_opt = self._optimizer(avg, self.sl_learning_rate)
        f, a = game.observation_size, game.num_actions
        cr, cs = self.replay_capacity, self.reservoir_capacity
        state: State = {name: np.zeros((), dtype=np.int64) for name in _COUNTERS}
        state.update(
            {
                "replay.obs": np.zeros((cr, f), dtype=np.float32),
                "replay.action": np.zeros(cr, dtype=np.int32),
                "replay.reward": np.zeros(cr, dtype=np.float32),
                "replay.next_obs": np.zeros((cr, f), dtype=np.float32),
                "replay.next_legal": np.zeros((cr, a), dtype=np.bool_),
                "replay.done": np.zeros(cr, dtype=np.bool_),
                "reservoir.obs": np.zeros((cs, f), dtype=np.float32),
                "reservoir.legal": np.zeros((cs, a), dtype=np.bool_),
                "reservoir.action": np.zeros(cs, dtype=np.int32),
            }
        )
        pack_module(state, Q, q)
        pack_module(state, TARGET, q)
        pack_module(state, AVG, avg)
        pack_optimizer(state, Q_OPT, q_opt)
        pack_optimizer(state, AVG_OPT, avg_opt)
        state["rng"] = rng_to_array(rng)
        self.state_rules = StateRules(
            counter="t",
            generators=frozenset({"rng"}),
            nonnegative=frozenset(_COUNTERS)
            | optimizer_nonnegative(Q_OPT, q_opt)
            | optimizer_nonnegative(AVG_OPT, avg_opt),
        )
        return state

    def check_state(self, game: DeepGame, state: State) -> None:
        """The contract's checks, and buffer positions inside their capacities."""
        super().check_state(game, state)
        if (
            int(state["replay.size"]) > self.replay_capacity
            or int(state["replay.pos"]) >= self.replay_capacity
        ):
            raise InvalidArgumentError("the state's replay buffer position lies outside replay_capacity")

    def step(self, game: DeepGame, state: State, iterations: int = 1) -> None:
        """``iterations`` NFSP iterations (see the module doc)."""
        from gamesolve.neural.state import unpack_module, unpack_optimizer

        with self.torch_scope():
            parts = self._cached(game)
            unpack_module(state, Q, parts["q"])
            unpack_module(state, TARGET, parts["target"])
            unpack_module(state, AVG, parts["avg"])
            unpack_optimizer(state, Q_OPT, parts["q_opt"])
            unpack_optimizer(state, AVG_OPT, parts["avg_opt"])
            parts["q"].eval()
            parts["avg"].eval()
            rng = rng_from_array(state["rng"])
            for _ in range(iterations):
                self._one_iteration(game, state, parts, rng)

    def epsilon(self, decisions: int) -> float:
        """The best response's exploration after ``decisions`` decisions (linear decay)."""
        frac = min(decisions / self.epsilon_decay, 1.0)
        return self.epsilon_start + frac * (self.epsilon_end - self.epsilon_start)

    def _one_iteration(
        self, game: DeepGame, state: State, parts: dict[str, Any], rng: np.random.Generator
    ) -> None:
        from gamesolve.neural.state import pack_module, pack_optimizer

        t = int(state["t"]) + 1
        batch = self._play(game, state, parts, rng, t)
        before = int(state["decisions"])
        after = before + batch["decisions"]
        stats = self._learn(
            state,
            parts,
            rng,
            t,
            after // self.rl_learn_every - before // self.rl_learn_every,
            after // self.sl_learn_every - before // self.sl_learn_every,
        )
        self._store(state, batch, rng)
        pack_module(state, Q, parts["q"])
        pack_module(state, TARGET, parts["target"])
        pack_module(state, AVG, parts["avg"])
        pack_optimizer(state, Q_OPT, parts["q_opt"])
        pack_optimizer(state, AVG_OPT, parts["avg_opt"])
        state["decisions"][...] = after
        state["rl_updates"][...] = int(state["rl_updates"]) + int(stats["rl_steps"])
        state["sl_updates"][...] = int(state["sl_updates"]) + int(stats["sl_steps"])
        state["t"][...] = t
        state["rng"] = rng_to_array(rng)
        stats["episodes"] = float(batch["episodes"])
        stats["decisions"] = float(batch["decisions"])
        stats["epsilon"] = float(batch["epsilon"])
        stats["replay_size"] = float(state["replay.size"])
        stats["reservoir_count"] = float(state["reservoir.count"])
        self.log_update(t, stats)

    def policy(self, game: DeepGame, state: State, which: Iterate) -> Any:
        """The average network of the state as a :class:`~gamesolve.neural.NeuralPolicy`."""
        del which
        from gamesolve.neural.state import unpack_module

        net = self._network(game)
        unpack_module(state, AVG, net)
        return self.network_policy(game, net, int(state["t"]))

    # --------------------------------------------------------------------------- measurement
    def extras(self, game: DeepGame, state: State) -> dict[str, Any]:
        """What the history measures, the iteration's counters and the last iteration's figures."""
        self.close_logs()
        return {
            "evaluation": game.metric,
            "decisions": int(state["decisions"]),
            "rl_updates": int(state["rl_updates"]),
            "sl_updates": int(state["sl_updates"]),
            "device": str(self.device),
            "last_update": dict(self._last),
        }

    def progress_info(self, game: DeepGame, state: State) -> dict[str, Any]:
        """The last iteration's losses, for the progress bar."""
        del game, state
        if not self._last:
            return {}
        return {"rl": f"{self._last['rl_loss']:.3f}", "sl": f"{self._last['sl_loss']:.3f}"}

    # ------------------------------------------------------------------------------ playing
    def _play(
        self, game: DeepGame, state: State, parts: dict[str, Any], rng: np.random.Generator, t: int
    ) -> dict[str, Any]:
        """``num_envs`` complete episodes: the decisions, their links and the modes (module doc)."""
        import torch

        from gamesolve.neural.policy import sample_rows

        b, players = self.num_envs, game.num_players
        eps = self.epsilon(int(state["decisions"]))
        best = rng.random((b, players)) < self.anticipatory
        env = game.env(b, int(rng.integers(1 << 31)))
        obs_parts: list[NDArray[np.float32]] = []
        legal_parts: list[NDArray[np.bool_]] = []
        action_parts: list[NDArray[np.int64]] = []
        br_parts: list[NDArray[np.bool_]] = []
        links: list[tuple[NDArray[np.int64], NDArray[np.int64]]] = []  # (decision, its next one)
        ends: list[tuple[NDArray[np.int64], NDArray[np.float64]]] = []  # (last decision, return)
        count = 0
        try:
            ts = env.reset()
            active = np.ones(b, dtype=np.bool_)
            last = np.full((b, players), -1, dtype=np.int64)
            for _ in range(MAX_EPISODE_STEPS):
                act = np.flatnonzero(active)
                obs, legal, player = ts.observation[act], ts.legal[act], ts.player[act]
                is_br = best[act, player]
                with torch.inference_mode():
                    obs_t = torch.as_tensor(obs, device=self.device)
                    q = parts["q"](obs_t).to("cpu", torch.float64).numpy()
                    logits = parts["avg"](obs_t).to("cpu", torch.float64).numpy()
                if not (np.isfinite(q[legal]).all() and np.isfinite(logits[legal]).all()):
                    raise GamesolveError(
                        f"nfsp: the networks give non-finite outputs at iteration {t}; the state keeps "
                        f"iteration {t - 1}: lower the learning rates or check the game's rewards"
                    )
                greedy = np.argmax(np.where(legal, q, -np.inf), axis=1)
                explore = rng.random(act.size) < eps
                uniform = sample_rows(legal.astype(np.float64), rng.random(act.size))
                z = np.where(
                    legal, logits - np.where(legal, logits, -np.inf).max(axis=1, keepdims=True), -np.inf
                )
                avg_action = sample_rows(np.exp(z), rng.random(act.size))
                chosen = np.where(is_br, np.where(explore, uniform, greedy), avg_action)
                idx = count + np.arange(act.size, dtype=np.int64)
                count += act.size
                obs_parts.append(obs)
                legal_parts.append(legal)
                action_parts.append(chosen)
                br_parts.append(is_br)
                prev = last[act, player]
                linked = prev >= 0
                links.append((prev[linked], idx[linked]))
                last[act, player] = idx
                actions = np.argmax(ts.legal, axis=1)
                actions[act] = chosen
                ts = env.step(actions)
                ended = ts.done & active
                if ended.any():
                    js = last[ended]
                    has = js >= 0
                    ends.append((js[has], ts.reward[ended][has]))
                    last[ended] = -1
                active &= ~ts.done
                if not active.any():
                    break
        finally:
            env.close()
        cat_obs = np.concatenate(obs_parts)
        nxt = np.full(count, -1, dtype=np.int64)
        reward = np.zeros(count, dtype=np.float32)
        done = np.zeros(count, dtype=np.bool_)
        for src, dst in links:
            nxt[src] = dst
        for js, ret in ends:
            reward[js] = ret
            done[js] = True
        closed = np.flatnonzero(done | (nxt >= 0))  # decisions of episodes cut off have neither
        return {
            "obs": cat_obs,
            "legal": np.concatenate(legal_parts),
            "action": np.concatenate(action_parts),
            "br": np.concatenate(br_parts),
            "next": nxt,
            "reward": reward,
            "done": done,
            "closed": closed,
            "decisions": count,
            "episodes": int(b - active.sum()),
            "epsilon": eps,
        }

    def _store(self, state: State, batch: dict[str, Any], rng: np.random.Generator) -> None:
        """The iteration's transitions into the replay buffer, its best responses into the reservoir."""
        obs, legal, action = batch["obs"], batch["legal"], batch["action"]
        keep = batch["closed"]
        if keep.size:
            nxt = batch["next"][keep]
            has_next = nxt >= 0
            safe = np.where(has_next, nxt, 0)
            next_obs = np.where(has_next[:, None], obs[safe], 0.0).astype(np.float32)
            next_legal = legal[safe] & has_next[:, None]
            items = {
                "replay.obs": obs[keep],
                "replay.action": action[keep].astype(np.int32),
                "replay.reward": batch["reward"][keep],
                "replay.next_obs": next_obs,
                "replay.next_legal": next_legal,
                "replay.done": batch["done"][keep],
            }
            n, cap = keep.size, self.replay_capacity
            if n > cap:
                items = {k: v[-cap:] for k, v in items.items()}
                pos = (int(state["replay.pos"]) + n - cap) % cap
                n = cap
            else:
                pos = int(state["replay.pos"])
            slots = (pos + np.arange(n)) % cap
            for name, value in items.items():
                state[name][slots] = value
            state["replay.pos"][...] = (pos + n) % cap
            state["replay.size"][...] = min(int(state["replay.size"]) + n, cap)
        br = np.flatnonzero(batch["br"])
        if br.size:
            seen = int(state["reservoir.count"])
            cap = self.reservoir_capacity
            offered = seen + np.arange(br.size, dtype=np.int64)  # items before each one
            slot = np.where(offered < cap, offered, (rng.random(br.size) * (offered + 1)).astype(np.int64))
            taken = slot < cap
            slot, src = slot[taken], br[taken]
            state["reservoir.obs"][slot] = obs[src]
            state["reservoir.legal"][slot] = legal[src]
            state["reservoir.action"][slot] = action[src].astype(np.int32)
            state["reservoir.count"][...] = seen + br.size

    # ------------------------------------------------------------------------------ learning
    def _learn(
        self,
        state: State,
        parts: dict[str, Any],
        rng: np.random.Generator,
        t: int,
        rl_steps: int,
        sl_steps: int,
    ) -> dict[str, float]:
        """DQN steps on the replay buffer and classification steps on the reservoir (module doc)."""
        import torch

        dev = self.device
        q, target, avg = parts["q"], parts["target"], parts["avg"]
        q_opt, avg_opt = parts["q_opt"], parts["avg_opt"]
        size = int(state["replay.size"])
        rl_done, rl_loss = 0, 0.0
        updates = int(state["rl_updates"])
        if size >= self.batch_size and rl_steps > 0:
            buf = {
                k: torch.from_numpy(state[f"replay.{k}"])
                for k in ("obs", "action", "reward", "next_obs", "next_legal", "done")
            }
            q.train()
            for k in range(rl_steps):
                idx = torch.from_numpy(rng.integers(0, size, self.batch_size))
                obs = buf["obs"][idx].to(dev)
                action = buf["action"][idx].to(dev, torch.int64)
                with torch.no_grad():
                    nq = target(buf["next_obs"][idx].to(dev))
                    nlegal = buf["next_legal"][idx].to(dev)
                    best = nq.masked_fill(~nlegal, -torch.inf).max(dim=1).values
                    done = buf["done"][idx].to(dev)
                    best = torch.where(done, torch.zeros_like(best), best)
                    y = buf["reward"][idx].to(dev) + best
                pred = q(obs).gather(1, action[:, None])[:, 0]
                loss = torch.nn.functional.mse_loss(pred, y)
                if not bool(torch.isfinite(loss)):
                    raise GamesolveError(
                        f"nfsp: the Q-network's loss is not finite at iteration {t} (DQN step {k + 1}); "
                        f"the state keeps iteration {t - 1}: lower rl_learning_rate or check the rewards"
                    )
                q_opt.zero_grad(set_to_none=True)
                loss.backward()
                q_opt.step()
                rl_loss += float(loss.detach())
                rl_done += 1
                if (updates + rl_done) % self.target_update_every == 0:
                    target.load_state_dict(q.state_dict())
            q.eval()
        count = int(state["reservoir.count"])
        filled = min(count, self.reservoir_capacity)
        sl_done, sl_loss = 0, 0.0
        if filled >= self.batch_size and sl_steps > 0:
            res = {k: torch.from_numpy(state[f"reservoir.{k}"]) for k in ("obs", "legal", "action")}
            avg.train()
            for k in range(sl_steps):
                idx = torch.from_numpy(rng.integers(0, filled, self.batch_size))
                logits = avg(res["obs"][idx].to(dev)).masked_fill(~res["legal"][idx].to(dev), -1e9)
                loss = torch.nn.functional.cross_entropy(logits, res["action"][idx].to(dev, torch.int64))
                if not bool(torch.isfinite(loss)):
                    raise GamesolveError(
                        f"nfsp: the average network's loss is not finite at iteration {t} (step {k + 1}); "
                        f"the state keeps iteration {t - 1}: lower sl_learning_rate"
                    )
                avg_opt.zero_grad(set_to_none=True)
                loss.backward()
                avg_opt.step()
                sl_loss += float(loss.detach())
                sl_done += 1
            avg.eval()
        return {
            "rl_loss": rl_loss / rl_done if rl_done else math.nan,
            "sl_loss": sl_loss / sl_done if sl_done else math.nan,
            "rl_steps": float(rl_done),
            "sl_steps": float(sl_done),
        }


NFSP_ENTRY = SolverEntry(
    name="nfsp",
    factory=NFSP,
    description="Neural Fictitious Self-Play: DQN best responses, a reservoir-trained average net (any game)",
)
