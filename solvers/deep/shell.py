"""What every deep learner shares: device, torch threads, evaluations, reports and metric logs.

:class:`DeepLearner` is the base class of the deep learners (PPO and neural MMD, R-NaD, NFSP, Deep
CFR and ESCHER). Each calls :meth:`DeepLearner.setup_shell` from its ``__init__`` with the options
below, and inherits:

* ``device`` (a torch device, checked when the learner is built) and ``threads`` (torch CPU threads
  while the learner works, restored afterwards: :meth:`DeepLearner.torch_scope`);
* :meth:`~DeepLearner.evaluate`: on a compiled game the exact exploitability of the network
  (tabulated on every infoset); elsewhere NaN, not known without the tree, with seeded matches
  against uniform random written to the log;
* :meth:`~DeepLearner.report`: exact NashConv on a compiled game; elsewhere the head-to-head
  figures against uniform random, against OpenSpiel's MCTS bot when ``eval_mcts_matches`` is
  above 0, and the RL lower bound on the exploitability (a trained best response, Timbers et al.
  2022) when ``eval_rl_bound_steps`` is above 0;
* metric logs under ``log_dir``: ``updates.csv`` (:meth:`DeepLearner.log_update`, one row per
  update or iteration) and ``evaluations.csv`` (one row per evaluation, with the last update's
  :attr:`DeepLearner.logged_losses`), and TensorBoard scalars with ``tensorboard=True``.

Shared options (every deep learner takes them):

``device``
    ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``; a device that does not exist is refused.
``threads``
    torch CPU threads while training (>= 1).
``eval_matches``, ``eval_seed``
    Matches per seat, and their seed, of the head-to-head evaluations on games that do not
    compile (the same matches at every evaluation).
``eval_mcts_matches``, ``eval_mcts_simulations``
    Matches per seat against OpenSpiel's MCTS bot in the final report (0: none; the bot is slow),
    and its simulations per move.
``eval_rl_bound_steps``
    Environment steps of each best response trained for the RL lower bound on NashConv in the
    final report (0: none), each response's value then estimated from :data:`RL_BOUND_EPISODES`
    episodes.
``log_dir``, ``tensorboard``
    Where the CSV logs go (``None``: no logs), and whether TensorBoard event files go there too.
``rollout_workers``, ``rollout_executor``
    Rollouts stepped by that many worker processes (``"local"``) or Ray actors (``"ray"``), the
    batch cut into shards (:class:`gamesolve.vector_env.sharded.ShardedVectorEnv`), the network
    staying in this process; 0 (default): stepped in this process. The worker count changes the
    episode stream (shard ``i`` is seeded from the rollout's seed and ``i``), the executor does not.

The learners whose networks read observation tensors (PPO and neural MMD, R-NaD, NFSP) derive from
:class:`NetworkLearner`, whose :meth:`NetworkLearner.setup_network` takes the network's shape:

``hidden``
    Widths of the fully connected layers.
``torso``
    ``"mlp"`` (fully connected layers on the flat observation) or ``"conv"`` (3x3 convolutions over
    a board-shaped observation, ``(C, H, W)`` as OpenSpiel's ``connect_four`` or ``hex`` give it,
    then the ``hidden`` layers; refused on other games when the learner prepares the game).
``channels``
    Output channels of each convolution (``"conv"`` only).
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import os
import time
from collections.abc import Sequence
from typing import Any

from gamesolve.errors import InvalidArgumentError, OutputPathError
from gamesolve.mcts import DEFAULT_SIMULATIONS
from gamesolve.solver import IterativeSolver
from gamesolve.solvers.deep.common import (
    DeepGame,
    evaluate_policy,
    prepare_deep_game,
    report_policy,
    torch_threads,
)
from gamesolve.validation import check_bool, check_choice, check_int

__all__ = ["RL_BOUND_EPISODES", "DeepLearner", "NetworkLearner"]

#: Episodes per player that estimate each response's value in the report's RL lower bound.
RL_BOUND_EPISODES = 10_000


class DeepLearner(IterativeSolver):
    """Base of the deep learners: the options, evaluations, reports and logs they share.

    Subclasses call :meth:`setup_shell` in ``__init__``, merge :meth:`shell_config` into their
    ``config()``, run their torch work inside :meth:`torch_scope`, call :meth:`log_update` after each
    update, and end their ``extras`` with :meth:`close_logs` (or call it themselves).
    """

    #: The last update's figures copied into each evaluation row of the log (NaN when missing).
    logged_losses: tuple[str, ...] = ()

    def setup_shell(
        self,
        *,
        device: str,
        threads: int,
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
        """Check and keep the shared options (see the module doc); raises before any work starts.

        Raises:
            InvalidArgumentError: An option outside its range (naming it), a device that does not
                exist here, or ``tensorboard=True`` without a ``log_dir`` or its package.
            OutputPathError: ``log_dir`` is a file.
        """
        from gamesolve.neural.device import resolve_device

        self.threads: int = check_int("threads", threads, minimum=1)
        self.eval_matches = check_int("eval_matches", eval_matches, minimum=1)
        self.eval_seed = check_int("eval_seed", eval_seed, minimum=0)
        self.eval_mcts_matches = check_int("eval_mcts_matches", eval_mcts_matches, minimum=0)
        self.eval_mcts_simulations = check_int("eval_mcts_simulations", eval_mcts_simulations, minimum=1)
        self.eval_rl_bound_steps = check_int("eval_rl_bound_steps", eval_rl_bound_steps, minimum=0)
        self.rollout_workers = check_int("rollout_workers", rollout_workers, minimum=0)
        self.rollout_executor = check_choice("rollout_executor", rollout_executor, ("local", "ray"))
        self._pools: list[Any] = []
        self.tensorboard = check_bool("tensorboard", tensorboard)
        if log_dir is not None and not isinstance(log_dir, str | os.PathLike):
            raise InvalidArgumentError(f"log_dir must be a directory path, got {type(log_dir).__name__}")
        if tensorboard and log_dir is None:
            raise InvalidArgumentError("tensorboard=True needs a log_dir")
        if tensorboard and importlib.util.find_spec("tensorboard") is None:
            raise InvalidArgumentError(
                "tensorboard=True needs the tensorboard package: pip install tensorboard "
                "(the CSV logs need nothing)"
            )
        self.log_dir = None if log_dir is None else os.fspath(log_dir)
        if self.log_dir is not None and os.path.exists(self.log_dir) and not os.path.isdir(self.log_dir):
            raise OutputPathError(f"log_dir {self.log_dir!r} is a file, not a directory")
        if not isinstance(device, str):
            raise InvalidArgumentError(f"device must be a string such as 'cpu' or 'cuda', got {device!r}")
        self.device_name = device
        self.device = resolve_device(device)
        self._logger: Any = None
        self._last: dict[str, float] = {}
        self._policy_t = 0
        self._clock = time.perf_counter()
        self._deep_games: dict[int, DeepGame] = {}

    def shell_config(self) -> dict[str, Any]:
        """The evaluation options as JSON values (device, threads and logs are not the run's identity)."""
        return {
            "eval_matches": self.eval_matches,
            "eval_seed": self.eval_seed,
            "eval_mcts_matches": self.eval_mcts_matches,
            "eval_mcts_simulations": self.eval_mcts_simulations,
            "eval_rl_bound_steps": self.eval_rl_bound_steps,
            "rollout_workers": self.rollout_workers,
        }

    def torch_scope(self) -> contextlib.AbstractContextManager[None]:
        """A block run with :attr:`threads` torch CPU threads (the previous number restored)."""
        return torch_threads(self.threads)

    def network_policy(self, game: DeepGame, net: Any, t: int) -> Any:
        """``net`` (the state's network after ``t`` updates) as a :class:`~gamesolve.neural.NeuralPolicy`."""
        from gamesolve.neural.policy import NeuralPolicy

        self._policy_t = t
        return NeuralPolicy(
            net,
            num_actions=game.num_actions,
            observation_size=game.observation_size,
            observation=game.observation,
            game=game.spec.name,
            device=self.device,
        )

    # --------------------------------------------------------------------------- measurement
    def deep_game(self, game: Any) -> DeepGame:
        """``game`` as a :class:`DeepGame` (learners on compiled games prepare a ``CompiledGame``)."""
        if isinstance(game, DeepGame):
            return game
        key = id(game)
        cached = self._deep_games.get(key)
        if cached is None or cached.source is not game:
            cached = self.with_workers(prepare_deep_game(game, getattr(self, "observation", "auto")))
            self._deep_games = {key: cached}
        return cached

    def evaluate(self, game: Any, policy: Any) -> float:
        """Exact exploitability on a compiled game, else NaN (the head-to-head figures go to the log)."""
        deep = self.deep_game(game)
        with self.torch_scope():
            value, row = evaluate_policy(deep, policy, matches=self.eval_matches, seed=self.eval_seed)
        self._log_evaluation(deep, row)
        return value

    def report(self, game: Any, policy: Any) -> Any:
        """Exact NashConv on a compiled game, else the head-to-head figures (and what was asked)."""
        deep = self.deep_game(game)
        with self.torch_scope():
            report = report_policy(
                deep,
                policy,
                matches=self.eval_matches,
                seed=self.eval_seed,
                mcts_matches=self.eval_mcts_matches,
                mcts_simulations=self.eval_mcts_simulations,
            )
        if self.eval_rl_bound_steps and deep.compiled is None:
            report.extras.update(self._rl_bound(deep, policy))
        return report

    def _rl_bound(self, deep: DeepGame, policy: Any) -> dict[str, Any]:
        """The RL lower bound on the policy's NashConv, as report extras."""
        from gamesolve.lower_bounds import rl_exploitability_bound

        bound = rl_exploitability_bound(
            deep.source,
            policy,
            steps=self.eval_rl_bound_steps,
            episodes=RL_BOUND_EPISODES,
            seed=self.eval_seed,
        )
        return {
            "rl_bound_nash_conv": float(bound.nash_conv),
            "rl_bound_interval": [float(bound.ci_low), float(bound.ci_high)],
            "rl_bound_confidence": float(bound.confidence),
            "rl_bound_steps": self.eval_rl_bound_steps,
            "rl_bound_episodes": RL_BOUND_EPISODES,
        }

    # ------------------------------------------------------------------------------- logging
    def log_update(self, step: int, figures: dict[str, float]) -> None:
        """Keep ``figures`` as the last update's and write them to ``updates.csv`` when logging."""
        self._last = dict(figures)
        if self.log_dir is None:
            return
        if self._logger is None:
            self._open_logger()
        self._logger.write("updates", {"update": step, **figures}, step=step)

    def close_logs(self) -> None:
        """Flush and close the logs and stop the rollout workers.

        A later write opens the logs again (appending); a later rollout starts new workers.
        """
        if self._logger is not None:
            self._logger.close()
        for pool in self._pools:
            pool.close()
        self._pools.clear()  # the same list the prepared games hold

    def with_workers(self, deep: DeepGame) -> DeepGame:
        """``deep`` with this learner's rollout workers (``rollout_workers`` above 0)."""
        if self.rollout_workers:
            deep.rollout_workers = self.rollout_workers
            deep.rollout_executor = self.rollout_executor
            deep.pools = self._pools
        return deep

    def _open_logger(self) -> None:
        from gamesolve.neural.metrics import MetricsLogger

        assert self.log_dir is not None
        self._logger = MetricsLogger(self.log_dir, tensorboard=self.tensorboard)
        self._clock = time.perf_counter()

    def _log_evaluation(self, game: DeepGame, row: dict[str, Any]) -> None:
        if self.log_dir is None:
            return
        if self._logger is None:
            self._open_logger()
        last = {k: self._last.get(k, math.nan) for k in self.logged_losses}
        full = {
            "iteration": self._policy_t,
            "seconds": time.perf_counter() - self._clock,
            "metric": game.metric,
            **row,
            **last,
        }
        self._logger.write("evaluations", full, step=self._policy_t)


class NetworkLearner(DeepLearner):
    """A deep learner whose networks read observation tensors (PPO and neural MMD, R-NaD, NFSP).

    Subclasses call :meth:`setup_network` in ``__init__`` (after :meth:`DeepLearner.setup_shell`),
    merge :meth:`network_config` into their ``config()`` and build their networks with
    :meth:`make_network`; :meth:`prepare` refuses a convolutional torso on a game without boards.
    """

    def setup_network(
        self, *, hidden: Sequence[int], torso: str = "mlp", channels: Sequence[int] = (32,)
    ) -> None:
        """Check and keep the network's shape options (see the module doc).

        Raises:
            InvalidArgumentError: An option outside its range, naming it.
        """
        from gamesolve.neural.nets import TORSO_CHOICES
        from gamesolve.solvers.rl_oracles.base import check_widths

        self.hidden = check_widths("hidden", hidden)
        self.torso = check_choice("torso", torso, TORSO_CHOICES)
        self.channels = check_widths("channels", channels)

    def network_config(self) -> dict[str, Any]:
        """The network's shape options as JSON values."""
        return {"hidden": list(self.hidden), "torso": self.torso, "channels": list(self.channels)}

    def prepare(self, game: Any) -> DeepGame:
        """The game as the learner sees it (compiled when it compiles; see :func:`prepare_deep_game`).

        Raises:
            InvalidArgumentError: ``torso="conv"`` on a game whose observations are not boards.
        """
        from gamesolve.neural.nets import check_torso_fits

        deep = self.with_workers(prepare_deep_game(game, getattr(self, "observation", "auto")))
        check_torso_fits(self.torso, deep.observation_shape, f"{deep.spec.name}'s {deep.observation}")
        return deep

    def make_network(self, game: DeepGame, *, value_head: bool, num_values: int = 1) -> Any:
        """A fresh network of the configured shape for ``game``, on the learner's device."""
        from gamesolve.neural.nets import build_network

        net = build_network(
            self.torso,
            game.observation_shape,
            game.num_actions,
            hidden=self.hidden,
            channels=self.channels,
            value_head=value_head,
            num_values=num_values,
        )
        return net.to(self.device)
