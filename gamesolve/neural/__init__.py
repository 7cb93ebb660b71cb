"""Neural policies: torch networks over observation tensors as first-class gamesolve policies.

:class:`NeuralPolicy` wraps a ``torch.nn.Module`` (observation, legal mask -> logits, optionally
values); :func:`load_policy` reads the one-file format :meth:`NeuralPolicy.save` writes;
:func:`resolve_device` turns ``"cpu"|"cuda"|"auto"`` into a torch device; :class:`MLP` is the default
network and :class:`ConvNet` the one for board-shaped observations. Importing this package imports
torch; ``import gamesolve`` does not (its ``gamesolve.NeuralPolicy`` and ``gamesolve.load_policy``
load this package on first use).
"""

from __future__ import annotations

from gamesolve.neural.device import resolve_device
from gamesolve.neural.io import NEURAL_POLICY_FORMAT, load_policy, save_policy
from gamesolve.neural.nets import MLP, ConvNet
from gamesolve.neural.policy import NeuralPolicy
from gamesolve.neural.tensors import InfosetTensors

__all__ = [
    "MLP",
    "NEURAL_POLICY_FORMAT",
    "ConvNet",
    "InfosetTensors",
    "NeuralPolicy",
    "load_policy",
    "resolve_device",
    "save_policy",
]
