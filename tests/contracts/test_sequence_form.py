"""Contracts of the sequence form (gamesolve.sequence_form) and its LP (gamesolve.solvers.sequence_lp).

Oracles: the tree evaluation of gamesolve.evaluation (expected values, exact NashConv), the numpy
twins of the conversion kernels, pinned values (Kuhn -1/18, Kuhn 1950; Leduc -0.085606424078, both
computed by OpenSpiel's sequence-form LP of Koller, Megiddo & von Stengel 1996, "Efficient
computation of equilibria for extensive two-person games"), and the dense normal-form LP
of random small games (every pure strategy enumerated, solved by gamesolve.solvers.lp), which shares no code
with the sequence form.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pytest
import scipy.sparse as sp

import gamesolve
from gamesolve import GameKind, GameSpec, TabularPolicy, UnsupportedGame, Utility
from gamesolve.sequence_form import (
    SequenceForm,
    behavior_to_plan,
    behavior_to_plans,
    behavior_to_plans_numpy,
    constraint_matrices,
    expected_utilities,
    expected_utility,
    payoff_matrices,
    plan_to_behavior,
    plans_to_behavior,
    plans_to_behavior_numpy,
    plans_to_policy,
    policy_to_plans,
    sequence_form,
)
from gamesolve.solvers.lp import solve_zero_sum_lp
from gamesolve.solvers.sequence_lp import SequenceFormLP, solve_sequence_form_lp

KUHN_VALUE = -1.0 / 18.0  # player 0, any NE (Kuhn 1950)
LEDUC_VALUE = -0.085606424078  # player 0, sequence-form LP (Koller, Megiddo & von Stengel 1996)

TWO_PLAYER = ["kuhn", "leduc", "liars_dice_tiny"]
ALL_GAMES = [*TWO_PLAYER, "kuhn3"]


@pytest.fixture(scope="module")
def games(game_loader):
    """Compiled games by short name (the OpenSpiel ones cached for the session)."""
    return {
        "kuhn": gamesolve.as_compiled(game_loader("kuhn_poker")),
        "leduc": gamesolve.as_compiled(game_loader("leduc_poker")),
        "kuhn3": gamesolve.as_compiled(game_loader("kuhn_poker(players=3)")),
        # Liar's dice with one three-sided die each: 1,147 histories, compiled in milliseconds.
        "liars_dice_tiny": gamesolve.as_compiled(game_loader("liars_dice(dice_sides=3)")),
    }


def _policies(game, rng):
    """A full-support random policy, a sparse random one and the always-first-action policy."""
    return [
        TabularPolicy.random(game, rng=rng),
        TabularPolicy.random(game, rng=rng, concentration=0.05),
        TabularPolicy.first_action(game),
    ]


# ---------------------------------------------------------------------------- constraints


@pytest.mark.parametrize("name", ALL_GAMES)
def test_plans_of_policies_satisfy_the_constraints(games, name, rng):
    game = games[name]
    for policy in _policies(game, rng):
        plans = policy_to_plans(policy)
        assert [p.shape for p in plans] == [(int(n),) for n in game.num_sequences]
        for player, plan in enumerate(plans):
            e_mat, e_vec = constraint_matrices(game, player)
            assert isinstance(e_mat, sp.csr_matrix)
            assert e_mat.shape == (1 + game.infosets_of(player).shape[0], int(game.num_sequences[player]))
            np.testing.assert_allclose(e_mat @ plan, e_vec, rtol=0, atol=1e-13)
            assert (plan >= 0).all() and plan[0] == 1.0


def test_constraint_rows_of_kuhn(games):
    # Player 0 of Kuhn: 6 infosets, 13 sequences; each root infoset's row is x[Ia]+x[Ib]-x[0].
    e_mat, e_vec = constraint_matrices(games["kuhn"], 0)
    dense = e_mat.toarray()
    assert dense.shape == (7, 13)
    assert e_vec.tolist() == [1.0] + [0.0] * 6
    assert dense[0].tolist() == [1.0] + [0.0] * 12
    np.testing.assert_array_equal(dense[1:].sum(axis=1), np.ones(6))  # two +1, one -1
    assert (np.count_nonzero(dense[1:], axis=1) == 3).all()


# ----------------------------------------------------------------------- expected utility


@pytest.mark.parametrize("name", TWO_PLAYER)
def test_payoff_matrices_give_the_tree_values(games, name, rng):
    game = games[name]
    a0, a1 = payoff_matrices(game)
    assert a0.shape == a1.shape == (int(game.num_sequences[0]), int(game.num_sequences[1]))
    np.testing.assert_allclose((a0 + a1).toarray(), 0.0, atol=1e-12)  # zero-sum
    for policy in _policies(game, rng):
        x0, x1 = policy_to_plans(policy)
        np.testing.assert_allclose(
            expected_utility(game, x0, x1), gamesolve.expected_values(game, policy), rtol=0, atol=1e-12
        )


@pytest.mark.parametrize("name", ALL_GAMES)
def test_per_terminal_form_gives_the_tree_values(games, name, rng):
    game = games[name]
    for policy in _policies(game, rng):
        plans = policy_to_plans(policy)
        expected = gamesolve.expected_values(game, policy)
        np.testing.assert_allclose(expected_utilities(game, plans), expected, rtol=0, atol=1e-12)
        # The concatenated plan is accepted as well.
        np.testing.assert_allclose(
            expected_utilities(game, behavior_to_plans(game, policy)), expected, rtol=0, atol=1e-12
        )


def test_uniform_kuhn_values_are_pinned(games):
    # Uniform Kuhn: player 0 wins 1/8 in expectation (a known value; see the module doctest).
    x0, x1 = policy_to_plans(gamesolve.uniform_policy(games["kuhn"]))
    np.testing.assert_allclose(expected_utility(games["kuhn"], x0, x1), [0.125, -0.125], atol=1e-15)


def test_sequence_form_is_cached_and_read_only(games):
    form = sequence_form(games["leduc"])
    assert sequence_form(games["leduc"]) is form
    assert sequence_form(form) is form
    assert isinstance(form, SequenceForm)
    assert form.num_sequences == (1093, 1093)
    assert not form.terminal_seq.flags.writeable
    assert not form.terminal_chance.flags.writeable
    with pytest.raises(UnsupportedGame, match="two-player"):
        sequence_form(games["kuhn3"]).payoff_matrices  # noqa: B018


# ---------------------------------------------------------------------------- conversions


@pytest.mark.parametrize("name", ALL_GAMES)
def test_kernels_match_numpy_twins(games, name, rng):
    game = games[name]
    for policy in _policies(game, rng):
        plan = behavior_to_plans(game, policy)
        np.testing.assert_allclose(plan, behavior_to_plans_numpy(game, policy.probs), rtol=1e-13, atol=0)
        np.testing.assert_allclose(
            plans_to_behavior(game, plan), plans_to_behavior_numpy(game, plan), rtol=0, atol=1e-15
        )


@pytest.mark.parametrize("name", ALL_GAMES)
def test_round_trip_on_reachable_infosets(games, name, rng):
    game = games[name]
    for policy in _policies(game, rng):
        plan = behavior_to_plans(game, policy)
        back = plans_to_behavior(game, plan)
        # Infosets reached by the owner's own play (x(p(I)) > 0) come back unchanged; the others
        # come back uniform.
        parent_mass = plan[game.sequence_offset[game.infoset_player] + game.infoset_parent_seq]
        reached = parent_mass > 0
        np.testing.assert_allclose(back[reached], policy.probs[reached], rtol=0, atol=1e-12)
        uniform = game.legal_mask / game.infoset_num_actions[:, None]
        np.testing.assert_array_equal(back[~reached], uniform[~reached])
        # The round trip is realization-equivalent: it gives the same plan again.
        np.testing.assert_allclose(behavior_to_plans(game, back), plan, rtol=0, atol=1e-13)
        back_policy = plans_to_policy(game, policy_to_plans(policy))
        np.testing.assert_allclose(back_policy.probs, back, atol=0)
    # A full-support policy reaches every infoset, so it comes back exactly.
    full = TabularPolicy.random(game, rng=rng)
    np.testing.assert_allclose(plans_to_behavior(game, policy_to_plans(full)), full.probs, atol=1e-12)


def test_single_player_conversions(games, rng):
    game = games["leduc"]
    policy = TabularPolicy.random(game, rng=rng)
    plans = policy_to_plans(policy)
    for player in range(2):
        plan = behavior_to_plan(game, policy, player)
        np.testing.assert_array_equal(plan, plans[player])
        rows = game.infosets_of(player)
        np.testing.assert_allclose(plan_to_behavior(game, plan, player), policy.probs[rows], atol=1e-12)


def test_conversions_refuse_bad_input(games):
    game = games["kuhn"]
    with pytest.raises(ValueError, match="shape"):
        behavior_to_plans(game, np.ones((3, 2)))
    with pytest.raises(ValueError, match="one realization plan per player"):
        plans_to_behavior(game, [np.ones(13)])
    with pytest.raises(ValueError, match="player 1's plan must have shape"):
        plans_to_behavior(game, [np.ones(13), np.ones(5)])
    with pytest.raises(ValueError, match="concatenated plan"):
        plans_to_behavior(game, np.ones(7))
    with pytest.raises(ValueError, match="plans must have shapes"):
        expected_utility(game, np.ones(13), np.ones(12))
    with pytest.raises(ValueError, match="player must be in"):
        constraint_matrices(game, 2)
    with pytest.raises(gamesolve.InvalidPolicyError, match="different game"):
        behavior_to_plans(game, gamesolve.uniform_policy(games["leduc"]))


# ------------------------------------------------------------------------ the LP solver


@pytest.mark.parametrize("name", ["kuhn", "kuhn_poker"])
def test_lp_solves_kuhn(name):
    result = gamesolve.solve(gamesolve.load_game(name), SequenceFormLP())
    assert result.solver == "sequence-lp"
    assert result.extras["game_value"] == pytest.approx(KUHN_VALUE, abs=1e-9)
    np.testing.assert_allclose(result.value, [KUHN_VALUE, -KUHN_VALUE], rtol=0, atol=1e-9)
    assert result.nash_conv <= 1e-9
    assert result.policy is result.average_policy is result.current_policy
    assert isinstance(result.policy, TabularPolicy)
    assert gamesolve.nash_conv(result.policy.game, result.policy).nash_conv <= 1e-9
    assert result.converged and result.iterations == 1


@pytest.mark.parametrize("method", ["auto", "highs", "highs-ds", "highs-ipm"])
@pytest.mark.parametrize("name", ["leduc", "leduc_poker"])
def test_lp_solves_leduc(name, method):
    result = gamesolve.solve(gamesolve.load_game(name), SequenceFormLP(method))
    assert result.extras["game_value"] == pytest.approx(LEDUC_VALUE, abs=1e-9)
    np.testing.assert_allclose(result.value, [LEDUC_VALUE, -LEDUC_VALUE], rtol=0, atol=1e-9)
    assert result.nash_conv <= 1e-9
    assert result.config == {"method": method, "tolerance": 1e-9}


def test_lp_plans_are_feasible_and_optimal(games):
    game = games["leduc"]
    solution = solve_sequence_form_lp(game)
    x, y = solution.plans
    for player, plan in enumerate((x, y)):
        e_mat, e_vec = constraint_matrices(game, player)
        np.testing.assert_allclose(e_mat @ plan, e_vec, rtol=0, atol=1e-8)
    assert expected_utility(game, x, y)[0] == pytest.approx(solution.value, abs=1e-9)
    report = gamesolve.nash_conv(game, solution.policy)
    assert report.nash_conv == pytest.approx(solution.nash_conv, abs=1e-15)
    assert report.nash_conv <= 1e-9
    assert solution.lp_solves in (1, 2)


def test_generalized_leduc():
    game = gamesolve.load_game("leduc", ranks=4, suits=2)
    result = gamesolve.solve(game, SequenceFormLP())
    assert result.nash_conv <= 1e-9
    assert result.value[0] == pytest.approx(result.extras["game_value"], abs=1e-9)
    assert result.extras["num_sequences"] == [2017, 2017]


def test_lp_refuses_games_outside_its_scope(games):
    with pytest.raises(UnsupportedGame, match=r"3 players.*CFR.*'xfp'"):
        gamesolve.solve(games["kuhn3"], SequenceFormLP())
    general = _random_game(np.random.default_rng(0), utility=Utility.GENERAL_SUM)
    with pytest.raises(UnsupportedGame, match=r"general-sum.*correlated equilibrium.*'cce'"):
        gamesolve.solve(general, SequenceFormLP())
    with pytest.raises(UnsupportedGame, match="extensive-form"):
        gamesolve.solve(gamesolve.load_game("rps"), SequenceFormLP())
    with pytest.raises(ValueError, match="method"):
        SequenceFormLP("simplex")
    with pytest.raises(ValueError, match="tolerance"):
        SequenceFormLP(tolerance=0.0)


# ------------------------------------------------- random games against the dense normal-form LP


@dataclass
class _RandomTree:
    """A random public betting tree with private types, generated lazily and memoized."""

    rng: np.random.Generator
    types: int
    depth: int
    utility: Utility
    shape: dict[tuple[int, ...], int] = field(default_factory=dict)  # history -> actions (0: end)
    payoff: dict[tuple[int, int, tuple[int, ...]], tuple[float, float]] = field(default_factory=dict)

    def actions(self, history: tuple[int, ...]) -> int:
        if history not in self.shape:
            ends = len(history) >= self.depth or (len(history) >= 1 and self.rng.random() < 0.3)
            self.shape[history] = 0 if ends else int(self.rng.integers(2, 4))
        return self.shape[history]

    def returns(self, t0: int, t1: int, history: tuple[int, ...]) -> tuple[float, float]:
        key = (t0, t1, history)
        if key not in self.payoff:
            u = float(self.rng.integers(-6, 7))
            if self.utility is Utility.ZERO_SUM:
                self.payoff[key] = (u, -u)
            elif self.utility is Utility.CONSTANT_SUM:
                self.payoff[key] = (u, 3.0 - u)
            else:
                self.payoff[key] = (u, float(self.rng.integers(-6, 7)))
        return self.payoff[key]


@dataclass(frozen=True)
class _RandomState:
    tree: _RandomTree
    deal_probs: tuple[float, ...]
    deal: tuple[int, int] | None = None
    history: tuple[int, ...] = ()

    def current_player(self) -> int:
        if self.deal is None:
            return gamesolve.CHANCE
        return gamesolve.TERMINAL if self.is_terminal() else len(self.history) % 2

    def is_terminal(self) -> bool:
        return self.deal is not None and self.tree.actions(self.history) == 0

    def legal_actions(self) -> Sequence[int]:
        return list(range(self.tree.actions(self.history)))

    def chance_outcomes(self) -> Sequence[tuple[int, float]]:
        return list(enumerate(self.deal_probs))

    def child(self, action: int) -> _RandomState:
        if self.deal is None:
            deal = divmod(action, self.tree.types)
            return _RandomState(self.tree, self.deal_probs, (deal[0], deal[1]))
        return _RandomState(self.tree, self.deal_probs, self.deal, (*self.history, action))

    def returns(self) -> Sequence[float]:
        assert self.deal is not None
        return self.tree.returns(self.deal[0], self.deal[1], self.history)

    def infoset_key(self, player: int) -> str:
        assert self.deal is not None
        return f"p{player} type {self.deal[player]} after {list(self.history)}"


@dataclass(frozen=True)
class _RandomGame:
    tree: _RandomTree
    deal_probs: tuple[float, ...]

    @property
    def spec(self) -> GameSpec:
        return GameSpec("random_betting", GameKind.EXTENSIVE_FORM, 2, self.tree.utility, has_chance=True)

    def initial_state(self) -> _RandomState:
        return _RandomState(self.tree, self.deal_probs)


def _random_game(rng, *, types=2, depth=3, utility=Utility.ZERO_SUM):
    deal = rng.dirichlet(np.ones(types * types))
    tree = _RandomTree(np.random.default_rng(int(rng.integers(1 << 31))), types, depth, utility)
    return gamesolve.compile_game(_RandomGame(tree, tuple(float(p) for p in deal)))


def _pure_strategies(game, player):
    rows = game.infosets_of(player)
    widths = [range(int(game.infoset_num_actions[i])) for i in rows]
    return rows, list(itertools.product(*widths))


def _normal_form_matrix(game):
    """Player 0's payoff for every pair of pure strategies, each evaluated on the tree."""
    (rows0, pure0), (rows1, pure1) = _pure_strategies(game, 0), _pure_strategies(game, 1)
    matrix = np.empty((len(pure0), len(pure1)))
    probs = np.zeros((game.num_infosets, game.max_actions))
    for i, s0 in enumerate(pure0):
        probs[rows0] = 0.0
        probs[rows0, list(s0)] = 1.0
        for j, s1 in enumerate(pure1):
            probs[rows1] = 0.0
            probs[rows1, list(s1)] = 1.0
            matrix[i, j] = gamesolve.expected_values(game, probs)[0]
    return matrix


@pytest.mark.parametrize("seed", range(6))
def test_lp_value_matches_the_dense_normal_form_lp(seed):
    rng = np.random.default_rng(seed)
    while True:  # rejection sampling: keep the normal form small enough to enumerate
        game = _random_game(rng)
        sizes = [int(np.prod(game.infoset_num_actions[game.infosets_of(p)])) for p in range(2)]
        if 4 <= sizes[0] * sizes[1] <= 5_000 and min(sizes) > 1:
            break
    dense = solve_zero_sum_lp(gamesolve.zero_sum(_normal_form_matrix(game)))
    solution = solve_sequence_form_lp(game)
    assert solution.value == pytest.approx(dense.value, abs=1e-9)
    assert solution.nash_conv <= 1e-9
    np.testing.assert_allclose(
        gamesolve.expected_values(game, solution.policy), [dense.value, -dense.value], atol=1e-9
    )


def test_constant_sum_games_are_solved_like_their_zero_sum_twin():
    zero = _random_game(np.random.default_rng(7), utility=Utility.ZERO_SUM)
    const = _random_game(np.random.default_rng(7), utility=Utility.CONSTANT_SUM)
    np.testing.assert_allclose(const.terminal_utility.sum(axis=1), 3.0)
    np.testing.assert_array_equal(const.terminal_utility[:, 0], zero.terminal_utility[:, 0])
    a = solve_sequence_form_lp(zero)
    b = solve_sequence_form_lp(const)
    assert b.value == pytest.approx(a.value, abs=1e-9)
    assert b.nash_conv <= 1e-9


def test_second_lp_recovers_when_the_duals_are_not_optimal(games, monkeypatch):
    import gamesolve.solvers.sequence_lp as module

    real = module._maximin
    calls = []

    def spoiled(*args, **kwargs):
        x, y, value = real(*args, **kwargs)
        calls.append(value)
        return x, (np.zeros_like(y) if len(calls) == 1 else y), value

    monkeypatch.setattr(module, "_maximin", spoiled)
    solution = solve_sequence_form_lp(games["kuhn"])
    assert solution.lp_solves == 2 and len(calls) == 2
    assert calls[1] == pytest.approx(-KUHN_VALUE, abs=1e-9)  # player 1's own LP
    assert solution.value == pytest.approx(KUHN_VALUE, abs=1e-9)
    assert solution.nash_conv <= 1e-9


def test_unreachable_tolerance_raises(games):
    # Leduc: NashConv about 7e-17 of the payoff range (Kuhn's certifies as exactly 0)
    with pytest.raises(gamesolve.GamesolveError, match="NashConv"):
        solve_sequence_form_lp(games["leduc"], tolerance=1e-300)
