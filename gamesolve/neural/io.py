"""One file per neural policy: weights, the network's config and the game it plays.

The file is a ``torch.save`` archive of plain data (tensors, strings), read back with
``torch.load(..., weights_only=True)``, so loading never runs pickled code. Its metadata is a JSON
string: the format tag, the network's config (``{"factory": "module:name", "kwargs": {...}}``),
the game's name, the observation kind and size, and the number of action ids. Files are written
atomically (:func:`gamesolve.io.atomic_write_with`).

Rebuilding the network on load: the built-in networks (:class:`~gamesolve.neural.nets.MLP`,
:class:`~gamesolve.neural.nets.ConvNet`) are rebuilt from their config; any other module is
rebuilt by the ``factory`` the caller passes to :func:`load_policy` (called with the saved kwargs).
A module named in a file is never imported on the file's say-so.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import torch

from gamesolve.errors import InputFileError, InvalidArgumentError, InvalidPolicyError
from gamesolve.io import atomic_write_with, json_text, stat_input_file
from gamesolve.neural.device import resolve_device
from gamesolve.neural.nets import BUILTIN_FACTORIES
from gamesolve.neural.policy import NeuralPolicy

__all__ = ["NEURAL_POLICY_FORMAT", "load_policy", "save_policy"]

#: Format tag of neural policy files.
NEURAL_POLICY_FORMAT = "gamesolve.neural_policy/1"

_META_KEYS = ("format", "config", "game", "observation", "observation_size", "num_actions")


def save_policy(policy: NeuralPolicy, path: str | os.PathLike[str]) -> Path:
    """Write ``policy`` to ``path`` atomically; returns the target.

    Raises:
        InvalidPolicyError: The policy has no config (nothing would rebuild its module).
        OutputPathError: ``path`` is a directory or a special file.
    """
    if policy.config is None:
        raise InvalidPolicyError(
            f"cannot save a {type(policy.module).__name__} without a config: give NeuralPolicy "
            "config={'factory': 'module:name', 'kwargs': {...}} (or a module with a config property)"
        )
    meta = {
        "format": NEURAL_POLICY_FORMAT,
        "config": policy.config,
        "game": policy.game,
        "observation": policy.observation_kind,
        "observation_size": policy.observation_size,
        "num_actions": policy.num_actions,
    }
    weights = {k: v.detach().to("cpu").clone() for k, v in policy.module.state_dict().items()}
    payload = {"meta": json_text(meta), "weights": weights}
    return atomic_write_with(path, lambda tmp: torch.save(payload, tmp), what="policy file")


def load_policy(
    path: str | os.PathLike[str],
    *,
    game: Any = None,
    observation: str | None = None,
    observation_size: int | None = None,
    num_actions: int | None = None,
    factory: Callable[..., torch.nn.Module] | None = None,
    device: Any = "cpu",
) -> NeuralPolicy:
    """The :class:`~gamesolve.neural.NeuralPolicy` saved in ``path``, checked before use.

    Args:
        path: A file written by :meth:`NeuralPolicy.save`.
        game: The game it must play (a game or its name); another game is refused.
        observation: The observation kind it must read.
        observation_size: The observation size ``F`` it must read.
        num_actions: The number of action ids it must have.
        factory: Builds the module from the saved kwargs; required for a module that is not one of
            the built-in networks (the file names the factory it was saved with).
        device: Where the network runs (see :func:`~gamesolve.neural.device.resolve_device`).

    Raises:
        InputFileError: The file is missing, not a file, or not a policy file torch can read.
        InvalidPolicyError: A missing or malformed key, another game, kind or size than asked,
            weights that do not fit the network or are not finite, no factory for a user module.
            Every message names the file.
        InvalidArgumentError: A bad ``device``.
    """
    shown = os.fspath(path)
    where = f"policy file {shown!r}"
    stat_input_file(path, what="policy file")
    device = resolve_device(device)  # a bad device is the caller's error, not the file's
    try:
        payload = torch.load(shown, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise InputFileError(
            f"{where} is not a gamesolve neural policy torch can read: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        ) from None
    meta, weights = _parse(where, payload)
    _check_asked(where, meta, game=game, observation=observation, size=observation_size, actions=num_actions)
    config = meta["config"]
    kwargs = dict(config["kwargs"])
    if factory is None:
        factory = BUILTIN_FACTORIES.get(config["factory"])
        if factory is None:
            raise InvalidPolicyError(
                f"{where} holds a {config['factory']} network; pass factory= (a callable "
                "that builds it from the saved kwargs) to load it"
            )
    try:
        module = factory(**kwargs)
    except (TypeError, ValueError) as exc:
        raise InvalidPolicyError(f"{where}: cannot rebuild the network: {exc}") from None
    if not isinstance(module, torch.nn.Module):
        raise InvalidPolicyError(
            f"{where}: the factory returned a {type(module).__name__}, not a torch.nn.Module"
        )
    try:
        module.load_state_dict(weights, strict=True)
    except RuntimeError as exc:
        first = str(exc).splitlines()[0] if str(exc) else ""
        raise InvalidPolicyError(f"{where}: the weights do not fit the network ({first})") from None
    try:
        return NeuralPolicy(
            module,
            num_actions=meta["num_actions"],
            observation_size=meta["observation_size"],
            observation=meta["observation"],
            game=meta["game"],
            config=config,
            device=device,
        )
    except InvalidArgumentError as exc:
        raise InvalidPolicyError(f"{where}: {exc}") from None


def _parse(where: str, payload: Any) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    """The metadata and weights of a payload, with every key and type checked (``where``: the file)."""
    if not isinstance(payload, Mapping) or "meta" not in payload or "weights" not in payload:
        raise InvalidPolicyError(f"{where} is not a neural policy file (no 'meta' and 'weights')")
    try:
        meta = json.loads(payload["meta"]) if isinstance(payload["meta"], str) else None
    except json.JSONDecodeError as exc:
        raise InvalidPolicyError(f"{where}: its metadata is not JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise InvalidPolicyError(f"{where}: its metadata must be a JSON object")
    missing = [k for k in _META_KEYS if k not in meta]
    if missing:
        raise InvalidPolicyError(f"{where} lacks {', '.join(map(repr, missing))}")
    if meta["format"] != NEURAL_POLICY_FORMAT:
        raise InvalidPolicyError(f"{where} has format {meta['format']!r}, expected {NEURAL_POLICY_FORMAT!r}")
    config = meta["config"]
    if (
        not isinstance(config, dict)
        or not isinstance(config.get("factory"), str)
        or not isinstance(config.get("kwargs"), dict)
    ):
        raise InvalidPolicyError(f"{where}: 'config' must be {{'factory': str, 'kwargs': {{...}}}}")
    for key in ("observation_size", "num_actions"):
        value = meta[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InvalidPolicyError(f"{where}: {key!r} must be a positive integer, got {value!r}")
    if meta["game"] is not None and not isinstance(meta["game"], str):
        raise InvalidPolicyError(f"{where}: 'game' must be a name or null, got {meta['game']!r}")
    weights = payload["weights"]
    if not isinstance(weights, Mapping) or not all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in weights.items()
    ):
        raise InvalidPolicyError(f"{where}: 'weights' must map parameter names to tensors")
    for name, tensor in weights.items():
        if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
            raise InvalidPolicyError(f"{where}: weight {name!r} is not finite")
    return meta, dict(weights)


def _check_asked(
    where: str,
    meta: dict[str, Any],
    *,
    game: Any,
    observation: str | None,
    size: int | None,
    actions: int | None,
) -> None:
    """Refuse a file whose game, observation kind, size or action count is not the one asked for."""
    if game is not None:
        if isinstance(game, str):
            from gamesolve.registry import load_game

            asked = {game, load_game(game).spec.name}
        else:
            asked = {getattr(getattr(game, "spec", None), "name", None)}
        if meta["game"] is not None and meta["game"] not in asked:
            wanted = sorted(a for a in asked if a is not None)
            raise InvalidPolicyError(f"{where} plays {meta['game']!r}, not {' / '.join(map(repr, wanted))}")
    for key, want in (("observation", observation), ("observation_size", size), ("num_actions", actions)):
        if want is not None and meta[key] != want:
            raise InvalidPolicyError(f"{where} has {key}={meta[key]!r}, but {want!r} was asked for")
