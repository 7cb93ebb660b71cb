"""One Nash equilibrium of an N-player game by following the logit QRE principal branch.

The logit quantal response equilibria at precision ``lambda >= 0`` solve ``x_i = softmax(lambda
g_i(x_-i))`` for every player ``i`` (``g_i``: the expected payoff of each of ``i``'s pure actions).
At ``lambda = 0`` uniform play is the only solution, and for generic games the solutions through it
form one smooth curve, the principal branch, whose limit as ``lambda -> infinity`` is a Nash
equilibrium (McKelvey & Palfrey 1995, "Quantal response equilibria for normal form games", Theorem
3). Turocy 2005 ("A dynamic homotopy interpretation of the logistic quantal response equilibrium
correspondence", Games and Economic Behavior 51) traces it as a homotopy, as Gambit's ``logit``
solver does.

:class:`LogitPath` holds the branch equations in reduced log-probabilities ``theta_i,a = ln x_i,a -
ln x_i,0``, which stay well conditioned as ``lambda`` grows, and takes pseudo-arclength
predictor-corrector steps (Allgower & Georg 1990, "Numerical Continuation Methods", ch. 2) that
follow turning points; the hot parts run in :mod:`gamesolve.kernels.homotopy`, with numpy twins
here. :class:`NashHomotopy` (registry name ``"homotopy"``) traces the branch until it is near an
equilibrium, then polishes it by Newton's method on the indifference equations of the support it
reads off; on generic games the answer is exact to machine precision. The same path follower is
the ``"homotopy"`` method of :class:`gamesolve.solvers.dynamics.LogitQRE`.

>>> import gamesolve
>>> from gamesolve.games import normal_form as nf
>>> result = gamesolve.solve(nf.amp(), NashHomotopy(), progress=False)
>>> [round(float(p), 6) for p in result.policy[0]], result.converged
([0.4, 0.6], True)
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import math
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.optimize
from numpy.typing import NDArray

from gamesolve.kernels import homotopy as kernels
from gamesolve.normal_form import MixedProfile, TensorGame
from gamesolve.registry import SolverEntry
from gamesolve.results import History, SolveResult
from gamesolve.solver import ExactSolver
from gamesolve.solvers._common import check_normal_form, prepare_normal_form
from gamesolve.solvers.lp import check_time_limit, exact_result
from gamesolve.spec import GameSpec
from gamesolve.validation import check_int, check_real

__all__ = ["ContinuationStep", "LogitPath", "NashHomotopy", "nash_homotopy"]

log = logging.getLogger(__name__)

#: Cosine of the largest turn of the tangent accepted in one step (about 8 degrees).
_MAX_TURN_COS = 0.99
#: Support thresholds tried by the polish: action ``a`` is in player ``i``'s support when
#: ``x_i,a >= ratio * max_b x_i,b`` (on the branch ``x_i,a / x_i,b = exp(lambda (g_i,a - g_i,b))``).
_SUPPORT_RATIOS = (1e-2, 1e-4, 1e-6, 1e-9)
#: The polish starts once the branch point's NashConv is below this fraction of the payoff range.
_POLISH_START = 1e-2
#: A polished equilibrium farther than this (max-norm) from the branch point is rejected.
_POLISH_RADIUS = 0.1
#: Smallest cosine between the branch's heading and the way to a polished equilibrium.
_MIN_HEADING_COS = 0.95


# ------------------------------------------------------------------------------ payoff tensors


def _action_values(payoffs: NDArray[np.float64], strategies: Sequence[NDArray[np.float64]], i: int) -> Any:
    """``[A_i]``: player ``i``'s payoff tensor ``[A0, ..., A_{P-1}]`` against the others' strategies."""
    p = payoffs.ndim
    operands: list[Any] = [payoffs, list(range(p))]
    for k in range(p):
        if k != i:
            operands += [strategies[k], [k]]
    return np.einsum(*operands, [i])


def _cross_block(
    payoffs: NDArray[np.float64], strategies: Sequence[NDArray[np.float64]], i: int, j: int
) -> Any:
    """``[A_i, A_j]``: ``d g_i / d x_j``, player ``i``'s tensor contracted with all strategies but two."""
    p = payoffs.ndim
    operands: list[Any] = [payoffs, list(range(p))]
    for k in range(p):
        if k not in (i, j):
            operands += [strategies[k], [k]]
    return np.einsum(*operands, [i, j])


def _derivatives(
    game: TensorGame, strategies: Sequence[NDArray[np.float64]], scale: float, *, cross: bool
) -> tuple[list[NDArray[np.float64]], dict[tuple[int, int], NDArray[np.float64]]]:
    """Payoff gradients ``g_i`` ``[A_i]`` and (``cross=True``) the blocks ``d g_i / d x_j`` ``[A_i, A_j]``.

    Payoffs are divided by ``scale``. Each gradient is read off one of its cross blocks
    (``g_i = (d g_i / d x_j) x_j`` for any ``j != i``) so the Jacobian costs no extra contraction.
    """
    n = game.num_players
    if n == 1:
        return [np.asarray(game.payoffs[0] / scale, dtype=np.float64)], {}
    if n == 2:
        a, b = game.payoffs[0] / scale, game.payoffs[1] / scale  # [A0, A1] each
        blocks = {(0, 1): a, (1, 0): b.T} if cross else {}
        return [a @ strategies[1], strategies[0] @ b], blocks
    grads: list[NDArray[np.float64]] = []
    blocks = {}
    for i in range(n):
        tensor = game.payoffs[i]  # [A0, ..., A_{P-1}]
        if not cross:
            grads.append(np.asarray(_action_values(tensor, strategies, i), dtype=np.float64) / scale)
            continue
        for j in range(n):
            if j != i:
                blocks[i, j] = np.asarray(_cross_block(tensor, strategies, i, j), dtype=np.float64) / scale
        j0 = 1 if i == 0 else 0
        grads.append(blocks[i, j0] @ strategies[j0])
    return grads, blocks


def _f64(values: Any) -> NDArray[np.float64]:
    """``values`` as a C-contiguous float64 array (what the kernels are compiled for)."""
    return np.ascontiguousarray(values, dtype=np.float64)


def _softmax(logits: NDArray[np.float64]) -> NDArray[np.float64]:
    z = np.exp(logits - logits.max())
    return z / z.sum()


def _payoff_scale(game: TensorGame) -> float:
    """``max |u|`` over every payoff (``1`` when every payoff is 0), the unit of the scaled payoffs."""
    top = float(np.abs(game.payoffs).max())
    return top if top > 0 else 1.0


def _scaled_spread(game: TensorGame, scale: float) -> float:
    """Largest spread ``max u_i - min u_i`` over players, in units of ``scale`` (at most 2: no overflow)."""
    return max(float(np.ptp(game.payoffs[i] / scale)) for i in range(game.num_players))


# ----------------------------------------------------------------------------- the path core


@dataclass(frozen=True)
class ContinuationStep:
    """The outcome of one predictor-corrector step.

    Attributes:
        point: ``[N + 1]`` the new point ``(theta, lambda)``, or ``None`` when no step down to the
            smallest arclength was accepted (the tracer stalled).
        tangent: ``[N + 1]`` unit tangent at ``point`` (at the start point when stalled), oriented
            along the direction of travel.
        arc: Arclength of the accepted step (the last one tried when stalled).
        next_arc: Arclength to try next (``1.5 * arc`` after an easy step).
        iterations: Newton corrector iterations of the accepted step.
    """

    point: NDArray[np.float64] | None
    tangent: NDArray[np.float64]
    arc: float
    next_arc: float
    iterations: int


class LogitPath:
    """The logit QRE principal branch of one game, in reduced log-probabilities.

    The equations are ``H(theta, lambda) = theta_i,a - lambda (g_i,a - g_i,0) = 0`` (``a >= 1``) with
    their analytic Jacobian. Off the support ``theta`` falls linearly in ``lambda`` while every
    probability stays a bounded softmax, so the arclength grows like ``lambda`` and geometric step
    growth reaches ``lambda = 10^k`` in ``O(k)`` steps; residuals are compared with ``1e-10 max(1,
    lambda)``, i.e. the rows are read as ``H / (1 + lambda)``, whose Jacobian tends to the support
    equations of the limit.

    ``lambda`` here is the precision on payoffs scaled to ``max |u| = 1``; divide it by
    :attr:`scale` (``max |u|``) for the precision in ``1 / payoff`` units. Payoffs of any finite
    size work: near ``1e308`` nothing is computed in payoff units that could overflow, and near
    ``1e-300`` the scaled payoffs are as well resolved as any others.

    Args:
        game: A normal-form game.
    """

    def __init__(self, game: TensorGame) -> None:
        self.game = game
        self.scale = _payoff_scale(game)
        sizes = [m - 1 for m in game.num_actions]
        self.offsets = tuple(int(v) for v in np.concatenate(([0], np.cumsum(sizes))))
        self.size = self.offsets[-1]  # N, the number of free logits
        # flattened payoffs / scale [P, M], action counts [P], action and logit offsets [P + 1]
        self._u, self._sizes, self._aoff, self._roff = kernels.flat_layout(game.payoffs, self.scale)
        self._splits = [int(v) for v in self._aoff[1:-1]]
        self.scaled_spread = _scaled_spread(game, self.scale)  # largest max u_i - min u_i, over scale

    def fraction(self, gap: float) -> float:
        """A NashConv in payoff units as a fraction of the payoff range (``0`` / ``inf`` if it is 0)."""
        if self.scaled_spread > 0:
            return gap / self.scale / self.scaled_spread
        return 0.0 if gap <= 0 else math.inf

    # -- coordinates
    def profile(self, theta: NDArray[np.float64]) -> list[NDArray[np.float64]]:
        """Strategies ``[A_i]`` from reduced logits ``theta`` ``[N]`` (action 0's logit is 0)."""
        return np.split(self.flat_profile(theta), self._splits)

    def flat_profile(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        """``[sum A_i]``: the strategies of :meth:`profile`, concatenated (numba kernel)."""
        x = np.empty(int(self._aoff[-1]))
        kernels.branch_profile(self._sizes, self._aoff, self._roff, _f64(theta), x)
        return x

    def profile_numpy(self, theta: NDArray[np.float64]) -> list[NDArray[np.float64]]:
        """Plain-numpy twin of :meth:`profile`."""
        off = self.offsets
        return [
            _softmax(np.concatenate(([0.0], theta[off[i] : off[i + 1]])))
            for i in range(self.game.num_players)
        ]

    def heading(self, theta: NDArray[np.float64], tangent: NDArray[np.float64]) -> NDArray[np.float64]:
        """``[sum A_i]``: the profile's velocity along the unit ``tangent`` at ``theta``.

        Player ``i``'s part is ``x_i * (t_i - x_i . t_i)`` with ``t_i = (0, tangent_i)`` (the
        softmax's Jacobian ``diag(x_i) - x_i x_i^T`` applied to the logit velocity).
        """
        x = self.flat_profile(theta)
        t = np.zeros(x.size)
        keep = np.ones(x.size, dtype=bool)
        keep[self._aoff[:-1]] = False  # action 0 of every player has logit 0
        t[keep] = tangent[: self.size]
        return x * (t - np.repeat(np.add.reduceat(x * t, self._aoff[:-1]), self._sizes))

    def heading_numpy(self, theta: NDArray[np.float64], tangent: NDArray[np.float64]) -> NDArray[np.float64]:
        """Plain-numpy twin of :meth:`heading`."""
        off = self.offsets
        out = []
        for i, x in enumerate(self.profile_numpy(theta)):
            dx = (np.diag(x) - np.outer(x, x))[:, 1:]  # [A_i, A_i - 1]
            out.append(dx @ tangent[off[i] : off[i + 1]])
        return np.concatenate(out)

    def start(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """``theta = 0`` (uniform play, the unique QRE at ``lambda = 0``) and the unit tangent there."""
        theta = np.zeros(self.size)
        _, d_theta, d_lam = self.equations(theta, 0.0)
        up = np.zeros(self.size + 1)
        up[-1] = 1.0  # leave lambda = 0 upwards
        tangent = np.empty(self.size + 1)
        try:
            kernels.unit_tangent(d_theta, d_lam, up, np.empty((self.size + 1, self.size + 1)), tangent)
        except np.linalg.LinAlgError:  # non-finite payoff derivatives: the twin decides
            return theta, self.tangent(d_theta, d_lam, up)
        return theta, tangent

    # -- equations
    def equations(
        self, theta: NDArray[np.float64], lam: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """``H [N]``, ``dH/dtheta [N, N]`` and ``dH/dlambda [N]`` at ``(theta, lambda)`` (numba kernel)."""
        n, t = self.size, int(self._aoff[-1])
        h, d_theta, d_lam = np.empty(n), np.empty((n, n)), np.empty(n)
        kernels.branch_equations(
            self._u, self._sizes, self._aoff, self._roff, _f64(theta), float(lam),
            np.empty(t), np.empty(t), np.empty((t, t)), h, d_theta, d_lam,
        )  # fmt: skip
        return h, d_theta, d_lam

    def equations_numpy(
        self, theta: NDArray[np.float64], lam: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Plain-numpy twin of :meth:`equations` (einsum contractions)."""
        parts = self.profile_numpy(theta)
        grads, blocks = _derivatives(self.game, parts, self.scale, cross=True)
        off = self.offsets
        n = self.size
        h = np.empty(n)
        d_theta = np.eye(n)
        d_lam = np.empty(n)
        for i in range(self.game.num_players):
            lo, hi = off[i], off[i + 1]
            if hi == lo:
                continue
            diff = grads[i][1:] - grads[i][0]  # [A_i - 1]
            h[lo:hi] = theta[lo:hi] - lam * diff
            d_lam[lo:hi] = -diff
            for j in range(self.game.num_players):
                if j == i or off[j + 1] == off[j]:
                    continue
                m = blocks[i, j]  # [A_i, A_j]
                xj = parts[j]
                dx = (np.diag(xj) - np.outer(xj, xj))[:, 1:]  # [A_j, A_j - 1]: d x_j / d theta_j
                d_theta[lo:hi, off[j] : off[j + 1]] = -lam * ((m[1:] - m[0]) @ dx)
        return h, d_theta, d_lam

    @staticmethod
    def tangent(
        d_theta: NDArray[np.float64], d_lam: NDArray[np.float64], previous: NDArray[np.float64]
    ) -> NDArray[np.float64]:
        """Unit null vector ``[N + 1]`` of ``[dH/dtheta, dH/dlambda]`` oriented along ``previous``."""
        jac = np.hstack([d_theta, d_lam[:, None]])  # [N, N + 1]
        try:
            t = np.linalg.solve(np.vstack([jac, previous[None, :]]), np.eye(jac.shape[1])[-1])
        except np.linalg.LinAlgError:
            t = np.linalg.svd(jac)[2][-1]
        t = t / np.linalg.norm(t)
        return t if t @ previous >= 0 else -t

    # -- predictor-corrector
    def _corrector(
        self, z_pred: NDArray[np.float64], tangent: NDArray[np.float64], arc: float
    ) -> tuple[NDArray[np.float64] | None, int]:
        """Newton on ``[H(z); tangent . (z - z_pred)] = 0`` from ``z_pred``; ``None`` on failure.

        Fails (so the caller shortens the step) unless the iteration contracts fast and the
        correction stays small next to the step: the guards against jumping between branches.
        """
        z = z_pred.copy()
        previous = math.inf
        moved = 0.0
        for k in range(6):
            h, d_theta, d_lam = self.equations_numpy(z[:-1], float(z[-1]))
            if float(np.abs(h).max(initial=0.0)) <= 1e-10 * max(1.0, abs(float(z[-1]))):
                return z, k
            jac = np.vstack([np.hstack([d_theta, d_lam[:, None]]), tangent[None, :]])
            rhs = -np.append(h, tangent @ (z - z_pred))
            try:
                dz = np.linalg.solve(jac, rhs)
            except np.linalg.LinAlgError:
                return None, k
            size = float(np.linalg.norm(dz))
            if not math.isfinite(size) or size > 0.3 * previous:
                return None, k  # not contracting fast: step too long
            moved += size
            if moved > 0.2 * arc + 1e-12:
                return None, k  # the branch bends away from the prediction
            previous = size
            z = z + dz
        return None, 6

    def step(
        self,
        theta: NDArray[np.float64],
        lam: float,
        tangent: NDArray[np.float64],
        arc: float,
        *,
        min_arc: float = 1e-12,
    ) -> ContinuationStep:
        """One pseudo-arclength step from ``(theta, lam)`` along the unit ``tangent`` there.

        Tries arclength ``arc`` and halves it until the corrector converges and the tangent at the
        new point turns by less than about 8 degrees. Runs in one numba kernel
        (:func:`gamesolve.kernels.homotopy.continuation_step`); a singular or non-finite linear
        system there redoes the step with :meth:`step_numpy`, which has the fallbacks.
        """
        return self._advance(theta, lam, tangent, arc, min_arc)[0]

    def _advance(
        self,
        theta: NDArray[np.float64],
        lam: float,
        tangent: NDArray[np.float64],
        arc: float,
        min_arc: float = 1e-12,
    ) -> tuple[ContinuationStep, NDArray[np.float64], float]:
        """:meth:`step`, the new point's flat profile ``[sum A_i]`` and its NashConv (payoff units)."""
        z = np.empty(self.size + 1)
        z[:-1] = theta
        z[-1] = lam
        point, new_tangent = np.empty(self.size + 1), np.empty(self.size + 1)
        flat = np.empty(int(self._aoff[-1]))
        try:
            accepted, arc_used, next_arc, iterations, gain = kernels.continuation_step(
                self._u, self._sizes, self._aoff, self._roff, z, _f64(tangent), float(arc), float(min_arc),
                _MAX_TURN_COS, point, new_tangent, flat,
            )  # fmt: skip
        except np.linalg.LinAlgError:  # non-finite values reached LAPACK: the twin handles them
            step = self.step_numpy(theta, lam, tangent, arc, min_arc=min_arc)
            if step.point is None:
                return step, flat, math.nan
            flat = self.flat_profile(step.point[:-1])
            return step, flat, _nash_conv(self, flat)
        step = ContinuationStep(point if accepted else None, new_tangent, arc_used, next_arc, iterations)
        return step, flat, self.scale * gain

    def step_numpy(
        self,
        theta: NDArray[np.float64],
        lam: float,
        tangent: NDArray[np.float64],
        arc: float,
        *,
        min_arc: float = 1e-12,
    ) -> ContinuationStep:
        """Plain-numpy twin of :meth:`step` (with the SVD and failure fallbacks)."""
        z = np.append(theta, lam)
        while arc > min_arc:
            new, iterations = self._corrector(z + arc * tangent, tangent, arc)
            if new is not None:
                _, d_theta, d_lam = self.equations_numpy(new[:-1], float(new[-1]))
                new_tangent = self.tangent(d_theta, d_lam, tangent)
                if new_tangent @ tangent >= _MAX_TURN_COS:
                    grow = 1.5 if iterations <= 2 else 1.0
                    return ContinuationStep(new, new_tangent, arc, arc * grow, iterations)
            arc *= 0.5
        return ContinuationStep(None, tangent, arc, arc, 0)

    def solve_at(self, theta0: NDArray[np.float64], lam: float) -> tuple[NDArray[np.float64], float]:
        """Solve ``H(theta, lam) = 0`` from ``theta0`` (Powell hybrid, analytic Jacobian, Newton finish).

        Returns:
            The solution and its residual ``max |H| / max(1, lam)``.
        """

        def fun(th: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
            h, d_theta, _ = self.equations(th, lam)
            return h, d_theta

        sol = scipy.optimize.root(fun, theta0, jac=True, method="hybr", options={"xtol": 1e-15})
        theta = np.asarray(sol.x, dtype=np.float64)
        h, d_theta, _ = self.equations(theta, lam)
        best = float(np.abs(h).max(initial=0.0))
        for _ in range(3):  # Newton steps more (hybr stops on xtol); keep them only if they help
            try:
                candidate = theta - np.linalg.solve(d_theta, h)
            except np.linalg.LinAlgError:
                break
            h_new, d_new, _ = self.equations(candidate, lam)
            if not float(np.abs(h_new).max(initial=0.0)) < best:
                break
            theta, h, d_theta, best = candidate, h_new, d_new, float(np.abs(h_new).max(initial=0.0))
        return theta, best / max(1.0, lam)


# ----------------------------------------------------------------------------------- polish


def _supports(parts: Sequence[NDArray[np.float64]]) -> list[tuple[tuple[int, ...], ...]]:
    """Candidate support profiles read off a branch point, most plausible first, without repeats."""
    out: list[tuple[tuple[int, ...], ...]] = []
    rows = [x.tolist() for x in parts]  # plain floats: the comparisons below are the same doubles
    tops = [max(row) for row in rows]
    for ratio in _SUPPORT_RATIOS:
        profile = tuple(
            tuple(a for a, v in enumerate(row) if v >= ratio * top)
            for row, top in zip(rows, tops, strict=True)
        )
        if profile not in out:
            out.append(profile)
    return out


def _support_newton(
    path: LogitPath, supports: Sequence[Sequence[int]], start: NDArray[np.float64]
) -> list[NDArray[np.float64]] | None:
    """:func:`_support_newton_numpy` in a numba kernel, from the flat profile ``start`` ``[sum A_i]``.

    A ``LinAlgError`` out of the kernel (non-finite values reached LAPACK) redoes it with the twin.
    """
    support = np.fromiter(itertools.chain.from_iterable(supports), dtype=np.int64)
    soff = np.fromiter(itertools.accumulate((len(s) for s in supports), initial=0), dtype=np.int64)
    out = np.empty(int(path._aoff[-1]))
    try:
        found = kernels.support_newton(path._u, path._sizes, path._aoff, support, soff, start, out)
    except np.linalg.LinAlgError:
        with np.errstate(all="ignore"):
            return _support_newton_numpy(path.game, supports, np.split(start, path._splits), path.scale)
    return np.split(out, path._splits) if found else None


def _support_newton_numpy(
    game: TensorGame,
    supports: Sequence[Sequence[int]],
    start: Sequence[NDArray[np.float64]],
    scale: float,
) -> list[NDArray[np.float64]] | None:
    """Solve ``g_i,a(x) = v_i`` (``a`` in ``S_i``), ``sum_{S_i} x_i = 1``, ``x = 0`` off ``S`` by Newton.

    Unknowns are the support probabilities and one value ``v_i`` per player; the system is square
    for any supports. Returns the strategies (probabilities clipped at 0) or ``None`` when Newton
    does not converge or a probability is clearly negative.
    """
    n = game.num_players
    sizes = [len(s) for s in supports]
    offs = [0, *itertools.accumulate(sizes)]
    total = offs[-1]
    idx = [np.asarray(s, dtype=np.int64) for s in supports]
    parts = []
    for x, s in zip(start, idx, strict=True):
        xs = np.zeros_like(x)
        xs[s] = np.maximum(x[s], 0.0)
        parts.append(xs / xs.sum() if xs.sum() > 0 else xs + np.isin(np.arange(x.size), s) / s.size)
    grads, _ = _derivatives(game, parts, scale, cross=False)
    y = np.concatenate([np.concatenate([p[s] for p, s in zip(parts, idx, strict=True)]), np.zeros(n)])
    for i in range(n):
        y[total + i] = float(grads[i][idx[i]] @ parts[i][idx[i]])
    residual = math.inf
    for _ in range(50):
        for i in range(n):
            parts[i] = np.zeros(game.num_actions[i])
            parts[i][idx[i]] = y[offs[i] : offs[i + 1]]
        grads, blocks = _derivatives(game, parts, scale, cross=True)
        f = np.empty(total + n)
        jac = np.zeros((total + n, total + n))
        for i in range(n):
            lo, hi = offs[i], offs[i + 1]
            f[lo:hi] = grads[i][idx[i]] - y[total + i]
            f[total + i] = float(y[lo:hi].sum()) - 1.0
            jac[lo:hi, total + i] = -1.0
            jac[total + i, lo:hi] = 1.0
            for j in range(n):
                if j != i:
                    jac[lo:hi, offs[j] : offs[j + 1]] = blocks[i, j][np.ix_(idx[i], idx[j])]
        new_residual = float(np.abs(f).max())
        if not math.isfinite(new_residual):
            return None
        if new_residual <= 1e-15 or (new_residual >= 0.5 * residual and new_residual <= 1e-12):
            break  # converged to working precision
        residual = new_residual
        try:
            dy = np.linalg.solve(jac, -f)
        except np.linalg.LinAlgError:
            dy = np.linalg.lstsq(jac, -f, rcond=None)[0]
            if float(np.abs(dy).max()) <= kernels._STUCK_STEP and new_residual >= kernels._STUCK_RESIDUAL:
                return None  # stuck on a singular system (see gamesolve.kernels.homotopy)
        y = y + dy
    else:
        return None
    if new_residual > 1e-11:
        return None
    out = []
    for i in range(n):
        xs = y[offs[i] : offs[i + 1]]
        if xs.min() < -1e-10:
            return None  # the support guess is wrong: the equilibrium on it leaves the simplex
        x = np.zeros(game.num_actions[i])
        x[idx[i]] = np.maximum(xs, 0.0)
        out.append(x / x.sum())
    return out


def _polish(
    path: LogitPath,
    here: NDArray[np.float64],
    candidates: Sequence[tuple[tuple[int, ...], ...]],
    heading: NDArray[np.float64],
    tolerance: float,
) -> tuple[list[NDArray[np.float64]], tuple[tuple[int, ...], ...], float] | None:
    """An exact equilibrium near the branch point ``branch``: strategies, supports and NashConv.

    ``heading`` ``[sum A_i]`` is the direction in which the branch moves the profile (towards
    larger ``lambda``). Near its limit ``x*`` the branch satisfies ``x(lambda) = x* + c / lambda
    + O(1 / lambda^2)``, so it heads straight at ``x*``; a candidate that the branch is not heading
    for (cosine below ``_MIN_HEADING_COS``) is another equilibrium the branch only passes near.
    """
    for supports in candidates:
        found = _support_newton(path, supports, here)
        if found is None:
            continue
        offset = np.concatenate(found) - here
        distance = float(np.abs(offset).max())
        if distance > _POLISH_RADIUS:
            log.debug("polish on supports %s landed %.3g away from the branch; rejected", supports, distance)
            continue
        norm = float(np.linalg.norm(offset)) * float(np.linalg.norm(heading))
        if norm > 0 and float(offset @ heading) < _MIN_HEADING_COS * norm:
            log.debug("polish on supports %s: the branch is not heading there; rejected", supports)
            continue
        gap = _nash_conv(path, np.concatenate(found))
        if path.fraction(gap) <= tolerance:
            return found, supports, gap
        log.debug(
            "polish on supports %s: NashConv %.3g of the range, above %.3g",
            supports,
            path.fraction(gap),
            tolerance,
        )
    return None


def _purify(
    path: LogitPath, found: tuple[list[NDArray[np.float64]], tuple[tuple[int, ...], ...], float]
) -> tuple[list[NDArray[np.float64]], tuple[tuple[int, ...], ...], float]:
    """Drop support actions that pay less than the best by more than rounding can explain.

    A polished profile meets ``tolerance`` relative to the payoff range, which on payoffs on many
    scales (``1e15`` next to ``1``) lets an action that pays ``1`` less than the best keep
    probability. Here each action's payoff ``g_i,a`` against the others is compared with the
    best one using a bound on its rounding error (the number of terms times the unit roundoff
    times ``sum |u| x``, the magnitude of what was added). Actions worse beyond both bounds leave
    the support, the profile is renormalized on what remains and the comparison repeated (a
    smaller support of one player can expose another's); then the equations are solved again on
    the final supports, and the result is kept when its NashConv is not larger.
    """
    strategies, supports, gap = found
    flat = np.concatenate(strategies)
    terms = int(np.prod(path._sizes)) // path._sizes + path._sizes.shape[0]  # [P] terms per sum
    eps = float(np.finfo(np.float64).eps)
    current = [tuple(s) for s in supports]
    grads = np.empty(flat.size)
    sizes = np.empty(flat.size)
    changed = False
    for _ in range(flat.size):
        kernels.payoff_gradients(path._u, path._sizes, path._aoff, flat, grads)
        kernels.payoff_gradients(np.abs(path._u), path._sizes, path._aoff, flat, sizes)
        dropped = False
        for i, support in enumerate(current):
            lo, hi = int(path._aoff[i]), int(path._aoff[i + 1])
            g = grads[lo:hi]
            bound = float(terms[i]) * eps * sizes[lo:hi]
            best = int(np.argmax(g))
            keep = tuple(a for a in support if g[a] + bound[a] >= g[best] - bound[best])
            if keep and keep != support:
                current[i], dropped = keep, True
                part = np.zeros(hi - lo)
                part[list(keep)] = np.maximum(flat[lo:hi][list(keep)], 0.0)
                flat[lo:hi] = (
                    part / part.sum()
                    if part.sum() > 0
                    else part + np.isin(np.arange(hi - lo), keep) / len(keep)
                )
        if not dropped:
            break
        changed = True
    if not changed:
        return found
    purified = _support_newton(path, current, flat)
    if purified is None:
        return found
    new_gap = _nash_conv(path, np.concatenate(purified))
    if not new_gap <= gap:
        return found
    log.debug("purified supports %s -> %s: NashConv %.3g -> %.3g", supports, current, gap, new_gap)
    return purified, tuple(current), new_gap


# ------------------------------------------------------------------------------- the solver


def _check_tolerance(value: Any) -> float:
    return check_real("tolerance", value, minimum=0.0, maximum=1.0, min_inclusive=False, max_inclusive=False)


def _check_steps(value: Any) -> int:
    return check_int("max_steps", value, minimum=1)


def _nash_conv(path: LogitPath, x: NDArray[np.float64]) -> float:
    """NashConv in payoff units of the flat profile ``x`` ``[sum A_i]``, from the scaled gradients."""
    grads = np.empty(x.size)
    kernels.payoff_gradients(path._u, path._sizes, path._aoff, x, grads)
    gains = np.maximum.reduceat(grads, path._aoff[:-1]) - np.add.reduceat(grads * x, path._aoff[:-1])
    return path.scale * float(gains.sum())


def _nash_conv_numpy(game: TensorGame, parts: Sequence[NDArray[np.float64]], scale: float) -> float:
    """Plain-numpy twin of :func:`_nash_conv`."""
    grads, _ = _derivatives(game, parts, scale, cross=False)
    return scale * float(sum(g.max() - g @ x for g, x in zip(grads, parts, strict=True)))


def _progress_bar(enabled: bool | None, desc: str) -> Any:
    if enabled is None:
        enabled = sys.stderr.isatty()
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(desc=desc, unit="step", dynamic_ncols=True, leave=True)


class NashHomotopy(ExactSolver):
    """One Nash equilibrium of an N-player game: the limit of the logit QRE principal branch.

    Follows the branch from uniform play at ``lambda = 0`` with the predictor-corrector core of
    :class:`LogitPath` (Turocy 2005; McKelvey & Palfrey 1995), and polishes the first branch
    point whose support is readable into an exact equilibrium: Newton's method on the indifference
    and normalization equations of that support, accepted only if every probability is nonnegative,
    no action off the support pays more and the NashConv is below ``tolerance`` (otherwise the
    tracing goes on and the polish is retried). For
    generic games the branch converges to a unique equilibrium (the limiting logit equilibrium,
    the one Gambit's ``logit_solve`` approximates) and the returned profile is that equilibrium
    to machine precision; ``lambda`` grows geometrically with the steps, so most games need a few
    dozen steps. Each step costs ``O(P^2 prod_k A_k)`` for the Jacobian plus an ``O(N^3)``
    linear solve (``N = sum_i (A_i - 1)``).

    The result's ``converged`` is ``True`` when a polished profile passed the checks; otherwise
    (``max_steps`` or the time limit reached, or the tracer stalled) ``policy`` is the branch
    point with the smallest NashConv seen and ``message`` says why the run stopped.
    ``extras`` holds ``lambda`` (precision of the last branch point, in ``1 / payoff`` units),
    ``steps``, ``supports`` (per player, the support of the answer; empty when not converged),
    ``branch_nash_conv`` (NashConv of the branch point the polish started from, or of the
    returned point) and ``polish_attempts``.

    Args:
        tolerance: Largest NashConv of a polished profile, as a fraction of the payoff range
            (largest ``max u_i - min u_i``), in ``(0, 1)``.
        max_steps: Most predictor-corrector steps.
        first_step: Arclength of the first step (payoffs scaled to ``max |u| = 1``).
    """

    name = "homotopy"

    def __init__(self, tolerance: float = 1e-10, max_steps: int = 2000, first_step: float = 0.25) -> None:
        self.tolerance = _check_tolerance(tolerance)
        self.max_steps = _check_steps(max_steps)
        self.first_step = check_real("first_step", first_step, minimum=0.0, min_inclusive=False)

    def config(self) -> dict[str, Any]:
        """The configuration as JSON-ready values."""
        return {"tolerance": self.tolerance, "max_steps": self.max_steps, "first_step": self.first_step}

    def prepare(self, game: Any) -> TensorGame:
        """The game as a tensor game."""
        return prepare_normal_form(self.name, game)

    def check(self, spec: GameSpec) -> None:
        """Any normal-form game (any number of players, any utility)."""
        check_normal_form(self.name, spec)

    def run(
        self,
        game: TensorGame,
        *,
        seed: int = 0,
        time_limit: float | None = None,
        progress: bool | None = None,
    ) -> SolveResult:
        """Trace the branch and polish; deterministic (``seed`` is recorded only).

        Args:
            game: The prepared game.
            seed: Recorded in the result.
            time_limit: Seconds allowed; when they run out the best branch point is returned
                with ``converged=False``.
            progress: Show a tqdm bar with ``lambda`` and the branch point's NashConv (default:
                when stderr is a terminal).
        """
        limit = check_time_limit(time_limit)
        started = time.perf_counter()
        path = LogitPath(game)
        theta, tangent = path.start()
        lam, arc = 0.0, self.first_step
        flat = path.flat_profile(theta)  # [sum A_i]
        gap = _nash_conv(path, flat)
        best = (gap, flat, lam)
        history: list[tuple[int, float, float]] = [(0, 0.0, gap)]
        attempts, last_attempt = 0, math.inf
        tried: set[tuple[tuple[int, ...], ...]] = set()
        bar = _progress_bar(progress, f"homotopy on {game.spec.name}")
        steps = 0
        message = ""
        found: tuple[list[NDArray[np.float64]], tuple[tuple[int, ...], ...], float] | None = None
        try:
            while True:
                # -- polish when the branch point is close to an equilibrium
                # (the candidate supports are read only near an equilibrium: they cost a few µs)
                near = path.fraction(gap) <= _POLISH_START
                ordered = _supports(np.split(flat, path._splits)) if near else []
                candidates = set(ordered)
                if near and (gap <= 0.5 * last_attempt or not candidates <= tried):
                    attempts += 1
                    last_attempt = gap
                    tried |= candidates
                    heading = path.heading(theta, tangent)
                    found = _polish(path, flat, ordered, heading, self.tolerance)
                    if found is not None:
                        found = _purify(path, found)
                        break
                if steps >= self.max_steps:
                    message = f"max_steps={self.max_steps} reached without an exact equilibrium"
                    break
                if limit is not None and time.perf_counter() - started >= limit:
                    message = f"time limit of {limit:g} s reached after {steps} steps"
                    break
                if path.size == 0:  # every player has one action; the polish has already accepted
                    message = "nothing to trace"
                    break
                step, new_flat, new_gap = path._advance(theta, lam, tangent, arc)
                if step.point is None:
                    message = f"the path follower stalled at lambda={lam / path.scale:.6g}"
                    log.warning("homotopy on %s: %s", game.spec.name, message)
                    break
                steps += 1
                theta, lam = step.point[:-1], float(step.point[-1])
                tangent, arc = step.tangent, step.next_arc
                flat, gap = new_flat, new_gap
                if gap < best[0]:
                    best = (gap, flat, lam)
                history.append((steps, time.perf_counter() - started, gap))
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix_str(f"lambda={lam / path.scale:.4g} NashConv={gap:.3e}")
        finally:
            if bar is not None:
                bar.close()
        seconds = time.perf_counter() - started
        branch_gap = gap
        if found is not None:
            strategies, supports, final_gap = found
            message = (
                f"exact equilibrium polished from the logit branch at lambda={lam / path.scale:.6g} "
                f"after {steps} steps (NashConv {final_gap:.2e})"
            )
        else:
            branch_gap, best_flat, _ = best
            strategies = np.split(best_flat, path._splits)
            supports = ()
            log.info("homotopy on %s: %s", game.spec.name, message)
        profile = MixedProfile.of(game, strategies)
        result = exact_result(
            game,
            solver=self.name,
            config=self.config(),
            seed=seed,
            profile=profile,
            seconds=seconds,
            message=message,
            extras={
                "lambda": lam / path.scale,
                "steps": steps,
                "supports": [list(s) for s in supports],
                "branch_nash_conv": branch_gap,
                "polish_attempts": attempts,
            },
        )
        history.append((steps + 1, seconds, result.nash_conv))
        players = game.num_players
        return dataclasses.replace(
            result,
            iterations=steps,
            converged=found is not None,
            history=History(
                iteration=tuple(h[0] for h in history),
                wall_time=tuple(h[1] for h in history),
                exploitability=tuple(h[2] / players for h in history),
                nash_conv=tuple(h[2] for h in history),
            ),
        )


def nash_homotopy(game: TensorGame, **options: Any) -> list[MixedProfile]:
    """The equilibrium of :class:`NashHomotopy` as a one-element list (``gamesolve.equilibria``).

    Args:
        game: A normal-form game.
        **options: ``tolerance``, ``max_steps``, ``first_step`` of :class:`NashHomotopy`, and
            ``time_limit`` (seconds).

    Raises:
        GamesolveError: No exact equilibrium within the limits (the message says why).
    """
    from gamesolve.errors import GamesolveError

    time_limit = options.pop("time_limit", None)
    solver = NashHomotopy(**options)
    prepared = solver.prepare(game)
    solver.check(prepared.spec)
    result = solver.run(prepared, time_limit=time_limit, progress=False)
    if not result.converged:
        raise GamesolveError(f"the homotopy found no exact equilibrium: {result.message}")
    return [result.policy]


# Declarations of the registry names this module serves (entry points of the group gamesolve.solvers).
HOMOTOPY_ENTRY = SolverEntry(
    "homotopy",
    NashHomotopy,
    "one Nash equilibrium of an N-player game (logit homotopy, polished to exact)",
)
