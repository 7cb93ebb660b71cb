"""The logit QRE principal branch of a normal-form game and its pseudo-arclength path follower.

The logit quantal response equilibria at precision ``lambda >= 0`` solve ``x_i = softmax(lambda
g_i(x_-i))`` for every player ``i``; at ``lambda = 0`` uniform play is the only solution, and for
generic games the solutions through it form one smooth curve, the principal branch, whose limit as
``lambda -> infinity`` is a Nash equilibrium (McKelvey & Palfrey 1995, "Quantal response
equilibria for normal form games"; Turocy 2005, "A dynamic homotopy interpretation of the logistic
quantal response equilibrium correspondence"). :class:`LogitPath` holds the branch equations in
reduced log-probabilities and takes pseudo-arclength predictor-corrector steps (Allgower & Georg
1990, "Numerical Continuation Methods", ch. 2) that follow turning points; the hot parts run in
:mod:`gamesolve.kernels.homotopy`, with numpy twins here. Both
:class:`gamesolve.solvers.homotopy.NashHomotopy` and the ``"homotopy"`` method of
:class:`gamesolve.solvers.dynamics.LogitQRE` follow the branch with it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import scipy.optimize
from numpy.typing import NDArray

from gamesolve.kernels import homotopy as kernels
from gamesolve.normal_form import TensorGame

__all__ = ["ContinuationStep", "LogitPath", "nash_conv_numpy", "payoff_derivatives_numpy"]

#: Cosine of the largest turn of the tangent accepted in one step (about 8 degrees).
_MAX_TURN_COS = 0.99


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


def payoff_derivatives_numpy(
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
        self.u, self.sizes, self.aoff, self.roff = kernels.flat_layout(game.payoffs, self.scale)
        self.splits = [int(v) for v in self.aoff[1:-1]]
        self.scaled_spread = _scaled_spread(game, self.scale)  # largest max u_i - min u_i, over scale

    def fraction(self, gap: float) -> float:
        """A NashConv in payoff units as a fraction of the payoff range (``0`` / ``inf`` if it is 0)."""
        if self.scaled_spread > 0:
            return gap / self.scale / self.scaled_spread
        return 0.0 if gap <= 0 else math.inf

    def nash_conv(self, x: NDArray[np.float64]) -> float:
        """NashConv in payoff units of the flat profile ``x`` ``[sum A_i]``, from the scaled gradients."""
        grads = np.empty(x.size)
        kernels.payoff_gradients(self.u, self.sizes, self.aoff, x, grads)
        gains = np.maximum.reduceat(grads, self.aoff[:-1]) - np.add.reduceat(grads * x, self.aoff[:-1])
        return self.scale * float(gains.sum())

    # -- coordinates
    def profile(self, theta: NDArray[np.float64]) -> list[NDArray[np.float64]]:
        """Strategies ``[A_i]`` from reduced logits ``theta`` ``[N]`` (action 0's logit is 0)."""
        return np.split(self.flat_profile(theta), self.splits)

    def flat_profile(self, theta: NDArray[np.float64]) -> NDArray[np.float64]:
        """``[sum A_i]``: the strategies of :meth:`profile`, concatenated (numba kernel)."""
        x = np.empty(int(self.aoff[-1]))
        kernels.branch_profile(self.sizes, self.aoff, self.roff, _f64(theta), x)
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
        keep[self.aoff[:-1]] = False  # action 0 of every player has logit 0
        t[keep] = tangent[: self.size]
        return x * (t - np.repeat(np.add.reduceat(x * t, self.aoff[:-1]), self.sizes))

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
        n, t = self.size, int(self.aoff[-1])
        h, d_theta, d_lam = np.empty(n), np.empty((n, n)), np.empty(n)
        kernels.branch_equations(
            self.u, self.sizes, self.aoff, self.roff, _f64(theta), float(lam),
            np.empty(t), np.empty(t), np.empty((t, t)), h, d_theta, d_lam,
        )  # fmt: skip
        return h, d_theta, d_lam

    def equations_numpy(
        self, theta: NDArray[np.float64], lam: float
    ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
        """Plain-numpy twin of :meth:`equations` (einsum contractions)."""
        parts = self.profile_numpy(theta)
        grads, blocks = payoff_derivatives_numpy(self.game, parts, self.scale, cross=True)
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
        return self.advance(theta, lam, tangent, arc, min_arc)[0]

    def advance(
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
        flat = np.empty(int(self.aoff[-1]))
        try:
            accepted, arc_used, next_arc, iterations, gain = kernels.continuation_step(
                self.u, self.sizes, self.aoff, self.roff, z, _f64(tangent), float(arc), float(min_arc),
                _MAX_TURN_COS, point, new_tangent, flat,
            )  # fmt: skip
        except np.linalg.LinAlgError:  # non-finite values reached LAPACK: the twin handles them
            step = self.step_numpy(theta, lam, tangent, arc, min_arc=min_arc)
            if step.point is None:
                return step, flat, math.nan
            flat = self.flat_profile(step.point[:-1])
            return step, flat, self.nash_conv(flat)
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


def nash_conv_numpy(game: TensorGame, parts: Sequence[NDArray[np.float64]], scale: float) -> float:
    """Plain-numpy twin of :meth:`LogitPath.nash_conv` (payoffs scaled by ``scale``)."""
    grads, _ = payoff_derivatives_numpy(game, parts, scale, cross=False)
    return scale * float(sum(g.max() - g @ x for g, x in zip(grads, parts, strict=True)))
