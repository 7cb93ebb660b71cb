"""The shape of the library's code, read from its source (no imports, no timing).

* no module imports another module's private names (``from m import _x``, ``import m._x``,
  ``m._x`` on an imported gamesolve module): what is shared is public where it lives;
* every module of the library stays under :data:`MAX_LINES` lines, except the cohesive kernels
  listed in :data:`LONG_KERNELS` with the reason;
* node codes are defined once (``gamesolve.kernels.tree``) and tree kernels take the
  :class:`~gamesolve.kernels.tree.TreeArrays` bundle, never the compiled game's arrays one by one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LIBRARY = ("gamesolve", "games", "solvers")  # gamesolve/games and gamesolve/solvers link to the last two

#: A module longer than this mixes several jobs unless it is one cohesive kernel.
MAX_LINES = 800

#: Modules allowed above MAX_LINES, with the reason.
LONG_KERNELS = {
    "gamesolve/kernels/dilated.py": "the treeplex kernels of one family of first-order methods",
}

TREE_FIELDS = (
    "node_player",
    "node_infoset",
    "node_first_child",
    "node_num_children",
    "node_prob",
    "terminal_node",
    "terminal_utility",
    "infoset_num_actions",
    "infoset_first_seq",
)


def _modules() -> list[Path]:
    out: list[Path] = []
    for top in LIBRARY:
        for path in sorted((ROOT / top).rglob("*.py")):
            relative = path.relative_to(ROOT)
            if relative.parts[:2] in {("gamesolve", "games"), ("gamesolve", "solvers")}:
                continue  # links to games/ and solvers/, read there
            out.append(relative)
    return out


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _private_imports(path: Path, root: Path = ROOT) -> list[str]:
    tree = ast.parse((root / path).read_text(), filename=str(path))
    found: list[str] = []
    module_aliases: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if any(_private(part) for part in alias.name.split(".")):
                    found.append(f"line {node.lineno}: import {alias.name}")
                if alias.name.split(".")[0] == "gamesolve":
                    module_aliases.add(alias.asname or "gamesolve")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "__future__":
                continue
            if any(_private(part) for part in node.module.split(".")):
                found.append(f"line {node.lineno}: from {node.module} import ...")
            for alias in node.names:
                if _private(alias.name):
                    found.append(f"line {node.lineno}: from {node.module} import {alias.name}")
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and _private(node.attr)
            and isinstance(node.value, ast.Name)
            and node.value.id in module_aliases
        ):
            found.append(f"line {node.lineno}: {node.value.id}.{node.attr}")
    return found


def test_the_reader_finds_private_imports(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import gamesolve.kernels.cfr as k\n"
        "from gamesolve.kernels.cfr import _hidden, visible\n"
        "from gamesolve.solvers._helpers import thing\n"
        "x = k._secret\n"
        "y = self._fine = 1\n"
    )
    found = _private_imports(Path("sample.py"), root=tmp_path)
    assert found == [
        "line 2: from gamesolve.kernels.cfr import _hidden",
        "line 3: from gamesolve.solvers._helpers import ...",
        "line 4: k._secret",
    ]


@pytest.mark.parametrize("path", _modules(), ids=str)
def test_no_private_imports_across_modules(path):
    assert _private_imports(path) == []


def test_modules_stay_small():
    long = {}
    for path in _modules():
        lines = len((ROOT / path).read_text().splitlines())
        if lines > MAX_LINES and str(path) not in LONG_KERNELS:
            long[str(path)] = lines
    assert long == {}, f"split these along their concepts (or declare a cohesive kernel): {long}"
    for name in LONG_KERNELS:
        assert (ROOT / name).exists(), f"{name} is declared long but does not exist"


def test_node_codes_are_defined_once():
    defining = []
    for path in _modules():
        tree = ast.parse((ROOT / path).read_text())
        for node in tree.body:
            if isinstance(node, ast.Assign) and isinstance(node.value, (ast.Constant, ast.UnaryOp)):
                for target in node.targets:
                    if isinstance(target, ast.Name) and target.id.lstrip("_") in {"CHANCE", "TERMINAL"}:
                        defining.append(str(path))
    assert defining == ["gamesolve/kernels/tree.py", "gamesolve/kernels/tree.py"]


def test_tree_kernels_take_the_bundle():
    spelled_out = []
    for path in _modules():
        if path.parts[:2] != ("gamesolve", "kernels") or path.name == "tree.py":
            continue
        tree = ast.parse((ROOT / path).read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef):
                names = {a.arg for a in node.args.args}
                fields = names.intersection(TREE_FIELDS)
                if len(fields) >= 3:
                    spelled_out.append(f"{path}:{node.name} {sorted(fields)}")
    assert spelled_out == []
