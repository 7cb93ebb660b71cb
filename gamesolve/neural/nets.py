"""The built-in networks of a neural policy: (observation, legal mask) to logits (and a value).

:class:`MLP` (fully connected, the default) reads any observation vector; :class:`ConvNet` reads
observations that are boards, ``[C, H, W]`` planes flattened in C order (OpenSpiel's
``observation_tensor`` of ``connect_four``, ``hex``, ``breakthrough``...), through 3x3
convolutions that share their weights across the board (LeCun et al. 1998, "Gradient-based learning
applied to document recognition"), then fully connected layers. :func:`build_network` picks one by
name (the deep learners' ``torso`` option); :data:`BUILTIN_FACTORIES` rebuilds either from a saved
file.

Any other ``torch.nn.Module`` with the same call, ``module(observation [B, F], legal [B, A] bool) ->
logits [B, A]`` or ``(logits [B, A], values [B] or [B, P])``, can be wrapped instead (see
:class:`gamesolve.neural.NeuralPolicy`). The MLP ignores the legal mask in its layers: masking
happens where the policy turns logits into probabilities.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from gamesolve.errors import InvalidArgumentError
from gamesolve.validation import check_int

__all__ = [
    "BUILTIN_FACTORIES",
    "CONDITIONAL_FACTORY",
    "CONV_FACTORY",
    "MEMBER_FACTORY",
    "MLP",
    "MLP_FACTORY",
    "TORSO_CHOICES",
    "ConditionalMLP",
    "ConditionedMember",
    "ConvNet",
    "build_network",
    "check_torso_fits",
    "factory_name",
]

#: How saved configs name the default network (``"module:attribute"``).
MLP_FACTORY = "gamesolve.neural.nets:MLP"
#: How saved configs name the convolutional network.
CONV_FACTORY = "gamesolve.neural.nets:ConvNet"
#: How saved configs name NeuPL's conditional network and one member of its population.
CONDITIONAL_FACTORY = "gamesolve.neural.nets:ConditionalMLP"
MEMBER_FACTORY = "gamesolve.neural.nets:ConditionedMember"
#: The deep learners' ``torso`` choices.
TORSO_CHOICES = ("mlp", "conv")


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

    body: torch.nn.Sequential
    policy: torch.nn.Linear
    value: torch.nn.Linear | None

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
        self.hidden = _widths("hidden", hidden)
        self.value_head = bool(value_head)
        self.num_values = check_int("num_values", num_values, minimum=1)
        _add_dense_and_heads(self, [], self.observation_size)

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


class ConvNet(torch.nn.Module):
    """3x3 convolutions over a board, then fully connected layers, a policy head and optionally a value head.

    The observation arrives flat (``[B, C*H*W]``, as every batched environment gives it) and is read
    as ``[B, C, H, W]``; each convolution keeps the board's size (padding 1) and is followed by a
    ReLU.

    Args:
        observation_shape: ``(C, H, W)``.
        num_actions: ``A`` (one logit per action id).
        channels: Output channels of each convolution (at least one).
        hidden: Widths of the fully connected layers after them (may be empty).
        value_head: Also return a value per player (``[B, num_values]``).
        num_values: Values per observation when ``value_head``.

    Raises:
        InvalidArgumentError: A shape that is not three positive integers, or a size that is not a
            positive integer.
    """

    body: torch.nn.Sequential
    policy: torch.nn.Linear
    value: torch.nn.Linear | None

    def __init__(
        self,
        observation_shape: Sequence[int],
        num_actions: int,
        channels: Sequence[int] = (32,),
        hidden: Sequence[int] = (128,),
        *,
        value_head: bool = False,
        num_values: int = 1,
    ) -> None:
        super().__init__()
        self.observation_shape = _board_shape(observation_shape)
        self.num_actions = check_int("num_actions", num_actions, minimum=1)
        self.channels = _widths("channels", channels, allow_empty=False)
        self.hidden = _widths("hidden", hidden)
        self.value_head = bool(value_head)
        self.num_values = check_int("num_values", num_values, minimum=1)
        c, h, w = self.observation_shape
        layers: list[torch.nn.Module] = []
        for out in self.channels:
            layers += [torch.nn.Conv2d(c, out, kernel_size=3, padding=1), torch.nn.ReLU()]
            c = out
        layers.append(torch.nn.Flatten())
        _add_dense_and_heads(self, layers, c * h * w)

    @property
    def observation_size(self) -> int:
        """``F = C * H * W``."""
        c, h, w = self.observation_shape
        return c * h * w

    @property
    def config(self) -> dict[str, Any]:
        """What rebuilds this network: ``{"factory": CONV_FACTORY, "kwargs": {...}}``."""
        return {
            "factory": CONV_FACTORY,
            "kwargs": {
                "observation_shape": list(self.observation_shape),
                "num_actions": self.num_actions,
                "channels": list(self.channels),
                "hidden": list(self.hidden),
                "value_head": self.value_head,
                "num_values": self.num_values,
            },
        }

    def forward(self, observation: Any, legal: Any = None) -> Any:
        """Logits ``[B, A]``, or ``(logits, values [B, num_values])`` with a value head."""
        del legal
        features = self.body(observation.reshape(observation.shape[0], *self.observation_shape))
        logits = self.policy(features)
        if self.value is None:
            return logits
        return logits, self.value(features)


class ConditionalMLP(torch.nn.Module):
    """A population in one network: ``Pi(a | o, sigma)`` and ``V(o, sigma)`` (NeuPL's policy).

    Liu, Marris, Hennes, Merel, Heess & Graepel 2022, "NeuPL: Neural Population Learning" (ICLR).
    The input is the observation followed by the conditioning vector ``sigma`` (``[B, F + N]``,
    ``N = max_population``): the mixture of the population the policy answers. The logits are
    ``s f(o, sigma) + (1 - s) b(legal)`` with ``s = sum(sigma)``, so ``sigma = 0`` is the initial
    policy whatever the weights: uniform (``b = 0``) or, with ``initial="first"``, the lowest legal
    action id (``b`` 0 there and -30 elsewhere).

    Args:
        observation_size: ``F``.
        num_actions: ``A``.
        max_population: ``N``, the length of ``sigma``.
        hidden: Widths of the hidden layers.
        initial: ``"uniform"`` or ``"first"``.
    """

    def __init__(
        self,
        observation_size: int,
        num_actions: int,
        max_population: int,
        hidden: Sequence[int] = (128, 128),
        initial: str = "uniform",
    ) -> None:
        super().__init__()
        self.observation_size = check_int("observation_size", observation_size, minimum=1)
        self.max_population = check_int("max_population", max_population, minimum=1)
        if initial not in ("uniform", "first"):
            raise InvalidArgumentError(f"initial must be 'uniform' or 'first', got {initial!r}")
        self.initial = initial
        self.torso = MLP(self.observation_size + self.max_population, num_actions, hidden, value_head=True)
        self.num_actions = self.torso.num_actions

    def _kwargs(self) -> dict[str, Any]:
        return {
            "observation_size": self.observation_size,
            "num_actions": self.num_actions,
            "max_population": self.max_population,
            "hidden": list(self.torso.hidden),
            "initial": self.initial,
        }

    @property
    def config(self) -> dict[str, Any]:
        """What rebuilds this network: ``{"factory": CONDITIONAL_FACTORY, "kwargs": {...}}``."""
        return {"factory": CONDITIONAL_FACTORY, "kwargs": self._kwargs()}

    def forward(self, observation: Any, legal: Any = None) -> Any:
        """``(logits [B, A], values [B, 1])`` of ``observation`` ``[B, F + N]`` (``sigma`` last)."""
        logits, values = self.torso(observation)
        s = observation[:, self.observation_size :].sum(dim=1, keepdim=True)
        if self.initial == "first" and legal is not None:
            first = torch.cumsum(legal.to(torch.int64), dim=1) == 1
            base = torch.where(first & legal, 0.0, -30.0)
            logits = s * logits + (1.0 - s) * base
        else:
            logits = s * logits
        return logits, values


class ConditionedMember(ConditionalMLP):
    """One member of a NeuPL population: the conditional network at a fixed ``sigma``.

    Called like any policy network, ``module(observation [B, F], legal) -> (logits, values)``; the
    fixed ``sigma`` (a buffer, saved with the weights) is appended to every observation.

    Args:
        sigma: The member's conditioning vector (``max_population`` weights).
        observation_size, num_actions, max_population, hidden, initial: As :class:`ConditionalMLP`.
    """

    sigma: torch.Tensor

    def __init__(
        self,
        observation_size: int,
        num_actions: int,
        max_population: int,
        hidden: Sequence[int] = (128, 128),
        initial: str = "uniform",
        sigma: Sequence[float] = (),
    ) -> None:
        super().__init__(observation_size, num_actions, max_population, hidden, initial)
        vector = torch.as_tensor([float(x) for x in sigma], dtype=torch.float32)
        if vector.shape != (self.max_population,):
            raise InvalidArgumentError(
                f"sigma must hold max_population={self.max_population} weights, got {len(vector)}"
            )
        self.register_buffer("sigma", vector)

    @property
    def config(self) -> dict[str, Any]:
        """What rebuilds this member: ``{"factory": MEMBER_FACTORY, "kwargs": {..., "sigma": [...]}}``."""
        return {
            "factory": MEMBER_FACTORY,
            "kwargs": {**self._kwargs(), "sigma": [float(x) for x in self.sigma.tolist()]},
        }

    def forward(self, observation: Any, legal: Any = None) -> Any:
        """``(logits [B, A], values [B, 1])`` of ``observation`` ``[B, F]`` at the member's ``sigma``."""
        cond = self.sigma.to(observation.dtype).expand(observation.shape[0], -1)
        return super().forward(torch.cat([observation, cond], dim=1), legal)


#: The networks a saved policy file may name without a ``factory=`` argument.
BUILTIN_FACTORIES: dict[str, Any] = {
    MLP_FACTORY: MLP,
    CONV_FACTORY: ConvNet,
    CONDITIONAL_FACTORY: ConditionalMLP,
    MEMBER_FACTORY: ConditionedMember,
}


def build_network(
    torso: str,
    observation_shape: Sequence[int],
    num_actions: int,
    *,
    hidden: Sequence[int],
    channels: Sequence[int] = (32,),
    value_head: bool = False,
    num_values: int = 1,
) -> torch.nn.Module:
    """The network a deep learner's ``torso`` option names.

    Args:
        torso: ``"mlp"`` (:class:`MLP` on the flat observation) or ``"conv"`` (:class:`ConvNet`,
            for observations shaped ``(C, H, W)``).
        observation_shape: The environment's observation shape (``(F,)`` when it is flat).
        num_actions: ``A``.
        hidden: Widths of the fully connected layers.
        value_head: Also return values.
        num_values: Values per observation when ``value_head``.
        channels: The convolutions' output channels (``"conv"`` only).

    Raises:
        InvalidArgumentError: An unknown ``torso``, or ``"conv"`` on an observation that is not a
            board.
    """
    shape = check_torso_fits(torso, observation_shape)
    if torso == "mlp":
        return MLP(math.prod(shape), num_actions, hidden, value_head=value_head, num_values=num_values)
    return ConvNet(shape, num_actions, channels, hidden, value_head=value_head, num_values=num_values)


def check_torso_fits(
    torso: str, observation_shape: Sequence[int], what: str = "this game's"
) -> tuple[int, ...]:
    """``observation_shape`` as a tuple, checked to suit ``torso``.

    Raises:
        InvalidArgumentError: An unknown ``torso``, or ``"conv"`` on a shape that is not ``(C, H, W)``
            (the message names ``what`` tensors and the shape).
    """
    shape = tuple(int(n) for n in observation_shape)
    if torso not in TORSO_CHOICES:
        raise InvalidArgumentError(f"torso must be one of {list(TORSO_CHOICES)}, got {torso!r}")
    if torso == "conv" and len(shape) != 3:
        raise InvalidArgumentError(
            f"torso='conv' reads boards shaped (C, H, W); {what} tensors have shape {shape}: use torso='mlp'"
        )
    return shape


def _add_dense_and_heads(net: Any, layers: list[torch.nn.Module], width: int) -> None:
    """Give ``net`` its ``body`` (``layers``, then its ``hidden`` ReLU layers), ``policy`` and ``value``."""
    for size in net.hidden:
        layers += [torch.nn.Linear(width, size), torch.nn.ReLU()]
        width = size
    net.body = torch.nn.Sequential(*layers)
    net.policy = torch.nn.Linear(width, net.num_actions)
    net.value = torch.nn.Linear(width, net.num_values) if net.value_head else None


def _widths(name: str, widths: Any, *, allow_empty: bool = True) -> tuple[int, ...]:
    if isinstance(widths, str | bytes) or not isinstance(widths, Sequence):
        raise InvalidArgumentError(f"{name} must be a list of layer widths, got {widths!r}")
    if not widths and not allow_empty:
        raise InvalidArgumentError(f"{name} must name at least one layer, got {list(widths)!r}")
    return tuple(check_int(f"{name}[{i}]", h, minimum=1) for i, h in enumerate(widths))


def _board_shape(shape: Any) -> tuple[int, int, int]:
    if isinstance(shape, str | bytes) or not isinstance(shape, Sequence) or len(shape) != 3:
        raise InvalidArgumentError(f"observation_shape must be (C, H, W), got {shape!r}")
    c, h, w = (check_int(f"observation_shape[{i}]", n, minimum=1) for i, n in enumerate(shape))
    return c, h, w


def factory_name(obj: Any) -> str:
    """``"module:qualname"`` of a class or function, the form saved configs use."""
    return f"{obj.__module__}:{obj.__qualname__}"
