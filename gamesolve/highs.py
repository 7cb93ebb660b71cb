"""HiGHS through scipy: one silent linear-program solve, its status read as gamesolve errors.

The exact solvers (zero-sum, correlated and sequence-form LPs) and the batched matrix-game kernel's
fallback all solve their linear programs with HiGHS (Huangfu & Hall 2018, "Parallelizing the dual
revised simplex method") through :func:`scipy.optimize.linprog`; :func:`highs_linprog` sets the
tolerances and the time limit the same way for all of them and turns an infeasible, unbounded or
refused program into a :class:`~gamesolve.errors.GamesolveError` naming it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.optimize import linprog

from gamesolve.errors import GamesolveError

__all__ = ["FEASIBILITY_TOL", "highs_linprog", "transfer_seconds"]

#: HiGHS feasibility tolerances on normalized payoffs (its default, 1e-7, leaves NashConv around 1e-8
#: on Leduc's sequence-form LP).
FEASIBILITY_TOL = 1e-10


def transfer_seconds(nonzeros: int, columns: int) -> float:
    """Seconds to reserve for scipy moving an LP into HiGHS and its solution back.

    scipy converts the constraint matrix to CSC (linear in the nonzeros) and reads the bound
    multipliers column by column in Python (linear in the columns); the constants are a quarter
    to a third above what those steps take on a large sequence-form LP.
    """
    return 0.02 + 2.5e-7 * nonzeros + 1e-5 * columns


def highs_linprog(
    c: NDArray[np.float64],
    *,
    bounds: Any,
    method: str,
    what: str,
    a_ub: Any = None,
    b_ub: NDArray[np.float64] | None = None,
    a_eq: Any = None,
    b_eq: NDArray[np.float64] | None = None,
    time_limit: float | None = None,
    tolerance: float = FEASIBILITY_TOL,
    infeasible: str | None = None,
) -> Any:
    """One silent HiGHS solve through :func:`scipy.optimize.linprog`.

    Args:
        c: ``[V]`` objective coefficients (minimized).
        bounds: Variable bounds, as for ``linprog``.
        method: ``"highs"``, ``"highs-ds"`` or ``"highs-ipm"``.
        what: The LP's name for messages ("the zero-sum LP").
        a_ub: Inequality matrix ``A_ub x <= b_ub`` (dense or sparse), or ``None``.
        b_ub: Its right-hand side.
        a_eq: Equality matrix ``A_eq x = b_eq``, or ``None``.
        b_eq: Its right-hand side.
        time_limit: Seconds HiGHS may run (``None``: no limit). With a limit, presolve is off:
            HiGHS's presolve does not look at the clock (on a 133,000-row sequence-form LP it
            ran 12 s past a 2 s limit).
        tolerance: Primal and dual feasibility tolerance.
        infeasible: What an infeasible LP means, for the message (``None``: a generic one).

    Returns:
        scipy's ``OptimizeResult`` of an optimal solve, or ``None`` when the time limit stopped
        HiGHS (it then hands back no point).

    Raises:
        GamesolveError: HiGHS or scipy refuse the data, or the LP is infeasible or unbounded.
    """
    options: dict[str, Any] = {
        "primal_feasibility_tolerance": tolerance,
        "dual_feasibility_tolerance": tolerance,
        "disp": False,
    }
    if method == "highs-ipm":
        options["ipm_optimality_tolerance"] = 1e-12
    if time_limit is not None:
        options["time_limit"] = max(float(time_limit), 1e-3)
        options["presolve"] = False
    try:
        res = linprog(
            c, A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b_eq, bounds=bounds, method=method, options=options
        )
    except ValueError as exc:  # scipy's input checks (should not happen on normalized data)
        raise GamesolveError(f"scipy refused {what}: {exc}") from None
    if res.status == 1:
        return None
    if res.status == 2 and infeasible is not None:
        raise GamesolveError(f"{what} is infeasible: {infeasible}")
    if res.status != 0 or res.x is None:
        raise GamesolveError(f"HiGHS could not solve {what}: {res.message}")
    return res
