"""One Nash equilibrium of an N-player game by following the logit QRE principal branch.

The logit quantal response equilibria at precision ``lambda >= 0`` solve ``x_i = softmax(lambda
g_i(x_-i))`` for every player ``i`` (``g_i``: the expected payoff of each of ``i``'s pure actions).
At ``lambda = 0`` uniform play is the only solution, and for generic games the solutions through it
form one smooth curve, the principal branch, whose limit as ``lambda -> infinity`` is a Nash
equilibrium (McKelvey & Palfrey 1995, "Quantal response equilibria for normal form games", Theorem
3). Turocy 2005 ("A dynamic homotopy interpretation of the logistic quantal response equilibrium
correspondence", Games and Economic Behavior 51) traces it as a homotopy, as Gambit's ``logit``
solver does.

:class:`NashHomotopy` (registry name ``"homotopy"``) traces the branch with the path follower
:class:`gamesolve.solvers.logit_path.LogitPath` (pseudo-arclength steps in reduced
log-probabilities) until it is near an equilibrium, then polishes it by Newton's method on the
indifference equations of the support it reads off (this module's polish, with its numpy twin);
on generic games the answer is exact to machine precision.

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
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from gamesolve.kernels import homotopy as kernels
from gamesolve.normal_form import MixedProfile, TensorGame
from gamesolve.progress import progress_bar
from gamesolve.registry import SolverEntry
from gamesolve.results import History, SolveResult
from gamesolve.solver import ExactSolver
from gamesolve.solvers.common import NormalFormSolver, check_time_limit
from gamesolve.solvers.logit_path import LogitPath, payoff_derivatives_numpy
from gamesolve.solvers.lp import exact_result
from gamesolve.validation import check_int, check_real

__all__ = ["NashHomotopy", "nash_homotopy"]

log = logging.getLogger(__name__)

#: Support thresholds tried by the polish: action ``a`` is in player ``i``'s support when
#: ``x_i,a >= ratio * max_b x_i,b`` (on the branch ``x_i,a / x_i,b = exp(lambda (g_i,a - g_i,b))``).
_SUPPORT_RATIOS = (1e-2, 1e-4, 1e-6, 1e-9)
#: The polish starts once the branch point's NashConv is below this fraction of the payoff range.
_POLISH_START = 1e-2
#: A polished equilibrium farther than this (max-norm) from the branch point is rejected.
_POLISH_RADIUS = 0.1
#: Smallest cosine between the branch's heading and the way to a polished equilibrium.
_MIN_HEADING_COS = 0.95


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
    out = np.empty(int(path.aoff[-1]))
    try:
        found = kernels.support_newton(path.u, path.sizes, path.aoff, support, soff, start, out)
    except np.linalg.LinAlgError:
        with np.errstate(all="ignore"):
            return _support_newton_numpy(path.game, supports, np.split(start, path.splits), path.scale)
    return np.split(out, path.splits) if found else None


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
    grads, _ = payoff_derivatives_numpy(game, parts, scale, cross=False)
    y = np.concatenate([np.concatenate([p[s] for p, s in zip(parts, idx, strict=True)]), np.zeros(n)])
    for i in range(n):
        y[total + i] = float(grads[i][idx[i]] @ parts[i][idx[i]])
    residual = math.inf
    for _ in range(50):
        for i in range(n):
            parts[i] = np.zeros(game.num_actions[i])
            parts[i][idx[i]] = y[offs[i] : offs[i + 1]]
        grads, blocks = payoff_derivatives_numpy(game, parts, scale, cross=True)
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
            if float(np.abs(dy).max()) <= kernels.STUCK_STEP and new_residual >= kernels.STUCK_RESIDUAL:
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
        gap = path.nash_conv(np.concatenate(found))
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
    terms = int(np.prod(path.sizes)) // path.sizes + path.sizes.shape[0]  # [P] terms per sum
    eps = float(np.finfo(np.float64).eps)
    current = [tuple(s) for s in supports]
    grads = np.empty(flat.size)
    sizes = np.empty(flat.size)
    changed = False
    for _ in range(flat.size):
        kernels.payoff_gradients(path.u, path.sizes, path.aoff, flat, grads)
        kernels.payoff_gradients(np.abs(path.u), path.sizes, path.aoff, flat, sizes)
        dropped = False
        for i, support in enumerate(current):
            lo, hi = int(path.aoff[i]), int(path.aoff[i + 1])
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
    new_gap = path.nash_conv(np.concatenate(purified))
    if not new_gap <= gap:
        return found
    log.debug("purified supports %s -> %s: NashConv %.3g -> %.3g", supports, current, gap, new_gap)
    return purified, tuple(current), new_gap


# ------------------------------------------------------------------------------- the solver


def _check_tolerance(value: Any) -> float:
    return check_real("tolerance", value, minimum=0.0, maximum=1.0, min_inclusive=False, max_inclusive=False)


def _check_steps(value: Any) -> int:
    return check_int("max_steps", value, minimum=1)


class NashHomotopy(NormalFormSolver, ExactSolver):
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
        gap = path.nash_conv(flat)
        best = (gap, flat, lam)
        history: list[tuple[int, float, float]] = [(0, 0.0, gap)]
        attempts, last_attempt = 0, math.inf
        tried: set[tuple[tuple[int, ...], ...]] = set()
        bar = progress_bar(progress, desc=f"homotopy on {game.spec.name}", unit="step")
        steps = 0
        message = ""
        found: tuple[list[NDArray[np.float64]], tuple[tuple[int, ...], ...], float] | None = None
        try:
            while True:
                # -- polish when the branch point is close to an equilibrium
                # (the candidate supports are read only near an equilibrium: they cost a few µs)
                near = path.fraction(gap) <= _POLISH_START
                ordered = _supports(np.split(flat, path.splits)) if near else []
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
                step, new_flat, new_gap = path.advance(theta, lam, tangent, arc)
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
            strategies = np.split(best_flat, path.splits)
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
