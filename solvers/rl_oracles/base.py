"""What the DQN and PPO oracles share: their common options, the training frame, and torch plumbing.

:class:`RLOracle` checks the options every oracle has (network widths, parallel episodes, device,
threads, observation features, how opponents are drawn), builds the single-agent environment
(:class:`gamesolve.rl_env.ResponseEnv`), and runs one training: seeded generator, torch thread count,
the subclass's learning loop (:meth:`RLOracle.learn`), then a :class:`TrainedResponse` with the
configuration, learning curve and wall time. The helpers below move an MLP's weights between numpy and
torch and run its forward pass.
"""

from __future__ import annotations

import abc
import inspect
import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.compiled import CompiledGame
from gamesolve.errors import InvalidArgumentError
from gamesolve.rl_env import FEATURE_KINDS, ResponseEnv, TimeStep
from gamesolve.solvers.rl_oracles.response import TrainedResponse, compiled_of
from gamesolve.validation import check_choice, check_int, check_real
from gamesolve.vector_env.response import ResponseStep, TensorResponse, VectorResponseEnv

__all__ = [
    "DEVICES",
    "Curve",
    "Learned",
    "RLOracle",
    "check_widths",
    "forward_torch",
    "from_torch",
    "init_layers",
    "to_torch",
]

log = logging.getLogger(__name__)

#: Where an oracle trains: ``"auto"`` picks CUDA when available.
DEVICES = ("cpu", "cuda", "auto")

#: Layers of an MLP as numpy arrays: ``(weight [out, in], bias [out])`` per layer.
Layers = list[tuple[NDArray[np.float32], NDArray[np.float32]]]

_Oracle = TypeVar("_Oracle", bound="RLOracle")


def check_widths(name: str, value: Any) -> tuple[int, ...]:
    """Hidden-layer widths: a non-empty list of integers >= 1, or InvalidArgumentError naming ``name``."""
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise InvalidArgumentError(f"{name} must be a non-empty list of integers >= 1, got {value!r}")
    widths = tuple(check_int(f"{name}[{k}]", h, minimum=1) for k, h in enumerate(value))
    if not widths:
        raise InvalidArgumentError(f"{name} must be a non-empty list of integers >= 1, got {value!r}")
    return widths


@dataclass(frozen=True)
class Learned:
    """What a learning loop hands back: the final layers, transitions, gradient updates and curve."""

    layers: Layers
    steps: int
    updates: int
    curve: NDArray[np.float64]
    critic: Layers | None = None


class RLOracle(abc.ABC):
    """Options and training frame shared by :class:`DQNOracle` and :class:`PPOOracle`.

    Subclasses set :attr:`name`, check their own options after calling ``super().__init__``, list them
    in :meth:`options` and implement :meth:`learn`.

    Args:
        hidden: Hidden layer widths (ReLU), a non-empty list of integers >= 1.
        num_envs: Parallel episodes (>= 1).
        device: ``"cpu"``, ``"cuda"`` or ``"auto"`` (CUDA when available).
        threads: torch CPU threads during training (>= 1; restored afterwards).
        features: Observation features: a kind of :func:`gamesolve.rl_env.infoset_features`
            (``"auto"``: the infoset's known chance outcomes and moves when they tell every infoset
            apart, else those plus the one-hot) or a function ``(game, player) -> [n_p, F]``.
        draw: How opponents are drawn each episode: ``"profile"`` or ``"seat"``
            (see :class:`~gamesolve.rl_env.ResponseEnv`).

    Raises:
        InvalidArgumentError: An option outside these ranges, naming the oracle and the option.
    """

    #: The oracle's name (``"dqn"``, ``"ppo"``): the ``kind`` of its responses and the prefix of errors.
    name = "rl"

    def __init__(
        self,
        *,
        hidden: Sequence[int],
        num_envs: int,
        device: str,
        threads: int,
        features: str | Callable[[CompiledGame, int], ArrayLike] | None,
        draw: str,
    ) -> None:
        self.hidden = self._checked(check_widths, "hidden", hidden)
        self.num_envs = self._checked(check_int, "num_envs", num_envs, minimum=1)
        self.threads = self._checked(check_int, "threads", threads, minimum=1)
        self.device = self._checked(check_choice, "device", device, DEVICES)
        if not (features is None or callable(features) or features in FEATURE_KINDS):
            raise InvalidArgumentError(
                f"{self.name}: features must be one of {', '.join(FEATURE_KINDS)} or a function "
                f"(game, player) -> [n_p, F], got {features!r}"
            )
        self.features = features
        self.draw = self._checked(check_choice, "draw", draw, ("profile", "seat"))

    @classmethod
    def from_options(cls: type[_Oracle], config: dict[str, Any]) -> _Oracle:
        """``cls(**config)``, refusing unknown option names with the list of known ones.

        Raises:
            InvalidArgumentError: An unknown option name (the message lists the known ones) or a bad
                value.
        """
        known = [p for p in inspect.signature(cls).parameters if p != "self"]
        unknown = sorted(set(config) - set(known))
        if unknown:
            raise InvalidArgumentError(
                f"unknown {cls.name} oracle option {unknown[0]!r}; known options: {', '.join(known)}"
            )
        return cls(**config)

    # ---------------------------------------------------------------------- configuration
    def options(self) -> dict[str, Any]:
        """The subclass's own options as JSON-ready values (between ``hidden`` and ``num_envs``)."""
        return {}

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        features = self.features if self.features is None or isinstance(self.features, str) else "custom"
        return {
            "hidden": list(self.hidden),
            **self.options(),
            "num_envs": self.num_envs,
            "device": self.device,
            "threads": self.threads,
            "features": features,
            "draw": self.draw,
        }

    def __repr__(self) -> str:
        return f"{type(self).__name__}(hidden={list(self.hidden)}, num_envs={self.num_envs})"

    # ---------------------------------------------------------------------------- training
    def train(
        self,
        game: Any,
        player: int,
        opponents: Sequence[Any],
        weights: ArrayLike | None = None,
        *,
        seed: int = 0,
        steps: int = 20_000,
    ) -> TrainedResponse:
        """Train a best response of ``player`` to the opponents' mixture for ``steps`` transitions.

        Args:
            game: A compiled or compilable extensive-form game (or two-player normal-form game).
            player: The responding player.
            opponents: Opponent profiles (:class:`~gamesolve.policy.TabularPolicy`), see
                :class:`~gamesolve.rl_env.ResponseEnv`.
            weights: ``[K]`` mixture weights (default uniform).
            seed: Seed of every random draw.
            steps: Learner transitions to train for.

        Raises:
            InvalidPolicyError: An opponent does not fit the game.
            InvalidArgumentError: Bad player or steps.
            ValueError: Bad weights.
        """
        steps = check_int("steps", steps, minimum=1)
        seed = check_int("seed", seed, minimum=0)
        env = self._env(game, player, opponents, weights)
        torch, device = self._torch()
        rng = np.random.default_rng(np.random.SeedSequence(seed))
        start = time.perf_counter()
        saved_threads = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            learned = self.learn(torch, device, env, rng, steps)
        finally:
            torch.set_num_threads(saved_threads)
        seconds = time.perf_counter() - start
        log.info(
            "%s response of player %d: %d steps, %d updates in %.2f s",
            self.name,
            player,
            learned.steps,
            learned.updates,
            seconds,
        )
        return TrainedResponse(
            kind=self.name,
            player=env.player,
            game=env.game,
            infosets=env.infosets,
            features=env.features,
            num_actions=env.num_actions,
            layers=learned.layers,
            steps=learned.steps,
            curve=learned.curve,
            seconds=seconds,
            config={**self.config(), "reward_scale": env.utility_scale},
        )

    @abc.abstractmethod
    def learn(
        self, torch: Any, device: Any, env: ResponseEnv, rng: np.random.Generator, steps: int
    ) -> Learned:
        """The learning loop: train on ``env`` for about ``steps`` transitions (a subclass's job)."""

    def train_vector(
        self,
        game: Any,
        player: int,
        policy: Any,
        *,
        seed: int = 0,
        steps: int = 20_000,
        opponent_values: Any = None,
        init: tuple[Layers, Layers] | None = None,
    ) -> TensorResponse:
        """Train a best response of ``player`` to ``policy`` on the batched environment of ``game``.

        The tensor twin of :meth:`train`: the learner reads observation tensors of
        :class:`~gamesolve.vector_env.response.VectorResponseEnv` (any game, compiled
        or not, no per-infoset features) and the other seats are played by ``policy``. The options
        ``features`` and ``draw`` do not apply (the observation is the environment's tensor; one
        fixed policy). Oracles that cannot learn from tensors refuse.

        Args:
            game: Anything :func:`gamesolve.vector_env` takes.
            player: The responding seat.
            policy: The fixed policy of the other seats (see
                :func:`~gamesolve.vector_env.response.fixed_actor`).
            seed: Seeds the environment, the network and every draw.
            steps: Responder transitions to train for (rounded up to whole batches).
            opponent_values: The opponent's value function ``(observation [n, F], legal [n, A])
                -> [n]`` at its own decisions, for oracles that shape rewards with it (PPO's
                ``minimax_coef``); ignored by the others and when the coefficient is 0.
            init: ``(actor layers, critic layers)`` to start from (a response trained before,
                its :attr:`~gamesolve.vector_env.response.TensorResponse.layers` and
                ``critic_layers``), for oracles that can continue training (PPO); default: fresh.

        Raises:
            InvalidArgumentError: Bad ``player``, ``steps`` or ``seed``, or an oracle without a
                tensor learner.
            InvalidPolicyError: ``policy`` does not fit the game.
        """
        steps = check_int("steps", steps, minimum=1)
        seed = check_int("seed", seed, minimum=0)
        rng = np.random.default_rng(np.random.SeedSequence(seed))
        env = VectorResponseEnv(game, player, policy, num_envs=self.num_envs, seed=int(rng.integers(1 << 31)))
        torch, device = self._torch()
        start = time.perf_counter()
        saved_threads = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            learned = self.learn_vector(torch, device, env, rng, steps, opponent_values, init)
        finally:
            torch.set_num_threads(saved_threads)
            env.close()
        seconds = time.perf_counter() - start
        log.info(
            "%s tensor response of player %d: %d steps, %d updates in %.2f s",
            self.name,
            env.player,
            learned.steps,
            learned.updates,
            seconds,
        )
        return TensorResponse(
            kind=self.name,
            player=env.player,
            game=env.spec.name,
            observation_kind=env.env.observation_kind,
            layers=learned.layers,
            steps=learned.steps,
            updates=learned.updates,
            curve=learned.curve,
            seconds=seconds,
            config={**self.config(), "reward_scale": env.utility_scale},
            critic=learned.critic,
        )

    def learn_vector(
        self,
        torch: Any,
        device: Any,
        env: VectorResponseEnv,
        rng: np.random.Generator,
        steps: int,
        opponent_values: Any = None,
        init: tuple[Layers, Layers] | None = None,
    ) -> Learned:
        """The learning loop on the batched environment (oracles that have one override it).

        Raises:
            InvalidArgumentError: This oracle learns on compiled games only.
        """
        raise InvalidArgumentError(
            f"the {self.name} oracle learns on compiled games only (one-hot infoset features); "
            "the tensor backend trains with oracle='ppo'"
        )

    # ----------------------------------------------------------------------------- helpers
    def _checked(self, check: Callable[..., Any], name: str, value: Any, *args: Any, **kwargs: Any) -> Any:
        """``check(name, value, ...)`` with the oracle's name in front of the message."""
        try:
            return check(name, value, *args, **kwargs)
        except InvalidArgumentError as exc:
            raise InvalidArgumentError(f"{self.name}: {exc}") from None

    def _positive(self, name: str, value: Any) -> float:
        """A finite number > 0."""
        return float(self._checked(check_real, name, value, minimum=0.0, min_inclusive=False))

    def _fraction(self, name: str, value: Any) -> float:
        """A number in ``[0, 1]``."""
        return float(self._checked(check_real, name, value, minimum=0.0, maximum=1.0))

    def _env(
        self, game: Any, player: int, opponents: Sequence[Any], weights: ArrayLike | None
    ) -> ResponseEnv:
        compiled = compiled_of(game)
        if isinstance(player, bool) or not isinstance(player, int | np.integer):
            raise InvalidArgumentError(f"player must be an integer, got {player!r}")
        compiled.check_player(int(player))
        feats = self.features(compiled, int(player)) if callable(self.features) else self.features
        return ResponseEnv(
            game, int(player), opponents, weights, num_envs=self.num_envs, features=feats, draw=self.draw
        )

    def _torch(self) -> tuple[Any, Any]:
        try:
            import torch
        except ImportError:  # pragma: no cover - exercised only without torch
            raise ImportError(f"the {self.name} oracle needs torch: pip install 'gamesolve[torch]'") from None
        if self.device == "auto":
            device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        else:
            device = torch.device(self.device)
        return torch, device


# ------------------------------------------------------------------------------ the MLP in torch


def init_layers(rng: np.random.Generator, widths: Sequence[int], out_scale: float) -> Layers:
    """He-uniform hidden layers, a uniform(+-out_scale/sqrt(fan_in)) output layer, zero biases."""
    layers = []
    n = len(widths) - 1
    for k in range(n):
        fan_in, fan_out = widths[k], widths[k + 1]
        bound = math.sqrt(6.0 / fan_in) if k < n - 1 else out_scale / math.sqrt(fan_in)
        w = rng.uniform(-bound, bound, size=(fan_out, fan_in)).astype(np.float32)
        layers.append((w, np.zeros(fan_out, dtype=np.float32)))
    return layers


def to_torch(torch: Any, layers: Layers, device: Any) -> list[Any]:
    """The layers as a flat list of trainable tensors ``[w0, b0, w1, b1, ...]``."""
    params = []
    for w, b in layers:
        params.append(torch.tensor(w, device=device, requires_grad=True))
        params.append(torch.tensor(b, device=device, requires_grad=True))
    return params


def from_torch(params: Sequence[Any]) -> Layers:
    """The tensors ``[w0, b0, ...]`` back as float32 numpy layers."""
    arrays = [p.detach().cpu().numpy().astype(np.float32, copy=True) for p in params]
    return [(arrays[k], arrays[k + 1]) for k in range(0, len(arrays), 2)]


def forward_torch(torch: Any, params: Sequence[Any], x: Any) -> Any:
    """ReLU MLP forward pass over the tensors ``[w0, b0, ...]``."""
    n = len(params) // 2
    for k in range(n):
        x = torch.nn.functional.linear(x, params[2 * k], params[2 * k + 1])
        if k < n - 1:
            x = torch.relu(x)
    return x


class Curve:
    """Mean return of the episodes finished in each window of ``every`` transitions."""

    def __init__(self, steps: int, points: int = 100) -> None:
        self.every = max(1, steps // points)
        self.rows: list[tuple[float, float]] = []
        self._sum = 0.0
        self._count = 0
        self._next = self.every

    def add(self, t: int, step: TimeStep | ResponseStep) -> None:
        """Count the episodes ``step`` finished; close the window once ``t`` transitions passed it."""
        if step.done.any():
            self._sum += float(step.reward[step.done].sum())
            self._count += int(step.done.sum())
        if t >= self._next:
            if self._count:
                self.rows.append((float(t), self._sum / self._count))
            self._sum, self._count = 0.0, 0
            self._next = t + self.every

    def array(self) -> NDArray[np.float64]:
        """``[M, 2]``: (transitions so far, mean return in the window)."""
        return np.asarray(self.rows, dtype=np.float64).reshape(-1, 2)
