"""The numba CFR kernel agrees with its plain-numpy twin, and batching iterations changes nothing.

Every check runs on both traversals of the kernel: the serial pass and the layered multi-core pass
(:mod:`gamesolve.kernels.layers`, forced here on small games).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np
import pytest

import gamesolve
from gamesolve.kernels.cfr import UpdateRule, cfr_iteration, regret_matching
from gamesolve.kernels.cfr_numpy import cfr_iteration_numpy, regret_matching_numpy
from gamesolve.kernels.layers import SERIAL, build_layers
from gamesolve.solvers.cfr import VARIANTS, Averaging, RegretRule

TOL = 1e-10
GAMES = ["kuhn_poker", "kuhn_poker(players=3)", "leduc_poker"]
STATE = ("probs", "regrets", "last_regret", "avg")
ITERATIONS = 6


@dataclass(frozen=True)
class Params:
    """The scalar rule arguments shared by the kernel and its twin."""

    floor_zero: bool
    discount: bool
    alpha: float
    beta: float
    gamma: float
    predictive: bool

    @classmethod
    def of(cls, rule: RegretRule, averaging: Averaging) -> Params:
        return cls(
            floor_zero=rule.floor_zero,
            discount=rule.alpha is not None,
            alpha=float(rule.alpha or 0.0),
            beta=float(rule.beta or 0.0),
            gamma=averaging.gamma,
            predictive=rule.predictive,
        )

    def rule(self, alternating: bool) -> UpdateRule:
        """The kernel's (and the twin's) rule argument."""
        return UpdateRule(
            alternating, self.floor_zero, self.discount, self.alpha, self.beta, self.gamma, self.predictive
        )


RULES: dict[str, Params] = {name: Params.of(*VARIANTS[name]) for name in VARIANTS}
# Every switch on at once, and prediction without the floor: the rules really compose.
RULES["all-on"] = Params.of(RegretRule(floor_zero=True, alpha=2.0, beta=0.5, predictive=True), Averaging(1.5))
RULES["predictive-rm"] = Params.of(RegretRule(predictive=True), Averaging(0.0))


def _fresh(g) -> dict[str, np.ndarray]:
    shape = (g.num_infosets, g.max_actions)
    return {
        "probs": g.legal_mask / g.infoset_num_actions[:, None],
        "regrets": np.zeros(shape),
        "last_regret": np.zeros(shape),
        "avg": np.zeros(shape),
    }


def _kernel(g, params: Params, alternating: bool, state, t_first: int, count: int) -> np.ndarray:
    layers = g.__dict__.get("_test_layers", SERIAL)
    root_values = np.full(g.num_players, np.nan)
    cfr_iteration(
        g.tree,
        params.rule(alternating),
        t_first,
        count,
        state["probs"],
        state["regrets"],
        state["last_regret"],
        state["avg"],
        np.zeros((g.num_infosets, g.max_actions)),
        np.full(g.num_nodes, np.nan),
        np.full(g.num_nodes, np.nan),
        np.full(int(g.num_sequences.max()), np.nan),
        root_values,
        layers,
        np.full((layers.chunks, g.num_infosets, g.max_actions), np.nan),
    )
    return root_values


def _twin(g, params: Params, alternating: bool, state, t_first: int, count: int) -> np.ndarray:
    return cfr_iteration_numpy(g.tree, params.rule(alternating), t_first=t_first, count=count, **state)


@pytest.fixture(params=[(name, kind) for name in GAMES for kind in ("serial", "layered")], ids=str)
def compiled(request, game_loader):
    """A compiled game; the ``layered`` copy makes ``_kernel`` run the multi-core traversal."""
    name, kind = request.param
    g = game_loader(name).compile()
    if kind == "serial":
        return g
    copy = dataclasses.replace(g)
    copy.__dict__["_test_layers"] = build_layers(g.tree)
    return copy


@pytest.mark.parametrize("alternating", [True, False], ids=["alternating", "simultaneous"])
@pytest.mark.parametrize("rule", list(RULES))
def test_kernel_matches_numpy_twin(compiled, rule, alternating):
    g = compiled
    params = RULES[rule]
    fast, slow = _fresh(g), _fresh(g)
    for t in range(1, ITERATIONS + 1):
        fast_values = _kernel(g, params, alternating, fast, t, 1)
        slow_values = _twin(g, params, alternating, slow, t, 1)
        for key in STATE:
            np.testing.assert_allclose(fast[key], slow[key], rtol=TOL, atol=TOL, err_msg=f"{key} at t={t}")
        np.testing.assert_allclose(fast_values, slow_values, rtol=TOL, atol=TOL, err_msg=f"values at t={t}")
    # The runs went somewhere: regrets are not all zero and the strategy moved off uniform.
    assert np.abs(fast["regrets"]).max() > 1e-3
    assert not np.allclose(fast["probs"], _fresh(g)["probs"])
    # Illegal slots never receive mass or regret.
    illegal = ~g.legal_mask
    for key in STATE:
        assert not fast[key][illegal].any(), key


@pytest.mark.parametrize("alternating", [True, False], ids=["alternating", "simultaneous"])
def test_root_values_are_expected_utilities(compiled, alternating):
    """Player 0's root value is its expected utility under the profile it updated from."""
    g = compiled
    params = RULES["cfr+"]
    state = _fresh(g)
    for t in range(1, 4):
        before = state["probs"].copy()
        values = _kernel(g, params, alternating, state, t, 1)
        # Player 0 moves first in both schedules, so it traverses the profile of the iteration start.
        expected = gamesolve.expected_values(g, before)
        assert values[0] == pytest.approx(expected[0], abs=1e-12)
        if not alternating:
            np.testing.assert_allclose(values, expected, atol=1e-12)


@pytest.mark.parametrize("alternating", [True, False], ids=["alternating", "simultaneous"])
@pytest.mark.parametrize("rule", list(VARIANTS))
def test_batched_iterations_equal_single_calls(compiled, rule, alternating):
    g = compiled
    params = RULES[rule]
    k = 7
    batched, single, split = _fresh(g), _fresh(g), _fresh(g)
    batched_values = _kernel(g, params, alternating, batched, 1, k)
    for t in range(1, k + 1):
        single_values = _kernel(g, params, alternating, single, t, 1)
    _kernel(g, params, alternating, split, 1, 3)
    _kernel(g, params, alternating, split, 4, k - 3)
    for key in STATE:
        np.testing.assert_array_equal(batched[key], single[key], err_msg=key)
        np.testing.assert_array_equal(split[key], single[key], err_msg=key)
    np.testing.assert_array_equal(batched_values, single_values)
    # The twin batches the same way (and still agrees with the kernel).
    twin = _fresh(g)
    _twin(g, params, alternating, twin, 1, k)
    for key in STATE:
        np.testing.assert_allclose(twin[key], batched[key], rtol=TOL, atol=TOL, err_msg=key)


def test_iteration_number_matters_for_discounting_and_averaging(kuhn):
    """``t_first`` is really used: the same state advanced as iteration 1 or iteration 5 differs."""
    g = kuhn.compile()
    params = RULES["dcfr"]
    first, later = _fresh(g), _fresh(g)
    _kernel(g, params, True, first, 1, 1)
    _kernel(g, params, True, later, 5, 1)
    # Average weight t**2: 25 times the mass of iteration 1.
    np.testing.assert_allclose(later["avg"], 25.0 * first["avg"], rtol=1e-14)
    assert not np.allclose(later["regrets"], first["regrets"])


def test_regret_matching_matches_numpy(rng, leduc):
    g = leduc.compile()
    shape = (g.num_infosets, g.max_actions)
    legal = g.legal_mask
    for predictive in (False, True):
        regrets = np.where(legal, rng.normal(size=shape), 0.0)
        regrets[rng.random(shape) < 0.3] = 0.0  # exact zeros
        regrets[:20] = -np.abs(regrets[:20])  # rows with no positive entry: uniform
        prediction = np.where(legal, rng.normal(size=shape), 0.0)
        fast = np.full(shape, np.nan)
        fast[~legal] = 0.0
        regret_matching(g.tree, regrets, prediction, predictive, -1, fast)
        slow = regret_matching_numpy(regrets, prediction if predictive else None, legal)
        np.testing.assert_allclose(fast, slow, rtol=1e-15, atol=1e-15)
        np.testing.assert_allclose(fast.sum(axis=1), 1.0, atol=1e-14)
        if not predictive:
            np.testing.assert_allclose(fast[:20], (legal / g.infoset_num_actions[:, None])[:20])

    # One player only: the other player's rows are left untouched.
    out = np.full(shape, -1.0)
    regret_matching(g.tree, regrets, prediction, False, 1, out)
    mine = g.infoset_player == 1
    assert (out[~mine] == -1.0).all()
    np.testing.assert_allclose(
        out[mine][legal[mine]], regret_matching_numpy(regrets, None, legal)[mine][legal[mine]]
    )
