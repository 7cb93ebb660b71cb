"""One import root: the distribution installs exactly one top-level package, ``gamesolve``.

The repository keeps ``games/`` and ``solvers/`` at its top; they are the packages
``gamesolve.games`` and ``gamesolve.solvers`` (``gamesolve/games`` and ``gamesolve/solvers`` link to
them), so nothing generic named ``games`` or ``solvers`` lands in a user's site-packages.
"""

from __future__ import annotations

import configparser
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(out),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (path,) = out.glob("gamesolve-*.whl")
    return zipfile.ZipFile(path)


def test_the_wheel_has_one_top_level_package(wheel: zipfile.ZipFile) -> None:
    names = wheel.namelist()
    tops = {name.split("/")[0] for name in names}
    assert {t for t in tops if not t.endswith(".dist-info")} == {"gamesolve"}
    top_level = next(n for n in names if n.endswith(".dist-info/top_level.txt"))
    assert wheel.read(top_level).decode().split() == ["gamesolve"]


def test_the_plugins_ship_inside_it_as_files(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for module in ("gamesolve/games/kuhn.py", "gamesolve/games/openspiel.py", "gamesolve/solvers/cfr.py"):
        assert module in names
        assert wheel.read(module) == (ROOT / module.removeprefix("gamesolve/")).read_bytes()
    assert "gamesolve/py.typed" in names


def test_the_plugins_are_published_as_entry_points(wheel: zipfile.ZipFile) -> None:
    info = next(n for n in wheel.namelist() if n.endswith(".dist-info/entry_points.txt"))
    points = configparser.ConfigParser(delimiters=("=",), interpolation=None)
    points.optionxform = str  # keep the names as written
    points.read_string(wheel.read(info).decode())
    groups = {g for g in points.sections() if g.startswith("gamesolve.")}
    assert groups == {
        "gamesolve.games",
        "gamesolve.solvers",
        "gamesolve.loaders",
        "gamesolve.equilibria",
        "gamesolve.oracles",
        "gamesolve.adapters",
    }
    names = set(wheel.namelist())
    for group in sorted(groups):
        for name, value in points[group].items():
            module, _, attr = value.partition(":")
            path = module.replace(".", "/") + ".py"
            assert path in names, (group, name, value)
            defined = re.compile(rf"^(def |class )?{re.escape(attr)}\b", re.MULTILINE)
            assert defined.search(wheel.read(path).decode()), (group, name, value)
    from gamesolve import registry

    assert list(points["gamesolve.games"]) == registry.game_names()
    assert list(points["gamesolve.solvers"]) == registry.solver_names()


def test_no_source_imports_the_old_top_level_names() -> None:
    old = re.compile(r"^\s*(from|import)\s+(games|solvers)\b", re.MULTILINE)
    offenders = []
    for folder in ("gamesolve", "games", "solvers", "experiments", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            if old.search(path.read_text(encoding="utf-8")):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
