"""Torch reinforcement-learning best responses (DQN and PPO) against a fixed opponent mixture.

PSRO's RL oracle (Lanctot et al. 2017) and the RL-BR exploitability bound
(:func:`gamesolve.lower_bounds.rl_exploitability_bound`) need an approximate best response of one
player to fixed opponents. These oracles learn one on the single-agent view of a compiled game,
:class:`gamesolve.rl_env.ResponseEnv` (the learner sees an encoding of its infoset, picks a legal
slot and is paid its terminal utility; each episode draws the opponents from the mixture):

* :class:`DQNOracle`: double DQN (Mnih et al. 2015, "Human-level control through deep reinforcement
  learning"; van Hasselt, Guez & Silver 2016, "Deep reinforcement learning with double
  Q-learning"); the response is the greedy policy.
* :class:`PPOOracle`: PPO with clipped surrogate and GAE (Schulman et al. 2017, "Proximal policy
  optimization algorithms"; Schulman et al. 2016, "High-dimensional continuous control using
  generalized advantage estimation"); the response is the stochastic policy itself.

Against a fixed mixture the learner's infoset is a Markov state (perfect recall), so both learn a
best response in the limit; with a finite budget the exact value of the response is never above the
best-response value. Defaults are tuned for Kuhn- and Leduc-sized games. All randomness comes from
one numpy generator seeded by ``seed`` (bit-identical weights on the CPU); the trained response acts
with a numpy forward pass, so it needs no torch after training and pickles cheaply::

    trained = dqn_oracle(**config).train(game, player, opponents, weights, seed=0, steps=20_000)
    trained.tabulate()                     # TabularPolicy: the player's rows from the network
    trained.act(player, observation, legal, rng)  # ActingPolicy
    trained.state_arrays()                 # numpy arrays; load_response(arrays, game) restores it

>>> import gamesolve
>>> game = gamesolve.load_game("kuhn")
>>> trained = DQNOracle().train(game, 0, [gamesolve.uniform_policy(game)], seed=0, steps=2_000)
>>> trained.tabulate().probs.shape
(12, 2)
"""

from __future__ import annotations

import inspect
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.compiled import CompiledGame, as_compiled
from gamesolve.errors import InvalidArgumentError, InvalidPolicyError
from gamesolve.normal_form import TensorGame
from gamesolve.policy import TabularPolicy
from gamesolve.rl_env import FEATURE_KINDS, ResponseEnv, TimeStep, normal_form_tree
from gamesolve.validation import check_bool, check_choice, check_int, check_real

__all__ = [
    "DQNOracle",
    "PPOOracle",
    "TrainedResponse",
    "dqn_oracle",
    "load_response",
    "ppo_oracle",
    "tabulate",
]

log = logging.getLogger(__name__)

_DEVICES = ("cpu", "cuda", "auto")
_FORMAT = "gamesolve.rl_response/1"


# ------------------------------------------------------------------------------ numpy MLP


def _forward_numpy(layers: Sequence[tuple[NDArray[np.float32], NDArray[np.float32]]], x: NDArray[Any]) -> Any:
    """ReLU MLP in numpy: ``[n, F] -> [n, out]`` float64."""
    h = np.asarray(x, dtype=np.float64)
    for k, (w, b) in enumerate(layers):
        h = h @ w.T.astype(np.float64) + b.astype(np.float64)
        if k < len(layers) - 1:
            h = np.maximum(h, 0.0)
    return h


def _masked_softmax(logits: NDArray[np.float64], legal: NDArray[np.bool_]) -> NDArray[np.float64]:
    z = np.where(legal, logits, -np.inf)
    z = z - z.max(axis=1, keepdims=True)
    e = np.where(legal, np.exp(z), 0.0)
    return e / e.sum(axis=1, keepdims=True)


def _masked_argmax(q: NDArray[np.float64], legal: NDArray[np.bool_]) -> NDArray[np.int64]:
    return np.argmax(np.where(legal, q, -np.inf), axis=1).astype(np.int64)


def _init_layers(
    rng: np.random.Generator, widths: Sequence[int], out_scale: float
) -> list[tuple[NDArray[np.float32], NDArray[np.float32]]]:
    """He-uniform hidden layers, a uniform(+-out_scale/sqrt(fan_in)) output layer, zero biases."""
    layers = []
    n = len(widths) - 1
    for k in range(n):
        fan_in, fan_out = widths[k], widths[k + 1]
        bound = math.sqrt(6.0 / fan_in) if k < n - 1 else out_scale / math.sqrt(fan_in)
        w = rng.uniform(-bound, bound, size=(fan_out, fan_in)).astype(np.float32)
        layers.append((w, np.zeros(fan_out, dtype=np.float32)))
    return layers


# ------------------------------------------------------------------------- the response


class TrainedResponse:
    """A trained RL response of one player: an acting policy whose weights are numpy arrays.

    Use :meth:`act` (the :class:`~gamesolve.population.ActingPolicy` protocol), :meth:`act_batch`
    (a :data:`gamesolve.rl_env.BatchActor`), or :meth:`tabulate` for exact evaluation.

    Attributes:
        kind: ``"dqn"`` (greedy over Q-values) or ``"ppo"`` (the softmax policy).
        player: The responding player.
        game: The compiled game it was trained on.
        infosets: ``[n_p]`` int32: the player's infoset ids (row order of ``features``).
        features: ``[n_p, F]`` float32: the observation of each of those infosets.
        steps: Learner transitions used in training.
        curve: ``[M, 2]`` float64: (transitions so far, mean return of the episodes finished in
            the window) during training, in true utility units.
        seconds: Training wall time.
        config: The oracle's configuration.
    """

    def __init__(
        self,
        *,
        kind: str,
        player: int,
        game: CompiledGame,
        infosets: NDArray[np.int32],
        features: NDArray[np.float32],
        num_actions: int,
        layers: Sequence[tuple[NDArray[np.float32], NDArray[np.float32]]],
        steps: int,
        curve: NDArray[np.float64],
        seconds: float,
        config: dict[str, Any],
    ) -> None:
        if kind not in ("dqn", "ppo"):
            raise ValueError(f"kind must be 'dqn' or 'ppo', got {kind!r}")
        self.kind = kind
        self.player = int(player)
        self.game = game
        self.infosets = np.asarray(infosets, dtype=np.int32)
        self.features = np.asarray(features, dtype=np.float32)
        self.num_actions = int(num_actions)
        self._layers = [(np.array(w, dtype=np.float32), np.array(b, dtype=np.float32)) for w, b in layers]
        for w, b in self._layers:
            w.setflags(write=False)
            b.setflags(write=False)
        self.steps = int(steps)
        self.curve = np.asarray(curve, dtype=np.float64).reshape(-1, 2)
        self.seconds = float(seconds)
        self.config = dict(config)
        if self._layers[0][0].shape[1] != self.features.shape[1]:
            raise InvalidPolicyError("network input width does not match the feature width")
        if self._layers[-1][0].shape[0] != self.num_actions:
            raise InvalidPolicyError("network output width does not match the number of actions")

    # --------------------------------------------------------------------- aliases (design)
    @property
    def policy(self) -> TrainedResponse:
        """The acting policy (this object)."""
        return self

    @property
    def train_curve(self) -> NDArray[np.float64]:
        """Alias of :attr:`curve`."""
        return self.curve

    @property
    def state_dict(self) -> dict[str, NDArray[Any]]:
        """Alias of :meth:`state_arrays` (a property, for checkpoint code that reads attributes)."""
        return self.state_arrays()

    # ----------------------------------------------------------------------------- acting
    def scores(self, observation: ArrayLike) -> NDArray[np.float64]:
        """``[n, A]`` network outputs (Q-values in utility units for DQN, logits for PPO)."""
        obs = np.asarray(observation, dtype=np.float32)
        if obs.ndim == 1:
            obs = obs[None, :]
        if obs.ndim != 2 or obs.shape[1] != self.features.shape[1]:
            raise ValueError(
                f"observation must have {self.features.shape[1]} features, got shape {np.shape(observation)}"
            )
        out = _forward_numpy(self._layers, obs)
        if self.kind == "dqn":
            out = out * float(self.config.get("reward_scale", 1.0))
        return np.asarray(out, dtype=np.float64)

    def action_probabilities(self, observation: ArrayLike, legal: ArrayLike) -> NDArray[np.float64]:
        """``[n, A]`` the policy's probabilities over slots (one-hot of the argmax for DQN)."""
        scores = self.scores(observation)
        mask = np.asarray(legal, dtype=bool).reshape(scores.shape)
        if not mask.any(axis=1).all():
            raise ValueError("every row of legal must allow at least one slot")
        if self.kind == "ppo":
            return _masked_softmax(scores, mask)
        out = np.zeros_like(scores)
        out[np.arange(scores.shape[0]), _masked_argmax(scores, mask)] = 1.0
        return out

    def _table(self) -> NDArray[np.float64]:
        """``[I, A]`` the policy's probabilities at every infoset id of the game (0 on others' rows)."""
        table = self.__dict__.get("_probs_table")
        if table is None:
            legal = self.game.legal_mask[self.infosets][:, : self.num_actions]
            table = np.zeros((self.game.num_infosets, self.num_actions))
            table[self.infosets] = self.action_probabilities(self.features, legal)
            table.setflags(write=False)
            self.__dict__["_probs_table"] = table
        return table

    def act_batch(self, step: TimeStep, rng: np.random.Generator) -> NDArray[np.int64]:
        """Slots ``[B]`` for a batch of :class:`~gamesolve.rl_env.TimeStep` (a BatchActor).

        On this response's own game the infoset ids of ``step`` are used (a table lookup, whatever
        the environment's observation features); otherwise the observations go through the network.
        """
        n = step.infoset.shape[0]
        out = np.zeros(n, dtype=np.int64)
        live = np.flatnonzero(step.legal.any(axis=1))
        if not live.size:
            return out
        legal = step.legal[live]
        ids = step.infoset[live]
        if (
            legal.shape[1] == self.num_actions
            and ids.min() >= 0
            and ids.max() < self.game.num_infosets
            and np.all(self.game.infoset_player[ids] == self.player)
        ):
            probs = self._table()[ids]
        else:
            probs = self.action_probabilities(step.observation[live], legal)
        if self.kind == "dqn":
            out[live] = np.argmax(probs, axis=1)
        else:
            cdf = np.cumsum(probs, axis=1)
            u = rng.random(live.size)
            out[live] = np.minimum((cdf < u[:, None]).sum(axis=1), legal.sum(axis=1) - 1)
        return out

    def __call__(self, step: TimeStep, rng: np.random.Generator) -> NDArray[np.int64]:
        """Same as :meth:`act_batch`."""
        return self.act_batch(step, rng)

    def act(
        self,
        player: int,
        observation: NDArray[np.float32],
        legal: NDArray[np.int64],
        rng: np.random.Generator,
    ) -> int:
        """One action (a legal slot) for ``observation``: the ActingPolicy protocol.

        Args:
            player: Must be the player this response was trained for.
            observation: ``[F]`` the :class:`~gamesolve.rl_env.ResponseEnv` encoding of the infoset.
            legal: The legal slots (int array).
            rng: Source of the sampling draw (PPO).

        Raises:
            ValueError: Wrong player, or no legal slot within the network's width.
        """
        if int(player) != self.player:
            raise ValueError(f"this response was trained for player {self.player}, not player {player}")
        slots = np.asarray(legal, dtype=np.int64).reshape(-1)
        if slots.size == 0 or slots.min() < 0 or slots.max() >= self.num_actions:
            raise ValueError(f"legal must list slots in [0, {self.num_actions}), got {slots.tolist()}")
        mask = np.zeros((1, self.num_actions), dtype=bool)
        mask[0, slots] = True
        probs = self.action_probabilities(observation, mask)[0]
        if self.kind == "dqn":
            return int(np.argmax(probs))
        cdf = np.cumsum(probs)
        return int(min(np.searchsorted(cdf, rng.random() * cdf[-1], side="right"), slots.max()))

    # ------------------------------------------------------------------------- tabulate
    def tabulate(self, game: Any = None, *, base: TabularPolicy | None = None) -> TabularPolicy:
        """The response as a :class:`~gamesolve.policy.TabularPolicy` for exact evaluation.

        The player's rows come from the network (DQN: the greedy action over legal slots, ties to
        the lowest slot; PPO: its probabilities); the other players' rows from ``base``
        (default: uniform).

        Args:
            game: The game (default: the one trained on); must have the same infosets and actions.
            base: Where the other rows come from.

        Raises:
            InvalidPolicyError: ``game`` or ``base`` does not match the trained game.
        """
        compiled = self.game if game is None else _compiled_of(game)
        if compiled is not self.game and (
            compiled.infosets.keys != self.game.infosets.keys
            or not np.array_equal(compiled.infoset_actions, self.game.infoset_actions)
        ):
            raise InvalidPolicyError(
                "the response was trained on a different game (infosets or actions differ)"
            )
        if base is None:
            probs = TabularPolicy.uniform(compiled).probs.copy()
        else:
            if base.game is not compiled and base.game.infosets.keys != compiled.infosets.keys:
                raise InvalidPolicyError("base belongs to a different game")
            probs = base.probs.copy()
        legal = compiled.legal_mask[self.infosets][:, : self.num_actions]
        rows = self.action_probabilities(self.features, legal)
        probs[self.infosets] = 0.0
        probs[self.infosets, : self.num_actions] = rows
        return TabularPolicy(compiled, probs)

    # ---------------------------------------------------------------------- checkpoints
    def state_arrays(self) -> dict[str, NDArray[Any]]:
        """Everything needed to rebuild the response, as numpy arrays (see :func:`load_response`)."""
        meta = {
            "format": _FORMAT,
            "kind": self.kind,
            "player": self.player,
            "num_actions": self.num_actions,
            "layers": len(self._layers),
            "steps": self.steps,
            "seconds": self.seconds,
            "config": self.config,
            "game": self.game.spec.name,
        }
        out: dict[str, NDArray[Any]] = {
            "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8).copy(),
            "infosets": self.infosets.copy(),
            "features": self.features.copy(),
            "curve": self.curve.copy(),
        }
        for k, (w, b) in enumerate(self._layers):
            out[f"w{k}"] = w.copy()
            out[f"b{k}"] = b.copy()
        return out

    def __repr__(self) -> str:
        return (
            f"TrainedResponse({self.kind}, player={self.player}, game={self.game.spec.name!r}, "
            f"steps={self.steps})"
        )


def load_response(arrays: dict[str, NDArray[Any]], game: Any) -> TrainedResponse:
    """Rebuild a :class:`TrainedResponse` from :meth:`TrainedResponse.state_arrays` and its game.

    Raises:
        InvalidPolicyError: The arrays are not a saved response, or do not fit ``game``.
    """
    try:
        meta = json.loads(bytes(np.asarray(arrays["meta"], dtype=np.uint8)).decode())
    except (KeyError, ValueError, TypeError):
        raise InvalidPolicyError("these arrays are not a saved RL response (no readable 'meta')") from None
    if not isinstance(meta, dict) or meta.get("format") != _FORMAT:
        raise InvalidPolicyError("these arrays are not a saved RL response (unknown format)")
    compiled = _compiled_of(game)
    player = int(meta["player"])
    compiled._check_player(player)
    infosets = np.asarray(arrays["infosets"], dtype=np.int32)
    if not np.array_equal(infosets, compiled.infosets_of(player)):
        raise InvalidPolicyError(
            f"the saved response does not fit {compiled.spec.name}: player {player}'s infosets differ"
        )
    try:
        layers = [(arrays[f"w{k}"], arrays[f"b{k}"]) for k in range(int(meta["layers"]))]
    except KeyError as exc:
        raise InvalidPolicyError(f"the saved response lacks the array {exc}") from None
    return TrainedResponse(
        kind=str(meta["kind"]),
        player=player,
        game=compiled,
        infosets=infosets,
        features=np.asarray(arrays["features"], dtype=np.float32),
        num_actions=int(meta["num_actions"]),
        layers=layers,
        steps=int(meta["steps"]),
        curve=np.asarray(arrays.get("curve", np.zeros((0, 2)))),
        seconds=float(meta.get("seconds", 0.0)),
        config=dict(meta.get("config", {})),
    )


def tabulate(policy: TrainedResponse, game: Any = None, player: int | None = None) -> TabularPolicy:
    """``policy.tabulate(game)``, checking ``player`` when given (the design's free function)."""
    if player is not None and int(player) != policy.player:
        raise ValueError(f"the response was trained for player {policy.player}, not player {player}")
    return policy.tabulate(game)


def _compiled_of(game: Any) -> CompiledGame:
    return normal_form_tree(game) if isinstance(game, TensorGame) else as_compiled(game)


# --------------------------------------------------------------------------- shared bits


class _Oracle:
    """Configuration checks and the torch plumbing shared by the two oracles."""

    def __init__(
        self,
        kind: str,
        *,
        hidden: Sequence[int],
        num_envs: int,
        device: str,
        threads: int,
        features: str | Callable[[CompiledGame, int], ArrayLike] | None,
        draw: str,
    ) -> None:
        self.kind = kind
        self.hidden = _option(kind, check_widths, "hidden", hidden)
        self.num_envs = _option(kind, check_int, "num_envs", num_envs, minimum=1)
        self.threads = _option(kind, check_int, "threads", threads, minimum=1)
        self.device = _option(kind, check_choice, "device", device, _DEVICES)
        if not (features is None or callable(features) or features in FEATURE_KINDS):
            raise InvalidArgumentError(
                f"{self.kind}: features must be one of {', '.join(FEATURE_KINDS)} or a function "
                f"(game, player) -> [n_p, F], got {features!r}"
            )
        self.features = features
        self.draw = _option(kind, check_choice, "draw", draw, ("profile", "seat"))

    def _env(
        self, game: Any, player: int, opponents: Sequence[Any], weights: ArrayLike | None
    ) -> ResponseEnv:
        compiled = _compiled_of(game)
        if isinstance(player, bool) or not isinstance(player, int | np.integer):
            raise InvalidArgumentError(f"player must be an integer, got {player!r}")
        compiled._check_player(int(player))
        feats = self.features(compiled, int(player)) if callable(self.features) else self.features
        return ResponseEnv(
            game, int(player), opponents, weights, num_envs=self.num_envs, features=feats, draw=self.draw
        )

    def _torch(self) -> tuple[Any, Any]:
        try:
            import torch
        except ImportError:  # pragma: no cover - exercised only without torch
            raise ImportError(f"the {self.kind} oracle needs torch: pip install 'gamesolve[torch]'") from None
        if self.device == "auto":
            device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        else:
            device = torch.device(self.device)
        return torch, device


def check_widths(name: str, value: Any) -> tuple[int, ...]:
    """Hidden-layer widths: a non-empty list of integers >= 1, or InvalidArgumentError naming ``name``."""
    if isinstance(value, str | bytes) or not hasattr(value, "__iter__"):
        raise InvalidArgumentError(f"{name} must be a non-empty list of integers >= 1, got {value!r}")
    widths = tuple(check_int(f"{name}[{k}]", h, minimum=1) for k, h in enumerate(value))
    if not widths:
        raise InvalidArgumentError(f"{name} must be a non-empty list of integers >= 1, got {value!r}")
    return widths


def _option(kind: str, check: Callable[..., Any], name: str, value: Any, *args: Any, **kwargs: Any) -> Any:
    """``check(name, value, ...)`` with the oracle's name in front of the message."""
    try:
        return check(name, value, *args, **kwargs)
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"{kind}: {exc}") from None


def _positive(kind: str, name: str, value: Any) -> float:
    return float(_option(kind, check_real, name, value, minimum=0.0, min_inclusive=False))


def _fraction(kind: str, name: str, value: Any) -> float:
    return float(_option(kind, check_real, name, value, minimum=0.0, maximum=1.0))


def _check_steps(steps: Any) -> int:
    return check_int("steps", steps, minimum=1)


def _build(cls: Any, config: dict[str, Any]) -> Any:
    """``cls(**config)``, refusing unknown option names with the list of known ones."""
    known = [p for p in inspect.signature(cls).parameters if p != "self"]
    unknown = sorted(set(config) - set(known))
    if unknown:
        raise InvalidArgumentError(
            f"unknown {cls.name} oracle option {unknown[0]!r}; known options: {', '.join(known)}"
        )
    return cls(**config)


def _to_torch(
    torch: Any, layers: list[tuple[NDArray[np.float32], NDArray[np.float32]]], device: Any
) -> list[Any]:
    params = []
    for w, b in layers:
        params.append(torch.tensor(w, device=device, requires_grad=True))
        params.append(torch.tensor(b, device=device, requires_grad=True))
    return params


def _from_torch(params: Sequence[Any]) -> list[tuple[NDArray[np.float32], NDArray[np.float32]]]:
    arrays = [p.detach().cpu().numpy().astype(np.float32, copy=True) for p in params]
    return [(arrays[k], arrays[k + 1]) for k in range(0, len(arrays), 2)]


def _forward_torch(torch: Any, params: Sequence[Any], x: Any) -> Any:
    n = len(params) // 2
    for k in range(n):
        x = torch.nn.functional.linear(x, params[2 * k], params[2 * k + 1])
        if k < n - 1:
            x = torch.relu(x)
    return x


class _Curve:
    """Mean return of the episodes finished in each window of ``every`` transitions."""

    def __init__(self, steps: int, points: int = 100) -> None:
        self.every = max(1, steps // points)
        self.rows: list[tuple[float, float]] = []
        self._sum = 0.0
        self._count = 0
        self._next = self.every

    def add(self, t: int, step: TimeStep) -> None:
        if step.done.any():
            self._sum += float(step.reward[step.done].sum())
            self._count += int(step.done.sum())
        if t >= self._next:
            if self._count:
                self.rows.append((float(t), self._sum / self._count))
            self._sum, self._count = 0.0, 0
            self._next = t + self.every

    def array(self) -> NDArray[np.float64]:
        return np.asarray(self.rows, dtype=np.float64).reshape(-1, 2)


class _Threads:
    """Set torch's CPU thread count for a block and restore it afterwards."""

    def __init__(self, torch: Any, threads: int) -> None:
        self.torch = torch
        self.threads = threads
        self.saved = 0

    def __enter__(self) -> None:
        self.saved = self.torch.get_num_threads()
        self.torch.set_num_threads(self.threads)

    def __exit__(self, *exc: object) -> None:
        self.torch.set_num_threads(self.saved)


def _random_legal(legal: NDArray[np.bool_], u: NDArray[np.float64]) -> NDArray[np.int64]:
    """A uniform legal slot per row (legal slots are a prefix 0..n-1)."""
    width = legal.sum(axis=1)
    return np.minimum((u * width).astype(np.int64), np.maximum(width - 1, 0))


# ---------------------------------------------------------------------------------- DQN


class DQNOracle:
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
        num_envs: Parallel episodes (>= 1).
        device: ``"cpu"`` (default), ``"cuda"`` or ``"auto"`` (CUDA when available).
        threads: torch CPU threads during training (>= 1; default 1; restored afterwards).
        features: Observation features: a kind of :func:`gamesolve.rl_env.infoset_features`
            (default ``"auto"``: the infoset's known chance outcomes and moves when they tell every
            infoset apart, else those plus the one-hot) or a function ``(game, player) -> [n_p, F]``.
        draw: How opponents are drawn each episode: ``"profile"`` or ``"seat"``
            (see :class:`~gamesolve.rl_env.ResponseEnv`).

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
        self._base = _Oracle(
            "dqn",
            hidden=hidden,
            num_envs=num_envs,
            device=device,
            threads=threads,
            features=features,
            draw=draw,
        )
        self.learning_rate = _positive("dqn", "learning_rate", learning_rate)
        self.batch_size = _option("dqn", check_int, "batch_size", batch_size, minimum=1)
        self.buffer_size = _option("dqn", check_int, "buffer_size", buffer_size, minimum=self.batch_size)
        self.warmup = _option("dqn", check_int, "warmup", warmup, minimum=0)
        self.updates_per_step = _option("dqn", check_int, "updates_per_step", updates_per_step, minimum=1)
        self.target_sync = _option("dqn", check_int, "target_sync", target_sync, minimum=1)
        self.epsilon_start = _fraction("dqn", "epsilon_start", epsilon_start)
        self.epsilon_end = _fraction("dqn", "epsilon_end", epsilon_end)
        self.epsilon_fraction = _fraction("dqn", "epsilon_fraction", epsilon_fraction)
        self.anneal_lr = _option("dqn", check_bool, "anneal_lr", anneal_lr)

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        b = self._base
        return {
            "hidden": list(b.hidden),
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
            "num_envs": b.num_envs,
            "device": b.device,
            "threads": b.threads,
            "features": b.features if b.features is None or isinstance(b.features, str) else "custom",
            "draw": b.draw,
        }

    def __repr__(self) -> str:
        return f"DQNOracle(hidden={list(self._base.hidden)}, num_envs={self._base.num_envs})"

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
        steps = _check_steps(steps)
        seed = check_int("seed", seed, minimum=0)
        env = self._base._env(game, player, opponents, weights)
        torch, device = self._base._torch()
        rng = np.random.default_rng(np.random.SeedSequence(seed))
        start = time.perf_counter()
        scale = env.utility_scale
        widths = [env.obs_dim, *self._base.hidden, env.num_actions]
        with _Threads(torch, self._base.threads):
            params = _to_torch(torch, _init_layers(rng, widths, 1.0), device)
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
            curve = _Curve(steps)
            decay = max(1.0, self.epsilon_fraction * steps)
            step = env.reset(rng)
            t = 0
            b = env.num_envs
            while t < steps:
                eps = self.epsilon_start + min(1.0, t / decay) * (self.epsilon_end - self.epsilon_start)
                with torch.no_grad():
                    q = _forward_torch(torch, params, torch.from_numpy(step.observation).to(device))
                greedy = _masked_argmax(q.cpu().numpy().astype(np.float64), step.legal)
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
            layers = _from_torch(params)
        seconds = time.perf_counter() - start
        config = {**self.config(), "reward_scale": scale}
        log.info("dqn response of player %d: %d steps, %d updates in %.2f s", player, t, updates, seconds)
        return TrainedResponse(
            kind="dqn",
            player=env.player,
            game=env.game,
            infosets=env.infosets,
            features=env.features,
            num_actions=env.num_actions,
            layers=layers,
            steps=t,
            curve=curve.array(),
            seconds=seconds,
            config=config,
        )

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
            q_next_online = _forward_torch(torch, params, n).masked_fill(~legal, -torch.inf)
            best = q_next_online.argmax(dim=1, keepdim=True)
            q_next = _forward_torch(torch, target, n).gather(1, best)[:, 0]
            not_done = 1.0 - torch.from_numpy(done[idx]).to(device)
            y = torch.from_numpy(rew[idx]).to(device) + not_done * torch.nan_to_num(q_next, neginf=0.0)
        q = _forward_torch(torch, params, o).gather(1, torch.from_numpy(act[idx]).to(device)[:, None])[:, 0]
        loss = torch.nn.functional.mse_loss(q, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()


# ---------------------------------------------------------------------------------- PPO


class PPOOracle:
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
        num_envs: Parallel episodes (>= 1).
        device: ``"cpu"`` (default), ``"cuda"`` or ``"auto"``.
        threads: torch CPU threads during training (>= 1; default 1).
        features: Observation features: a kind of :func:`gamesolve.rl_env.infoset_features`
            (default ``"auto"``: the infoset's known chance outcomes and moves when they tell every
            infoset apart, else those plus the one-hot) or a function ``(game, player) -> [n_p, F]``.
        draw: ``"profile"`` or ``"seat"`` (see :class:`~gamesolve.rl_env.ResponseEnv`).

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
        num_envs: int = 64,
        device: str = "cpu",
        threads: int = 1,
        features: str | Callable[[CompiledGame, int], ArrayLike] | None = "auto",
        draw: str = "profile",
    ) -> None:
        self._base = _Oracle(
            "ppo",
            hidden=hidden,
            num_envs=num_envs,
            device=device,
            threads=threads,
            features=features,
            draw=draw,
        )
        self.learning_rate = _positive("ppo", "learning_rate", learning_rate)
        self.rollout_length = _option("ppo", check_int, "rollout_length", rollout_length, minimum=1)
        self.epochs = _option("ppo", check_int, "epochs", epochs, minimum=1)
        self.minibatches = _option("ppo", check_int, "minibatches", minibatches, minimum=1)
        self.clip = _positive("ppo", "clip", clip)
        self.gae_lambda = _fraction("ppo", "gae_lambda", gae_lambda)
        self.entropy_coef = float(_option("ppo", check_real, "entropy_coef", entropy_coef, minimum=0.0))
        self.value_coef = float(_option("ppo", check_real, "value_coef", value_coef, minimum=0.0))
        self.max_grad_norm = _positive("ppo", "max_grad_norm", max_grad_norm)

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        b = self._base
        return {
            "hidden": list(b.hidden),
            "learning_rate": self.learning_rate,
            "rollout_length": self.rollout_length,
            "epochs": self.epochs,
            "minibatches": self.minibatches,
            "clip": self.clip,
            "gae_lambda": self.gae_lambda,
            "entropy_coef": self.entropy_coef,
            "value_coef": self.value_coef,
            "max_grad_norm": self.max_grad_norm,
            "num_envs": b.num_envs,
            "device": b.device,
            "threads": b.threads,
            "features": b.features if b.features is None or isinstance(b.features, str) else "custom",
            "draw": b.draw,
        }

    def __repr__(self) -> str:
        return f"PPOOracle(hidden={list(self._base.hidden)}, num_envs={self._base.num_envs})"

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

        Arguments as :meth:`DQNOracle.train`. The budget is rounded up to whole batches of
        ``num_envs * rollout_length`` transitions.
        """
        steps = _check_steps(steps)
        seed = check_int("seed", seed, minimum=0)
        env = self._base._env(game, player, opponents, weights)
        torch, device = self._base._torch()
        rng = np.random.default_rng(np.random.SeedSequence(seed))
        start = time.perf_counter()
        scale = env.utility_scale
        b, horizon = env.num_envs, self.rollout_length
        batch = b * horizon
        n_updates = max(1, -(-steps // batch))
        with _Threads(torch, self._base.threads):
            actor = _to_torch(
                torch, _init_layers(rng, [env.obs_dim, *self._base.hidden, env.num_actions], 0.01), device
            )
            critic = _to_torch(torch, _init_layers(rng, [env.obs_dim, *self._base.hidden, 1], 1.0), device)
            params = actor + critic
            opt = torch.optim.Adam(params, lr=self.learning_rate, eps=1e-5)
            obs = np.zeros((horizon, b, env.obs_dim), dtype=np.float32)
            legal = np.zeros((horizon, b, env.num_actions), dtype=bool)
            acts = np.zeros((horizon, b), dtype=np.int64)
            logp = np.zeros((horizon, b), dtype=np.float32)
            values = np.zeros((horizon + 1, b), dtype=np.float32)
            rew = np.zeros((horizon, b), dtype=np.float32)
            done = np.zeros((horizon, b), dtype=np.float32)
            curve = _Curve(n_updates * batch)
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
                        logits = _forward_torch(torch, actor, o).cpu().numpy().astype(np.float64)
                        v = _forward_torch(torch, critic, o)[:, 0].cpu().numpy()
                    probs = _masked_softmax(logits, step.legal)
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
                    values[horizon] = _forward_torch(torch, critic, o)[:, 0].cpu().numpy()
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
            layers = _from_torch(actor)
        seconds = time.perf_counter() - start
        config = {**self.config(), "reward_scale": scale}
        log.info("ppo response of player %d: %d steps, %d updates in %.2f s", player, t, n_updates, seconds)
        return TrainedResponse(
            kind="ppo",
            player=env.player,
            game=env.game,
            infosets=env.infosets,
            features=env.features,
            num_actions=env.num_actions,
            layers=layers,
            steps=t,
            curve=curve.array(),
            seconds=seconds,
            config=config,
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
                logits = _forward_torch(torch, actor, t_obs[mb]).masked_fill(~t_legal[mb], -1e9)
                logsm = torch.log_softmax(logits, dim=1)
                new_logp = logsm.gather(1, t_acts[mb][:, None])[:, 0]
                probs = logsm.exp()
                entropy = -(probs * logsm).masked_fill(~t_legal[mb], 0.0).sum(dim=1).mean()
                a = t_adv[mb]
                a = (a - a.mean()) / (a.std() + 1e-8) if a.numel() > 1 else a
                ratio = (new_logp - t_logp[mb]).exp()
                surrogate = torch.min(ratio * a, ratio.clamp(1 - self.clip, 1 + self.clip) * a).mean()
                v = _forward_torch(torch, critic, t_obs[mb])[:, 0]
                value_loss = ((v - t_ret[mb]) ** 2).mean()
                loss = -surrogate + self.value_coef * value_loss - ent_coef * entropy
                opt.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(params, self.max_grad_norm)
                opt.step()


# ------------------------------------------------------------------------------ factories


def dqn_oracle(**config: Any) -> DQNOracle:
    """A :class:`DQNOracle` with the given keyword configuration.

    Raises:
        InvalidArgumentError: An unknown option name (the message lists the known ones) or a bad
            value.
    """
    oracle: DQNOracle = _build(DQNOracle, config)
    return oracle


def ppo_oracle(**config: Any) -> PPOOracle:
    """A :class:`PPOOracle` with the given keyword configuration.

    Raises:
        InvalidArgumentError: An unknown option name (the message lists the known ones) or a bad
            value.
    """
    oracle: PPOOracle = _build(PPOOracle, config)
    return oracle
