"""The default network of a neural policy: an MLP from (observation, legal mask) to logits (and a value).

Any ``torch.nn.Module`` with the same call, ``module(observation [B, F], legal [B, A] bool) ->
logits [B, A]`` or ``(logits [B, A], values [B] or [B, P])``, can be wrapped instead (see
:class:`gamesolve.neural.NeuralPolicy`). The MLP ignores the legal mask in its layers: masking
happens where the policy turns logits into probabilities.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from gamesolve.errors import InvalidArgumentError
from gamesolve.validation import check_int

__all__ = ["MLP", "MLP_FACTORY", "factory_name"]

#: How saved configs name the default network (``"module:attribute"``).
MLP_FACTORY = "gamesolve.neural.nets:MLP"


class MLP(torch.nn.Module):
    """Fully connected layers with ReLUs, a policy head and, optionally, a value head.

    Args:
        observation_size: ``F``.
        num_actions: ``A`` (one logit per action id).
        hidden: Widths of the hidden layers (may be empty: a linear policy).
        value_head: Also return a value per player (``[B, num_values]``).
        num_values: Values per observation (e.g. the number of players) when ``value_head``.

    Raises:
        InvalidArgumentError: A size that is not a positive integer.
    """

    def __init__(
        self,
        observation_size: int,
        num_actions: int,
        hidden: Sequence[int] = (128, 128),
        *,
        value_head: bool = False,
        num_values: int = 1,
    ) -> None:
        super().__init__()
        self.observation_size = check_int("observation_size", observation_size, minimum=1)
        self.num_actions = check_int("num_actions", num_actions, minimum=1)
        if isinstance(hidden, str | bytes) or not isinstance(hidden, Sequence):
            raise InvalidArgumentError(f"hidden must be a list of layer widths, got {hidden!r}")
        self.hidden = tuple(check_int(f"hidden[{i}]", h, minimum=1) for i, h in enumerate(hidden))
        self.value_head = bool(value_head)
        self.num_values = check_int("num_values", num_values, minimum=1)
        layers: list[torch.nn.Module] = []
        width = self.observation_size
        for h in self.hidden:
            layers += [torch.nn.Linear(width, h), torch.nn.ReLU()]
            width = h
        self.body = torch.nn.Sequential(*layers)
        self.policy = torch.nn.Linear(width, self.num_actions)
        self.value: torch.nn.Linear | None = (
            torch.nn.Linear(width, self.num_values) if self.value_head else None
        )

    @property
    def config(self) -> dict[str, Any]:
        """What rebuilds this network: ``{"factory": MLP_FACTORY, "kwargs": {...}}``."""
        return {
            "factory": MLP_FACTORY,
            "kwargs": {
                "observation_size": self.observation_size,
                "num_actions": self.num_actions,
                "hidden": list(self.hidden),
                "value_head": self.value_head,
                "num_values": self.num_values,
            },
        }

    def forward(self, observation: Any, legal: Any = None) -> Any:
        """Logits ``[B, A]``, or ``(logits, values [B, num_values])`` with a value head."""
        del legal
        features = self.body(observation)
        logits = self.policy(features)
        if self.value is None:
            return logits
        return logits, self.value(features)


def factory_name(obj: Any) -> str:
    """``"module:qualname"`` of a class or function, the form saved configs use."""
    return f"{obj.__module__}:{obj.__qualname__}"
