"""``import gamesolve`` stays light: heavy and optional packages load only on first use."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "ray", "open_spiel", "pyspiel")
PLUGINS = ("gamesolve.games", "gamesolve.solvers")


def _heavy(module: str) -> bool:
    return module.split(".")[0] in HEAVY or module.startswith(PLUGINS) or module in ("games", "solvers")


def _modules_after(code: str) -> set[str]:
    script = f"import json, sys\n{code}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_import_gamesolve_is_light():
    loaded = _modules_after("import gamesolve")
    assert "gamesolve" in loaded
    heavy = sorted(m for m in loaded if _heavy(m))
    assert heavy == []


def test_public_api_is_reachable_without_heavy_imports():
    loaded = _modules_after(
        "import gamesolve\n"
        "names = [gamesolve.nash_conv, gamesolve.TabularPolicy, gamesolve.load_game]\n"
        "names += [gamesolve.CompiledGame, gamesolve.best_response, gamesolve.exploitability]"
    )
    assert not [m for m in loaded if _heavy(m)]


def test_loading_an_openspiel_game_imports_the_adapter_on_demand():
    # The control: the check above would be vacuous if the adapter were never importable.
    loaded = _modules_after("import gamesolve\ngamesolve.load_game('kuhn_poker')")
    assert {"gamesolve.games", "gamesolve.games.openspiel", "pyspiel"} <= loaded
    assert "torch" not in loaded and "ray" not in loaded
    # One import root: the plug-ins load as gamesolve.games / gamesolve.solvers, never as
    # top-level packages of their own.
    assert "games" not in loaded and "solvers" not in loaded


def test_import_gamesolve_loads_neither_numba_nor_scipy():
    loaded = _modules_after("import gamesolve")
    assert not [m for m in loaded if m.split(".")[0] in ("numba", "scipy", "numpy")]


def test_every_public_name_resolves_and_lists():
    import gamesolve

    missing = [name for name in gamesolve.__all__ if name != "NeuralPolicy" and not hasattr(gamesolve, name)]
    assert missing == []
    assert set(gamesolve.__all__) <= set(dir(gamesolve))
    assert gamesolve.markov.__name__ == "gamesolve.markov"  # a submodule, as before


def test_functions_named_like_their_submodules_stay_functions():
    import importlib.util

    import gamesolve

    clash = {n for n in gamesolve._LAZY if importlib.util.find_spec(f"gamesolve.{n}") is not None}
    assert clash == set(gamesolve._SHADOWED)
    for name in clash:
        importlib.import_module(f"gamesolve.{name}")  # binding the submodule must not replace the function
        assert callable(getattr(gamesolve, name)), name
