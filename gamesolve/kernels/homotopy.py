"""Kernels of the logit-QRE path follower (:mod:`gamesolve.solvers.logit_path`) on a flattened payoff tensor.

Layout shared by every kernel (``P`` players, ``A_i`` actions, ``T = sum_i A_i``, ``N = sum_i (A_i
- 1)``, ``M = prod_i A_i``):

* ``u`` ``[P, M]`` float64: player ``i``'s payoff tensor ``[A0, ..., A_{P-1}]`` flattened in C order
  and divided by the payoff scale; the joint profile ``(a_0, ..., a_{P-1})`` sits at column
  ``sum_k a_k * stride_k``, ``stride_k = prod_{l > k} A_l`` (the kernels walk the columns in order
  with an odometer instead of dividing);
* ``sizes`` ``[P]`` int64 (``A_i``), ``aoff`` ``[P + 1]`` int64 (offsets of each player's actions in a
  flat profile ``x`` ``[T]``), ``roff`` ``[P + 1]`` int64 (offsets of each player's reduced logits in
  ``theta`` ``[N]``, action 0 has logit 0);
* ``blocks`` ``[T, T]``: block ``(i, j)`` (rows ``aoff[i]:aoff[i+1]``, columns ``aoff[j]:aoff[j+1]``)
  holds ``d g_i / d x_j``, player ``i``'s tensor contracted with every strategy but ``i``'s and
  ``j``'s; the diagonal blocks are zero.

The kernels mirror the numpy code of :mod:`gamesolve.solvers.logit_path` and of the polish in
:mod:`gamesolve.solvers.homotopy` operation for operation where the order matters (the corrector's
guards, the step control, the polish's stopping rule), so the path agrees
with the numpy twins to rounding. Numba cannot catch ``np.linalg.LinAlgError`` inside compiled
code, so the kernels test for it first (``slogdet`` runs the same LU as ``solve`` and reports an
exact zero pivot as sign 0) and take the twin's fallback (SVD, ``lstsq``, a failed corrector);
anything left that still raises (non-finite input to LAPACK) makes the caller redo that call with
the numpy twin. All kernels use
``error_model="numpy"`` so a division by zero gives ``inf``/``nan`` like numpy instead of raising.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

__all__ = [
    "STUCK_RESIDUAL",
    "STUCK_STEP",
    "branch_equations",
    "branch_profile",
    "continuation_step",
    "flat_layout",
    "payoff_derivatives",
    "payoff_gradients",
    "support_newton",
    "unit_tangent",
]


def flat_layout(
    payoffs: NDArray[np.float64], scale: float
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
    """``u [P, M]``, ``sizes [P]``, ``aoff [P + 1]``, ``roff [P + 1]`` of a payoff array ``[P, A0, ...]``."""
    p = payoffs.shape[0]
    u = np.ascontiguousarray(np.asarray(payoffs, dtype=np.float64).reshape(p, -1) / scale)
    sizes = np.asarray(payoffs.shape[1:], dtype=np.int64)
    aoff = np.zeros(p + 1, dtype=np.int64)
    aoff[1:] = np.cumsum(sizes)
    roff = np.zeros(p + 1, dtype=np.int64)
    roff[1:] = np.cumsum(sizes - 1)
    return u, sizes, aoff, roff


#: The support Newton gives up when a least-squares step (singular Jacobian) is at most
#: ``STUCK_STEP`` (max-norm) while the residual is at least ``STUCK_RESIDUAL``: then ``y`` and
#: with it the residual move by ``O(1e-14)`` per iteration (Jacobian entries are at most a few
#: units on scaled payoffs), so the remaining iterations of 50 cannot bring the residual down to
#: the ``1e-12`` it needs to stop, and the full loop would reject the support too.
STUCK_STEP = 1e-14
STUCK_RESIDUAL = 1e-8
#: Machine epsilon: numpy's ``lstsq(rcond=None)`` cuts singular values below ``eps * max(M, N)``.
_EPS = float(np.finfo(np.float64).eps)


@numba.njit(cache=True)
def _all_finite(a: NDArray[np.float64]) -> bool:
    for v in a.ravel():  # noqa: SIM110 (a plain loop in numba)
        if not math.isfinite(v):
            return False
    return True


@numba.njit(cache=True)
def _singular(a: NDArray[np.float64]) -> bool:
    """Whether LAPACK's LU of the square ``a`` meets an exact zero pivot (``solve`` would raise).

    ``slogdet`` runs the same ``getrf`` as ``solve`` and reports that case as sign 0.
    """
    return bool(np.linalg.slogdet(a)[0] == 0.0)


# ----------------------------------------------------------------------------- contractions


@numba.njit(cache=True, error_model="numpy")
def payoff_gradients(
    u: NDArray[np.float64],
    sizes: NDArray[np.int64],
    aoff: NDArray[np.int64],
    x: NDArray[np.float64],
    grads: NDArray[np.float64],
) -> None:
    """Write ``g_i`` (each player's payoff per pure action against the others' ``x``) into ``grads [T]``."""
    p = sizes.shape[0]
    for q in range(aoff[p]):
        grads[q] = 0.0
    a = np.zeros(p, dtype=np.int64)
    for m in range(u.shape[1]):
        for i in range(p):
            w = u[i, m]
            for k in range(p):
                if k != i:
                    w *= x[aoff[k] + a[k]]
            grads[aoff[i] + a[i]] += w
        k = p - 1
        while k >= 0:
            a[k] += 1
            if a[k] < sizes[k]:
                break
            a[k] = 0
            k -= 1


@numba.njit(cache=True, error_model="numpy")
def payoff_derivatives(
    u: NDArray[np.float64],
    sizes: NDArray[np.int64],
    aoff: NDArray[np.int64],
    x: NDArray[np.float64],
    grads: NDArray[np.float64],
    blocks: NDArray[np.float64],
) -> None:
    """Write the cross blocks ``d g_i / d x_j`` into ``blocks [T, T]`` and ``g_i`` into ``grads [T]``.

    As in the numpy twin, ``g_i`` is read off block ``(i, j0)`` (``j0 = 1`` for player 0, else 0):
    ``g_i = (d g_i / d x_j0) x_j0``. One player: ``g_0 = u_0`` and no blocks.
    """
    p = sizes.shape[0]
    support = np.empty(aoff[p], dtype=np.int64)  # every action: the full contraction
    for i in range(p):
        for r in range(aoff[i], aoff[i + 1]):
            support[r] = r - aoff[i]
    _support_derivatives(u, sizes, aoff, support, aoff, x, grads, blocks)


@numba.njit(cache=True, error_model="numpy")
def _support_derivatives(
    u: NDArray[np.float64],
    sizes: NDArray[np.int64],
    aoff: NDArray[np.int64],
    support: NDArray[np.int64],
    soff: NDArray[np.int64],
    x: NDArray[np.float64],
    grads: NDArray[np.float64],
    blocks: NDArray[np.float64],
) -> None:
    """:func:`payoff_derivatives` for a profile ``x`` that is zero off ``support``, on the support.

    Only the joint profiles inside the support product are visited (the others carry an exact
    zero weight in every sum used), and only the support rows of ``grads`` and support entries of
    ``blocks`` are written: the same sums as the full contraction without its zero terms.
    """
    p = sizes.shape[0]
    stride = np.ones(p, dtype=np.int64)  # [P] column stride of each player's action in u
    for k in range(p - 2, -1, -1):
        stride[k] = stride[k + 1] * sizes[k + 1]
    for i in range(p):
        for r in range(soff[i], soff[i + 1]):
            for j in range(p):
                for c in range(soff[j], soff[j + 1]):
                    blocks[aoff[i] + support[r], aoff[j] + support[c]] = 0.0
    if p == 1:
        for r in range(soff[0], soff[1]):
            grads[support[r]] = u[0, support[r]]
        return
    pos = soff[:-1].copy()  # [P] position of each player's current action in support
    col = np.empty(p, dtype=np.int64)
    xv = np.empty(p)
    m = 0
    for k in range(p):
        col[k] = aoff[k] + support[pos[k]]
        xv[k] = x[col[k]]
        m += support[pos[k]] * stride[k]
    while True:
        for i in range(p):
            ui = u[i, m]
            row = col[i]
            for j in range(p):
                if j == i:
                    continue
                w = ui
                for k in range(p):
                    if k != i and k != j:
                        w *= xv[k]
                blocks[row, col[j]] += w
        k = p - 1
        while k >= 0:
            m -= support[pos[k]] * stride[k]
            pos[k] += 1
            if pos[k] == soff[k + 1]:
                pos[k] = soff[k]
            m += support[pos[k]] * stride[k]
            col[k] = aoff[k] + support[pos[k]]
            xv[k] = x[col[k]]
            if pos[k] != soff[k]:
                break
            k -= 1
        if k < 0:
            break
    for i in range(p):
        j0 = 1 if i == 0 else 0
        for r in range(soff[i], soff[i + 1]):
            q = aoff[i] + support[r]
            total = 0.0
            for c in range(soff[j0], soff[j0 + 1]):
                total += blocks[q, aoff[j0] + support[c]] * x[aoff[j0] + support[c]]
            grads[q] = total


# ------------------------------------------------------------------------------ the branch


@numba.njit(cache=True, error_model="numpy")
def branch_profile(
    sizes: NDArray[np.int64],
    aoff: NDArray[np.int64],
    roff: NDArray[np.int64],
    theta: NDArray[np.float64],
    x: NDArray[np.float64],
) -> None:
    """Write the profile ``x [T]`` of reduced logits ``theta`` (first ``N`` entries read): softmaxes."""
    for i in range(sizes.shape[0]):
        base = aoff[i]
        lo = roff[i]
        top = 0.0
        for r in range(sizes[i] - 1):
            v = theta[lo + r]
            if v > top or v != v:
                top = v
        x[base] = math.exp(0.0 - top)
        total = x[base]
        for r in range(sizes[i] - 1):
            x[base + 1 + r] = math.exp(theta[lo + r] - top)
            total += x[base + 1 + r]
        for r in range(sizes[i]):
            x[base + r] /= total


@numba.njit(cache=True, error_model="numpy")
def branch_equations(
    u: NDArray[np.float64],
    sizes: NDArray[np.int64],
    aoff: NDArray[np.int64],
    roff: NDArray[np.int64],
    theta: NDArray[np.float64],
    lam: float,
    x: NDArray[np.float64],
    grads: NDArray[np.float64],
    blocks: NDArray[np.float64],
    h: NDArray[np.float64],
    d_theta: NDArray[np.float64],
    d_lam: NDArray[np.float64],
) -> None:
    """``H [N]``, ``dH/dtheta [N, N]``, ``dH/dlambda [N]`` at ``(theta, lam)`` (``theta``'s first ``N``).

    ``H_i,a = theta_i,a - lam (g_i,a - g_i,0)``; with ``R = (d g_i / d x_j)[1:] - (d g_i / d x_j)[0]``
    and ``d x_j,c / d theta_j,c' = x_j,c (delta_cc' - x_j,c')`` the cross block is
    ``-lam * x_j,c' * (R[r, c'] - (R x_j)[r])``. Also leaves the profile in ``x`` and the gradients
    and cross blocks in ``grads``, ``blocks``.
    """
    p = sizes.shape[0]
    n = roff[p]
    branch_profile(sizes, aoff, roff, theta, x)
    payoff_derivatives(u, sizes, aoff, x, grads, blocks)
    for r in range(n):
        for c in range(n):
            d_theta[r, c] = 0.0
        d_theta[r, r] = 1.0
    for i in range(p):
        ai = aoff[i]
        for r in range(sizes[i] - 1):
            q = roff[i] + r
            diff = grads[ai + 1 + r] - grads[ai]
            h[q] = theta[q] - lam * diff
            d_lam[q] = -diff
            for j in range(p):
                if j == i or sizes[j] == 1:
                    continue
                aj = aoff[j]
                s = 0.0
                for b in range(sizes[j]):
                    s += (blocks[ai + 1 + r, aj + b] - blocks[ai, aj + b]) * x[aj + b]
                for c in range(1, sizes[j]):
                    rc = blocks[ai + 1 + r, aj + c] - blocks[ai, aj + c]
                    d_theta[q, roff[j] + c - 1] = -lam * (x[aj + c] * (rc - s))


@numba.njit(cache=True, error_model="numpy")
def unit_tangent(
    d_theta: NDArray[np.float64],
    d_lam: NDArray[np.float64],
    previous: NDArray[np.float64],
    jac: NDArray[np.float64],
    out: NDArray[np.float64],
) -> None:
    """Unit null vector of ``[dH/dtheta, dH/dlambda]`` oriented along ``previous``, into ``out``."""
    n = d_lam.shape[0]
    for r in range(n):
        for c in range(n):
            jac[r, c] = d_theta[r, c]
        jac[r, n] = d_lam[r]
    for c in range(n + 1):
        jac[n, c] = previous[c]
    rhs = np.zeros(n + 1)
    rhs[n] = 1.0
    # on an exact zero pivot, the numpy twin's LinAlgError branch: the last right-singular vector
    t = np.linalg.svd(jac[:n, :])[2][n].copy() if _singular(jac) else np.linalg.solve(jac, rhs)
    norm = 0.0
    for c in range(n + 1):
        norm += t[c] * t[c]
    norm = math.sqrt(norm)
    along = 0.0
    for c in range(n + 1):
        t[c] = t[c] / norm
        along += t[c] * previous[c]
    sign = 1.0 if along >= 0 else -1.0
    for c in range(n + 1):
        out[c] = sign * t[c]


@numba.njit(cache=True, error_model="numpy")
def continuation_step(
    u: NDArray[np.float64],
    sizes: NDArray[np.int64],
    aoff: NDArray[np.int64],
    roff: NDArray[np.int64],
    start: NDArray[np.float64],
    tangent: NDArray[np.float64],
    arc: float,
    min_arc: float,
    max_turn_cos: float,
    out_point: NDArray[np.float64],
    out_tangent: NDArray[np.float64],
    out_profile: NDArray[np.float64],
) -> tuple[int, float, float, int, float]:
    """One pseudo-arclength predictor-corrector step from ``start = (theta, lambda)`` ``[N + 1]``.

    Same control as :meth:`gamesolve.solvers.logit_path.LogitPath.step_numpy`: Euler prediction, at most 6
    Newton corrections on ``[H(z); t . (z - z_pred)] = 0`` (fail unless each correction is below 0.3
    of the previous one and their total below ``0.2 arc``), the step halved on failure or when the
    tangent turns by more than ``acos(max_turn_cos)``. Writes the new point, its tangent and its
    profile ``[T]``.

    Returns:
        ``(accepted, arc, next_arc, iterations, gain)`` with ``gain = sum_i (max_a g_i,a - g_i . x_i)``
        the NashConv of the new profile on scaled payoffs; on a stall ``accepted == 0``,
        ``out_tangent`` is ``tangent`` and ``out_point``, ``out_profile`` are untouched.
    """
    p = sizes.shape[0]
    n = roff[p]
    t = aoff[p]
    x = np.empty(t)
    grads = np.empty(t)
    blocks = np.empty((t, t))
    h = np.empty(n)
    d_theta = np.empty((n, n))
    d_lam = np.empty(n)
    jac = np.empty((n + 1, n + 1))
    rhs = np.empty(n + 1)
    z = np.empty(n + 1)
    z_pred = np.empty(n + 1)
    while arc > min_arc:
        for q in range(n + 1):
            z_pred[q] = start[q] + arc * tangent[q]
            z[q] = z_pred[q]
        # -- corrector
        accepted = False
        iterations = 6
        previous = math.inf
        moved = 0.0
        for k in range(6):
            lam = float(z[n])
            branch_equations(u, sizes, aoff, roff, z, lam, x, grads, blocks, h, d_theta, d_lam)
            worst = 0.0
            for q in range(n):
                v = abs(h[q])
                if v > worst or v != v:
                    worst = v
            if worst <= 1e-10 * max(1.0, abs(lam)):
                accepted = True
                iterations = k
                break
            along = 0.0
            for q in range(n + 1):
                along += tangent[q] * (z[q] - z_pred[q])
            for r in range(n):
                for c in range(n):
                    jac[r, c] = d_theta[r, c]
                jac[r, n] = d_lam[r]
                rhs[r] = -h[r]
            for c in range(n + 1):
                jac[n, c] = tangent[c]
            rhs[n] = -along
            if not (_all_finite(jac) and _all_finite(rhs)):
                break  # numpy: a nan correction, so a failed corrector
            dz = np.linalg.solve(jac, rhs)  # singular: LinAlgError, the caller redoes the step in numpy
            size = 0.0
            for q in range(n + 1):
                size += dz[q] * dz[q]
            size = math.sqrt(size)
            if not math.isfinite(size) or size > 0.3 * previous:
                break  # not contracting fast: step too long
            moved += size
            if moved > 0.2 * arc + 1e-12:
                break  # the branch bends away from the prediction
            previous = size
            for q in range(n + 1):
                z[q] = z[q] + dz[q]
        if accepted:
            branch_equations(u, sizes, aoff, roff, z, float(z[n]), x, grads, blocks, h, d_theta, d_lam)
            unit_tangent(d_theta, d_lam, tangent, jac, out_tangent)
            turn = 0.0
            for q in range(n + 1):
                turn += out_tangent[q] * tangent[q]
            if turn >= max_turn_cos:
                for q in range(n + 1):
                    out_point[q] = z[q]
                gain = 0.0
                for i in range(p):
                    top = grads[aoff[i]]
                    value = 0.0
                    for q in range(aoff[i], aoff[i + 1]):
                        out_profile[q] = x[q]
                        top = max(top, grads[q])
                        value += grads[q] * x[q]
                    gain += top - value
                grow = 1.5 if iterations <= 2 else 1.0
                return 1, arc, arc * grow, iterations, gain
        arc *= 0.5
    for q in range(n + 1):
        out_tangent[q] = tangent[q]
    return 0, arc, arc, 0, math.nan


# ---------------------------------------------------------------------------------- polish


@numba.njit(cache=True, error_model="numpy")
def support_newton(
    u: NDArray[np.float64],
    sizes: NDArray[np.int64],
    aoff: NDArray[np.int64],
    support: NDArray[np.int64],
    soff: NDArray[np.int64],
    start: NDArray[np.float64],
    out: NDArray[np.float64],
) -> bool:
    """Newton on the support equations; the profile into ``out [T]``, ``False`` when rejected.

    ``support`` ``[S]`` lists each player's support actions (player ``i``'s at ``soff[i]:soff[i+1]``,
    increasing). Unknowns ``y [S + P]``: the support probabilities and one value ``v_i`` per player;
    equations ``g_i,a(x) = v_i`` on the support and ``sum x_i = 1``. Same start, stopping rule and
    acceptance as the numpy twin ``gamesolve.solvers.homotopy._support_newton_numpy``.
    """
    p = sizes.shape[0]
    t = aoff[p]
    total = soff[p]
    x = np.zeros(t)
    grads = np.empty(t)
    blocks = np.empty((t, t))
    for i in range(p):
        mass = 0.0
        for r in range(soff[i], soff[i + 1]):
            x[aoff[i] + support[r]] = max(start[aoff[i] + support[r]], 0.0)
        for b in range(sizes[i]):
            mass += x[aoff[i] + b]
        count = soff[i + 1] - soff[i]
        for r in range(soff[i], soff[i + 1]):
            q = aoff[i] + support[r]
            x[q] = x[q] / mass if mass > 0 else 1.0 / count
    _support_derivatives(u, sizes, aoff, support, soff, x, grads, blocks)
    y = np.zeros(total + p)
    for i in range(p):
        v = 0.0
        for r in range(soff[i], soff[i + 1]):
            q = aoff[i] + support[r]
            y[r] = x[q]
            v += grads[q] * x[q]
        y[total + i] = v
    f = np.empty(total + p)
    jac = np.empty((total + p, total + p))
    residual = math.inf
    new_residual = math.inf
    converged = False
    for _ in range(50):
        for q in range(t):
            x[q] = 0.0
        for i in range(p):
            for r in range(soff[i], soff[i + 1]):
                x[aoff[i] + support[r]] = y[r]
        _support_derivatives(u, sizes, aoff, support, soff, x, grads, blocks)
        for r in range(total + p):
            for c in range(total + p):
                jac[r, c] = 0.0
        new_residual = 0.0
        for i in range(p):
            mass = 0.0
            for r in range(soff[i], soff[i + 1]):
                f[r] = grads[aoff[i] + support[r]] - y[total + i]
                mass += y[r]
                jac[r, total + i] = -1.0
                jac[total + i, r] = 1.0
                for j in range(p):
                    if j == i:
                        continue
                    for c in range(soff[j], soff[j + 1]):
                        jac[r, c] = blocks[aoff[i] + support[r], aoff[j] + support[c]]
            f[total + i] = mass - 1.0
        for q in range(total + p):
            v = abs(f[q])
            if v > new_residual or v != v:
                new_residual = v
        if not math.isfinite(new_residual):
            return False
        if new_residual <= 1e-15 or (new_residual >= 0.5 * residual and new_residual <= 1e-12):
            converged = True
            break  # converged to working precision
        residual = new_residual
        if _singular(jac):  # the numpy twin's LinAlgError branch
            dy = np.linalg.lstsq(jac, -f, _EPS * (total + p))[0]
            step = 0.0
            for q in range(total + p):
                step = max(step, abs(dy[q]))
            if step <= STUCK_STEP and new_residual >= STUCK_RESIDUAL:
                return False  # stuck on a singular system: the 50 iterations could not converge
        else:
            dy = np.linalg.solve(jac, -f)
        for q in range(total + p):
            y[q] = y[q] + dy[q]
    if not converged or new_residual > 1e-11:
        return False
    for q in range(t):
        out[q] = 0.0
    for i in range(p):
        for r in range(soff[i], soff[i + 1]):
            if y[r] < -1e-10:
                return False  # the support guess is wrong: the equilibrium leaves the simplex
        mass = 0.0
        for r in range(soff[i], soff[i + 1]):
            out[aoff[i] + support[r]] = max(y[r], 0.0)
        for b in range(sizes[i]):
            mass += out[aoff[i] + b]
        for b in range(sizes[i]):
            out[aoff[i] + b] /= mass
    return True
