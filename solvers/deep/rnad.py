"""Regularized Nash Dynamics in torch, the ``"rnad"`` solver.

Perolat, De Vylder, Hennes, Tarassov, Strub et al. 2022, "Mastering the game of Stratego with
model-free multiagent reinforcement learning" (DeepNash). One network, shared by every player, reads
the acting player's observation tensor and gives logits over action ids and the acting player's
value. Every learner step plays ``num_envs`` fresh self-play episodes on :func:`gamesolve.vector_env`
with the online network (:func:`~gamesolve.solvers.deep.rollout.collect_episodes`) and takes one Adam
step on them:

1. **Reward transform.** Against the regularisation policy ``pi_reg``, the learning player ``i``'s
   reward gets ``-eta * log(pi(a|o) / pi_reg(a|o))`` at its own decisions and
   ``+eta * log(pi(a|o) / pi_reg(a|o))`` at the other players' (in expectation under ``pi``: minus
   and plus ``eta`` times the KL divergence); :func:`v_trace` credits it step by step.
2. **Dynamics of the regularised game.** :func:`v_trace` computes, backwards over every episode and
   separately for each learning player (its own decisions linked, the other players' steps folded
   into the carry), value targets of the transformed game with v-trace (Espeholt et al. 2018,
   "IMPALA: Scalable distributed deep-RL with importance weighted actor-learner architectures"; gamma
   1, lambda 1, clipped ratios ``c`` and ``rho``) from the *target* network's values, and an
   estimate ``q(a)`` of every action's value. The value head regresses on the targets; the policy
   follows NeuRD (Hennes et al. 2020, "Neural replicator dynamics"), :func:`neurd_loss`: the
   advantage ``q(a) - sum_b pi(b) q(b)`` (stop-gradient, clipped) times the logits centred over the
   legal actions, applied only while a logit lies inside ``(-beta, beta)`` in the direction it is
   pushed.
3. **Regularisation update.** The target network follows the online one by Polyak averaging
   (``target_network_avg``). An entropy schedule (:class:`EntropySchedule`) cuts the learner steps
   into outer iterations; at the start of each, ``pi_reg`` moves to the target network (the
   learned fixed point) and the one before is kept, and within an iteration the regularisation is
   the smooth switch ``log pi_reg = alpha * log pi_prev + (1 - alpha) * log pi_prev'`` with
   ``alpha`` rising from 0 to 1 over its first half.

The output (:attr:`RNAD.output` is :attr:`Iterate.CURRENT`) is the target network by default
(``output="online"`` reads the online one), a :class:`~gamesolve.neural.NeuralPolicy`. Every number of
the run (the four networks, Adam's moments and step counts, the learner step, the generator) lives
in the solver state, and each step starts from fresh rollouts, so a resumed CPU run repeats an
uninterrupted one exactly. Evaluations are as in :mod:`~gamesolve.solvers.deep.common`: exact
exploitability on compiled games, head-to-head against uniform random elsewhere.
torch is imported when the solver is built, not when the registry lists it.
"""

from __future__ import annotations

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
from gamesolve.solvers.deep.rollout import ActFn, Rollout, collect_episodes
from gamesolve.solvers.deep.shell import NetworkLearner
from gamesolve.spec import GameKind, GameSpec
from gamesolve.validation import check_choice, check_int, check_real

__all__ = ["RNAD", "RNAD_ENTRY", "EntropySchedule", "episode_returns", "neurd_loss", "v_trace"]

#: State prefixes of the four networks and of Adam.
NET = "net."
TARGET = "target."
REG = "reg."
REG_PREV = "reg_prev."
OPT = "opt."
NETWORKS = (NET, TARGET, REG, REG_PREV)

#: Which network :meth:`RNAD.policy` reads.
OUTPUT_CHOICES = ("target", "online")


class EntropySchedule:
    """The learner steps at which the regularisation policy moves, and the smooth switch weight.

    ``sizes[k]`` is an outer-iteration length repeated ``repeats[k]`` times; the last size repeats
    forever. ``EntropySchedule((3, 5), (2, 1))`` starts outer iterations at steps 0, 3, 6, 11, 16, ...

    Raises:
        InvalidArgumentError: Empty or unequal lists, a size or repeat below 1, or a last repeat
            other than 1 (the last size is the one repeated forever).
    """

    def __init__(self, sizes: Sequence[int], repeats: Sequence[int]) -> None:
        for name, values in (("entropy_schedule_size", sizes), ("entropy_schedule_repeats", repeats)):
            if isinstance(values, str | bytes) or not isinstance(values, Sequence) or not values:
                raise InvalidArgumentError(f"{name} must be a non-empty list of integers, got {values!r}")
        self.sizes = tuple(
            check_int(f"entropy_schedule_size[{k}]", s, minimum=1) for k, s in enumerate(sizes)
        )
        self.repeats = tuple(
            check_int(f"entropy_schedule_repeats[{k}]", r, minimum=1) for k, r in enumerate(repeats)
        )
        if len(self.sizes) != len(self.repeats):
            raise InvalidArgumentError(
                f"entropy_schedule_repeats must have one entry per entropy_schedule_size entry, got "
                f"{len(self.repeats)} and {len(self.sizes)}"
            )
        if self.repeats[-1] != 1:
            raise InvalidArgumentError(
                "entropy_schedule_repeats must end with 1 (the last size repeats forever), "
                f"got {list(self.repeats)}"
            )
        starts = [0]
        for size, repeat in zip(self.sizes, self.repeats, strict=True):
            for _ in range(repeat):
                starts.append(starts[-1] + size)
        self.starts = tuple(starts)

    def iteration(self, step: int) -> tuple[int, int, int]:
        """``(outer iteration index, its first learner step, its length)`` of learner step ``step``."""
        explicit = len(self.starts) - 1
        if step < self.starts[-1]:
            k = int(np.searchsorted(self.starts, step, side="right")) - 1
            return k, self.starts[k], self.starts[k + 1] - self.starts[k]
        size = self.sizes[-1]
        extra = (step - self.starts[-1]) // size
        return explicit + extra, self.starts[-1] + extra * size, size

    def __call__(self, step: int) -> tuple[float, bool]:
        """``(alpha, switch)`` at learner step ``step``.

        ``alpha = min(2 (step - start) / size, 1)`` is the weight of the newer regularisation
        policy; ``switch`` is true at the first step of every outer iteration but the first, when
        the regularisation policy moves to the target network (after that step's update).
        """
        _, start, size = self.iteration(step)
        alpha = min(2.0 * (step - start) / size, 1.0)
        return alpha, step > 0 and step == start


def episode_returns(rollout: Rollout, num_players: int) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Every player's return at the last step of each recorded episode, time-major.

    Returns ``(rewards [T, B, P], end [T, B])``: ``end`` marks the last step of each recorded
    episode (nothing later in that environment's column belongs to it) and ``rewards`` holds there
    the returns the players got when it ended (zero elsewhere, and for a player that never acted in
    the episode, whose return the rollout does not record).
    """
    t, b = rollout.steps, rollout.num_envs
    valid = rollout.valid.reshape(t, b)
    serial = rollout.serial.reshape(t, b)
    later = np.concatenate([serial[1:], np.full((1, b), -1, dtype=serial.dtype)])
    end = valid & (later != serial)
    final = np.zeros((t, b), dtype=np.int64)  # the row of each row's episode's last step
    flat = np.arange(t * b).reshape(t, b)
    for s in range(t - 1, -1, -1):
        final[s] = np.where(end[s] | (s == t - 1), flat[s], final[min(s + 1, t - 1)])
    rewards = np.zeros((t * b, num_players))
    rows = np.flatnonzero(rollout.terminal & rollout.valid)
    np.add.at(rewards, (final.reshape(-1)[rows], rollout.player[rows]), rollout.reward[rows])
    return rewards.reshape(t, b, num_players), end


def v_trace(
    value: Any,
    valid: Any,
    player: Any,
    pi: Any,
    log_ratio: Any,
    action: Any,
    behaviour: Any,
    reward: Any,
    end: Any,
    *,
    learner: int,
    eta: float,
    c: float = 1.0,
    rho: float = 1.0,
) -> tuple[Any, Any]:
    """V-trace targets and action values of the regularised game for one learning player.

    All inputs are time-major torch tensors over ``T`` steps of ``B`` environment columns (several
    episodes may follow each other in a column; ``end`` separates them). Gamma and lambda are 1.

    Args:
        value: ``[T, B]`` the acting player's value estimate at each step (the target network's).
        valid: ``[T, B]`` bool, the step belongs to a recorded episode.
        player: ``[T, B]`` who acts.
        pi: ``[T, B, A]`` the learned policy (zero on illegal actions).
        log_ratio: ``[T, B, A]`` ``log pi - log pi_reg`` (zero on illegal actions).
        action: ``[T, B]`` the action taken.
        behaviour: ``[T, B]`` its probability under the policy that acted.
        reward: ``[T, B]`` the learning player's reward that arrived after the step.
        end: ``[T, B]`` bool, the step is the last of its episode.
        learner: The learning player ``i``.
        eta: Weight of the reward transform.
        c: Clip of the trace-cutting ratios (``c``-bar).
        rho: Clip of the temporal-difference ratios (``rho``-bar).

    Returns:
        ``(v_target [T, B], q [T, B, A])``, both zero away from ``i``'s valid steps. At ``i``'s step
        ``t``, with ``rho_t`` the ratio ``pi(a_t) / behaviour_t`` times those of the other players'
        steps up to ``i``'s next step ``t'``, ``R`` the transformed rewards from ``t`` to ``t'``
        (``-eta KL(pi || pi_reg)`` at ``i``'s step, ``+eta KL`` at the others', and the game's
        rewards), ``v_target_t = v_t + min(rho, rho_t)(R + v_t' - v_t) + min(c, rho_t)(v_target_t' -
        v_t')``; ``q_t(a) = v_t - eta log_ratio_t(a) + [a = a_t] / behaviour_t (G + rho_t' v_target_t'
        - v_t)`` where ``G`` sums the game's rewards and the others' ``+eta KL`` terms, each weighted
        by the ratios of the other players' steps before it, and ``rho_t'`` is the product of the
        others' ratios between ``t`` and ``t'``.
    """
    import torch

    steps, batch = value.shape
    zero = torch.zeros(batch, dtype=value.dtype, device=value.device)
    one = torch.ones_like(zero)
    carry_reward, carry_uncorrected, next_value, next_target, carry_ratio = zero, zero, zero, zero, one
    v_target = torch.zeros_like(value)
    q = torch.zeros_like(pi)
    for t in range(steps - 1, -1, -1):
        fresh = end[t] | ~valid[t]
        carry_reward = torch.where(fresh, zero, carry_reward)
        carry_uncorrected = torch.where(fresh, zero, carry_uncorrected)
        next_value = torch.where(fresh, zero, next_value)
        next_target = torch.where(fresh, zero, next_target)
        carry_ratio = torch.where(fresh, one, carry_ratio)
        own = valid[t] & (player[t] == learner)
        other = valid[t] & ~own
        sign = torch.where(own, 1.0, -1.0).to(value.dtype)
        kl = (pi[t] * log_ratio[t]).sum(dim=-1)
        regulariser = -eta * kl * sign
        taken = action[t, :, None]
        ratio = pi[t].gather(1, taken)[:, 0] / behaviour[t]
        uncorrected = reward[t] + carry_uncorrected + regulariser
        discounted = reward[t] + carry_reward
        traced = ratio * carry_ratio
        v = value[t]
        target = (
            v
            + torch.clamp(traced, max=rho) * (uncorrected + next_value - v)
            + torch.clamp(traced, max=c) * (next_target - next_value)
        )
        correction = (discounted + carry_ratio * next_target - v) / behaviour[t]
        q_t = v[:, None] - eta * log_ratio[t]
        q_t = q_t.scatter_add(1, taken, correction[:, None])
        v_target[t] = torch.where(own, target, zero)
        q[t] = torch.where(own[:, None], q_t, torch.zeros_like(q_t))
        # the carry: reset at the learner's own steps, accumulated over the others' steps
        carry_reward = torch.where(own, zero, torch.where(other, regulariser + ratio * discounted, zero))
        carry_uncorrected = torch.where(other, uncorrected, zero)
        next_value = torch.where(own, v, torch.where(other, next_value, zero))
        next_target = torch.where(own, target, torch.where(other, next_target, zero))
        carry_ratio = torch.where(other, traced, one)
    return v_target, q


def neurd_loss(logits: Any, legal: Any, advantage: Any, weight: Any, *, beta: float, clip: float) -> Any:
    """The NeuRD policy loss with the logit threshold (Hennes et al. 2020), a torch scalar.

    Args:
        logits: ``[N, A]`` the network's logits (the gradient flows through them).
        legal: ``[N, A]`` bool legal actions.
        advantage: ``[N, A]`` ``q(a) - sum_b pi(b) q(b)``; treated as a constant, clipped to
            ``[-clip, clip]``.
        weight: ``[N]`` each row's weight in the loss.
        beta: The threshold: a logit centred over its row's legal actions is pushed up only while
            below ``beta`` and down only while above ``-beta``.
        clip: The advantage clip.

    The loss is ``-sum_n weight_n sum_{a legal} y_n(a) f_n(a)`` where ``y`` are the centred logits
    and ``f`` the clipped advantage with its positive part zeroed where ``y >= beta`` and its
    negative part zeroed where ``y <= -beta``; its gradient in the logits is ``-weight_n (f_n(a) -
    mean_{legal} f_n)`` on legal actions.
    """
    import torch

    mask = legal.to(logits.dtype)
    count = mask.sum(dim=-1, keepdim=True).clamp(min=1.0)
    centred = logits - (logits * mask).sum(dim=-1, keepdim=True) / count
    force = torch.clamp(advantage, -clip, clip).detach()
    with torch.no_grad():
        can_increase = centred < beta
        can_decrease = centred > -beta
        force = torch.where(can_increase, force.clamp(min=0.0), 0.0) + torch.where(
            can_decrease, force.clamp(max=0.0), 0.0
        )
    return -(weight * (mask * centred * force).sum(dim=-1)).sum()


class RNAD(NetworkLearner):
    """Regularized Nash Dynamics with one network for every player (the ``"rnad"`` solver).

    The defaults are set for Leduc poker on one CPU thread: the batch (256 episodes), layers,
    Adam settings, target average (0.001), ``eta`` and NeuRD settings of DeepMind's JAX R-NaD, with a
    learning rate ten times larger (5e-4 against 5e-5) and outer iterations ten times shorter (3,000
    learner steps against 20,000). The slow target network matters: it is the output, and the
    online network alone hovers around 0.6-0.75 exploitability on Leduc. There, seed 0 reaches 0.48
    after 2,500 steps, 0.36 after 3,000 and 0.25 after 8,000 (about 0.04 CPU seconds a step). One
    iteration is one learner step.

    Args:
        hidden: Hidden layer widths of the MLP (policy and value heads share them).
        torso: ``"mlp"`` or ``"conv"`` (3x3 convolutions over board-shaped observations, then
            the ``hidden`` layers; see :mod:`gamesolve.solvers.deep.shell`).
        channels: Output channels of each convolution (``torso="conv"`` only).
        learning_rate: Adam step size (finite, > 0).
        num_envs: Episodes per learner step (the batch, >= 1).
        rollout_length: Batched steps after which no new episode starts in a rollout (>= 1; 1 plays
            exactly one episode per environment).
        adam_b1: Adam's first-moment decay in ``[0, 1)`` (0: no momentum, as in the paper).
        adam_b2: Adam's second-moment decay in ``[0, 1)``.
        adam_eps: Adam's epsilon (> 0).
        clip_gradient: Every gradient entry is clipped to ``[-clip_gradient, clip_gradient]`` (> 0).
        target_network_avg: Polyak step of the target network towards the online one, in ``(0, 1]``.
        entropy_schedule_size: Outer-iteration lengths in learner steps (see :class:`EntropySchedule`).
        entropy_schedule_repeats: How often each length repeats (the last entry must be 1).
        eta: Weight of the reward transform (>= 0).
        neurd_beta: NeuRD logit threshold (> 0).
        neurd_clip: NeuRD advantage clip (> 0).
        c_vtrace: V-trace trace-cutting clip (> 0).
        rho_vtrace: V-trace temporal-difference clip (> 0, may be ``inf``). The data are on-policy
            (one update per rollout), so both ratios are 1 and the clips do not bind.
        output: The network :meth:`policy` returns: ``"target"`` (the Polyak average) or ``"online"``.
        observation: ``"auto"`` (information-state tensors when the game has them), ``"info_state"``
            or ``"observation"``.
        device, threads, eval_matches, eval_seed, eval_mcts_matches, eval_mcts_simulations,
        eval_rl_bound_steps, log_dir, tensorboard, rollout_workers,
        rollout_executor: The options every deep learner shares (see
            :mod:`gamesolve.solvers.deep.shell`); the logs are ``updates.csv``, one row per
            learner step, and ``evaluations.csv``, one row per evaluation.

    Raises:
        InvalidArgumentError: An option outside these ranges (naming it), or a device that does not
            exist here.
    """

    name = "rnad"
    logged_losses = ("policy_loss", "value_loss", "kl_to_reg", "alpha")
    output = Iterate.CURRENT
    default_iterations = 8_000

    def __init__(
        self,
        *,
        hidden: Sequence[int] = (256, 256),
        torso: str = "mlp",
        channels: Sequence[int] = (32,),
        learning_rate: float = 5e-4,
        num_envs: int = 256,
        rollout_length: int = 1,
        adam_b1: float = 0.0,
        adam_b2: float = 0.999,
        adam_eps: float = 1e-7,
        clip_gradient: float = 10_000.0,
        target_network_avg: float = 0.001,
        entropy_schedule_size: Sequence[int] = (3_000,),
        entropy_schedule_repeats: Sequence[int] = (1,),
        eta: float = 0.2,
        neurd_beta: float = 2.0,
        neurd_clip: float = 10_000.0,
        c_vtrace: float = 1.0,
        rho_vtrace: float = 1.0,
        output: str = "target",
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
        self.learning_rate = check_real("learning_rate", learning_rate, minimum=0.0, min_inclusive=False)
        self.num_envs = check_int("num_envs", num_envs, minimum=1)
        self.rollout_length = check_int("rollout_length", rollout_length, minimum=1)
        self.adam_b1 = check_real("adam_b1", adam_b1, minimum=0.0, maximum=1.0, max_inclusive=False)
        self.adam_b2 = check_real("adam_b2", adam_b2, minimum=0.0, maximum=1.0, max_inclusive=False)
        self.adam_eps = check_real("adam_eps", adam_eps, minimum=0.0, min_inclusive=False)
        self.clip_gradient = check_real("clip_gradient", clip_gradient, minimum=0.0, min_inclusive=False)
        self.target_network_avg = check_real(
            "target_network_avg", target_network_avg, minimum=0.0, maximum=1.0, min_inclusive=False
        )
        self.schedule = EntropySchedule(entropy_schedule_size, entropy_schedule_repeats)
        self.eta = check_real("eta", eta, minimum=0.0)
        self.neurd_beta = check_real("neurd_beta", neurd_beta, minimum=0.0, min_inclusive=False)
        self.neurd_clip = check_real("neurd_clip", neurd_clip, minimum=0.0, min_inclusive=False)
        self.c_vtrace = check_real("c_vtrace", c_vtrace, minimum=0.0, min_inclusive=False)
        self.rho_vtrace = check_real(
            "rho_vtrace", rho_vtrace, minimum=0.0, min_inclusive=False, allow_inf=True
        )
        self.output_network = check_choice("output", output, OUTPUT_CHOICES)
        self.observation = check_choice("observation", observation, OBSERVATION_CHOICES)
        self._modules: tuple[DeepGame, dict[str, Any], Any] | None = None

    # ------------------------------------------------------------------------------ contract
    def config(self) -> dict[str, Any]:
        """The options as JSON values (the log directory and device are not part of the run's identity)."""
        return {
            **self.network_config(),
            "learning_rate": self.learning_rate,
            "num_envs": self.num_envs,
            "rollout_length": self.rollout_length,
            "adam_b1": self.adam_b1,
            "adam_b2": self.adam_b2,
            "adam_eps": self.adam_eps,
            "clip_gradient": self.clip_gradient,
            "target_network_avg": self.target_network_avg,
            "entropy_schedule_size": list(self.schedule.sizes),
            "entropy_schedule_repeats": list(self.schedule.repeats),
            "eta": self.eta,
            "neurd_beta": self.neurd_beta,
            "neurd_clip": self.neurd_clip,
            "c_vtrace": self.c_vtrace,
            "rho_vtrace": self.rho_vtrace,
            "output": self.output_network,
            "observation": self.observation,
            **self.shell_config(),
        }

    def check(self, spec: GameSpec) -> None:
        """Extensive-form games only (:meth:`prepare` already refused the others)."""
        if spec.kind is not GameKind.EXTENSIVE_FORM:  # pragma: no cover - prepare refuses first
            raise InvalidArgumentError(f"rnad plays extensive-form games, not {spec.kind.value} games")

    def _network(self, game: DeepGame) -> Any:
        return self.make_network(game, value_head=True)

    def _optimizer(self, net: Any) -> Any:
        import torch

        return torch.optim.Adam(
            net.parameters(), lr=self.learning_rate, betas=(self.adam_b1, self.adam_b2), eps=self.adam_eps
        )

    def _cached(self, game: DeepGame) -> tuple[dict[str, Any], Any]:
        if self._modules is None or self._modules[0] is not game:
            nets = {prefix: self._network(game) for prefix in NETWORKS}
            for prefix in (TARGET, REG, REG_PREV):
                nets[prefix].requires_grad_(False)
            self._modules = (game, nets, self._optimizer(nets[NET]))
        return self._modules[1], self._modules[2]

    def init(self, game: DeepGame, rng: np.random.Generator) -> State:
        """Fresh networks and optimiser: learner step 0.

        The online network's policy head is scaled down (a near-uniform start); the target and both
        regularisation networks equal it; Adam is fresh; the generator is stored.
        """
        import torch

        from gamesolve.neural.state import optimizer_nonnegative, pack_module, pack_optimizer

        seed = int(rng.integers(1 << 62))
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(seed)
            net = self._network(game)
        with torch.no_grad():
            net.policy.weight.mul_(0.01)
            net.policy.bias.zero_()
        opt = self._optimizer(net)
        state: State = {"t": np.zeros((), dtype=np.int64), "regularisations": np.zeros((), dtype=np.int64)}
        for prefix in NETWORKS:
            pack_module(state, prefix, net)
        pack_optimizer(state, OPT, opt)
        state["rng"] = rng_to_array(rng)
        self.state_rules = StateRules(
            counter="t",
            generators=frozenset({"rng"}),
            nonnegative=optimizer_nonnegative(OPT, opt) | {"regularisations"},
        )
        return state

    def step(self, game: DeepGame, state: State, iterations: int = 1) -> None:
        """``iterations`` learner steps, each on fresh self-play episodes."""
        from gamesolve.neural.state import unpack_module, unpack_optimizer

        with self.torch_scope():
            nets, opt = self._cached(game)
            for prefix, module in nets.items():
                unpack_module(state, prefix, module)
            unpack_optimizer(state, OPT, opt)
            rng = rng_from_array(state["rng"])
            for _ in range(iterations):
                self._one_update(game, state, nets, opt, rng)

    def _one_update(
        self, game: DeepGame, state: State, nets: dict[str, Any], opt: Any, rng: np.random.Generator
    ) -> None:
        import torch

        from gamesolve.neural.state import pack_module, pack_optimizer

        t = int(state["t"]) + 1
        alpha, switch = self.schedule(t - 1)
        rollout = collect_episodes(
            game,
            self.acting(nets[NET]),
            num_envs=self.num_envs,
            min_steps=self.rollout_length,
            rng=rng,
            name=self.name,
            update=t,
        )
        stats = self._learn(game, nets, opt, rollout, alpha, t)
        with torch.no_grad():
            for target, online in zip(nets[TARGET].parameters(), nets[NET].parameters(), strict=True):
                target.lerp_(online, self.target_network_avg)
        if switch:
            nets[REG_PREV].load_state_dict(nets[REG].state_dict())
            nets[REG].load_state_dict(nets[TARGET].state_dict())
            state["regularisations"][...] = int(state["regularisations"]) + 1
        for prefix, module in nets.items():
            pack_module(state, prefix, module)
        pack_optimizer(state, OPT, opt)
        state["t"][...] = t
        state["rng"] = rng_to_array(rng)
        stats["alpha"] = alpha
        stats["regularisations"] = float(state["regularisations"])
        self.log_update(t, stats)

    def policy(self, game: DeepGame, state: State, which: Iterate) -> Any:
        """The target (default) or online network of the state as a :class:`~gamesolve.neural.NeuralPolicy`.

        Both iterates are that network: R-NaD's output is its last regularised fixed point, not an
        average of policies.
        """
        del which
        from gamesolve.neural.state import unpack_module

        net = self._network(game)
        unpack_module(state, TARGET if self.output_network == "target" else NET, net)
        return self.network_policy(game, net, int(state["t"]))

    # --------------------------------------------------------------------------- measurement
    def extras(self, game: DeepGame, state: State) -> dict[str, Any]:
        """What the history measures, learner steps, regularisation updates, the last step's figures."""
        self.close_logs()
        return {
            "evaluation": game.metric,
            "updates": int(state["t"]),
            "regularisations": int(state["regularisations"]),
            "output_network": self.output_network,
            "device": str(self.device),
            "last_update": dict(self._last),
        }

    def progress_info(self, game: DeepGame, state: State) -> dict[str, Any]:
        """The outer iteration (regularisation updates so far) and the last step's value loss."""
        del game
        if not self._last:
            return {}
        return {"reg": int(state["regularisations"]), "v_loss": f"{self._last['value_loss']:.3f}"}

    # ------------------------------------------------------------------------------ learning
    def acting(self, net: Any) -> ActFn:
        """``net`` as the rollout's actor: masked log-probabilities on the CPU in float64, no values."""
        import torch

        def act(observation: NDArray[np.float32], legal: NDArray[np.bool_]) -> tuple[Any, Any]:
            with torch.inference_mode():
                obs = torch.as_tensor(observation, device=self.device)
                legal_t = torch.as_tensor(legal, device=self.device)
                logits, _ = net(obs, legal_t)
                logp_all = torch.log_softmax(logits.masked_fill(~legal_t, -1e9), dim=-1)
            return logp_all.to("cpu", torch.float64).numpy(), None

        return act

    def _learn(
        self, game: DeepGame, nets: dict[str, Any], opt: Any, rollout: Rollout, alpha: float, t: int
    ) -> dict[str, float]:
        """One Adam step on the value and NeuRD losses of one rollout (see the module doc)."""
        import torch

        dev = self.device
        steps, b, a = rollout.steps, rollout.num_envs, game.num_actions
        rows = np.flatnonzero(rollout.valid)
        rewards_np, end_np = episode_returns(rollout, game.num_players)
        obs = torch.as_tensor(rollout.obs[rows], device=dev)
        legal = torch.as_tensor(rollout.legal[rows], device=dev)
        player_v = torch.as_tensor(rollout.player[rows], device=dev)
        net = nets[NET]
        net.train()
        logits, values = net(obs, legal)
        with torch.no_grad():
            log_pi = _log_policy(logits, legal)
            pi = log_pi.exp() * legal
            _, target_values = nets[TARGET](obs, legal)
            log_reg = alpha * _log_policy(nets[REG](obs, legal)[0], legal) + (1.0 - alpha) * _log_policy(
                nets[REG_PREV](obs, legal)[0], legal
            )
            log_ratio = torch.where(legal, log_pi - log_reg, 0.0)

            def grid(x: Any) -> Any:  # valid rows back into the time-major [T, B, ...] layout
                full = torch.zeros((steps * b, *x.shape[1:]), dtype=x.dtype, device=dev)
                full[torch.as_tensor(rows, device=dev)] = x
                return full.reshape(steps, b, *x.shape[1:])

            valid = torch.as_tensor(rollout.valid.reshape(steps, b), device=dev)
            player = torch.as_tensor(rollout.player.reshape(steps, b), device=dev)
            action = torch.as_tensor(rollout.action.reshape(steps, b), device=dev)
            behaviour = torch.as_tensor(
                np.exp(rollout.logp).reshape(steps, b), dtype=torch.float32, device=dev
            )
            behaviour = torch.where(valid, behaviour, 1.0)
            end = torch.as_tensor(end_np, device=dev)
            rewards = torch.as_tensor(rewards_np, dtype=torch.float32, device=dev)
            pi_g, log_ratio_g, value_g = grid(pi), grid(log_ratio), grid(target_values[:, 0])
            v_target = torch.zeros(rows.size, device=dev)
            advantage = torch.zeros((rows.size, a), device=dev)
            weight = torch.zeros(rows.size, device=dev)
            flat_rows = torch.as_tensor(rows, device=dev)
            for i in range(game.num_players):
                vt, q = v_trace(
                    value_g,
                    valid,
                    player,
                    pi_g,
                    log_ratio_g,
                    action,
                    behaviour,
                    rewards[:, :, i],
                    end,
                    learner=i,
                    eta=self.eta,
                    c=self.c_vtrace,
                    rho=self.rho_vtrace,
                )
                mine = player_v == i
                count = int(mine.sum())
                if count == 0:
                    continue
                vt_rows = vt.reshape(-1)[flat_rows]
                q_rows = q.reshape(-1, a)[flat_rows]
                v_target = torch.where(mine, vt_rows, v_target)
                adv = q_rows - (pi * q_rows).sum(dim=-1, keepdim=True)
                advantage = torch.where(mine[:, None], adv, advantage)
                weight = torch.where(mine, 1.0 / count, weight)
            kl = (pi * log_ratio).sum(dim=-1)
        value_loss = (weight * (values[:, 0] - v_target) ** 2).sum()
        policy_loss = neurd_loss(
            logits, legal, advantage * legal, weight, beta=self.neurd_beta, clip=self.neurd_clip
        )
        loss = value_loss + policy_loss
        net.eval()
        if not bool(torch.isfinite(loss)):
            raise GamesolveError(
                f"rnad: the loss is not finite at update {t}; the state keeps update {t - 1}: "
                "lower learning_rate or check the game's rewards"
            )
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_value_(net.parameters(), self.clip_gradient)
        opt.step()
        with torch.no_grad():  # weights so large that the network overflows on the batch it learned from
            after_logits, after_values = net(obs, legal)
            finite = bool(torch.isfinite(after_logits[legal]).all() & torch.isfinite(after_values).all())
        if not finite:
            raise GamesolveError(
                f"rnad: the network gives non-finite outputs after update {t}; the state keeps update "
                f"{t - 1}: lower learning_rate or check the game's rewards"
            )
        return {
            "value_loss": float(value_loss.detach()),
            "policy_loss": float(policy_loss.detach()),
            "kl_to_reg": float(kl.mean()),
            "transitions": float(rows.size),
            "episodes": float(rollout.episodes),
            "env_steps": float(rollout.steps),
        }


def _log_policy(logits: Any, legal: Any) -> Any:
    """Log-probabilities of the softmax over legal actions (illegal entries very negative, finite)."""
    import torch

    return torch.log_softmax(logits.masked_fill(~legal, -1e9), dim=-1)


RNAD_ENTRY = SolverEntry(
    name="rnad",
    factory=RNAD,
    description=(
        "Regularized Nash Dynamics (R-NaD, DeepNash) with one network on the batched environment (torch)"
    ),
)
