"""The dilated-entropy treeplex kernels agree with their plain-numpy twins."""

from __future__ import annotations

import numpy as np
import pytest

import gamesolve
from gamesolve.kernels.dilated import (
    MMDRule,
    SparsePayoffs,
    Workspace,
    behavior_from_sequence,
    behavior_from_sequence_numpy,
    local_softmax,
    local_softmax_numpy,
    mmd_iterations,
    mmd_step_numpy,
    sequence_form,
    sequence_form_numpy,
    sequence_losses,
    sequence_losses_numpy,
    sequence_losses_sparse,
)
from gamesolve.sequence_form import sequence_form as sequence_form_of

TOL = 1e-10
GAMES = ["kuhn", "leduc"]


@pytest.fixture(params=GAMES)
def game(request):
    return request.getfixturevalue(request.param).compile()


def _random_probs(g, rng) -> np.ndarray:
    return gamesolve.TabularPolicy.random(g, rng=rng).probs.copy()


def _losses(g, probs, player=-1, out=None) -> np.ndarray:
    loss = np.full(int(g.num_sequences.sum()), np.nan) if out is None else out
    sequence_losses(g.tree, probs, player, np.full((g.num_nodes, 2), np.nan), loss)
    return loss


def _workspace(n_seq: int) -> Workspace:
    """Scratch for the drivers, filled with NaN (the kernels must not read it before writing)."""
    return Workspace(*(np.full(n_seq, np.nan) for _ in range(4)), np.full(2, np.nan))


def _payoffs(g) -> SparsePayoffs:
    """CSR arrays of ``A_0`` and ``A_1^T`` in the drivers' layout (unsigned indices)."""
    a0, a1 = sequence_form_of(g).payoff_matrices
    b0, b1 = a0.tocsr(), a1.T.tocsr()
    return SparsePayoffs(
        b0.indptr.astype(np.uint64),
        b0.indices.astype(np.uint32),
        b0.data.astype(np.float64),
        b1.indptr.astype(np.uint64),
        b1.indices.astype(np.uint32),
        b1.data.astype(np.float64),
    )


@pytest.mark.parametrize("policy", ["uniform", "random"])
@pytest.mark.parametrize("player", [-1, 0, 1])
def test_sparse_sequence_losses_match_tree_sweep(game, rng, policy, player):
    """``-A_0 y`` and ``-A_1^T x`` from the realization plans equal the tree sweep to 1e-12."""
    g = game
    if policy == "uniform":
        m = g.infoset_num_actions[:, None].astype(np.float64)
        probs = np.where(g.legal_mask, 1.0 / m, 0.0)
    else:
        probs = _random_probs(g, rng)
    expected = _losses(g, probs, player)
    offset = np.asarray(g.sequence_offset, dtype=np.int64)
    seq = np.empty(int(g.num_sequences.sum()))
    sequence_form(g.tree, probs, seq)
    loss = np.full_like(seq, np.nan)
    sequence_losses_sparse(_payoffs(g), offset, seq, player, loss)
    split = int(offset[1])
    blocks = [slice(0, split), slice(split, None)]
    for p in (0, 1) if player == -1 else (player,):
        scale = max(float(np.abs(expected[blocks[p]]).max()), 1e-300)
        np.testing.assert_allclose(loss[blocks[p]], expected[blocks[p]], rtol=0, atol=1e-12 * scale)
    if player != -1:  # the other player's block is not touched
        assert np.all(np.isnan(loss[blocks[1 - player]]))


def test_sequence_losses_match_twin(game, rng):
    probs = _random_probs(game, rng)
    twin = sequence_losses_numpy(game.tree, probs)
    np.testing.assert_allclose(_losses(game, probs), twin, rtol=0, atol=TOL)
    # One player at a time leaves the other block untouched and gives the same numbers.
    split = int(game.sequence_offset[1])
    for player in (0, 1):
        out = np.full_like(twin, 7.0)
        _losses(game, probs, player, out)
        mine = slice(0, split) if player == 0 else slice(split, None)
        other = slice(split, None) if player == 0 else slice(0, split)
        np.testing.assert_allclose(out[mine], twin[mine], rtol=0, atol=TOL)
        assert np.all(out[other] == 7.0)


def test_sequence_losses_give_expected_values(game, rng):
    probs = _random_probs(game, rng)
    loss = _losses(game, probs)
    seq = sequence_form_numpy(game.tree, probs)
    split = int(game.sequence_offset[1])
    values = gamesolve.expected_values(game, gamesolve.TabularPolicy(game, probs))
    assert -loss[:split] @ seq[:split] == pytest.approx(values[0], abs=1e-12)
    assert -loss[split:] @ seq[split:] == pytest.approx(values[1], abs=1e-12)


def test_sequence_form_round_trip_matches_twin(game, rng):
    probs = _random_probs(game, rng)
    seq = np.full(int(game.num_sequences.sum()), np.nan)
    sequence_form(game.tree, probs, seq)
    twin = sequence_form_numpy(game.tree, probs)
    np.testing.assert_allclose(seq, twin, rtol=0, atol=1e-14)
    back = np.zeros_like(probs)
    behavior_from_sequence(game.tree, 3.0 * seq, back)
    np.testing.assert_allclose(back, probs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        back,
        behavior_from_sequence_numpy(game.tree, 3.0 * seq, game.max_actions),
        rtol=0,
        atol=1e-14,
    )


def test_behavior_from_sequence_is_uniform_where_unreached(kuhn):
    g = kuhn.compile()
    probs = np.zeros((g.num_infosets, g.max_actions))
    behavior_from_sequence(g.tree, np.zeros(int(g.num_sequences.sum())), probs)
    np.testing.assert_allclose(probs, g.legal_mask / g.infoset_num_actions[:, None])


@pytest.mark.parametrize("step", [0.3, 5.0])
def test_local_softmax_matches_twin(game, rng, step):
    ref = _random_probs(game, rng)
    loss = _losses(game, _random_probs(game, rng))
    weights = rng.uniform(0.5, 3.0, size=game.num_infosets)
    log_ref = np.log(np.where(game.legal_mask, ref, 1.0))
    log_probs = np.zeros_like(ref)
    probs = np.zeros_like(ref)
    roots = np.full(2, np.nan)
    local_softmax(
        game.tree,
        weights,
        loss,
        log_ref,
        1.0,
        np.zeros_like(ref),
        0.0,
        step,
        -1,
        np.full_like(loss, np.nan),
        log_probs,
        probs,
        roots,
    )
    twin_probs, twin_roots = local_softmax_numpy(game.tree, weights, loss, ref, step)
    np.testing.assert_allclose(probs, twin_probs, rtol=0, atol=TOL)
    np.testing.assert_allclose(roots, twin_roots, rtol=1e-12, atol=TOL)
    np.testing.assert_allclose(np.exp(log_probs)[game.legal_mask], probs[game.legal_mask], rtol=1e-12)


def test_local_softmax_root_value_is_the_regularized_minimum(kuhn, rng):
    """With ``b_ref = 1`` the root value is ``min_x <l, x> + psi(x) / step``; check it at the argmin."""
    g = kuhn.compile()
    loss = _losses(g, _random_probs(g, rng))
    step = 2.0
    probs = np.zeros((g.num_infosets, g.max_actions))
    roots = np.empty(2)
    zeros = np.zeros_like(probs)
    local_softmax(
        g.tree,
        np.ones(g.num_infosets),
        loss,
        zeros,
        0.0,
        zeros,
        0.0,
        step,
        -1,
        np.empty_like(loss),
        np.empty_like(probs),
        probs,
        roots,
    )
    seq = sequence_form_numpy(g.tree, probs)
    parent = seq[np.asarray(g.sequence_offset)[g.infoset_player] + g.infoset_parent_seq]
    local = np.where(g.legal_mask, probs * np.log(np.where(g.legal_mask, probs, 1.0)), 0.0).sum(axis=1)
    split = int(g.sequence_offset[1])
    for p, block in ((0, slice(0, split)), (1, slice(split, None))):
        psi = float((parent * local)[g.infoset_player == p].sum())
        assert roots[p] == pytest.approx(loss[block] @ seq[block] + psi / step, abs=1e-12)


@pytest.mark.parametrize(("eta", "alpha"), [(0.05, 0.1), (1.0, 2.0)])
def test_mmd_kernel_matches_the_literal_openspiel_style_step(game, rng, eta, alpha):
    """One kernel step (closed form) equals grad-psi / g / negentropy-propagation, done literally."""
    g = game
    probs = _random_probs(g, rng)
    log_probs = np.log(np.where(g.legal_mask, probs, 1.0))
    loss = _losses(g, probs)
    expected = mmd_step_numpy(g.tree, np.ones(g.num_infosets), loss, probs, eta, alpha)
    n_seq = int(g.num_sequences.sum())
    out = probs.copy()
    mmd_iterations(
        _payoffs(g),
        g.tree,
        np.ones(g.num_infosets),
        MMDRule(float(eta), float(alpha), 0.0, 0.0, 1, False, False),
        1,
        1,
        np.zeros_like(probs),
        log_probs,
        out,
        np.zeros_like(probs),
        np.empty(n_seq),
        np.zeros(n_seq),
        _workspace(n_seq),
    )
    np.testing.assert_allclose(out, expected, rtol=0, atol=TOL)


def _mmd_run(g, probs, count, eta, alpha, power, rate, every, optimistic, log_magnet):
    """``count`` kernel iterations of MMD from behavior ``probs``; returns (probs, log_magnet)."""
    n_seq = int(g.num_sequences.sum())
    log_probs = np.log(np.where(g.legal_mask, probs, 1.0))
    out = probs.copy()
    magnet = log_magnet.copy()
    mmd_iterations(
        _payoffs(g),
        g.tree,
        np.ones(g.num_infosets),
        MMDRule(float(eta), float(alpha), float(power), float(rate), int(every), bool(optimistic), False),
        1,
        count,
        magnet,
        log_probs,
        out,
        log_probs.copy(),
        np.empty(n_seq),
        np.zeros(n_seq),
        _workspace(n_seq),
    )
    return out, magnet


def test_optimistic_mmd_step_is_two_literal_mmd_steps(game, rng):
    """Optimistic MMD from ``base = x``: ``base' = mmd(x, l(x))`` and the play is ``mmd(base', l(x))``."""
    g = game
    probs = _random_probs(g, rng)
    eta, alpha = 0.3, 0.7
    loss = _losses(g, probs)
    ones = np.ones(g.num_infosets)
    base = mmd_step_numpy(g.tree, ones, loss, probs, eta, alpha)
    expected = mmd_step_numpy(g.tree, ones, loss, base, eta, alpha)
    out, _ = _mmd_run(g, probs, 1, eta, alpha, 0.0, 0.0, 1, True, np.zeros_like(probs))
    np.testing.assert_allclose(out, expected, rtol=0, atol=TOL)


def test_annealed_temperature_and_slingshot_magnet(kuhn, rng):
    """``alpha_t = alpha / t`` one step at a time equals the batched kernel; a rate-1 magnet moved
    every K iterations is the iterate of iteration K (and is untouched in between)."""
    g = kuhn.compile()
    probs = _random_probs(g, rng)
    uniform = np.log(np.where(g.legal_mask, 1.0 / g.infoset_num_actions[:, None], 1.0))
    ones = np.ones(g.num_infosets)
    x = probs.copy()
    for t in range(1, 4):
        loss = _losses(g, x)
        x = mmd_step_numpy(g.tree, ones, loss, x, 0.2, 2.0 / t)
    out, _ = _mmd_run(g, probs, 3, 0.2, 2.0, 1.0, 0.0, 1, False, np.zeros_like(probs))
    np.testing.assert_allclose(out, x, rtol=0, atol=TOL)
    out2, magnet2 = _mmd_run(g, probs, 2, 0.2, 0.5, 0.0, 1.0, 3, False, uniform)
    np.testing.assert_array_equal(magnet2, uniform)
    out3, magnet3 = _mmd_run(g, probs, 3, 0.2, 0.5, 0.0, 1.0, 3, False, uniform)
    mask = g.legal_mask
    np.testing.assert_allclose(np.exp(magnet3)[mask], out3[mask], rtol=1e-12)
    assert not np.allclose(out2, out3)


@pytest.mark.parametrize("name", ["kuhn_poker", "leduc_poker", "kuhn(players=3)", "leduc(ranks=4,suits=3)"])
def test_chance_and_uniform_reach_kernel_matches_its_twin(name):
    from gamesolve.kernels.dilated import chance_and_uniform_reach, chance_and_uniform_reach_numpy

    game = gamesolve.as_compiled(gamesolve.load_game(name))
    chance = np.zeros(game.num_nodes)
    uniform = np.zeros(game.num_nodes)
    chance_and_uniform_reach(game.tree, chance, uniform)
    twin_chance, twin_uniform = chance_and_uniform_reach_numpy(game.tree)
    np.testing.assert_allclose(chance, twin_chance, rtol=1e-13, atol=0)
    np.testing.assert_allclose(uniform, twin_uniform, rtol=1e-13, atol=0)
    terminal = game.node_player == gamesolve.TERMINAL
    # Uniform play reaches every terminal with total probability 1.
    assert uniform[terminal].sum() == pytest.approx(1.0, abs=1e-12)
    assert chance.min() >= 0 and chance.max() == 1.0
