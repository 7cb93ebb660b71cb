"""Self-play PPO on the batched environment of any game, the ``"ppo"`` solver.

Schulman, Wolski, Dhariwal, Radford & Klimov 2017, "Proximal policy optimization algorithms";
Schulman, Moritz, Levine, Jordan & Abbeel 2016, "High-dimensional continuous control using generalized
advantage estimation". One network, shared by every player, reads the acting player's observation
tensor and gives logits over action ids (illegal ones masked) and the acting player's value. One
iteration is one PPO update:

1. a rollout on ``num_envs`` fresh episodes of :func:`gamesolve.vector_env`, seeded from the
   solver's generator: ``rollout_length`` batched steps, after which the episodes under way are
   played to their end (so every recorded episode is complete and no value is bootstrapped);
2. GAE along each player's own decisions in an episode (its return arrives at the end, whoever
   moves last);
3. ``epochs`` passes of ``minibatches`` minibatches of the clipped surrogate, the value loss and an
   entropy bonus, with Adam.

Subclasses change the policy objective only, through three documented hooks:
:meth:`PPO.policy_targets` (per-update tensors), :meth:`PPO.policy_loss` (the policy part of each
minibatch's loss) and :meth:`PPO.after_update` (state changes after a successful update); neural
MMD (:mod:`~gamesolve.solvers.deep.mmd`) is one.

Every number of the run lives in the solver state (network weights, Adam moments and step counts,
the generator), and each update starts from fresh rollouts, so a resumed CPU run repeats an
uninterrupted one exactly. On a compiled game every evaluation is the exact exploitability of the
network; elsewhere exploitability is not known (NaN in the history) and each evaluation plays
seeded matches against uniform random (see :mod:`~gamesolve.solvers.deep.common`).
torch is imported when the solver is built, not when the registry lists it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.checkpoint import StateRules, rng_from_array, rng_to_array
from gamesolve.errors import GamesolveError, InvalidArgumentError
from gamesolve.mcts import DEFAULT_SIMULATIONS
from gamesolve.registry import SolverEntry
from gamesolve.solver import Iterate, State
from gamesolve.solvers.deep.common import OBSERVATION_CHOICES, DeepGame
from gamesolve.solvers.deep.rollout import ActFn, collect_episodes, gae, training_batch
from gamesolve.solvers.deep.shell import NetworkLearner
from gamesolve.spec import GameKind, GameSpec
from gamesolve.validation import check_choice, check_int, check_real

__all__ = ["PPO", "PPO_ENTRY", "PolicyMinibatch"]

NET = "net."
OPT = "opt."


@dataclass(eq=False)
class PolicyMinibatch:
    """What :meth:`PPO.policy_loss` sees of one minibatch (torch tensors on the learner's device).

    Attributes:
        logp_all: ``[M, A]`` the network's log-probabilities (illegal actions at about ``-1e9``).
        legal: ``[M, A]`` legal actions.
        logp: ``[M]`` log-probability of the action taken, under the network being trained.
        old_logp: ``[M]`` the same under the network that played the rollout.
        adv: ``[M]`` advantages (normalised over the minibatch when the learner does so).
        rows: ``[M]`` the minibatch's rows of the rollout (to index :attr:`targets`).
        targets: What :meth:`PPO.policy_targets` returned for this update.
        update: The update's number (1 for the first).
    """

    logp_all: Any
    legal: Any
    logp: Any
    old_logp: Any
    adv: Any
    rows: Any
    targets: dict[str, Any]
    update: int


class PPO(NetworkLearner):
    """Self-play PPO with one network for every player (the ``"ppo"`` solver).

    Args:
        hidden: Hidden layer widths of the MLP (policy and value heads share them).
        torso: ``"mlp"`` or ``"conv"`` (3x3 convolutions over board-shaped observations, then
            the ``hidden`` layers; see :mod:`gamesolve.solvers.deep.shell`).
        channels: Output channels of each convolution (``torso="conv"`` only).
        learning_rate: Adam step size (finite, > 0).
        num_envs: Episodes per rollout batch (>= 1).
        rollout_length: Batched steps per rollout before the episodes under way are finished (>= 1).
        epochs: Passes over each rollout (>= 1).
        minibatches: Minibatches per pass (>= 1).
        clip: PPO ratio clip (finite, > 0).
        gae_lambda: GAE lambda in ``[0, 1]``.
        gamma: Discount in ``[0, 1]`` (1: none; rewards come at the end of an episode).
        entropy_coef: Entropy bonus weight (>= 0).
        value_coef: Value loss weight (>= 0).
        max_grad_norm: Gradient norm clip (finite, > 0).
        observation: ``"auto"`` (information-state tensors when the game has them), ``"info_state"``
            or ``"observation"``.
        device, threads, eval_matches, eval_seed, eval_mcts_matches, eval_mcts_simulations,
        eval_rl_bound_steps, log_dir, tensorboard, rollout_workers,
        rollout_executor: The options every deep learner shares (see
            :mod:`gamesolve.solvers.deep.shell`); the logs are ``updates.csv``, one row per update,
            and ``evaluations.csv``, one row per evaluation.

    Raises:
        InvalidArgumentError: An option outside these ranges (naming it), or a device that does not
            exist here.
    """

    name = "ppo"
    output = Iterate.CURRENT
    default_iterations = 200
    logged_losses = ("policy_loss", "value_loss", "entropy", "approx_kl")
    #: Whether advantages are normalised to zero mean and unit deviation in each minibatch.
    normalize_advantages = True

    def __init__(
        self,
        *,
        hidden: Sequence[int] = (128, 128),
        torso: str = "mlp",
        channels: Sequence[int] = (32,),
        learning_rate: float = 3e-4,
        num_envs: int = 512,
        rollout_length: int = 16,
        epochs: int = 4,
        minibatches: int = 8,
        clip: float = 0.2,
        gae_lambda: float = 0.95,
        gamma: float = 1.0,
        entropy_coef: float = 0.1,
        value_coef: float = 0.5,
        max_grad_norm: float = 0.5,
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
        self.epochs = check_int("epochs", epochs, minimum=1)
        self.minibatches = check_int("minibatches", minibatches, minimum=1)
        self.clip = check_real("clip", clip, minimum=0.0, min_inclusive=False)
        self.gae_lambda = check_real("gae_lambda", gae_lambda, minimum=0.0, maximum=1.0)
        self.gamma = check_real("gamma", gamma, minimum=0.0, maximum=1.0)
        self.entropy_coef = check_real("entropy_coef", entropy_coef, minimum=0.0)
        self.value_coef = check_real("value_coef", value_coef, minimum=0.0)
        self.max_grad_norm = check_real("max_grad_norm", max_grad_norm, minimum=0.0, min_inclusive=False)
        self.observation = check_choice("observation", observation, OBSERVATION_CHOICES)
        self._modules: tuple[DeepGame, Any, Any] | None = None

    # ------------------------------------------------------------------------------ contract
    def config(self) -> dict[str, Any]:
        """The options as JSON values (the log directory and device are not part of the run's identity)."""
        return {
            **self.network_config(),
            "learning_rate": self.learning_rate,
            "num_envs": self.num_envs,
            "rollout_length": self.rollout_length,
            "epochs": self.epochs,
            "minibatches": self.minibatches,
            "clip": self.clip,
            "gae_lambda": self.gae_lambda,
            "gamma": self.gamma,
            "entropy_coef": self.entropy_coef,
            "value_coef": self.value_coef,
            "max_grad_norm": self.max_grad_norm,
            "observation": self.observation,
            **self.shell_config(),
        }

    def check(self, spec: GameSpec) -> None:
        """Extensive-form games only (:meth:`prepare` already refused the others)."""
        if spec.kind is not GameKind.EXTENSIVE_FORM:  # pragma: no cover - prepare refuses first
            raise InvalidArgumentError(f"ppo plays extensive-form games, not {spec.kind.value} games")

    def _network(self, game: DeepGame) -> Any:
        return self.make_network(game, value_head=True)

    def _optimizer(self, net: Any) -> Any:
        import torch

        return torch.optim.Adam(net.parameters(), lr=self.learning_rate, eps=1e-5)

    def _cached(self, game: DeepGame) -> tuple[Any, Any]:
        if self._modules is None or self._modules[0] is not game:
            net = self._network(game)
            self._modules = (game, net, self._optimizer(net))
        return self._modules[1], self._modules[2]

    def init(self, game: DeepGame, rng: np.random.Generator) -> State:
        """Fresh network (policy head scaled down: a near-uniform start), fresh Adam, the generator."""
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
        state: State = {"t": np.zeros((), dtype=np.int64)}
        pack_module(state, NET, net)
        pack_optimizer(state, OPT, opt)
        state["rng"] = rng_to_array(rng)
        self.state_rules = StateRules(
            counter="t", generators=frozenset({"rng"}), nonnegative=optimizer_nonnegative(OPT, opt)
        )
        return state

    def step(self, game: DeepGame, state: State, iterations: int = 1) -> None:
        """``iterations`` PPO updates, each on a fresh rollout."""
        from gamesolve.neural.state import unpack_module, unpack_optimizer

        with self.torch_scope():
            net, opt = self._cached(game)
            unpack_module(state, NET, net)
            unpack_optimizer(state, OPT, opt)
            rng = rng_from_array(state["rng"])
            for _ in range(iterations):
                self._one_update(game, state, net, opt, rng)

    def _one_update(self, game: DeepGame, state: State, net: Any, opt: Any, rng: np.random.Generator) -> None:
        from gamesolve.neural.state import pack_module, pack_optimizer

        t = int(state["t"]) + 1
        batch = self._rollout(game, net, rng, t)
        targets = self.policy_targets(game, state, net, batch, t)
        stats = self.fit_rollout(net, opt, batch, rng, t, targets)
        pack_module(state, NET, net)
        pack_optimizer(state, OPT, opt)
        state["t"][...] = t
        state["rng"] = rng_to_array(rng)
        stats.update(self.after_update(game, state, net, t))
        self.log_update(t, stats)

    def policy(self, game: DeepGame, state: State, which: Iterate) -> Any:
        """The network of the state as a :class:`~gamesolve.neural.NeuralPolicy` (both iterates)."""
        del which
        from gamesolve.neural.state import unpack_module

        net = self._network(game)
        unpack_module(state, NET, net)
        return self.network_policy(game, net, int(state["t"]))

    # --------------------------------------------------------------------------- measurement
    def extras(self, game: DeepGame, state: State) -> dict[str, Any]:
        """What the history measures (``"evaluation"``), the update count and the last update's figures."""
        self.close_logs()
        return {
            "evaluation": game.metric,
            "updates": int(state["t"]),
            "device": str(self.device),
            "last_update": dict(self._last),
        }

    def progress_info(self, game: DeepGame, state: State) -> dict[str, Any]:
        """The last update's entropy and episodes per rollout, for the progress bar."""
        del game, state
        if not self._last:
            return {}
        return {"ent": f"{self._last['entropy']:.3f}"}

    # ------------------------------------------------------------------------------ learning
    def _rollout(self, game: DeepGame, net: Any, rng: np.random.Generator, t: int) -> dict[str, NDArray[Any]]:
        """Transitions of complete episodes, with GAE advantages and returns (see the module doc)."""
        rollout = collect_episodes(
            game,
            self.acting(net),
            num_envs=self.num_envs,
            min_steps=self.rollout_length,
            rng=rng,
            name=self.name,
            update=t,
        )
        adv = gae(rollout, rollout.value, gamma=self.gamma, lam=self.gae_lambda)
        return training_batch(rollout, adv, np.flatnonzero(rollout.valid))

    def acting(self, net: Any) -> ActFn:
        """``net`` as the rollout's actor: masked log-probabilities and values, on the CPU in float64."""
        import torch

        def act(observation: NDArray[np.float32], legal: NDArray[np.bool_]) -> tuple[Any, Any]:
            with torch.inference_mode():
                obs = torch.as_tensor(observation, device=self.device)
                legal_t = torch.as_tensor(legal, device=self.device)
                logits, values = net(obs, legal_t)
                logp_all = torch.log_softmax(logits.masked_fill(~legal_t, -1e9), dim=-1)
            return (
                logp_all.to("cpu", torch.float64).numpy(),
                values[:, 0].to("cpu", torch.float64).numpy().copy(),
            )

        return act

    # ------------------------------------------------------------------ the policy objective
    def policy_targets(
        self, game: DeepGame, state: State, net: Any, batch: dict[str, NDArray[Any]], t: int
    ) -> dict[str, Any]:
        """Hook: tensors over every row of the rollout that :meth:`policy_loss` reads (PPO: none).

        Called once per update, before its first minibatch, with the network that played the
        rollout; a subclass computes here what stays fixed during the update (the previous policy's
        or a magnet's log-probabilities on every row). Whatever it returns reaches
        :meth:`policy_loss` as :attr:`PolicyMinibatch.targets`.
        """
        del game, state, net, batch, t
        return {}

    def policy_loss(self, mb: PolicyMinibatch) -> tuple[Any, dict[str, Any]]:
        """Hook: the policy part of one minibatch's loss, to be minimised, and figures to log.

        PPO: minus the clipped surrogate ``min(r A, clip(r, 1 - clip, 1 + clip) A)`` averaged over
        the minibatch, ``r`` the probability ratio of the action taken. The update adds the value
        loss and subtracts the entropy bonus; the figures (0-d tensors) are averaged over the
        update's minibatches into ``updates.csv``.
        """
        import torch

        ratio = torch.exp(mb.logp - mb.old_logp)
        surrogate = torch.min(ratio * mb.adv, torch.clamp(ratio, 1 - self.clip, 1 + self.clip) * mb.adv)
        return -surrogate.mean(), {}

    def after_update(self, game: DeepGame, state: State, net: Any, t: int) -> dict[str, float]:
        """Hook: state changes after update ``t`` succeeded (PPO: none); returns figures to log."""
        del game, state, net, t
        return {}

    def fit_rollout(
        self,
        net: Any,
        opt: Any,
        batch: dict[str, NDArray[Any]],
        rng: np.random.Generator,
        t: int,
        targets: dict[str, Any] | None = None,
        *,
        minibatches: int | None = None,
    ) -> dict[str, float]:
        """``epochs`` passes of minibatch steps on one rollout (the policy part from :meth:`policy_loss`).

        ``batch`` holds ``obs``, ``legal``, ``action``, ``logp`` (behaviour), ``adv``, ``ret``,
        ``episodes`` and ``steps`` (see :meth:`_rollout`); ``net(obs, legal)`` gives
        ``(logits, values)``. Other learners that build their own rollouts (NeuPL on tensors) train
        through it too. ``minibatches`` overrides the configured number for this call.
        """
        import torch

        if targets is None:
            targets = {}
        parts = self.minibatches if minibatches is None else max(1, int(minibatches))
        dev = self.device
        n = int(batch["action"].shape[0])
        obs = torch.as_tensor(batch["obs"], device=dev)
        legal = torch.as_tensor(batch["legal"], device=dev)
        action = torch.as_tensor(batch["action"], device=dev)
        old_logp = torch.as_tensor(batch["logp"], dtype=torch.float32, device=dev)
        adv_all = torch.as_tensor(batch["adv"], dtype=torch.float32, device=dev)
        ret = torch.as_tensor(batch["ret"], dtype=torch.float32, device=dev)
        sums = {"policy_loss": 0.0, "value_loss": 0.0, "entropy": 0.0, "approx_kl": 0.0, "clip_fraction": 0.0}
        count = 0
        net.train()
        for epoch in range(self.epochs):
            order = rng.permutation(n)
            for m, part in enumerate(np.array_split(order, min(parts, max(n, 1)))):
                if part.size == 0:
                    continue
                idx = torch.as_tensor(part, device=dev)
                logits, values = net(obs[idx], legal[idx])
                mask = legal[idx]
                logp_all = torch.log_softmax(logits.masked_fill(~mask, -1e9), dim=-1)
                logp = logp_all.gather(1, action[idx, None])[:, 0]
                probs = logp_all.exp()
                entropy = -(probs * logp_all.masked_fill(~mask, 0.0)).sum(dim=1).mean()
                adv = adv_all[idx]
                if part.size > 1 and self.normalize_advantages:
                    adv = (adv - adv.mean()) / (adv.std() + 1e-8)
                policy_loss, figures = self.policy_loss(
                    PolicyMinibatch(
                        logp_all=logp_all,
                        legal=mask,
                        logp=logp,
                        old_logp=old_logp[idx],
                        adv=adv,
                        rows=idx,
                        targets=targets,
                        update=t,
                    )
                )
                value_loss = 0.5 * ((values[:, 0] - ret[idx]) ** 2).mean()
                loss = policy_loss + self.value_coef * value_loss - self.entropy_coef * entropy
                if not bool(torch.isfinite(loss)):
                    raise GamesolveError(
                        f"{self.name}: the loss is not finite at update {t} "
                        f"(epoch {epoch + 1}, minibatch {m + 1}); "
                        f"the state keeps update {t - 1}: lower learning_rate or check the game's rewards"
                    )
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(net.parameters(), self.max_grad_norm)
                opt.step()
                with torch.no_grad():
                    log_ratio = logp - old_logp[idx]
                    ratio = torch.exp(log_ratio)
                    for key, value in figures.items():
                        sums[key] = sums.get(key, 0.0) + float(value)
                    sums["policy_loss"] += float(policy_loss)
                    sums["value_loss"] += float(value_loss)
                    sums["entropy"] += float(entropy)
                    sums["approx_kl"] += float(((ratio - 1) - log_ratio).mean())
                    sums["clip_fraction"] += float(((ratio - 1).abs() > self.clip).float().mean())
                count += 1
        net.eval()
        stats = {k: v / max(count, 1) for k, v in sums.items()}
        stats["transitions"] = float(n)
        stats["episodes"] = float(batch["episodes"])
        stats["env_steps"] = float(batch["steps"])
        return stats


PPO_ENTRY = SolverEntry(
    name="ppo",
    factory=PPO,
    description="self-play PPO with one network on the batched environment (any game; torch)",
)
