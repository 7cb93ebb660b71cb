"""NeuPL's conditional policy ``Pi_theta(a | infoset, sigma)``: a torch MLP over weights kept in the state.

Liu, Marris, Hennes, Merel, Heess & Graepel 2022, "NeuPL: Neural Population Learning" (ICLR): one
network represents the whole population, policy ``i`` being the network conditioned on row ``i`` of
the interaction graph. The weights and the Adam moments live in the solver state as numpy arrays
(:func:`init_weights`), so a checkpointed run resumes exactly; :class:`ConditionalNetwork` copies them
to torch for a step and back. torch is imported on first use (:func:`import_torch`).
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["MASKED", "ConditionalNetwork", "import_torch", "init_weights", "param_keys"]

#: Logit of an illegal action (exp underflows to exactly 0).
MASKED = -1e9


def import_torch() -> Any:
    """The torch module, or ImportError saying how to install it."""
    try:
        import torch
    except ImportError as exc:  # pragma: no cover - torch is a dependency of the RL extras
        raise ImportError("neupl with policy='network' needs torch: pip install 'gamesolve[torch]'") from exc
    return torch


def param_keys(layers: int) -> list[str]:
    """The state keys of the weights of ``layers`` linear layers: ``w0, b0, w1, b1, ...``."""
    return [key for k in range(layers) for key in (f"w{k}", f"b{k}")]


def init_weights(state: dict[str, NDArray[Any]], widths: list[int], rng: np.random.Generator) -> None:
    """Fresh weights of layer widths ``widths`` (input first), zero Adam moments, into ``state``.

    The first layer reads a one-hot infoset plus ``sigma`` (about two active inputs): uniform in
    ``+-sqrt(3)``; hidden layers He-uniform; the output layer small (``0.1 / sqrt(fan_in)``), so the
    network starts close to uniform. Biases start at zero.
    """
    hidden = len(widths) - 2
    for k, (fan_in, fan_out) in enumerate(itertools.pairwise(widths)):
        if k == 0:
            bound = np.sqrt(3.0)
        elif k < hidden:
            bound = np.sqrt(6.0 / fan_in)
        else:
            bound = 0.1 * np.sqrt(1.0 / fan_in)
        state[f"w{k}"] = rng.uniform(-bound, bound, size=(fan_out, fan_in)).astype(np.float32)
        state[f"b{k}"] = np.zeros(fan_out, dtype=np.float32)
    for key in param_keys(len(widths) - 1):
        state[f"m_{key}"] = np.zeros_like(state[key])
        state[f"v_{key}"] = np.zeros_like(state[key])
    state["adam_t"] = np.zeros((), dtype=np.int64)


class ConditionalNetwork:
    """The conditional policy ``Pi_theta(a | infoset, sigma)`` over the weights in a solver state.

    Weights are copied from the state arrays to torch tensors on construction and written back
    (with the Adam moments) by :meth:`store`. The logits are ``s f_theta(o, sigma) + (1 - s) log pi_0(o)``
    with ``s = sum(sigma)``, so the row ``sigma = 0`` is the initial policy ``pi_0`` whatever the weights.

    Args:
        state: The solver state holding ``w{k}``, ``b{k}`` (and ``m_*``, ``v_*``, ``adam_t`` to train).
        layers: Number of linear layers (hidden layers + 1).
        legal: ``[I, A]`` legal mask.
        initial: ``[I, A]`` the initial policy ``pi_0``.
        device: ``"cpu"``, ``"cuda"`` or ``"auto"``.
        learning_rate: Adam step size.
        max_grad_norm: Global gradient-norm clip of :meth:`adam_step`.
        requires_grad: Build for training (gradients and the Adam moments).
    """

    def __init__(
        self,
        state: dict[str, NDArray[Any]],
        *,
        layers: int,
        legal: NDArray[np.bool_],
        initial: NDArray[np.float64],
        device: str,
        learning_rate: float,
        max_grad_norm: float,
        requires_grad: bool,
    ) -> None:
        torch = import_torch()
        self.torch = torch
        self.state = state
        self.learning_rate = learning_rate
        self.max_grad_norm = max_grad_norm
        if device == "auto":
            self.device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
        else:
            self.device = torch.device(device)
        self.keys = param_keys(layers)
        self.params = [
            torch.tensor(state[k], device=self.device, requires_grad=requires_grad) for k in self.keys
        ]
        self.num_infosets, self.num_actions = legal.shape
        self.legal = torch.as_tensor(np.array(legal), device=self.device)
        init_logits = np.where(initial > 0, np.log(np.maximum(initial, 1e-300)), -30.0)
        self.init_logits = torch.as_tensor(init_logits, dtype=torch.float32, device=self.device)
        if requires_grad:
            self.m = [torch.tensor(state[f"m_{k}"], device=self.device) for k in self.keys]
            self.v = [torch.tensor(state[f"v_{k}"], device=self.device) for k in self.keys]

    def _head(self, h0: Any, sigma_sum: Any, init_logits: Any, legal: Any) -> tuple[Any, Any]:
        torch = self.torch
        h = torch.relu(h0)
        layers = len(self.keys) // 2
        for k in range(1, layers):
            h = torch.nn.functional.linear(h, self.params[2 * k], self.params[2 * k + 1])
            if k < layers - 1:
                h = torch.relu(h)
        a = self.num_actions
        logits = sigma_sum * h[..., :a] + (1.0 - sigma_sum) * init_logits
        logits = logits.masked_fill(~legal, MASKED)
        return logits, h[..., a]

    def forward(self, infoset: Any, sigma: Any) -> tuple[Any, Any]:
        """``(logits [B, A], value [B])`` for infoset ids ``[B]`` and conditioning vectors ``[B, N_max]``."""
        w0, b0 = self.params[0], self.params[1]
        h0 = w0[:, : self.num_infosets].t()[infoset] + sigma @ w0[:, self.num_infosets :].t() + b0
        return self._head(h0, sigma.sum(dim=1, keepdim=True), self.init_logits[infoset], self.legal[infoset])

    def table(self, sigma: Any) -> Any:
        """``[R, I, A]`` action probabilities of the policies ``sigma [R, N_max]`` at every infoset."""
        w0, b0 = self.params[0], self.params[1]
        embed = w0[:, : self.num_infosets].t()  # [I, H]
        h0 = embed[None, :, :] + (sigma @ w0[:, self.num_infosets :].t())[:, None, :] + b0
        logits, _ = self._head(h0, sigma.sum(dim=1)[:, None, None], self.init_logits[None], self.legal[None])
        return self.torch.softmax(logits, dim=-1)

    def adam_step(self, loss: Any) -> None:
        """One Adam step (moments in the state, so a resumed run continues exactly)."""
        torch = self.torch
        grads = torch.autograd.grad(loss, self.params, allow_unused=True)
        grads = [torch.zeros_like(p) if g is None else g for p, g in zip(self.params, grads, strict=True)]
        norm = torch.sqrt(sum((g * g).sum() for g in grads))
        scale = min(1.0, self.max_grad_norm / (float(norm) + 1e-12))
        counter = self.state["adam_t"]
        counter[...] = int(counter) + 1
        step = int(counter)
        beta1, beta2, eps = 0.9, 0.999, 1e-8
        lr = self.learning_rate
        with torch.no_grad():
            for p, g, m, v in zip(self.params, grads, self.m, self.v, strict=True):
                g = g * scale
                m.mul_(beta1).add_(g, alpha=1 - beta1)
                v.mul_(beta2).addcmul_(g, g, value=1 - beta2)
                m_hat = m / (1 - beta1**step)
                v_hat = v / (1 - beta2**step)
                p.sub_(lr * m_hat / (v_hat.sqrt() + eps))

    def store(self) -> None:
        """Write weights and Adam moments back into the state arrays."""
        for k, p, m, v in zip(self.keys, self.params, self.m, self.v, strict=True):
            self.state[k][...] = p.detach().cpu().numpy()
            self.state[f"m_{k}"][...] = m.cpu().numpy()
            self.state[f"v_{k}"][...] = v.cpu().numpy()
