"""One player's view of the batched environment of any game, the others played by a fixed policy.

The tensor twin of :class:`gamesolve.rl_env.ResponseEnv`: :class:`VectorResponseEnv` runs ``B``
episodes of :func:`gamesolve.vector_env` (compiled trees in numba, OpenSpiel states, PettingZoo
envs) in which the responding seat acts from its observation tensor and every other seat is played
by a fixed policy. It needs no tree, so it works on games far too large to compile, and its memory
is that of the batched environment (no per-infoset features or tables). The RL best responses of
:mod:`gamesolve.solvers.rl_oracles` train on it
(:meth:`~gamesolve.solvers.rl_oracles.PPOOracle.train_vector`) and
:func:`gamesolve.lower_bounds.rl_exploitability_bound` evaluates with it (``backend="tensor"``).

The fixed policy may be (see :func:`fixed_actor`):

* a :class:`~gamesolve.policy.TabularPolicy` of a compiled game: the environment is the game's
  :class:`~gamesolve.vector_env.tree.TreeVectorEnv`, whose ``infoset_ids`` index the table;
* anything with ``action_probs(observation [n, F], legal [n, A]) -> [n, A]`` over action ids: a
  :class:`gamesolve.neural.NeuralPolicy` (its observation kind picks the environment's) or the
  :class:`~gamesolve.policy.UniformPolicy` of :func:`gamesolve.uniform_policy`;
* a callable ``(observation [n, F], legal [n, A], player [n], rng) -> action ids [n]``;
* a :class:`MixturePolicy` of any of these: one member per episode, drawn with the mixture's
  weights when the episode starts (a meta-strategy of PSRO).

Each call of :meth:`VectorResponseEnv.step` is one batched step: the learner's actions are used
in the slots where the responder acts (``mine``), the fixed policy's elsewhere. Rewards arrive when
an episode ends and finished slots restart by themselves (:class:`~gamesolve.vector_env.TimeStep`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from gamesolve.arrays import sample_rows
from gamesolve.compiled import CompiledGame, as_compiled
from gamesolve.errors import (
    GameTooLargeError,
    InvalidArgumentError,
    InvalidPolicyError,
    MalformedGameError,
    UnsupportedGame,
)
from gamesolve.policy import TabularPolicy
from gamesolve.validation import check_int
from gamesolve.vector_env import OBSERVATION_KINDS, TimeStep, VectorEnv, vector_env

__all__ = [
    "FixedActor",
    "LearnerActor",
    "MixturePolicy",
    "ResponseStep",
    "TensorResponse",
    "VectorResponseEnv",
    "compiled_or_none",
    "fixed_actor",
    "fixed_learner",
    "make_env",
    "mlp_policy",
    "sample_seat_returns",
]

#: ``(timestep, rows [n], rng) -> action ids [n]``: a fixed policy's moves in the slots ``rows``.
FixedActor = Callable[[TimeStep, NDArray[np.int64], np.random.Generator], NDArray[np.int64]]

#: ``(step, rng) -> action ids [B]`` (entries outside ``step.mine`` are ignored).
LearnerActor = Callable[["ResponseStep", np.random.Generator], NDArray[np.int64]]


def compiled_or_none(game: Any) -> CompiledGame | None:
    """The compiled game, or ``None`` when it does not compile (too large, or no tree at all).

    A game string is loaded first. Games too large are refused by their size estimate before any
    tree is walked, so asking costs well under a second on them.
    """
    if isinstance(game, CompiledGame):
        return game
    if isinstance(game, str):
        from gamesolve.registry import load_game

        game = load_game(game)
    try:
        return as_compiled(game)
    except (GameTooLargeError, MalformedGameError, UnsupportedGame):
        return None


def _sample(probs: NDArray[np.float64], rng: np.random.Generator) -> NDArray[np.int64]:
    return sample_rows(probs, np.asarray(rng.random(size=probs.shape[0]), dtype=np.float64))


def fixed_actor(policy: Any, env: VectorEnv) -> FixedActor:
    """``policy`` as a :data:`FixedActor` on ``env`` (see the module docstring for what it may be).

    Raises:
        InvalidPolicyError: A table of another game or on an environment without infoset ids, or a
            network whose observation size or action count differs from the environment's.
        InvalidArgumentError: ``policy`` is none of the accepted kinds.
    """
    if isinstance(policy, TabularPolicy):
        game = getattr(env, "game", None)
        if not isinstance(game, CompiledGame) or not hasattr(env, "infoset_ids"):
            raise InvalidPolicyError("a TabularPolicy needs the batched environment of its compiled game")
        if policy.game is not game and (
            policy.game.infosets.keys != game.infosets.keys
            or not np.array_equal(policy.game.infoset_actions, game.infoset_actions)
        ):
            raise InvalidPolicyError(
                f"policy belongs to a different game ({policy.game.spec.name}; infosets or actions "
                f"differ from {game.spec.name})"
            )
        probs = policy.probs
        actions = game.infoset_actions

        def tabular(ts: TimeStep, rows: NDArray[np.int64], rng: np.random.Generator) -> NDArray[np.int64]:
            ids = env.infoset_ids[rows]
            slots = _sample(probs[ids], rng)
            out: NDArray[np.int64] = actions[ids, slots].astype(np.int64)
            return out

        return tabular
    if callable(getattr(policy, "action_probs", None)):
        size = getattr(policy, "observation_size", None)
        count = getattr(policy, "num_actions", None)
        if size is not None and int(size) != env.observation_size:
            raise InvalidPolicyError(
                f"the policy reads {size} observation features, but {env.spec.name}'s "
                f"{env.observation_kind} tensors have {env.observation_size}"
            )
        if count is not None and int(count) != env.num_actions:
            raise InvalidPolicyError(
                f"the policy has {count} action ids, but {env.spec.name} has {env.num_actions}"
            )

        def network(ts: TimeStep, rows: NDArray[np.int64], rng: np.random.Generator) -> NDArray[np.int64]:
            probs = np.asarray(policy.action_probs(ts.observation[rows], ts.legal[rows]), dtype=np.float64)
            return _sample(probs, rng)

        return network
    if callable(policy):

        def call(ts: TimeStep, rows: NDArray[np.int64], rng: np.random.Generator) -> NDArray[np.int64]:
            out = np.asarray(policy(ts.observation[rows], ts.legal[rows], ts.player[rows], rng))
            if out.shape != (rows.size,) or not np.issubdtype(out.dtype, np.integer):
                raise InvalidPolicyError(
                    f"the policy function must return {rows.size} integer action ids, got shape {out.shape}"
                )
            out = out.astype(np.int64)
            ok = (out >= 0) & (out < env.num_actions)
            ok[ok] = ts.legal[rows[ok], out[ok]]
            if not ok.all():
                k = int(np.flatnonzero(~ok)[0])
                raise InvalidPolicyError(
                    f"the policy function chose action id {int(out[k])}, which is illegal"
                )
            return out

        return call
    raise InvalidArgumentError(
        "policy must be a TabularPolicy, a NeuralPolicy, gamesolve.uniform_policy(game), an object "
        "with action_probs(observation, legal), or a function (observation, legal, player, rng) -> "
        f"action ids; got {type(policy).__name__}"
    )


class MixturePolicy:
    """A fixed opponent that is one of ``members`` per episode, drawn with probabilities ``weights``.

    What PSRO's responses train against (Lanctot et al. 2017): a meta-strategy over policies is a
    mixture of whole strategies, drawn once per episode, not a per-decision average of them. A
    member is anything :func:`fixed_actor` takes, or a mapping ``{seat: policy}`` (one policy per
    other seat, for games of more than two players).

    Raises:
        InvalidArgumentError: No member, a weight count that differs, or weights that are not
            non-negative finite numbers with a positive sum.
    """

    def __init__(self, members: Sequence[Any], weights: ArrayLike | None = None) -> None:
        self.members = list(members)
        if not self.members:
            raise InvalidArgumentError("a MixturePolicy needs at least one member")
        w = np.ones(len(self.members)) if weights is None else np.asarray(weights, dtype=np.float64)
        if w.shape != (len(self.members),) or not np.all(np.isfinite(w)) or (w < 0).any() or w.sum() <= 0:
            raise InvalidArgumentError(
                f"weights must be {len(self.members)} non-negative finite numbers with a positive sum, "
                f"got {np.asarray(weights).tolist()!r}"
            )
        self.weights = w / w.sum()

    def first(self) -> Any:
        """A member's policy (of the lowest seat where a member is a mapping), to pick the env."""
        head = self.members[0]
        return head[min(head)] if isinstance(head, Mapping) else head

    def __repr__(self) -> str:
        return f"MixturePolicy({len(self.members)} members)"


def _seat_actor(seats: Mapping[int, Any], env: VectorEnv) -> FixedActor:
    actors = {int(q): fixed_actor(pol, env) for q, pol in seats.items()}

    def act(ts: TimeStep, rows: NDArray[np.int64], rng: np.random.Generator) -> NDArray[np.int64]:
        out = np.zeros(rows.size, dtype=np.int64)
        players = ts.player[rows]
        for q in np.unique(players):
            actor = actors.get(int(q))
            if actor is None:
                raise InvalidPolicyError(f"the mixture member has no policy for seat {int(q)}")
            sel = players == q
            out[sel] = actor(ts, rows[sel], rng)
        return out

    return act


def make_env(game: Any, policy: Any, *, num_envs: int, seed: int) -> VectorEnv:
    """The batched environment ``policy`` can act in.

    A table's compiled game (its ``infoset_ids`` index the table); the tensor kind a network reads;
    otherwise information-state tensors where the game has them, else observation tensors.

    Raises:
        UnsupportedGame: The game has no tensors of the kind needed (the message names the other).
    """
    if isinstance(policy, MixturePolicy):
        policy = policy.first()
    if isinstance(policy, TabularPolicy):
        return vector_env(policy.game, num_envs=num_envs, seed=seed)
    kind = getattr(policy, "observation_kind", None)
    kinds = (kind,) if kind in OBSERVATION_KINDS else OBSERVATION_KINDS
    error: UnsupportedGame | None = None
    for k in kinds:
        try:
            return vector_env(game, num_envs=num_envs, seed=seed, observation=k)
        except UnsupportedGame as exc:
            error = exc if error is None else error
    assert error is not None
    raise error


@dataclass(frozen=True)
class ResponseStep:
    """The batch as the responder sees it.

    Attributes:
        observation: ``[B, F]`` float32: the acting seat's observation in each slot.
        legal: ``[B, A]`` bool over action ids.
        mine: ``[B]`` bool: the responder acts in this slot now.
        reward: ``[B]`` float64: the responder's return of episodes that ended in this call.
        done: ``[B]`` bool: the episode of this slot ended in this call (the slot restarted).
    """

    observation: NDArray[np.float32]
    legal: NDArray[np.bool_]
    mine: NDArray[np.bool_]
    reward: NDArray[np.float64]
    done: NDArray[np.bool_]


class VectorResponseEnv:
    """``num_envs`` episodes of a game for ``player`` against a fixed policy in every other seat.

    Args:
        game: Anything :func:`gamesolve.vector_env` takes (a compiled game, a game that compiles,
            an OpenSpiel or PettingZoo game far too large to compile, a game string).
        player: The responding seat.
        policy: The fixed policy (see :func:`fixed_actor`).
        num_envs: ``B``.
        seed: Seeds the environment's chance.

    Attributes:
        env: The underlying :class:`~gamesolve.vector_env.VectorEnv`.
        num_players, num_actions, observation_size, num_envs: As the environment's.
        utility_scale: The largest absolute terminal utility of a compiled game, else 1.

    Raises:
        InvalidArgumentError: A bad ``player``, ``num_envs`` or ``seed``.
        InvalidPolicyError: ``policy`` does not fit the game.
    """

    def __init__(self, game: Any, player: int, policy: Any, *, num_envs: int = 64, seed: int = 0) -> None:
        num_envs = check_int("num_envs", num_envs, minimum=1)
        seed = check_int("seed", seed, minimum=0)
        self.env = make_env(game, policy, num_envs=num_envs, seed=seed)
        self.num_players = self.env.num_players
        self.player = check_int("player", player, minimum=0, maximum=self.num_players - 1)
        self.num_envs = num_envs
        self.num_actions = self.env.num_actions
        self.observation_size = self.env.observation_size
        self.spec = self.env.spec
        self._mixture: MixturePolicy | None = None
        self._fixed: FixedActor
        if isinstance(policy, MixturePolicy):
            self._mixture = policy
            self._actors = [
                _seat_actor(m, self.env) if isinstance(m, Mapping) else fixed_actor(m, self.env)
                for m in policy.members
            ]
            self._draws = np.random.default_rng(np.random.SeedSequence([seed, 0x4D495854]))
            self._pick = np.zeros(num_envs, dtype=np.int64)
            self._fixed = self._mixed
        else:
            self._fixed = fixed_actor(policy, self.env)
        tree = getattr(self.env, "game", None)
        if isinstance(tree, CompiledGame) and tree.terminal_utility.size:
            self.utility_scale = max(1.0, float(np.abs(tree.terminal_utility).max()))
        else:
            self.utility_scale = 1.0
        self._ts: TimeStep | None = None

    @property
    def current(self) -> TimeStep | None:
        """The environment's last :class:`~gamesolve.vector_env.TimeStep` (``None`` before reset)."""
        return self._ts

    @property
    def obs_dim(self) -> int:
        """``F`` (the name :class:`~gamesolve.rl_env.ResponseEnv` uses)."""
        return self.observation_size

    def _view(self, ts: TimeStep) -> ResponseStep:
        self._ts = ts
        return ResponseStep(
            observation=ts.observation,
            legal=ts.legal,
            mine=ts.player == self.player,
            reward=ts.reward[:, self.player],
            done=ts.done,
        )

    @property
    def members(self) -> NDArray[np.int64] | None:
        """``[B]``: the mixture member each slot's episode plays against (``None`` without a mixture)."""
        return None if self._mixture is None else self._pick.copy()

    def _redraw(self, slots: NDArray[np.int64]) -> None:
        if self._mixture is not None and slots.size:
            w = self._mixture.weights
            self._pick[slots] = np.minimum(
                np.searchsorted(np.cumsum(w), self._draws.random(slots.size), side="right"), w.size - 1
            )

    def _mixed(self, ts: TimeStep, rows: NDArray[np.int64], rng: np.random.Generator) -> NDArray[np.int64]:
        out = np.zeros(rows.size, dtype=np.int64)
        picks = self._pick[rows]
        for k in np.unique(picks):
            sel = picks == k
            out[sel] = self._actors[int(k)](ts, rows[sel], rng)
        return out

    def reset(self) -> ResponseStep:
        """Start ``B`` fresh episodes (against freshly drawn mixture members)."""
        self._redraw(np.arange(self.num_envs))
        return self._view(self.env.reset())

    def step(self, actions: ArrayLike, rng: np.random.Generator) -> ResponseStep:
        """One batched step: ``actions`` where the responder acts, the fixed policy's elsewhere.

        Args:
            actions: ``[B]`` action ids (entries outside ``mine`` are ignored).
            rng: Draws the fixed policy's actions.
        """
        if self._ts is None:
            raise InvalidArgumentError("call reset() before step(actions)")
        ts = self._ts
        out = np.array(actions, dtype=np.int64, copy=True).reshape(self.num_envs)
        others = np.flatnonzero(ts.player != self.player)
        if others.size:
            out[others] = self._fixed(ts, others, rng)
        nxt = self.env.step(out)
        self._redraw(np.flatnonzero(nxt.done))  # a restarted slot meets a new member
        return self._view(nxt)

    def close(self) -> None:
        """Release the environment."""
        self.env.close()


def sample_seat_returns(
    env: VectorResponseEnv, actor: LearnerActor, episodes: int, rng: np.random.Generator
) -> NDArray[np.float64]:
    """The responder's returns of at least ``episodes`` complete episodes, ``actor`` in its seat.

    Every slot records its first ``ceil(episodes / B)`` episodes and no more (a stopping rule that
    does not look at the outcomes, so short episodes are not over-represented): the returns are
    independent draws of the responder's value, episodes in which it never acts included.
    """
    per_slot = max(1, math.ceil(episodes / env.num_envs))
    count = np.zeros(env.num_envs, dtype=np.int64)
    out: list[NDArray[np.float64]] = []
    step = env.reset()
    while (count < per_slot).any():
        step = env.step(actor(step, rng), rng)
        take = step.done & (count < per_slot)
        if take.any():
            out.append(step.reward[take])
        count += step.done
    return np.concatenate(out)


class TensorResponse:
    """A response trained on :class:`VectorResponseEnv`: an MLP over observation tensors, in numpy.

    It acts on any game the environment runs (no tree, no tables): :meth:`act_batch` plays the
    responder's slots of a :class:`ResponseStep`, sampling from the softmax over legal action ids
    or, with ``greedy``, its most likely one. :meth:`to_policy` gives the same network as a
    :class:`gamesolve.neural.NeuralPolicy` (save it, tabulate it on a compiled game).

    Attributes:
        kind: The oracle that trained it (``"ppo"``).
        player: The responding seat.
        observation_kind: The tensors it reads (``"info_state"`` or ``"observation"``).
        num_actions: ``A``.
        observation_size: ``F``.
        steps: Responder transitions used in training.
        updates: Gradient updates (PPO batches).
        curve: ``[M, 2]``: (transitions so far, mean responder return of the episodes finished in
            the window).
        seconds: Training wall time.
        config: The oracle's configuration.
        greedy: Whether :meth:`act_batch` plays the most likely action.
        critic_layers: The value network's layers where the oracle trained one (PPO), else
            ``None`` (see :meth:`values`).
    """

    def __init__(
        self,
        *,
        kind: str,
        player: int,
        game: str,
        observation_kind: str,
        layers: Sequence[tuple[NDArray[np.float32], NDArray[np.float32]]],
        steps: int,
        updates: int,
        curve: NDArray[np.float64],
        seconds: float,
        config: dict[str, Any],
        greedy: bool = False,
        critic: Sequence[tuple[NDArray[np.float32], NDArray[np.float32]]] | None = None,
    ) -> None:
        self.kind = kind
        self.player = int(player)
        self.game = game
        self.observation_kind = observation_kind
        self._layers = [(np.asarray(w, dtype=np.float32), np.asarray(b, dtype=np.float32)) for w, b in layers]
        self.observation_size = int(self._layers[0][0].shape[1])
        self.num_actions = int(self._layers[-1][0].shape[0])
        self.steps = int(steps)
        self.updates = int(updates)
        self.curve = np.asarray(curve, dtype=np.float64).reshape(-1, 2)
        self.seconds = float(seconds)
        self.config = dict(config)
        self.greedy = bool(greedy)
        self.critic_layers = (
            None
            if critic is None
            else [(np.asarray(w, dtype=np.float32), np.asarray(b, dtype=np.float32)) for w, b in critic]
        )

    def action_probs(self, observation: ArrayLike, legal: ArrayLike) -> NDArray[np.float64]:
        """``[n, A]`` the softmax of the network's logits over the legal action ids."""
        from gamesolve.arrays import masked_softmax, mlp_forward

        obs = np.asarray(observation, dtype=np.float32)
        return masked_softmax(np.asarray(mlp_forward(self._layers, obs)), np.asarray(legal, dtype=bool))

    def values(self, observation: ArrayLike, legal: ArrayLike | None = None) -> NDArray[np.float64]:
        """``[n]`` the critic's value of each observation (in the oracle's reward scale).

        Raises:
            InvalidArgumentError: The oracle trained no critic.
        """
        from gamesolve.arrays import mlp_forward

        del legal  # the critic reads the observation only
        if self.critic_layers is None:
            raise InvalidArgumentError(f"this {self.kind} response has no value network")
        obs = np.asarray(observation, dtype=np.float32)
        out: NDArray[np.float64] = np.asarray(mlp_forward(self.critic_layers, obs), dtype=np.float64)[:, 0]
        return out

    def act_batch(self, step: ResponseStep, rng: np.random.Generator) -> NDArray[np.int64]:
        """``[B]`` action ids for the slots where the responder acts (0 elsewhere; see :attr:`greedy`)."""
        out = np.zeros(step.mine.shape[0], dtype=np.int64)
        rows = np.flatnonzero(step.mine)
        if rows.size:
            probs = self.action_probs(step.observation[rows], step.legal[rows])
            out[rows] = np.argmax(probs, axis=1) if self.greedy else _sample(probs, rng)
        return out

    def __call__(self, step: ResponseStep, rng: np.random.Generator) -> NDArray[np.int64]:
        """Same as :meth:`act_batch`."""
        return self.act_batch(step, rng)

    @property
    def layers(self) -> list[tuple[NDArray[np.float32], NDArray[np.float32]]]:
        """The network's ``(weight [out, in], bias [out])`` layers, first to last (copies)."""
        return [(w.copy(), b.copy()) for w, b in self._layers]

    def to_policy(self) -> Any:
        """The network as a :class:`gamesolve.neural.NeuralPolicy` (a :class:`~gamesolve.neural.MLP`)."""
        return mlp_policy(self._layers, self.observation_kind, self.game)

    def __repr__(self) -> str:
        return f"TensorResponse({self.kind}, player={self.player}, game={self.game!r}, steps={self.steps})"


def mlp_policy(
    layers: Sequence[tuple[NDArray[np.float32], NDArray[np.float32]]], observation_kind: str, game: str | None
) -> Any:
    """Layers ``(weight [out, in], bias [out])``, ReLUs between them, as a network policy.

    The result is a :class:`gamesolve.neural.NeuralPolicy` over a :class:`~gamesolve.neural.MLP`
    (this imports torch).
    """
    import torch

    from gamesolve.neural import MLP, NeuralPolicy

    hidden = [int(w.shape[0]) for w, _ in layers[:-1]]
    size, count = int(layers[0][0].shape[1]), int(layers[-1][0].shape[0])
    net = MLP(size, count, hidden)
    linears = [m for m in net.body if isinstance(m, torch.nn.Linear)] + [net.policy]
    with torch.no_grad():
        for lin, (w, b) in zip(linears, layers, strict=True):
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(w, dtype=np.float32)))
            lin.bias.copy_(torch.from_numpy(np.ascontiguousarray(b, dtype=np.float32)))
    return NeuralPolicy(
        net, num_actions=count, observation_size=size, observation=observation_kind, game=game
    )


def fixed_learner(policy: Any, env: VectorResponseEnv) -> LearnerActor:
    """The fixed policy in the responder's seat too (for the on-policy value by sampling)."""
    act = fixed_actor(policy, env.env)

    def learner(step: ResponseStep, rng: np.random.Generator) -> NDArray[np.int64]:
        out = np.zeros(step.mine.shape[0], dtype=np.int64)
        rows = np.flatnonzero(step.mine)
        if rows.size:
            ts = env.current
            assert ts is not None
            out[rows] = act(ts, rows, rng)
        return out

    return learner
