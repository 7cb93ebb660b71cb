"""Neural policies: a ``torch.nn.Module`` over observation tensors, wrapped as a gamesolve policy.

A :class:`NeuralPolicy` maps ``[B, F]`` observations (and the ``[B, A]`` legal mask) to action
probabilities over action ids. It acts on batches (the :class:`~gamesolve.vector_env.TimeStep` of a
batched environment), acts one decision at a time as an
:class:`~gamesolve.population.ActingPolicy` (so tournaments accept it on every game), and tabulates
itself on a compiled game by evaluating the network on every infoset's tensor, which makes the
exact exploitability of a network (:func:`gamesolve.exploitability`) that of its table.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, overload

import numpy as np
import torch
from numpy.typing import ArrayLike, NDArray

from gamesolve.arrays import masked_softmax, sample_rows
from gamesolve.compiled import as_compiled
from gamesolve.errors import InvalidArgumentError, InvalidPolicyError
from gamesolve.io import json_text
from gamesolve.neural.device import resolve_device
from gamesolve.policy import TabularPolicy
from gamesolve.validation import check_choice, check_int
from gamesolve.vector_env import OBSERVATION_KINDS
from gamesolve.vector_env.tree import InfosetTensors, tabulate_probs

if TYPE_CHECKING:
    import os
    from pathlib import Path

__all__ = ["NeuralPolicy", "masked_softmax", "sample_rows"]

#: Infosets evaluated per forward pass when tabulating.
TABULATE_BATCH = 16_384


class NeuralPolicy:
    """A network over observation tensors as a policy: batches, single decisions, tables, files.

    Args:
        module: A ``torch.nn.Module`` called as ``module(observation, legal)`` with ``observation``
            ``[B, F]`` float32 and ``legal`` ``[B, A]`` bool tensors, returning logits ``[B, A]``
            over action ids, or ``(logits, values)``. The policy puts it in eval mode.
        num_actions: ``A``, the number of action ids (the batched environment's ``num_actions``).
        observation_size: ``F``.
        observation: The kind of tensor the network reads, ``"info_state"`` or ``"observation"``.
        game: The game it plays (a game or its name), recorded in saved files and checked when
            tabulating; ``None`` for no check.
        config: What rebuilds the module when loading, ``{"factory": "module:name", "kwargs": {...}}``
            (JSON values). Default: ``module.config`` when the module has one (the default
            :class:`~gamesolve.neural.nets.MLP` does). See :func:`gamesolve.neural.load_policy` for
            how it is used.
        device: ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``
            (:func:`~gamesolve.neural.device.resolve_device`).

    Raises:
        InvalidArgumentError: Not a module, a bad size, kind, config or device.
    """

    def __init__(
        self,
        module: torch.nn.Module,
        *,
        num_actions: int,
        observation_size: int,
        observation: str = "info_state",
        game: Any = None,
        config: Mapping[str, Any] | None = None,
        device: Any = "cpu",
    ) -> None:
        if not isinstance(module, torch.nn.Module):
            raise InvalidArgumentError(f"module must be a torch.nn.Module, got {type(module).__name__}")
        self.num_actions = check_int("num_actions", num_actions, minimum=1)
        self.observation_size = check_int("observation_size", observation_size, minimum=1)
        self.observation_kind = check_choice("observation", observation, OBSERVATION_KINDS)
        self.game = _game_name(game)
        self.config = _check_config(config if config is not None else getattr(module, "config", None))
        self.device = resolve_device(device)
        self.module = module.to(self.device).eval()

    # ------------------------------------------------------------------ device
    def to(self, device: Any) -> NeuralPolicy:
        """Move the network to ``device`` (same values as :class:`NeuralPolicy`'s); returns ``self``."""
        self.device = resolve_device(device)
        self.module = self.module.to(self.device)
        return self

    # ------------------------------------------------------------------ forward
    def _inputs(
        self, observation: ArrayLike, legal: ArrayLike
    ) -> tuple[NDArray[np.float32], NDArray[np.bool_]]:
        obs = np.asarray(observation, dtype=np.float32)
        mask = np.asarray(legal)
        if obs.ndim != 2 or obs.shape[1] != self.observation_size:
            raise InvalidArgumentError(
                f"observation must be [B, {self.observation_size}] (the network's observation size), "
                f"got shape {obs.shape}"
            )
        if mask.dtype != np.bool_ or mask.shape != (obs.shape[0], self.num_actions):
            raise InvalidArgumentError(
                f"legal must be a [B, {self.num_actions}] bool mask over action ids with B = "
                f"{obs.shape[0]}, got dtype {mask.dtype} and shape {mask.shape}"
            )
        if not obs.flags.writeable:  # torch shares memory with the array and wants it writable
            obs = obs.copy()
        if not mask.flags.writeable:
            mask = mask.copy()
        return obs, mask

    def _forward(self, obs: NDArray[np.float32], mask: NDArray[np.bool_]) -> Any:
        with torch.inference_mode():
            return self.module(
                torch.as_tensor(obs, device=self.device), torch.as_tensor(mask, device=self.device)
            )

    def logits(self, observation: ArrayLike, legal: ArrayLike) -> NDArray[np.float64]:
        """``[B, A]`` raw logits of the network (float64 on the CPU)."""
        obs, mask = self._inputs(observation, legal)
        out = self._forward(obs, mask)
        logits = out[0] if isinstance(out, tuple | list) else out
        if not isinstance(logits, torch.Tensor) or tuple(logits.shape) != (obs.shape[0], self.num_actions):
            shape = tuple(logits.shape) if isinstance(logits, torch.Tensor) else type(logits).__name__
            raise InvalidPolicyError(
                f"the network must return logits of shape [B, A] = {(obs.shape[0], self.num_actions)}, "
                f"got {shape}"
            )
        result: NDArray[np.float64] = logits.detach().to("cpu", torch.float64).numpy()
        return result

    def values(self, observation: ArrayLike, legal: ArrayLike) -> NDArray[np.float64]:
        """The network's values (its second output) as float64 on the CPU.

        Raises:
            InvalidPolicyError: The network returns logits only.
        """
        obs, mask = self._inputs(observation, legal)
        out = self._forward(obs, mask)
        if not isinstance(out, tuple | list) or len(out) < 2:
            raise InvalidPolicyError("the network returns no values (only logits)")
        result: NDArray[np.float64] = out[1].detach().to("cpu", torch.float64).numpy()
        return result

    def action_probs(self, observation: ArrayLike, legal: ArrayLike) -> NDArray[np.float64]:
        """``[B, A]`` probabilities over action ids: softmax over the legal ones, illegal exactly 0.

        Raises:
            InvalidArgumentError: Shapes that do not fit the network, a row with no legal action.
            InvalidPolicyError: The network returns something else than ``[B, A]`` logits, or NaN.
        """
        _, mask = self._inputs(observation, legal)
        return masked_softmax(self.logits(observation, legal), mask)

    # ------------------------------------------------------------------ acting
    @overload
    def act(self, player: int, observation: ArrayLike, legal: ArrayLike, rng: np.random.Generator) -> int: ...

    @overload
    def act(
        self,
        batch: Any,
        legal: ArrayLike | None = None,
        rng: np.random.Generator | None = None,
        *,
        greedy: bool = False,
    ) -> NDArray[np.int64]: ...

    def act(self, *args: Any, **kwargs: Any) -> Any:
        """Actions for a batch, or one action (the :class:`~gamesolve.population.ActingPolicy` call).

        * ``act(timestep, rng=rng)`` or ``act(observation [B, F], legal [B, A], rng)``: ``[B]``
          action ids (see :meth:`act_batch`);
        * ``act(player, observation [F], legal_ids, rng)``: one action id (see :meth:`act_one`).
        """
        if args and isinstance(args[0], int | np.integer) and not isinstance(args[0], bool):
            return self.act_one(*args, **kwargs)
        return self.act_batch(*args, **kwargs)

    def act_batch(
        self,
        batch: Any,
        legal: ArrayLike | None = None,
        rng: np.random.Generator | None = None,
        *,
        greedy: bool = False,
    ) -> NDArray[np.int64]:
        """``[B]`` action ids sampled from :meth:`action_probs` (the most likely with ``greedy``).

        Args:
            batch: A :class:`~gamesolve.vector_env.TimeStep` (its ``observation`` and ``legal``), or
                ``[B, F]`` observations with ``legal`` given.
            legal: ``[B, A]`` bool mask (only with an observation array).
            rng: Draws the actions (required unless ``greedy``).
            greedy: Play the most likely legal action (lowest id on ties).

        Raises:
            InvalidArgumentError: A missing ``legal`` or ``rng``, shapes that do not fit.
        """
        if hasattr(batch, "observation") and hasattr(batch, "legal"):
            if legal is not None:
                raise InvalidArgumentError("pass legal only with an observation array, not with a TimeStep")
            observation, legal = batch.observation, batch.legal
        else:
            observation = batch
        if legal is None:
            raise InvalidArgumentError("legal (the [B, A] mask) is required with an observation array")
        probs = self.action_probs(observation, legal)
        if greedy:
            return np.argmax(probs, axis=1).astype(np.int64)
        if not isinstance(rng, np.random.Generator):
            raise InvalidArgumentError(f"rng must be a numpy Generator, got {type(rng).__name__}")
        return sample_rows(probs, np.asarray(rng.random(size=probs.shape[0]), dtype=np.float64))

    def act_one(self, player: int, observation: ArrayLike, legal: ArrayLike, rng: np.random.Generator) -> int:
        """One action id among ``legal`` (action ids) for ``player`` seeing ``observation`` ``[F]``.

        Raises:
            InvalidArgumentError: An observation of the wrong size, no legal action or an action id
                outside ``[0, num_actions)``.
        """
        del player
        ids = np.asarray(legal, dtype=np.int64).reshape(-1)
        if ids.size == 0:
            raise InvalidArgumentError("no legal action to choose from")
        if ids.min() < 0 or ids.max() >= self.num_actions:
            raise InvalidArgumentError(
                f"legal action ids {ids.tolist()} are outside the network's [0, {self.num_actions})"
            )
        mask = np.zeros((1, self.num_actions), dtype=np.bool_)
        mask[0, ids] = True
        obs = np.asarray(observation, dtype=np.float32).reshape(1, -1)
        probs = self.action_probs(obs, mask)[:, ids]
        return int(ids[int(sample_rows(probs, np.array([rng.random()], dtype=np.float64))[0])])

    # ------------------------------------------------------------------ tables
    def tabulate(self, game: Any, *, batch_size: int = TABULATE_BATCH) -> TabularPolicy:
        """The network's policy on every infoset of a compiled game, as a :class:`TabularPolicy`.

        The network is evaluated in batches of ``batch_size`` infosets on each infoset's tensor
        (:class:`~gamesolve.neural.tensors.InfosetTensors`); action ids become the table's slots.

        Raises:
            InvalidPolicyError: The policy plays another game, or the game's tensors or action ids
                do not fit the network.
            UnsupportedGame: The game has no tensor of the policy's observation kind.
        """
        batch_size = check_int("batch_size", batch_size, minimum=1)
        compiled = as_compiled(game)
        name = compiled.spec.name
        asked = {name, _game_name(game)}
        if self.game is not None and self.game not in asked:
            raise InvalidPolicyError(f"this policy plays {self.game!r}, not {name!r}")
        tensors = InfosetTensors(game, self.observation_kind)
        if tensors.size != self.observation_size:
            raise InvalidPolicyError(
                f"{name}'s {self.observation_kind} tensors have {tensors.size} features, but the network "
                f"reads {self.observation_size}"
            )
        return tabulate_probs(
            game, self.action_probs, self.observation_kind, self.num_actions, batch_size=batch_size
        )

    # ------------------------------------------------------------------ files
    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write weights, config and game to one file, atomically (see :func:`gamesolve.load_policy`)."""
        from gamesolve.neural.io import save_policy

        return save_policy(self, path)

    def __repr__(self) -> str:
        game = f", game={self.game!r}" if self.game is not None else ""
        return (
            f"NeuralPolicy({type(self.module).__name__}, observation={self.observation_kind!r}, "
            f"F={self.observation_size}, A={self.num_actions}{game}, device={str(self.device)!r})"
        )


def _game_name(game: Any) -> str | None:
    if game is None or isinstance(game, str):
        return game
    spec = getattr(game, "spec", None)
    name = getattr(spec, "name", None)
    if not isinstance(name, str):
        raise InvalidArgumentError(f"game must be a game or a game name, got {type(game).__name__}")
    return name


def _check_config(config: Any) -> dict[str, Any] | None:
    if config is None:
        return None
    if (
        not isinstance(config, Mapping)
        or not isinstance(config.get("factory"), str)
        or not isinstance(config.get("kwargs", {}), Mapping)
    ):
        raise InvalidArgumentError(
            "config must be {'factory': 'module:name', 'kwargs': {...}} (what rebuilds the module), "
            f"got {config!r}"
        )
    out = {"factory": str(config["factory"]), "kwargs": dict(config.get("kwargs", {}))}
    try:
        json_text(out)
    except (TypeError, ValueError) as exc:
        raise InvalidArgumentError(f"config must hold JSON values only: {exc}") from None
    return out
