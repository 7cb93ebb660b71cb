"""Plug-ins register themselves through entry points; the core names none of them.

The core (``gamesolve/*.py`` and ``gamesolve/kernels/``) reaches games and solvers only through
the registry's entry-point groups, so a third-party distribution can add a game or a solver
exactly as the bundled ones do. The tests below read the core's imports, install tiny
distributions into a temporary folder on ``sys.path``, and check that a lookup imports only the
module that declares the name.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

import gamesolve
from gamesolve import registry
from gamesolve.errors import GameNotFoundError, InvalidArgumentError, PluginError

ROOT = Path(__file__).resolve().parents[1]
CORE = sorted([*(ROOT / "gamesolve").glob("*.py"), *(ROOT / "gamesolve" / "kernels").glob("*.py")])
PLUGIN_PACKAGES = ("gamesolve.games", "gamesolve.solvers")


# ------------------------------------------------------------------------------ the core names no plug-in


def _names_a_plugin(module: str) -> bool:
    return any(module == p or module.startswith((p + ".", p + ":")) for p in PLUGIN_PACKAGES)


_IMPORTERS = ("import_module", "__import__", "find_spec")


def _leading_text(node: ast.expr) -> str | None:
    """The text a string argument starts with (a constant, or an f-string's first part)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value)
    return None


def _plugin_references(path: Path) -> list[str]:
    """Every import of gamesolve.games / gamesolve.solvers in ``path``, static or by a string.

    Strings count when they are the module argument of ``importlib.import_module`` (or
    ``__import__``, ``find_spec``), or when they name a module inside a plug-in package
    (``"gamesolve.solvers.cfr"``, ``"gamesolve.games.kuhn:load"``); the bare names of the
    entry-point groups (``"gamesolve.games"``) are not imports.
    """
    tree = ast.parse(path.read_text(), filename=str(path))
    package = "gamesolve.kernels" if path.parent.name == "kernels" else "gamesolve"
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, f"import {a.name}") for a in node.names if _names_a_plugin(a.name)]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the module's package
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            if any(_names_a_plugin(t) for t in [module] + [f"{module}.{a.name}" for a in node.names]):
                found.append((node.lineno, f"from {module} import {', '.join(a.name for a in node.names)}"))
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            text = _leading_text(node.args[0])
            if called in _IMPORTERS and text is not None and _names_a_plugin(text.strip()):
                found.append((node.lineno, f"{called}({text!r})"))
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            text = node.value.strip()
            if _names_a_plugin(text) and text not in PLUGIN_PACKAGES and " " not in text:
                found.append((node.lineno, f"string {node.value!r}"))
    return sorted({f"{path.relative_to(path.parents[1])}:{line}: {ref}" for line, ref in found})


def test_the_checker_sees_every_form_of_import(tmp_path):
    source = tmp_path / "sample.py"
    source.write_text(
        "import importlib\n"
        "import gamesolve.games.kuhn\n"
        "from gamesolve.solvers import cfr\n"
        "from gamesolve import games\n"
        "from .solvers.psro import PSRO\n"
        "def f(name):\n"
        "    from gamesolve.games.openspiel import load\n"
        "    importlib.import_module(f'gamesolve.solvers.{name}')\n"
        "    return importlib.import_module('gamesolve.games')\n"
        "ENTRY = 'gamesolve.games.kuhn:load'\n"
        "GROUP = 'gamesolve.solvers'  # an entry-point group's name, not an import\n"
        "import gamesolve.registry\n"
        "'''Docstrings may mention gamesolve.solvers.cfr in prose.'''\n"
    )
    refs = _plugin_references(source)
    assert {int(r.split(":")[1]) for r in refs} == {2, 3, 4, 5, 7, 8, 9, 10}, refs
    assert not any("'gamesolve.solvers'" in r or "Docstrings" in r or "registry" in r for r in refs)


def test_the_core_imports_no_plugin():
    assert len(CORE) > 30 and all(p.parent.name in ("gamesolve", "kernels") for p in CORE)
    offending = [ref for path in CORE for ref in _plugin_references(path)]
    assert offending == [], "the core must reach plug-ins through the registry:\n" + "\n".join(offending)


# ------------------------------------------------------------------------------ names and laziness

GAMES = {
    "kuhn", "leduc", "rps", "brps", "matching_pennies", "amp", "chicken", "prisoners_dilemma",
    "battle_of_the_sexes", "shapley", "stag_hunt", "two_state", "repeated", "soccer",
    "pursuit_evasion", "random_markov", "fishery", "crowd_aversion",
}  # fmt: skip
SOLVERS = {
    "cfr", "cfr+", "lcfr", "dcfr", "pcfr+", "mccfr-es", "mccfr-os", "balanced-ftrl", "adaptive-ftrl",
    "lp", "sequence-lp", "xfp", "psro", "league", "neupl", "fsp", "self-play", "shapley", "minimax-q",
    "deep-cfr", "minimax-dqn", "pma", "enumerate", "lemke-howson", "homotopy", "nash-mp", "egpo",
    "preference-mwu", "preference-omwu", "regret-matching", "rm+", "hedge", "omd", "ftrl", "omwu",
    "extragradient", "mirror-prox", "ogda", "aog", "mmd", "fictitious-play", "smooth-fp", "replicator",
    "projected-replicator", "ppo", "qre", "ne-loss-sgd", "internal-regret", "ce", "cce", "escher", "nfsp",
    "rnad", "neural-mmd",
}  # fmt: skip
SHARED = {"omd", "ftrl", "omwu", "extragradient", "mirror-prox", "mmd"}


def test_every_name_is_published_once():
    assert set(registry.game_names()) == GAMES
    assert set(registry.solver_names()) == SOLVERS
    assert len(registry.game_names()) == len(GAMES) and len(registry.solver_names()) == len(SOLVERS)
    assert set(dict(gamesolve.available_solvers())) == SOLVERS
    shared = {name for name in SOLVERS if registry.solver_entry(name).extensive is not None}
    assert shared == SHARED
    for name in SHARED:
        entry = registry.solver_entry(name)
        assert entry.extensive is not None and entry.extensive.name == name
        normal = gamesolve.make_solver(name)
        extensive = gamesolve.make_solver(name, game=gamesolve.load_game("kuhn"))
        assert isinstance(normal, entry.factory) and isinstance(extensive, entry.extensive.factory)
        assert type(normal).__module__.startswith("gamesolve.solvers.dynamics.")
        assert type(extensive).__module__ == "gamesolve.solvers.dilated"


def _modules_after(code: str) -> set[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120, cwd=ROOT
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def _plugins(modules: set[str]) -> set[str]:
    return {m for m in modules if m.startswith(("gamesolve.games.", "gamesolve.solvers."))}


def test_a_lookup_imports_only_the_module_that_declares_the_name():
    loaded = _modules_after("import gamesolve\ngamesolve.load_game('kuhn(players=3)')")
    assert _plugins(loaded) == {"gamesolve.games.kuhn", "gamesolve.games.params", "gamesolve.games.poker"}
    # Leduc's template compiler loads on the first compile, not with the game.
    loaded = _modules_after("import gamesolve\ngamesolve.load_game('leduc')")
    assert _plugins(loaded) == {"gamesolve.games.leduc", "gamesolve.games.params", "gamesolve.games.poker"}
    loaded = _modules_after("import gamesolve\ngamesolve.make_solver('cfr+')")
    assert _plugins(loaded) == {"gamesolve.solvers.cfr", "gamesolve.solvers.common"}
    loaded = _modules_after("import gamesolve.cli\ngamesolve.cli.build_parser()")
    assert _plugins(loaded) == set()


# ------------------------------------------------------------------------------ third-party plug-ins

PLUGIN = '''
"""A third-party plug-in: one game and one solver, each declared next to what it declares."""

from typing import Any

import numpy as np

from gamesolve.checkpoint import StateRules
from gamesolve.errors import UnsupportedGame
from gamesolve.normal_form import MixedProfile, TensorGame, zero_sum
from gamesolve.registry import GameEntry, SolverEntry
from gamesolve.solver import Iterate, IterativeSolver
from gamesolve.spec import GameKind


def pennies(stake: Any = 1) -> TensorGame:
    s = float(stake)
    return zero_sum([[s, -s], [-s, s]], name="{game}")


class Uniform(IterativeSolver):
    name = "{solver}"
    output = Iterate.CURRENT
    state_rules = StateRules(counter="t")

    def __init__(self, *, label: str = "u") -> None:
        self.label = label

    def config(self) -> dict[str, Any]:
        return {{"label": self.label}}

    def prepare(self, game: Any) -> Any:
        return game

    def check(self, spec: Any) -> None:
        if spec.kind is not GameKind.NORMAL_FORM:
            raise UnsupportedGame("{solver} plays normal-form games")

    def init(self, game: Any, rng: Any) -> dict[str, Any]:
        return {{"t": np.zeros((), dtype=np.int64)}}

    def step(self, game: Any, state: dict[str, Any], iterations: int = 1) -> None:
        state["t"] = np.asarray(int(state["t"]) + iterations, dtype=np.int64)

    def policy(self, game: Any, state: dict[str, Any], which: Iterate) -> MixedProfile:
        return MixedProfile.of(game, [np.full(n, 1.0 / n) for n in game.num_actions])


GAME = GameEntry("{game}", pennies, "Matching pennies for a stake (plug-in)", "stake=1")
SOLVER = SolverEntry("{solver}", Uniform, "uniform play (plug-in)")
'''


def _install(root: Path, dist: str, package: str, game: str, solver: str) -> None:
    """A distribution as pip leaves it in site-packages: the package and its ``.dist-info``."""
    (root / package).mkdir()
    (root / package / "__init__.py").write_text(PLUGIN.format(game=game, solver=solver))
    info = root / f"{dist.replace('-', '_')}-0.1.dist-info"  # the folder name as pip normalizes it
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text(
        f"[gamesolve.games]\n{game} = {package}:GAME\n\n[gamesolve.solvers]\n{solver} = {package}:SOLVER\n"
    )


@pytest.fixture
def site(tmp_path, monkeypatch):
    """A folder on ``sys.path`` to install distributions into; the registry reads it afresh."""
    monkeypatch.syspath_prepend(str(tmp_path))
    registry.clear_cache()
    yield tmp_path
    for name in [m for m in sys.modules if m.startswith("plug_")]:
        del sys.modules[name]
    registry.clear_cache()


def test_a_third_party_distribution_adds_a_game_and_a_solver(site):
    assert "plug_pennies" not in registry.game_names()
    _install(site, "plug-demo", "plug_demo", "plug_pennies", "plug-uniform")
    assert "plug_pennies" not in registry.game_names()  # the registry reads entry points once ...
    registry.clear_cache()  # ... until its cache is dropped
    assert "plug_pennies" in registry.game_names() and "plug-uniform" in registry.solver_names()
    assert "plug_demo" not in sys.modules  # listing names imports nothing

    game = gamesolve.load_game("plug_pennies(stake=3)")
    assert game.payoffs[0, 0, 0] == 3.0 and "plug_demo" in sys.modules
    result = gamesolve.solve(game, "plug-uniform", iterations=4, label="v", progress=False)
    assert result.solver == "plug-uniform" and result.iterations == 4 and result.config["label"] == "v"
    assert result.exploitability == pytest.approx(0.0, abs=1e-12)  # uniform play is the equilibrium

    games = dict(gamesolve.available_games(include_openspiel=False))
    assert games["plug_pennies(stake=1)"] == "Matching pennies for a stake (plug-in)"
    assert dict(gamesolve.available_solvers())["plug-uniform"] == "uniform play (plug-in)"
    assert "kuhn(players=2)" in games and "cfr+" in dict(gamesolve.available_solvers())

    with pytest.raises(GameNotFoundError, match="has no parameter 'bet'; it takes stake"):
        gamesolve.load_game("plug_pennies(bet=2)")
    with pytest.raises(InvalidArgumentError, match=r"unknown option 'lable'.*did you mean 'label'"):
        gamesolve.make_solver("plug-uniform", lable="x")
    with pytest.raises(InvalidArgumentError, match=r"unknown solver 'nope'; known solvers: .*plug-uniform"):
        gamesolve.make_solver("nope")


def test_a_name_published_twice_is_an_error_naming_both(site):
    _install(site, "plug-one", "plug_one", "plug_twice", "plug-twice")
    _install(site, "plug-two", "plug_two", "plug_twice", "plug-twice")
    registry.clear_cache()
    with pytest.raises(
        PluginError, match=r"'plug_twice'.*plug-one \(plug_one:GAME\).*plug-two \(plug_two:GAME\)"
    ):
        gamesolve.load_game("plug_twice")
    with pytest.raises(PluginError, match=r"'plug-twice'.*plug-one \(plug_one:SOLVER\).*plug-two"):
        gamesolve.make_solver("plug-twice")
    with pytest.raises(PluginError, match="plug-one"):
        gamesolve.available_solvers()
    # Names nobody else claims stay usable.
    assert gamesolve.make_solver("cfr+").config()["variant"] == "cfr+"


def test_an_entry_point_that_is_not_a_declaration_is_refused(site):
    _install(site, "plug-bad", "plug_bad", "plug_bad_game", "plug-bad")
    info = site / "plug_bad-0.1.dist-info" / "entry_points.txt"
    info.write_text("[gamesolve.games]\nplug_bad_game = plug_bad:pennies\nplug_renamed = plug_bad:GAME\n")
    registry.clear_cache()
    with pytest.raises(PluginError, match=r"'plug_bad_game'.*plug-bad.*is a function, not a GameEntry"):
        gamesolve.load_game("plug_bad_game")
    with pytest.raises(PluginError, match="declares the name 'plug_bad_game'"):
        gamesolve.load_game("plug_renamed")
