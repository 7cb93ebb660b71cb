"""Where networks run: ``device="cpu"|"cuda"|"auto"`` (or ``"cuda:N"``) resolved to a torch device.

Environments stay on the CPU in numpy; networks and their updates move to CUDA when asked (or when
``"auto"`` finds a CUDA device). Asking for CUDA without a CUDA build of torch, or without a device,
is a clear :class:`~gamesolve.errors.InvalidArgumentError`, never a silent fall back to the CPU.
"""

from __future__ import annotations

import re
from typing import Any

from gamesolve.errors import InvalidArgumentError

__all__ = ["DEVICE_CHOICES", "import_torch", "resolve_device"]

#: What ``device=`` accepts (``"cuda:N"`` picks device ``N``).
DEVICE_CHOICES = ("cpu", "cuda", "auto")

_CUDA_INDEX = re.compile(r"cuda:([0-9]+)")


def import_torch() -> Any:
    """The ``torch`` module, or an ``ImportError`` that says how to install it."""
    try:
        import torch
    except ImportError:  # pragma: no cover - exercised only without torch
        raise ImportError("neural policies need torch: pip install 'gamesolve[torch]'") from None
    return torch


def resolve_device(device: Any = "cpu") -> Any:
    """``device`` as a ``torch.device``.

    Args:
        device: ``"cpu"``, ``"cuda"`` (the current CUDA device), ``"cuda:N"``, ``"auto"`` (CUDA when
            available, else the CPU) or a ``torch.device``.

    Raises:
        InvalidArgumentError: Not one of these, or CUDA asked for where torch has no CUDA build or
            sees no (such) device.
    """
    torch = import_torch()
    if isinstance(device, torch.device):
        name = str(device)
    elif isinstance(device, str):
        name = device.strip().lower()
    else:
        raise InvalidArgumentError(
            f"device must be one of {', '.join(map(repr, DEVICE_CHOICES))} or 'cuda:N', got {device!r}"
        )
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    match = _CUDA_INDEX.fullmatch(name)
    if name != "cuda" and match is None:
        raise InvalidArgumentError(
            f"device must be one of {', '.join(map(repr, DEVICE_CHOICES))} or 'cuda:N', got {device!r}"
        )
    if torch.version.cuda is None:
        raise InvalidArgumentError(
            f"device={device!r} needs a CUDA build of torch, but this torch ({torch.__version__}) is "
            "CPU-only; use device='cpu' or 'auto', or install a CUDA build of torch"
        )
    if not torch.cuda.is_available():
        raise InvalidArgumentError(
            f"device={device!r}: torch sees no CUDA device here; use device='cpu' or 'auto'"
        )
    if match is not None:
        index = int(match.group(1))
        count = torch.cuda.device_count()
        if index >= count:
            raise InvalidArgumentError(
                f"device={device!r}: there is no CUDA device {index} ({count} visible)"
            )
        return torch.device("cuda", index)
    return torch.device("cuda")
