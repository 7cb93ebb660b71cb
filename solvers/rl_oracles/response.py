"""A trained RL response: an acting policy whose network weights are numpy arrays.

The DQN and PPO oracles (:mod:`gamesolve.solvers.rl_oracles`) return a :class:`TrainedResponse`: it
acts with a numpy forward pass (no torch after training; it pickles cheaply), tabulates into a
:class:`~gamesolve.policy.TabularPolicy` for exact evaluation, and saves to numpy arrays that
:func:`load_response` restores against the same game.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.arrays import mlp_forward
from gamesolve.compiled import CompiledGame, as_compiled
from gamesolve.errors import InvalidPolicyError
from gamesolve.normal_form import TensorGame
from gamesolve.policy import TabularPolicy
from gamesolve.rl_env import TimeStep, normal_form_tree

__all__ = [
    "RESPONSE_FORMAT",
    "TrainedResponse",
    "compiled_of",
    "load_response",
    "masked_argmax",
    "masked_softmax",
    "tabulate",
]

#: The format tag of :meth:`TrainedResponse.state_arrays`.
RESPONSE_FORMAT = "gamesolve.rl_response/1"


def masked_softmax(logits: NDArray[np.float64], legal: NDArray[np.bool_]) -> NDArray[np.float64]:
    """``[n, A]`` softmax of ``logits`` over the legal slots (0 elsewhere)."""
    z = np.where(legal, logits, -np.inf)
    z = z - z.max(axis=1, keepdims=True)
    e = np.where(legal, np.exp(z), 0.0)
    return e / e.sum(axis=1, keepdims=True)


def masked_argmax(q: NDArray[np.float64], legal: NDArray[np.bool_]) -> NDArray[np.int64]:
    """``[n]`` the legal slot with the largest ``q`` in every row (ties to the lowest)."""
    return np.argmax(np.where(legal, q, -np.inf), axis=1).astype(np.int64)


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
        out = mlp_forward(self._layers, obs)
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
            return masked_softmax(scores, mask)
        out = np.zeros_like(scores)
        out[np.arange(scores.shape[0]), masked_argmax(scores, mask)] = 1.0
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
        compiled = self.game if game is None else compiled_of(game)
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
            "format": RESPONSE_FORMAT,
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
    if not isinstance(meta, dict) or meta.get("format") != RESPONSE_FORMAT:
        raise InvalidPolicyError("these arrays are not a saved RL response (unknown format)")
    compiled = compiled_of(game)
    player = int(meta["player"])
    compiled.check_player(player)
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


def compiled_of(game: Any) -> CompiledGame:
    """The compiled tree of ``game`` (a normal-form game as its one-round tree)."""
    return normal_form_tree(game) if isinstance(game, TensorGame) else as_compiled(game)
