"""Shared fixtures: OpenSpiel games loaded once per session, seeded random generators.

Loading goes through :func:`gamesolve.load_game`; ``compile()`` caches on the game object, so a
session-scoped game is walked once no matter how many tests use it (Liar's Dice takes about 1.5 s).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import gamesolve

#: OpenSpiel game strings of the games the core suite runs on, by fixture name.
GAME_STRINGS: dict[str, str] = {
    "kuhn": "kuhn_poker",
    "kuhn3": "kuhn_poker(players=3)",
    "leduc": "leduc_poker",
    "liars_dice": "liars_dice",
}

_LOADED: dict[str, Any] = {}


def load_cached(name: str) -> Any:
    """``gamesolve.load_game(name)``, loaded and compiled once per test session."""
    game = _LOADED.get(name)
    if game is None:
        game = gamesolve.load_game(name)
        game.compile()
        _LOADED[name] = game
    return game


@pytest.fixture(scope="session")
def game_loader() -> Callable[[str], Any]:
    """A function ``name -> loaded game`` that caches across the session."""
    return load_cached


@pytest.fixture(scope="session")
def kuhn() -> Any:
    """OpenSpiel ``kuhn_poker`` (two players)."""
    return load_cached(GAME_STRINGS["kuhn"])


@pytest.fixture(scope="session")
def kuhn3() -> Any:
    """OpenSpiel ``kuhn_poker(players=3)``."""
    return load_cached(GAME_STRINGS["kuhn3"])


@pytest.fixture(scope="session")
def leduc() -> Any:
    """OpenSpiel ``leduc_poker``."""
    return load_cached(GAME_STRINGS["leduc"])


@pytest.fixture(scope="session")
def liars_dice() -> Any:
    """OpenSpiel ``liars_dice`` (compiled once: about 295k histories)."""
    return load_cached(GAME_STRINGS["liars_dice"])


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip ``gpu``-marked tests where torch sees no CUDA device (torch imported only if some are)."""
    del config
    gpu = [item for item in items if item.get_closest_marker("gpu") is not None]
    if not gpu:
        return
    try:
        import torch

        available = bool(torch.cuda.is_available())
    except ImportError:
        available = False
    if not available:
        skip = pytest.mark.skip(reason="needs a CUDA device (torch sees none)")
        for item in gpu:
            item.add_marker(skip)


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh generator with a fixed seed, so each test sees the same draws."""
    return np.random.default_rng(20240611)
