"""LiteEFG (Liu et al. 2024, C++ with a Python graph API) as an optional peer of the benchmarks.

LiteEFG builds from source (``pip install LiteEFG`` compiles its C++ core and pulls JAX), so it is
not a dependency of any extra: the benchmarks that race it call :func:`load` and skip its column,
saying why, when it is missing. Its CFR+ is the one shipped in ``LiteEFG.baselines.CFRplus``
(regret matching+, alternating updates, evaluated at the linearly weighted average), the same rule
as gamesolve's ``cfr+`` and OpenSpiel's ``CFRPlusSolver``.
"""

from __future__ import annotations

import contextlib
import io
import logging
from typing import Any

log = logging.getLogger(__name__)

#: LiteEFG's name for the average that CFR+ reports (weights 1, 2, ..., t).
AVERAGE = "linear-avg-iterate"


def load() -> tuple[Any, str]:
    """``(LiteEFG module, version)``, or ``(None, reason)`` when it cannot be imported."""
    try:
        import LiteEFG
    except ImportError as exc:
        return None, f"LiteEFG is not installed ({exc}); 'pip install LiteEFG' builds it from source"
    from experiments._common import package_version

    return LiteEFG, package_version("LiteEFG")


class CFRPlus:
    """LiteEFG's CFR+ on an OpenSpiel game, stepped one iteration at a time.

    Args:
        game_string: An OpenSpiel game string (``"leduc_poker"``, ``"liars_dice"``).
    """

    def __init__(self, game_string: str) -> None:
        import pyspiel

        leg, why = load()
        if leg is None:
            raise RuntimeError(why)
        from LiteEFG.baselines.CFRplus import graph

        # Its graph constructor prints a banner; keep the benchmark's own output readable.
        with contextlib.redirect_stdout(io.StringIO()):
            self.graph = graph()
            self.env = leg.OpenSpielEnv(pyspiel.load_game(game_string), traverse_type="Enumerate")
            self.env.set_graph(self.graph)
        self.iterations = 0

    def step(self, count: int = 1) -> None:
        """Run ``count`` iterations (both players update once per iteration, alternating)."""
        for _ in range(count):
            self.graph.update_graph(self.env)
            self.env.update_strategy(self.graph.current_strategy(), update_best=False)
        self.iterations += count

    def show_uniform(self) -> None:
        """Hand the starting (uniform) strategy to the environment, to evaluate it before any step."""
        if self.iterations:
            raise RuntimeError("the strategy has moved off uniform")
        self.env.update_strategy(self.graph.current_strategy(), update_best=False)

    def nash_conv(self, which: str = AVERAGE) -> float:
        """Exact NashConv (the sum of both players' best-response gains) of ``which`` strategy."""
        return float(sum(self.env.exploitability(self.graph.current_strategy(), which)))

    def exploitability(self, which: str = AVERAGE) -> float:
        """NashConv over the number of players (OpenSpiel's and gamesolve's convention)."""
        return self.nash_conv(which) / 2.0
