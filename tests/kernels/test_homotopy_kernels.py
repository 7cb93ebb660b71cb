"""The numba kernels of the logit path follower agree with their plain-numpy twins.

Twins: ``gamesolve.solvers.logit_path.payoff_derivatives_numpy`` (einsum contractions),
``LogitPath.equations_numpy``, ``LogitPath.step_numpy``, ``LogitPath.heading_numpy``, the polish's
``_support_newton_numpy`` (gamesolve.solvers.homotopy) and ``nash_conv_numpy``. The Jacobian is also
checked against central finite differences.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pytest

from gamesolve.games import normal_form as nf
from gamesolve.kernels import homotopy as kernels
from gamesolve.solvers import homotopy as H
from gamesolve.solvers import logit_path as LP

TOL = 1e-12
SHAPES = [(2,), (2, 2), (3, 2), (4, 3), (2, 2, 2), (3, 4, 2), (1, 3, 2), (2, 2, 2, 2), (3, 2, 3, 2)]


def _game(shape: tuple[int, ...], seed: int = 0):
    return nf.random_uniform(np.random.default_rng([seed, *shape]), list(shape))


def _random_profile(shape, rng):
    return [rng.dirichlet(np.ones(m)) for m in shape]


@pytest.fixture(params=SHAPES, ids=lambda s: "x".join(map(str, s)))
def path(request):
    made = LP.LogitPath(_game(request.param))
    assert made.size > 0  # every shape above has a player with two or more actions
    return made


def test_layout_is_the_c_order_flattening(path):
    u, sizes, aoff, roff = path.u, path.sizes, path.aoff, path.roff
    assert u.shape == (path.game.num_players, int(np.prod(sizes)))
    assert list(sizes) == list(path.game.num_actions)
    assert list(roff) == list(path.offsets)
    stride = [int(np.prod(sizes[k + 1 :])) for k in range(sizes.size)]
    payoffs: Any = np.asarray(path.game.payoffs)
    for a in itertools.islice(itertools.product(*(range(m) for m in sizes)), 50):
        column = sum(ak * sk for ak, sk in zip(a, stride, strict=True))
        np.testing.assert_allclose(u[:, column], payoffs[(slice(None), *a)] / path.scale)
    assert aoff[-1] == sizes.sum()


def test_derivatives_match_einsum_twin(path):
    rng = np.random.default_rng(1)
    game = path.game
    t = int(path.aoff[-1])
    for _ in range(5):
        parts = _random_profile(game.num_actions, rng)
        x = np.concatenate(parts)
        grads, blocks = np.empty(t), np.empty((t, t))
        kernels.payoff_derivatives(path.u, path.sizes, path.aoff, x, grads, blocks)
        want_grads, want_blocks = LP.payoff_derivatives_numpy(game, parts, path.scale, cross=True)
        np.testing.assert_allclose(grads, np.concatenate(want_grads), rtol=0, atol=TOL)
        aoff = path.aoff
        for i, j in itertools.product(range(game.num_players), repeat=2):
            got = blocks[aoff[i] : aoff[i + 1], aoff[j] : aoff[j + 1]]
            if i == j:
                assert not got.any()
            else:
                np.testing.assert_allclose(got, want_blocks[i, j], rtol=0, atol=TOL)
        only = np.empty(t)
        kernels.payoff_gradients(path.u, path.sizes, path.aoff, x, only)
        want_only, _ = LP.payoff_derivatives_numpy(game, parts, path.scale, cross=False)
        np.testing.assert_allclose(only, np.concatenate(want_only), rtol=0, atol=TOL)
        assert path.nash_conv(x) == pytest.approx(LP.nash_conv_numpy(game, parts, path.scale), abs=TOL)


def test_support_derivatives_match_full_contraction(path):
    rng = np.random.default_rng(2)
    sizes, aoff = path.sizes, path.aoff
    t = int(aoff[-1])
    for _ in range(5):
        supports = [np.sort(rng.choice(m, size=rng.integers(1, m + 1), replace=False)) for m in sizes]
        x = np.zeros(t)
        for i, s in enumerate(supports):
            x[aoff[i] + s] = rng.dirichlet(np.ones(s.size))
        support = np.concatenate(supports).astype(np.int64)
        soff = np.concatenate(([0], np.cumsum([s.size for s in supports]))).astype(np.int64)
        grads, blocks = np.full(t, np.nan), np.full((t, t), np.nan)
        kernels._support_derivatives(path.u, sizes, aoff, support, soff, x, grads, blocks)
        full_grads, full_blocks = np.empty(t), np.empty((t, t))
        kernels.payoff_derivatives(path.u, sizes, aoff, x, full_grads, full_blocks)
        rows = np.concatenate([aoff[i] + s for i, s in enumerate(supports)])
        np.testing.assert_allclose(grads[rows], full_grads[rows], rtol=0, atol=TOL)
        np.testing.assert_allclose(
            blocks[np.ix_(rows, rows)], full_blocks[np.ix_(rows, rows)], rtol=0, atol=TOL
        )


def _thetas(path, rng):
    yield np.zeros(path.size), 0.0
    for scale, lam in ((0.5, 0.7), (2.0, 5.0), (8.0, 60.0)):
        yield scale * rng.standard_normal(path.size), lam


def test_profile_and_equations_match_numpy_twin(path):
    rng = np.random.default_rng(3)
    for theta, lam in _thetas(path, rng):
        for got, want in zip(path.profile(theta), path.profile_numpy(theta), strict=True):
            np.testing.assert_allclose(got, want, rtol=0, atol=TOL)
        for got, want in zip(path.equations(theta, lam), path.equations_numpy(theta, lam), strict=True):
            np.testing.assert_allclose(got, want, rtol=0, atol=TOL * max(1.0, lam))


def test_jacobian_matches_finite_differences(path):
    rng = np.random.default_rng(4)
    step = 1e-6
    for theta, lam in _thetas(path, rng):
        _, d_theta, d_lam = path.equations(theta, lam)
        numeric = np.empty_like(d_theta)
        for c in range(path.size):
            e = np.zeros(path.size)
            e[c] = step
            numeric[:, c] = (path.equations(theta + e, lam)[0] - path.equations(theta - e, lam)[0]) / (
                2 * step
            )
        np.testing.assert_allclose(d_theta, numeric, rtol=0, atol=1e-7 * max(1.0, lam))
        by_lam = (path.equations(theta, lam + step)[0] - path.equations(theta, lam - step)[0]) / (2 * step)
        np.testing.assert_allclose(d_lam, by_lam, rtol=0, atol=1e-7)


def test_heading_matches_numpy_twin(path):
    rng = np.random.default_rng(5)
    for theta, _ in _thetas(path, rng):
        tangent = rng.standard_normal(path.size + 1)
        np.testing.assert_allclose(path.heading(theta, tangent), path.heading_numpy(theta, tangent), atol=TOL)


def test_continuation_steps_match_numpy_twin(path):
    """Twenty steps along the branch: same points, tangents, arcs and Newton iterations."""
    theta, tangent = path.start()
    lam, arc = 0.0, 0.25
    for _ in range(20):
        got, flat, gap = path.advance(theta, lam, tangent, arc)
        want = path.step_numpy(theta, lam, tangent, arc)
        assert (got.point is None) == (want.point is None)
        if want.point is None:
            break
        assert got.iterations == want.iterations
        assert got.arc == want.arc and got.next_arc == want.next_arc
        scale = max(1.0, float(want.point[-1]))
        np.testing.assert_allclose(got.point, want.point, rtol=0, atol=1e-11 * scale)
        np.testing.assert_allclose(got.tangent, want.tangent, rtol=0, atol=1e-10)
        parts = path.profile_numpy(want.point[:-1])
        np.testing.assert_allclose(flat, np.concatenate(parts), rtol=0, atol=TOL)
        assert gap == pytest.approx(LP.nash_conv_numpy(path.game, parts, path.scale), abs=1e-11)
        theta, lam, tangent, arc = want.point[:-1], float(want.point[-1]), want.tangent, want.next_arc


def test_stalled_step_reports_the_start_tangent():
    path = LP.LogitPath(_game((3, 2, 2)))
    theta, tangent = path.start()
    step = path.step(theta, 0.0, tangent, 0.25, min_arc=0.3)
    assert step.point is None and step.iterations == 0
    np.testing.assert_array_equal(step.tangent, tangent)


@pytest.mark.parametrize("shape", [(2, 2, 2), (3, 3, 3), (4, 3, 2), (2, 2, 2, 2), (3, 3)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_support_newton_matches_numpy_twin(shape, seed):
    """Every support guess (2- to 4-player games), from a branch point and from noise: same answer.

    Includes supports whose Newton system is singular (the least-squares branch) or leaves the
    simplex; both sides must reject the same guesses and agree on the accepted profiles.
    """
    game = _game(shape, seed)
    path = LP.LogitPath(game)
    rng = np.random.default_rng(seed)
    theta, tangent = path.start()
    lam, arc = 0.0, 0.25
    for _ in range(25):  # a branch point at a moderate lambda: a realistic start
        step = path.step(theta, lam, tangent, arc)
        if step.point is None:
            break
        theta, lam, tangent, arc = step.point[:-1], float(step.point[-1]), step.tangent, step.next_arc
    starts = [path.flat_profile(theta), np.concatenate(_random_profile(shape, rng))]
    all_supports = list(
        itertools.product(
            *[[s for r in range(1, m + 1) for s in itertools.combinations(range(m), r)] for m in shape]
        )
    )
    picks = rng.choice(len(all_supports), size=min(40, len(all_supports)), replace=False)
    accepted = 0
    for start in starts:
        for k in picks:
            supports = all_supports[k]
            got = H._support_newton(path, supports, start)
            with np.errstate(all="ignore"):
                want = H._support_newton_numpy(game, supports, np.split(start, path.splits), path.scale)
            assert (got is None) == (want is None), supports
            if want is not None:
                assert got is not None
                accepted += 1
                for g, w in zip(got, want, strict=True):
                    np.testing.assert_allclose(g, w, rtol=0, atol=1e-10)
    assert accepted > 0


def test_kernel_linalg_error_falls_back_to_numpy_twin(monkeypatch):
    """A LinAlgError out of a kernel (non-finite values reaching LAPACK) redoes the call in numpy."""
    path = LP.LogitPath(_game((3, 2, 2)))
    theta, tangent = path.start()

    def broken(*args):
        raise np.linalg.LinAlgError("singular")

    want = path.step_numpy(theta, 0.0, tangent, 0.25)
    assert want.point is not None
    monkeypatch.setattr(kernels, "continuation_step", broken)
    monkeypatch.setattr(kernels, "support_newton", broken)
    got, flat, gap = path.advance(theta, 0.0, tangent, 0.25)
    np.testing.assert_array_equal(got.point, want.point)
    np.testing.assert_allclose(flat, path.flat_profile(want.point[:-1]), atol=TOL)
    assert gap == pytest.approx(path.nash_conv(flat), abs=TOL)
    start = path.flat_profile(want.point[:-1])
    supports = ((0, 1), (0, 1), (0, 1))
    with np.errstate(all="ignore"):
        expected = H._support_newton_numpy(path.game, supports, np.split(start, path.splits), path.scale)
    found = H._support_newton(path, supports, start)
    assert (found is None) == (expected is None)
