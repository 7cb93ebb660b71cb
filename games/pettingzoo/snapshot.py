"""Copies and fingerprints of a PettingZoo environment's state, for exploring its game tree.

:func:`copy_env` copies an environment with its state (PettingZoo's own environments pickle as
their constructor arguments, so ``copy.deepcopy`` alone returns a fresh one); :func:`fingerprint`
hashes every attribute of an environment and its wrappers so that two states can be compared;
:func:`canonical` makes observations hashable.
"""

from __future__ import annotations

import copy
import hashlib
import io
import pickle
import types
from collections.abc import Hashable
from typing import Any

import numpy as np
from gymnasium.utils import EzPickle

from gamesolve.errors import UnsupportedGame

__all__ = ["canonical", "copy_env", "fingerprint", "shared_objects"]


def canonical(x: Any) -> Hashable:
    """A hashable value that is equal for equal observations (arrays by dtype, shape and bytes)."""
    if isinstance(x, np.ndarray):
        return (x.dtype.str, x.shape, x.tobytes())
    if isinstance(x, np.generic):
        return (x.dtype.str, x.tobytes())
    if isinstance(x, dict):
        return tuple((str(k), canonical(v)) for k, v in sorted(x.items(), key=lambda kv: str(kv[0])))
    if isinstance(x, list | tuple):
        return tuple(canonical(v) for v in x)
    if x is None or isinstance(x, bool | int | float | str | bytes):
        return x
    return repr(x)


def _wrapper_chain(env: Any) -> list[Any]:
    """``[env, env.env, env.env.env, ...]`` read through ``__dict__`` (wrappers forward getattr)."""
    chain: list[Any] = []
    obj = env
    while obj is not None and all(obj is not seen for seen in chain):
        chain.append(obj)
        obj = vars(obj).get("env") if hasattr(obj, "__dict__") else None
    return chain


def shared_objects(env: Any) -> dict[int, Any]:
    """Objects copies may share (a deepcopy memo seed): spaces and metadata, which are not state."""
    shared: dict[int, Any] = {}
    for agent in env.possible_agents:
        for space in (env.observation_space(agent), env.action_space(agent)):
            shared[id(space)] = space
    for obj in _wrapper_chain(env):
        attrs = vars(obj) if hasattr(obj, "__dict__") else {}
        for name in ("observation_spaces", "action_spaces", "metadata"):
            value = attrs.get(name)
            if isinstance(value, dict):
                shared[id(value)] = value
    return shared


def copy_env(env: Any, shared: dict[int, Any] | None = None) -> Any:
    """A deep copy of ``env`` with its state; the objects in ``shared`` are not copied.

    ``gymnasium.utils.EzPickle`` (the base of PettingZoo's own environments) pickles an env as its
    constructor arguments, so a plain ``copy.deepcopy`` returns a fresh, un-reset environment. The
    EzPickle objects on the wrapper chain (``env.env.env...``) are therefore copied by their
    ``__dict__``; everything else goes through ``copy.deepcopy``.
    """
    memo: dict[int, Any] = dict(shared) if shared else {}
    try:
        for obj in reversed(_wrapper_chain(env)):  # innermost first; outer copies find them in memo
            if isinstance(obj, EzPickle) and not hasattr(type(obj), "__deepcopy__"):
                clone = object.__new__(type(obj))
                memo[id(obj)] = clone
                clone.__dict__.update(copy.deepcopy(vars(obj), memo))
        return copy.deepcopy(env, memo)
    except Exception as exc:  # deepcopy can fail in many ways (locks, C handles, sockets, ...)
        raise UnsupportedGame(
            f"compile_pettingzoo needs an environment that copy.deepcopy can copy; copying "
            f"{type(env).__name__} failed: {type(exc).__name__}: {exc}"
        ) from None


def _fingerprint_marker(*args: Any) -> None:
    """Reduce callable named in state fingerprints (fingerprints are hashed, never unpickled)."""


_NOT_STATE = (
    type,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.ModuleType,
    types.MethodType,
    np.ndarray,
    np.generic,
)


_SLOT_NAMES: dict[type, tuple[str, ...]] = {}


def _slot_names(cls: type) -> tuple[str, ...]:
    """Every ``__slots__`` attribute name of ``cls`` and its bases (cached)."""
    cached = _SLOT_NAMES.get(cls)
    if cached is not None:
        return cached
    names: list[str] = []
    for klass in cls.__mro__:
        declared = klass.__dict__.get("__slots__", ())
        for name in (declared,) if isinstance(declared, str) else declared:
            if name not in ("__dict__", "__weakref__") and name not in names:
                names.append(name)
    _SLOT_NAMES[cls] = tuple(names)
    return _SLOT_NAMES[cls]


class _FingerprintPickler(pickle.Pickler):
    """Serializes an environment's attributes for the merge key (never unpickled).

    Objects with a ``__dict__`` are written as their type, attributes, slots and (for container
    subclasses) items, so EzPickle's constructor-argument pickling is bypassed; the ``shared``
    objects (spaces, metadata) by identity; objects that cannot be pickled (render surfaces, locks)
    by their type name only; everything else as ``pickle`` writes it.
    """

    def __init__(self, file: io.BytesIO, shared: dict[int, Any]) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._shared = shared

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, _NOT_STATE):
            return NotImplemented
        if id(obj) in self._shared:
            return (_fingerprint_marker, ("shared", id(obj)))
        attrs = getattr(obj, "__dict__", None)
        if isinstance(attrs, dict):
            cls = type(obj)
            slots = {name: getattr(obj, name) for name in _slot_names(cls) if hasattr(obj, name)}
            contents: Any = None
            if isinstance(obj, dict):
                contents = list(obj.items())
            elif isinstance(obj, list | tuple | set | frozenset):
                contents = list(obj)
            return (_fingerprint_marker, (cls.__module__, cls.__qualname__), (attrs, slots, contents))
        try:
            obj.__reduce_ex__(pickle.HIGHEST_PROTOCOL)
        except Exception:  # not picklable: not game state we can compare
            return (_fingerprint_marker, ("opaque", type(obj).__qualname__))
        return NotImplemented


def fingerprint(value: Any, shared: dict[int, Any]) -> bytes:
    """BLAKE2b-128 of ``value`` serialized by :class:`_FingerprintPickler` (``shared`` by identity)."""
    buffer = io.BytesIO()
    _FingerprintPickler(buffer, shared).dump(value)
    return hashlib.blake2b(buffer.getvalue(), digest_size=16).digest()
