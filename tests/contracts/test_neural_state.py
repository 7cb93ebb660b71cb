"""Torch modules and optimizers kept in a solver state (gamesolve.neural.state) restore exactly."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from gamesolve.errors import InvalidArgumentError  # noqa: E402
from gamesolve.neural import MLP  # noqa: E402
from gamesolve.neural.state import (  # noqa: E402
    module_names,
    optimizer_names,
    optimizer_nonnegative,
    pack_module,
    pack_optimizer,
    unpack_module,
    unpack_optimizer,
)


def _train(steps: int, resume_at: int | None = None, amsgrad: bool = False) -> dict[str, np.ndarray]:
    torch.manual_seed(0)
    net = MLP(5, 3, (8,), value_head=True)
    opt = torch.optim.Adam(net.parameters(), lr=1e-2, amsgrad=amsgrad)
    state: dict[str, np.ndarray] = {}
    pack_module(state, "net.", net)
    pack_optimizer(state, "opt.", opt)
    names = set(state)
    assert names == set(module_names("net.", net)) | set(optimizer_names("opt.", opt))
    x = torch.arange(20.0).reshape(4, 5) / 7
    for k in range(steps):
        if k == resume_at:  # a fresh process: other weights, another learning rate, then the state
            state = {name: value.copy() for name, value in state.items()}
            torch.manual_seed(5)
            net = MLP(5, 3, (8,), value_head=True)
            opt = torch.optim.Adam(net.parameters(), lr=1.0, amsgrad=amsgrad)
            unpack_module(state, "net.", net)
            unpack_optimizer(state, "opt.", opt)
        logits, values = net(x)
        loss = (logits**2).sum() + values.sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        pack_module(state, "net.", net)
        pack_optimizer(state, "opt.", opt)
        assert set(state) == names
    return state


@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("resume_at", [0, 2, 3])
def test_resume_repeats_training_exactly(resume_at: int, amsgrad: bool) -> None:
    straight = _train(4, amsgrad=amsgrad)
    resumed = _train(4, resume_at, amsgrad=amsgrad)
    for name, value in straight.items():
        assert value.dtype == resumed[name].dtype
        np.testing.assert_array_equal(value, resumed[name], err_msg=name)
    assert int(straight["opt.p0.step"]) == 4


def test_fresh_optimizer_is_packed_as_zeros_and_names_are_rule_friendly() -> None:
    net = MLP(4, 2, (3,))
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3)
    state: dict[str, np.ndarray] = {}
    pack_optimizer(state, "opt.", opt)
    assert int(state["opt.p0.step"]) == 0
    assert not state["opt.p1.exp_avg"].any()
    assert "opt.p0.step" in optimizer_nonnegative("opt.", opt)
    assert "opt.p0.exp_avg" not in optimizer_nonnegative("opt.", opt)
    unpack_optimizer(state, "opt.", opt)
    assert len(opt.state) == 0  # step 0: no optimizer state, as a fresh optimizer


def test_errors_name_the_array_and_the_optimizer() -> None:
    net = MLP(4, 2, (3,))
    state: dict[str, np.ndarray] = {}
    pack_module(state, "net.", net)
    state["net.policy.weight"] = np.zeros((9, 9), dtype=np.float32)
    with pytest.raises(ValueError, match=r"net\.policy\.weight"):
        unpack_module(state, "net.", net)
    del state["net.policy.weight"]
    with pytest.raises(ValueError, match=r"net\.policy\.weight"):
        unpack_module(state, "net.", net)
    with pytest.raises(InvalidArgumentError, match="RMSprop"):
        pack_optimizer(state, "opt.", torch.optim.RMSprop(net.parameters()))
