"""Magnetic mirror descent as a deep RL method, the ``"neural-mmd"`` solver.

Sokota, D'Orazio, Kolter, Loizou, Lanctot, Mitliagkas, Brown & Kroer 2023, "A unified approach to
reinforcement learning, quantal response equilibria, and two-player zero-sum games" (ICLR). Each
update is one mirror-descent step with a magnet, taken approximately by a few epochs of Adam on
self-play rollouts: maximise over ``theta``

    E_s[ E_{a ~ pi_theta} A_t(s, a) - alpha_t KL(pi_theta(.|s) || magnet(.|s))
         - kl_coef KL(pi_theta(.|s) || pi_t(.|s)) ]

the first term estimated by the probability ratio times the GAE advantage of the action taken
(no clipping), both KL divergences computed exactly over the legal actions of every sampled state,
``pi_t`` the network that played the rollout and ``kl_coef = 1 / eta``. This is the paper's deep
variant: PPO with the clip replaced by the KL to the previous policy, the magnet term added, several
epochs per batch. The magnet is uniform (then the magnet term is an entropy bonus) or a slowly
moving copy of the policy (its weights move ``magnet_rate`` of the way to the policy's after every
update). The magnet weight decays as ``alpha_t = alpha_final + (alpha - alpha_final) / (1 + t /
anneal_updates)``, so the last iterate, the solver's output, moves from a quantal response
equilibrium towards a Nash equilibrium.

Everything else (rollouts, GAE, value loss, state, evaluation, logs) is
:class:`~gamesolve.solvers.deep.ppo.PPO`'s; the magnet network, when it moves, is part of the
solver state, and the schedule is a function of the update count in the state, so a resumed CPU
run repeats an uninterrupted one exactly.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.mcts import DEFAULT_SIMULATIONS
from gamesolve.registry import SolverEntry
from gamesolve.solver import State
from gamesolve.solvers.deep.common import DeepGame
from gamesolve.solvers.deep.ppo import PPO, PolicyMinibatch
from gamesolve.validation import check_bool, check_choice, check_int, check_real

__all__ = ["MAGNETS", "NEURAL_MMD_ENTRY", "NeuralMMD"]

#: ``magnet=`` choices: the uniform policy over legal actions, or a moving copy of the policy.
MAGNETS = ("uniform", "moving")

MAG = "mag."


class NeuralMMD(PPO):
    """Deep magnetic mirror descent, self-play with one network for every player (``"neural-mmd"``).

    The defaults are set for Leduc poker on one CPU thread: with the magnet weight annealed all the
    way to 0 and ``kl_coef=1`` the last iterate reached 0.33 exact exploitability after 150 CPU
    seconds and then oscillated up to 1.7 by 600 s; a floor of ``alpha_final=0.05`` (a quantal
    response equilibrium close to Nash) and a five times heavier KL to the previous policy kept it
    between 0.20 and 0.42 from 150 s to 600 s (0.28 at 600 s, seed 0).

    Args:
        alpha: Magnet weight at the start (finite, >= 0).
        alpha_final: What the magnet weight decays to (``0 <= alpha_final <= alpha``; 0: towards Nash).
        anneal_updates: Updates after which the weight has come half way down to ``alpha_final``
            (>= 0; 0 keeps ``alpha`` throughout).
        kl_coef: Weight of the KL divergence to the previous policy, the inverse step size
            ``1 / eta`` (finite, >= 0).
        magnet: ``"uniform"`` or ``"moving"`` (see the module doc).
        magnet_rate: How far the moving magnet's weights move towards the policy's after each
            update (in ``(0, 1]``; unused with the uniform magnet).
        normalize_advantages: Normalise advantages in each minibatch (as PPO does; then ``alpha``
            and ``kl_coef`` are relative to one standard deviation of the advantages).
        hidden, torso, channels, learning_rate, num_envs, rollout_length, epochs, minibatches,
        gae_lambda, gamma, value_coef, max_grad_norm, observation, device, threads, eval_matches, eval_seed,
        eval_mcts_matches, eval_mcts_simulations, eval_rl_bound_steps, log_dir, tensorboard, rollout_workers,
        rollout_executor: As
            for :class:`~gamesolve.solvers.deep.ppo.PPO` (which has the ``clip`` and
            ``entropy_coef`` this learner replaces).

    Raises:
        InvalidArgumentError: An option outside these ranges (naming it), or a device that does not
            exist here.
    """

    name = "neural-mmd"

    def __init__(
        self,
        *,
        alpha: float = 0.2,
        alpha_final: float = 0.05,
        anneal_updates: int = 100,
        kl_coef: float = 5.0,
        magnet: str = "uniform",
        magnet_rate: float = 0.05,
        normalize_advantages: bool = True,
        hidden: Sequence[int] = (128, 128),
        torso: str = "mlp",
        channels: Sequence[int] = (32,),
        learning_rate: float = 3e-4,
        num_envs: int = 512,
        rollout_length: int = 16,
        epochs: int = 4,
        minibatches: int = 8,
        gae_lambda: float = 0.95,
        gamma: float = 1.0,
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
        super().__init__(
            hidden=hidden,
            torso=torso,
            channels=channels,
            learning_rate=learning_rate,
            num_envs=num_envs,
            rollout_length=rollout_length,
            epochs=epochs,
            minibatches=minibatches,
            gae_lambda=gae_lambda,
            gamma=gamma,
            entropy_coef=0.0,
            value_coef=value_coef,
            max_grad_norm=max_grad_norm,
            observation=observation,
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
        self.alpha = check_real("alpha", alpha, minimum=0.0)
        self.alpha_final = check_real("alpha_final", alpha_final, minimum=0.0, maximum=self.alpha)
        self.anneal_updates = check_int("anneal_updates", anneal_updates, minimum=0)
        self.kl_coef = check_real("kl_coef", kl_coef, minimum=0.0)
        self.magnet = check_choice("magnet", magnet, MAGNETS)
        self.magnet_rate = check_real(
            "magnet_rate", magnet_rate, minimum=0.0, maximum=1.0, min_inclusive=False
        )
        self.normalize_advantages = check_bool("normalize_advantages", normalize_advantages)
        self._magnet_net: tuple[DeepGame, Any] | None = None

    def config(self) -> dict[str, Any]:
        """The options as JSON values (PPO's, less ``clip`` and ``entropy_coef``, plus the magnet's)."""
        cfg = super().config()
        del cfg["clip"], cfg["entropy_coef"]
        cfg.update(
            alpha=self.alpha,
            alpha_final=self.alpha_final,
            anneal_updates=self.anneal_updates,
            kl_coef=self.kl_coef,
            magnet=self.magnet,
            magnet_rate=self.magnet_rate,
            normalize_advantages=self.normalize_advantages,
        )
        return cfg

    def alpha_at(self, update: int) -> float:
        """The magnet weight of update ``update`` (1 for the first; see the module doc)."""
        if self.anneal_updates == 0:
            return self.alpha
        return self.alpha_final + (self.alpha - self.alpha_final) / (1.0 + (update - 1) / self.anneal_updates)

    def init(self, game: DeepGame, rng: np.random.Generator) -> State:
        """PPO's state, plus the moving magnet's weights (a copy of the initial network) when it moves."""
        from gamesolve.neural.state import pack_module, unpack_module

        state = super().init(game, rng)
        if self.magnet == "moving":
            net = self._network(game)
            unpack_module(state, "net.", net)
            pack_module(state, MAG, net)
        return state

    def _magnet(self, game: DeepGame, state: State) -> Any:
        from gamesolve.neural.state import unpack_module

        if self._magnet_net is None or self._magnet_net[0] is not game:
            self._magnet_net = (game, self._network(game))
        magnet = self._magnet_net[1]
        unpack_module(state, MAG, magnet)
        return magnet

    # ------------------------------------------------------------------ the policy objective
    def policy_targets(
        self, game: DeepGame, state: State, net: Any, batch: dict[str, NDArray[Any]], t: int
    ) -> dict[str, Any]:
        """The previous policy's (and a moving magnet's) log-probabilities on every row, and ``alpha_t``."""
        import torch

        obs = torch.as_tensor(batch["obs"], device=self.device)
        legal = torch.as_tensor(batch["legal"], device=self.device)
        targets: dict[str, Any] = {"alpha": self.alpha_at(t)}
        with torch.no_grad():
            targets["prev"] = self._log_probs(net, obs, legal)
            if self.magnet == "moving":
                targets["magnet"] = self._log_probs(self._magnet(game, state), obs, legal)
        return targets

    @staticmethod
    def _log_probs(net: Any, obs: Any, legal: Any) -> Any:
        import torch

        logits, _ = net(obs, legal)
        return torch.log_softmax(logits.masked_fill(~legal, -1e9), dim=-1).masked_fill(~legal, 0.0)

    def policy_loss(self, mb: PolicyMinibatch) -> tuple[Any, dict[str, Any]]:
        """Minus the ratio-weighted advantage, plus ``alpha_t`` KL(magnet) and ``kl_coef`` KL(``pi_t``)."""
        import torch

        ratio = torch.exp(mb.logp - mb.old_logp)
        gain = (ratio * mb.adv).mean()
        logp = mb.logp_all.masked_fill(~mb.legal, 0.0)
        probs = mb.logp_all.exp()
        kl_prev = (probs * (logp - mb.targets["prev"][mb.rows])).sum(dim=1).mean()
        if self.magnet == "moving":
            kl_magnet = (probs * (logp - mb.targets["magnet"][mb.rows])).sum(dim=1).mean()
        else:
            kl_magnet = ((probs * logp).sum(dim=1) + torch.log(mb.legal.sum(dim=1).to(logp.dtype))).mean()
        alpha = float(mb.targets["alpha"])
        loss = -gain + alpha * kl_magnet + self.kl_coef * kl_prev
        return loss, {"kl_magnet": kl_magnet.detach(), "kl_prev": kl_prev.detach()}

    def after_update(self, game: DeepGame, state: State, net: Any, t: int) -> dict[str, float]:
        """The moving magnet steps ``magnet_rate`` towards the policy; logs ``alpha_t``."""
        if self.magnet == "moving":
            import torch

            from gamesolve.neural.state import pack_module

            magnet = self._magnet(game, state)
            with torch.no_grad():
                for mine, theirs in zip(magnet.parameters(), net.parameters(), strict=True):
                    mine.lerp_(theirs, self.magnet_rate)
            pack_module(state, MAG, magnet)
        return {"alpha": self.alpha_at(t)}

    def progress_info(self, game: DeepGame, state: State) -> dict[str, Any]:
        """The last update's entropy and magnet weight, for the progress bar."""
        info = super().progress_info(game, state)
        if self._last:
            info["alpha"] = f"{self._last.get('alpha', math.nan):.3g}"
        return info


NEURAL_MMD_ENTRY = SolverEntry(
    name="neural-mmd",
    factory=NeuralMMD,
    description="magnetic mirror descent as deep self-play RL, the last iterate (any game; torch)",
)
