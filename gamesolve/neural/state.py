"""Torch networks and optimizers inside a solver's state: numpy arrays in, the same numbers out.

A solver's state is a dict of named numpy arrays (:mod:`gamesolve.solver`), checkpointed as ``.npz``
and checked against a fresh state on resume. Deep learners keep their networks and optimizers there
with these functions, so that a resumed run continues an uninterrupted one exactly:

* :func:`pack_module` / :func:`unpack_module` copy every entry of ``module.state_dict()`` (parameters
  and buffers) to ``state[prefix + name]`` and back, bit for bit.
* :func:`pack_optimizer` / :func:`unpack_optimizer` do the same for an optimizer's per-parameter state
  (Adam's moments and step counts) and each parameter group's learning rate.

The contract:

* Names are ``prefix + name``: ``name`` is the ``state_dict`` key of a module entry
  (``"body.0.weight"``), and for an optimizer ``"p{i}.{buffer}"`` (``i`` the parameter's position in
  the optimizer's parameter groups, ``buffer`` one of :func:`optimizer_buffers`, plus ``"p{i}.step"``)
  and ``"g{j}.lr"`` per group. Pick prefixes that do not start with ``_`` (those names are scratch,
  never saved) and that keep the names of two networks apart (``"policy."``, ``"value."``).
* Every name exists from the first pack on, with its final dtype and shape: a fresh optimizer's
  lazily created buffers are packed as zeros with step 0 (exactly what the optimizer creates on its
  first step), so a fresh state and a checkpointed one have the same arrays, as
  :func:`gamesolve.checkpoint.check_state` requires. Packing writes into existing arrays in place when
  they have the right shape and dtype, else stores a fresh copy; it never keeps a view of a tensor.
* Unpacking restores exactly what was packed (the same float bits, the same step counts), onto the
  device the module's parameters are on. A missing name or a shape that differs from the module's
  is a ``ValueError`` naming the array. A parameter whose step is 0 gets no optimizer state (as in a
  fresh optimizer).
* :func:`optimizer_nonnegative` names the arrays that are never negative (step counts, second
  moments), for :class:`gamesolve.checkpoint.StateRules`' ``nonnegative``.

Supported optimizers: ``torch.optim.Adam`` and ``AdamW`` (with or without ``amsgrad``) and ``SGD``
without momentum (Kingma & Ba 2015, "Adam: A method for stochastic optimization"; Loshchilov &
Hutter 2019, "Decoupled weight decay regularization").
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.errors import InvalidArgumentError

__all__ = [
    "module_names",
    "optimizer_buffers",
    "optimizer_names",
    "optimizer_nonnegative",
    "pack_module",
    "pack_optimizer",
    "unpack_module",
    "unpack_optimizer",
]

State = dict[str, NDArray[Any]]


def _numpy(tensor: Any) -> NDArray[Any]:
    return np.array(tensor.detach().cpu().numpy(), copy=True)


def _store(state: State, key: str, value: NDArray[Any]) -> None:
    """Write ``value`` into ``state[key]`` in place when shapes and dtypes agree, else a copy."""
    old = state.get(key)
    if old is not None and old.shape == value.shape and old.dtype == value.dtype and old.flags.writeable:
        old[...] = value
    else:
        state[key] = np.array(value, copy=True)


def _fetch(state: State, key: str, shape: tuple[int, ...]) -> NDArray[Any]:
    if key not in state:
        raise ValueError(f"the state has no array {key!r}")
    value = state[key]
    if tuple(value.shape) != tuple(shape):
        raise ValueError(f"array {key!r} has shape {tuple(value.shape)}, the network needs {tuple(shape)}")
    return value


# ----------------------------------------------------------------------------------------- modules


def module_names(prefix: str, module: Any) -> list[str]:
    """The state names :func:`pack_module` writes for ``module``."""
    return [prefix + name for name in module.state_dict()]


def pack_module(state: State, prefix: str, module: Any) -> None:
    """Copy every parameter and buffer of ``module`` to ``state[prefix + name]`` (numpy, on the CPU)."""
    for name, tensor in module.state_dict().items():
        _store(state, prefix + name, _numpy(tensor))


def unpack_module(state: State, prefix: str, module: Any) -> None:
    """Load ``module``'s parameters and buffers from ``state[prefix + name]``, exactly.

    Raises:
        ValueError: A missing array or one of another shape than the module's (naming it).
    """
    import torch

    current = module.state_dict()
    loaded = {}
    for name, tensor in current.items():
        value = _fetch(state, prefix + name, tuple(tensor.shape))
        loaded[name] = torch.as_tensor(np.array(value, copy=True), dtype=tensor.dtype)
    module.load_state_dict(loaded, strict=True)


# -------------------------------------------------------------------------------------- optimizers


def optimizer_buffers(optimizer: Any) -> tuple[str, ...]:
    """The per-parameter tensors of ``optimizer`` that a run must keep (besides the step count).

    Raises:
        InvalidArgumentError: An optimizer these functions do not support.
    """
    import torch

    kind = type(optimizer)
    if kind in (torch.optim.Adam, torch.optim.AdamW):
        amsgrad = any(bool(group.get("amsgrad", False)) for group in optimizer.param_groups)
        return ("exp_avg", "exp_avg_sq", "max_exp_avg_sq") if amsgrad else ("exp_avg", "exp_avg_sq")
    if kind is torch.optim.SGD and all(float(g.get("momentum", 0.0)) == 0.0 for g in optimizer.param_groups):
        return ()
    raise InvalidArgumentError(
        f"optimizer {kind.__name__} cannot be kept in a solver state: use torch.optim.Adam, AdamW, "
        "or SGD without momentum"
    )


def _params(optimizer: Any) -> list[Any]:
    return [p for group in optimizer.param_groups for p in group["params"]]


def optimizer_names(prefix: str, optimizer: Any) -> list[str]:
    """The state names :func:`pack_optimizer` writes for ``optimizer``."""
    buffers = optimizer_buffers(optimizer)
    names = [f"{prefix}g{j}.lr" for j in range(len(optimizer.param_groups))]
    for i in range(len(_params(optimizer))):
        if buffers:
            names.append(f"{prefix}p{i}.step")
        names += [f"{prefix}p{i}.{b}" for b in buffers]
    return names


def optimizer_nonnegative(prefix: str, optimizer: Any) -> frozenset[str]:
    """Names of :func:`pack_optimizer`'s arrays that are never negative (for ``StateRules``)."""
    keep = {"step", "exp_avg_sq", "max_exp_avg_sq", "lr"}
    return frozenset(n for n in optimizer_names(prefix, optimizer) if n.rsplit(".", 1)[1] in keep)


def pack_optimizer(state: State, prefix: str, optimizer: Any) -> None:
    """Copy the optimizer's step counts, moments and learning rates into ``state`` (see the module doc).

    Raises:
        InvalidArgumentError: An unsupported optimizer.
    """
    buffers = optimizer_buffers(optimizer)
    for j, group in enumerate(optimizer.param_groups):
        _store(state, f"{prefix}g{j}.lr", np.asarray(float(group["lr"]), dtype=np.float64))
    for i, param in enumerate(_params(optimizer)):
        if not buffers:
            continue
        saved = optimizer.state.get(param, {})
        step = saved.get("step", 0)
        _store(state, f"{prefix}p{i}.step", np.asarray(int(float(step)), dtype=np.int64))
        for b in buffers:
            tensor = saved.get(b)
            if tensor is None:  # not created yet: what the optimizer creates on its first step
                value = np.zeros(tuple(param.shape), dtype=_numpy_dtype(param))
            else:
                value = _numpy(tensor)
            _store(state, f"{prefix}p{i}.{b}", value)


def unpack_optimizer(state: State, prefix: str, optimizer: Any) -> None:
    """Restore what :func:`pack_optimizer` wrote, exactly, onto the parameters' devices.

    Raises:
        InvalidArgumentError: An unsupported optimizer.
        ValueError: A missing array or one of the wrong shape (naming it).
    """
    import torch

    buffers = optimizer_buffers(optimizer)
    for j, group in enumerate(optimizer.param_groups):
        group["lr"] = float(_fetch(state, f"{prefix}g{j}.lr", ()))
    optimizer.state.clear()
    if not buffers:
        return
    scalar = torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32
    for i, param in enumerate(_params(optimizer)):
        step = int(_fetch(state, f"{prefix}p{i}.step", ()))
        if step < 0:
            raise ValueError(f"array {prefix}p{i}.step holds a negative step count")
        if step == 0:
            continue
        entry: dict[str, Any] = {"step": torch.tensor(float(step), dtype=scalar)}
        fused = any(bool(g.get("fused") or g.get("capturable")) for g in optimizer.param_groups)
        if fused:
            entry["step"] = entry["step"].to(param.device)
        for b in buffers:
            value = _fetch(state, f"{prefix}p{i}.{b}", tuple(param.shape))
            entry[b] = torch.as_tensor(np.array(value, copy=True), dtype=param.dtype).to(param.device)
        optimizer.state[param] = entry


def _numpy_dtype(param: Any) -> Any:
    import torch

    return torch.empty((), dtype=param.dtype).numpy().dtype
