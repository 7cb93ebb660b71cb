"""The solver contract is written down once, and the smallest complete solver follows it.

``MatrixRegretMatching`` below is the whole of a working iterative solver: regret matching for
two-player matrix games in about forty lines. It runs through :func:`gamesolve.solve` with budgets,
checkpoints and exact resume, and its checkpoints are validated like every other solver's. The
last tests read the run loop's source and check that every hook it calls is declared on the
contract classes, so a new hook cannot be added to the loop without being written down.
"""

from __future__ import annotations

import ast
import inspect
from typing import Any

import numpy as np
import pytest

import gamesolve
import gamesolve.run
from gamesolve.checkpoint import StateRules, load_checkpoint, save_checkpoint
from gamesolve.errors import CheckpointError, GameNotFoundError, UnsupportedGame
from gamesolve.normal_form import MixedProfile, TensorGame
from gamesolve.solver import ExactSolver, Iterate, IterativeSolver, Solver
from gamesolve.spec import GameKind, GameSpec


class MatrixRegretMatching(IterativeSolver):
    """Regret matching (Hart & Mas-Colell 2000) in self-play on a two-player matrix game.

    The average strategies converge to a Nash equilibrium in zero-sum games.
    """

    name = "matrix-rm"
    output = Iterate.AVERAGE
    state_rules = StateRules(counter="t", nonnegative=frozenset({"avg0", "avg1"}))

    def config(self) -> dict[str, Any]:
        return {}

    def prepare(self, game: Any) -> TensorGame:
        if not isinstance(game, TensorGame):
            raise UnsupportedGame(f"{self.name} solves matrix games, not {type(game).__name__}")
        return game

    def check(self, spec: GameSpec) -> None:
        if spec.kind is not GameKind.NORMAL_FORM or spec.num_players != 2:
            raise UnsupportedGame(f"{self.name} solves two-player matrix games")

    def init(self, game: TensorGame, rng: np.random.Generator) -> dict[str, Any]:
        a, b = game.num_actions
        return {
            "t": np.zeros((), dtype=np.int64),
            "regret0": np.zeros(a),
            "regret1": np.zeros(b),
            "avg0": np.zeros(a),
            "avg1": np.zeros(b),
        }

    @staticmethod
    def _play(regret: np.ndarray) -> np.ndarray:
        positive = np.maximum(regret, 0.0)
        total = positive.sum()
        return positive / total if total > 0 else np.full(regret.shape, 1.0 / regret.size)

    def step(self, game: TensorGame, state: dict[str, Any], iterations: int = 1) -> None:
        u0, u1 = game.payoffs  # [A, B] each
        for _ in range(iterations):
            x, y = self._play(state["regret0"]), self._play(state["regret1"])
            v0, v1 = u0 @ y, x @ u1  # each action's value against the other's strategy
            state["regret0"] += v0 - x @ v0
            state["regret1"] += v1 - v1 @ y
            state["avg0"] += x
            state["avg1"] += y
            state["t"] = np.asarray(int(state["t"]) + 1, dtype=np.int64)

    def policy(self, game: TensorGame, state: dict[str, Any], which: Iterate) -> MixedProfile:
        if which is Iterate.AVERAGE and int(state["t"]) > 0:
            parts = [state["avg0"] / state["avg0"].sum(), state["avg1"] / state["avg1"].sum()]
        else:
            parts = [self._play(state["regret0"]), self._play(state["regret1"])]
        return MixedProfile.of(game, parts)


def test_the_smallest_solver_solves_resumes_and_is_validated(tmp_path):
    rps = gamesolve.load_game("brps")  # biased rock-paper-scissors: the equilibrium is (1, 10, 5) / 16
    result = gamesolve.solve(rps, MatrixRegretMatching(), iterations=4000, progress=False)
    assert result.exploitability < 0.03 * result.history.exploitability[0]  # from 8.33 to 0.185
    np.testing.assert_allclose(result.policy.strategies[0], np.array([1, 10, 5]) / 16, atol=0.02)
    assert result.solver == "matrix-rm" and result.iterations == 4000
    # The registry's regret matching (simultaneous updates, uniform averaging) is the same method.
    library = gamesolve.solve(rps, "regret-matching", iterations=4000, progress=False)
    assert result.exploitability == pytest.approx(library.exploitability, abs=1e-9)

    path = tmp_path / "rm.npz"
    run = {"eval_every": 50, "progress": False}
    gamesolve.solve(rps, MatrixRegretMatching(), iterations=300, checkpoint=path, **run)
    resumed = gamesolve.solve(rps, MatrixRegretMatching(), iterations=600, resume=path, **run)
    direct = gamesolve.solve(rps, MatrixRegretMatching(), iterations=600, **run)
    assert resumed.history.exploitability == direct.history.exploitability
    np.testing.assert_array_equal(resumed.policy.strategies[0], direct.policy.strategies[0])

    meta, state = load_checkpoint(path)
    solver = MatrixRegretMatching()
    state["avg0"] = -state["avg0"]
    history = gamesolve.History.from_dict(meta["history"])
    save_checkpoint(
        path, game=rps, solver=solver, seed=0, iteration=300, wall_time=0.0, history=history, state=state
    )
    with pytest.raises(CheckpointError, match="array 'avg0' holds negative values"):
        gamesolve.solve(rps, solver, iterations=600, resume=path, progress=False)

    with pytest.raises(UnsupportedGame, match="two-player matrix games"):
        gamesolve.solve(gamesolve.normal_form_game(np.zeros((3, 2, 2, 2))), solver, iterations=1)


def test_objects_outside_the_contract_are_refused():
    class Impostor:
        name = "impostor"

    with pytest.raises(TypeError, match=r"deriving from gamesolve\.solver\.IterativeSolver"):
        gamesolve.solve(gamesolve.load_game("rps"), Impostor(), iterations=1)  # type: ignore[arg-type]


def test_a_solver_missing_a_hook_cannot_be_built():
    class Incomplete(IterativeSolver):
        name = "incomplete"

        def config(self) -> dict[str, Any]:
            return {}

    with pytest.raises(TypeError, match="abstract"):
        Incomplete()  # type: ignore[abstract]


def test_every_registry_solver_derives_from_the_contract():
    games = {"kuhn": gamesolve.load_game("kuhn"), "rps": gamesolve.load_game("rps")}
    for name, _ in gamesolve.available_solvers():
        for game in games.values():
            solver = gamesolve.make_solver(name, game=game)
            assert isinstance(solver, IterativeSolver | ExactSolver), name


def _attributes_used_on(source: str, names: set[str]) -> set[str]:
    """Attributes read from the variables (or ``self.<var>``) named ``names`` in ``source``."""
    used = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute):
            base = node.value
            named = isinstance(base, ast.Name) and base.id in names
            if named or (isinstance(base, ast.Attribute) and base.attr in names):
                used.add(node.attr)
    return used


def test_the_loop_calls_only_declared_hooks_and_sniffs_nothing():
    source = inspect.getsource(gamesolve.run)
    used = _attributes_used_on(source, {"algo"})
    declared = set(dir(IterativeSolver)) | set(dir(ExactSolver)) | set(dir(Solver))
    assert used, "the loop reads hooks from 'algo'"
    assert used <= declared, f"hooks the loop uses but the contract does not declare: {used - declared}"
    assert "getattr(algo" not in source and "getattr(self.algo" not in source
    assert "hasattr(" not in source


def test_solve_loads_a_game_string_first():
    by_name = gamesolve.solve("kuhn_poker", "cfr+", iterations=20, progress=False)
    by_game = gamesolve.solve(gamesolve.load_game("kuhn_poker"), "cfr+", iterations=20, progress=False)
    assert by_name.exploitability == by_game.exploitability
    assert gamesolve.solve("rps", "lp", progress=False).exploitability == pytest.approx(0.0, abs=1e-9)
    with pytest.raises(GameNotFoundError):
        gamesolve.solve("no_such_game", "cfr", iterations=1, progress=False)


def test_a_run_evaluates_only_where_asked_and_once_at_the_end():
    """No evaluation asked before the last iteration: the history holds one row, the final report's."""
    game = gamesolve.load_game("kuhn")
    result = gamesolve.solve(game, "cfr+", iterations=3, eval_every=10, progress=False)
    assert result.history.iteration == (3,)
    assert result.history.exploitability[-1] == result.exploitability
    full = gamesolve.solve(game, "cfr+", iterations=4, eval_every=2, progress=False)
    assert full.history.iteration == (0, 2, 4)  # the start, where asked, and the end (once)
    assert full.history.exploitability[-1] == full.exploitability
