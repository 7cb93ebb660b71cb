"""Load games by name: native games by short name, everything else through OpenSpiel.

Game strings use OpenSpiel's syntax: ``name`` or ``name(param=value,...)``. Native games
(``kuhn``, ``leduc`` and the normal-form catalog: ``rps``, ``chicken``, ...) are resolved first; a
string ending in ``.nfg`` is read as a Gambit strategic-game file; any other string is handed to
OpenSpiel, so every OpenSpiel game with explicit chance and information-state strings loads.

Entry points are strings (``"module:function"``) resolved on first use, so importing gamesolve
imports neither the ``games`` package nor OpenSpiel.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gamesolve.errors import GameNotFoundError

__all__ = [
    "GameEntry",
    "SolverEntry",
    "available_games",
    "available_solvers",
    "load_game",
    "make_solver",
    "parse_game_string",
]


@dataclass(frozen=True)
class GameEntry:
    """A native game the registry knows by name."""

    name: str
    entry_point: str
    description: str
    parameters: str = ""


#: The normal-form catalog of ``gamesolve.games.normal_form`` (one function per game, named as the game).
_NORMAL_FORM_CATALOG: tuple[tuple[str, str], ...] = (
    ("rps", "Rock-paper-scissors (zero-sum; NE uniform, value 0)"),
    ("brps", "Biased rock-paper-scissors (zero-sum; NE (1,10,5)/16, value 0)"),
    ("matching_pennies", "Matching pennies (zero-sum; NE (1/2,1/2), value 0)"),
    ("amp", "Asymmetric matching pennies [[2,-1],[-1,1]] (zero-sum; NE (0.4,0.6), value 0.2)"),
    ("chicken", "Chicken, dare/chicken: u1 DD 0, DC 7, CD 2, CC 6; u2 = u1^T"),
    ("prisoners_dilemma", "Prisoner's dilemma (T=5, R=3, P=1, S=0; NE defect)"),
    ("battle_of_the_sexes", "Battle of the sexes (3/2 and 2/3 on the diagonal)"),
    ("shapley", "Shapley's 3x3 cyclic general-sum game (unique NE uniform)"),
    ("stag_hunt", "Stag hunt (stag 4, hare 3 or 2, lone stag 0)"),
)

#: The Markov games of ``gamesolve.games.markov``: (name, description, parameters).
_MARKOV_CATALOG: tuple[tuple[str, str, str], ...] = (
    ("two_state", "Markov: two-state zero-sum test game (V(s0) = (70 - 20 sqrt 10) / 9)", "discount=0.9"),
    ("repeated", "Markov: a matrix game played forever (value val / (1 - gamma))", "stage=amp, discount=0.9"),
    (
        "soccer",
        "Markov: Littman's grid soccer, point-symmetric start (kickoff value 0)",
        "rows=4, cols=5, discount=0.9",
    ),
    ("pursuit_evasion", "Markov: pursuer and evader on a grid (zero-sum)", "size=4, discount=0.95, radius=1"),
    (
        "random_markov",
        "Markov: seeded random stochastic game with sparse transitions",
        "states=100, actions=5, successors=4, seed=0, discount=0.9, players=2, zero_sum=true",
    ),
    ("fishery", "Markov: N-player general-sum commons (harvesting a shared stock)", "players=3, levels=6"),
)

_NATIVE: dict[str, GameEntry] = {
    e.name: e
    for e in (
        GameEntry(
            "kuhn",
            "gamesolve.games.kuhn:load",
            "Kuhn poker for N players (same infoset keys as OpenSpiel's kuhn_poker)",
            "players=2",
        ),
        GameEntry(
            "leduc",
            "gamesolve.games.leduc:load",
            "Generalized Leduc hold'em (same infoset keys as OpenSpiel's leduc_poker at defaults)",
            "ranks=3, suits=2, raises=2, raise_sizes=2/4, ante=1",
        ),
        *(GameEntry(n, f"gamesolve.games.normal_form:{n}", d) for n, d in _NORMAL_FORM_CATALOG),
        *(GameEntry(n, f"gamesolve.games.markov:{n}", d, p) for n, d, p in _MARKOV_CATALOG),
        GameEntry(
            "crowd_aversion",
            "gamesolve.games.mean_field:crowd_aversion",
            "Mean-field: crowd aversion on N states (2: stay/move; N >= 3: ring, left/stay/right)",
            "states=2, crowd_weight=1, move_cost=0.1, bias=0, slip=0, congestion=0, tau=0.5, gamma=0.9",
        ),
    )
}

_GAME_STRING = re.compile(r"^\s*([A-Za-z_][\w\-]*)\s*(?:\((.*)\))?\s*$", re.DOTALL)


def _shown(text: str, limit: int = 100) -> str:
    """``repr(text)``, shortened so that a message stays one readable line."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[: limit * 2 // 3]!r}...({len(text):,} characters)"


def _short(value: str) -> str:
    """A parameter value for a message: itself, or its start when it is long."""
    return value if len(value) <= 30 else f"{value[:20]}..."


def _split_parameters(body: str, text: str) -> list[str]:
    """Split ``body`` at the commas outside parentheses (values may be nested game strings)."""
    parts: list[str] = []
    depth = 0
    start = 0
    for i, char in enumerate(body):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise GameNotFoundError(f"unbalanced ')' in game string {_shown(text)}")
        elif char == "," and depth == 0:
            parts.append(body[start:i])
            start = i + 1
    if depth != 0:
        raise GameNotFoundError(f"unbalanced '(' in game string {_shown(text)}")
    parts.append(body[start:])
    return parts


def parse_game_string(text: str) -> tuple[str, dict[str, str]]:
    """Split ``"name(a=1,b=x)"`` into ``("name", {"a": "1", "b": "x"})`` (values stay strings).

    A value may itself be a game string (``"turn_based_simultaneous_game(game=goofspiel(num_cards=
    3,players=2))"``): commas inside parentheses do not separate parameters.

    Raises:
        GameNotFoundError: The string is not of that form, or names a parameter twice (at any
            level of nesting).
    """
    if not isinstance(text, str):
        raise GameNotFoundError(f"game must be a game string, got {type(text).__name__}")
    match = _GAME_STRING.match(text)
    if not match:
        raise GameNotFoundError(f"cannot parse game string {_shown(text)}; expected name or name(k=v,...)")
    name, body = match.group(1), match.group(2)
    params: dict[str, str] = {}
    if body and body.strip():
        for part in _split_parameters(body, text):
            key, sep, value = part.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not key:
                raise GameNotFoundError(
                    f"bad parameter {_shown(part.strip(), 40)} in game string {_shown(text)}; expected k=v"
                )
            if key in params:
                raise GameNotFoundError(
                    f"parameter {key!r} is given twice in game string {_shown(text)} "
                    f"({key}={_short(params[key])} and {key}={_short(value)})"
                )
            nested = _GAME_STRING.match(value)
            if nested and nested.group(2) is not None:
                parse_game_string(value)  # a nested game string: same rules
            params[key] = value
    return name, params


def _resolve(entry_point: str) -> Callable[..., Any]:
    module, _, attr = entry_point.partition(":")
    return getattr(importlib.import_module(module), attr)


def load_game(name: str | os.PathLike[str], **params: Any) -> Any:
    """Load a game from a game string.

    Args:
        name: A native game (``"kuhn"``, ``"leduc(ranks=13,suits=4)"``, ``"rps"``), the path of a
            Gambit ``.nfg`` file, or any OpenSpiel game string (``"leduc_poker"``,
            ``"kuhn_poker(players=3)"``, ``"liars_dice"``).
        **params: Extra parameters for native games (merged over those in the string).

    Returns:
        A game object implementing the extensive-form protocol with a cached ``compile()``, or a
        :class:`~gamesolve.normal_form.TensorGame` for normal-form catalog games and ``.nfg`` files.

    Raises:
        GameNotFoundError: Unknown name, missing ``.nfg`` file, or bad parameters.
        MalformedGameError: An ``.nfg`` file that breaks the format.
    """
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if not isinstance(name, str) or not name.strip():
        raise GameNotFoundError(f"game must be a non-empty game string, got {name!r}")
    if name.strip().lower().endswith(".nfg"):
        if params:
            raise GameNotFoundError(f"keyword parameters do not apply to the game file {name!r}")
        if not os.path.isfile(name.strip()):
            raise GameNotFoundError(f"game file {name!r} does not exist or is not a file")
        return _resolve("gamesolve.games.nfg:read")(name.strip())
    short, string_params = parse_game_string(name)
    entry = _NATIVE.get(short)
    if entry is not None:
        merged: dict[str, Any] = {**string_params, **params}
        factory = _resolve(entry.entry_point)
        _check_parameter_names(short, factory, merged)
        try:
            return factory(**merged)
        except TypeError as exc:
            raise GameNotFoundError(f"bad parameters for game {short!r}: {exc}") from None
    if params:
        raise GameNotFoundError("keyword parameters apply only to native games; put them in the game string")
    openspiel = importlib.import_module("gamesolve.games.openspiel")
    return openspiel.load(name.strip())


def _check_parameter_names(game: str, factory: Callable[..., Any], params: dict[str, Any]) -> None:
    """Refuse parameters the game's entry point does not take, listing the ones it does."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return
    accepted = [
        p.name
        for p in signature.parameters.values()
        if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    ]
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
        return
    unknown = [k for k in params if k not in accepted]
    if unknown:
        takes = f"it takes {', '.join(accepted)}" if accepted else "it takes no parameters"
        raise GameNotFoundError(f"game {game!r} has no parameter {unknown[0]!r}; {takes}")


def available_games(*, include_openspiel: bool = True) -> list[tuple[str, str]]:
    """``(name, description)`` of every loadable game: native ones, then OpenSpiel's."""
    out = [(f"{e.name}({e.parameters})" if e.parameters else e.name, e.description) for e in _NATIVE.values()]
    if include_openspiel:
        openspiel = importlib.import_module("gamesolve.games.openspiel")
        out.extend((n, "OpenSpiel") for n in openspiel.registered_names())
    return out


@dataclass(frozen=True)
class SolverEntry:
    """A solver the registry knows by name: an entry point and fixed keyword arguments.

    Some names (``"mmd"``, ``"omwu"``, ``"mirror-prox"``, ...) denote one method that exists for
    normal-form and for extensive-form games; ``extensive`` then names the entry used when the game
    is extensive-form (``entry_point`` serves normal-form games).
    """

    name: str
    entry_point: str
    description: str
    kwargs: tuple[tuple[str, Any], ...] = ()
    extensive: SolverEntry | None = None

    def for_game(self, game: Any) -> SolverEntry:
        """The entry that applies to ``game`` (``None``: the normal-form one, if there is one)."""
        if self.extensive is None:
            return self
        if game is None or _is_normal_form(game):
            return self if self.entry_point else self.extensive
        return self.extensive


def _ef(name: str, entry_point: str, description: str, **kwargs: Any) -> SolverEntry:
    """The extensive-form side of a name shared with a normal-form method."""
    return SolverEntry(name, entry_point, description, tuple(kwargs.items()))


def _is_normal_form(game: Any) -> bool:
    from gamesolve.normal_form import TensorGame
    from gamesolve.preference import PreferenceGame

    return isinstance(game, TensorGame | PreferenceGame)


_SOLVERS: dict[str, SolverEntry] = {
    e.name: e
    for e in (
        SolverEntry(
            "cfr",
            "gamesolve.solvers.cfr:CFR",
            "vanilla CFR (regret matching, uniform average)",
            (("variant", "cfr"),),
        ),
        SolverEntry(
            "cfr+",
            "gamesolve.solvers.cfr:CFR",
            "CFR+ (regret matching+, linear average)",
            (("variant", "cfr+"),),
        ),
        SolverEntry(
            "lcfr",
            "gamesolve.solvers.cfr:CFR",
            "linear CFR (DCFR with alpha=beta=gamma=1)",
            (("variant", "lcfr"),),
        ),
        SolverEntry(
            "dcfr",
            "gamesolve.solvers.cfr:CFR",
            "discounted CFR (alpha=1.5, beta=0, gamma=2)",
            (("variant", "dcfr"),),
        ),
        SolverEntry(
            "pcfr+",
            "gamesolve.solvers.cfr:CFR",
            "predictive CFR+ (quadratic average)",
            (("variant", "pcfr+"),),
        ),
        SolverEntry(
            "mccfr-es", "gamesolve.solvers.mccfr:ExternalSamplingMCCFR", "Monte Carlo CFR, external sampling"
        ),
        SolverEntry(
            "mccfr-os", "gamesolve.solvers.mccfr:OutcomeSamplingMCCFR", "Monte Carlo CFR, outcome sampling"
        ),
        SolverEntry(
            "balanced-ftrl",
            "gamesolve.solvers.bandit_ftrl:BalancedFTRL",
            "Balanced FTRL, trajectory feedback (average; 2p0s extensive form)",
        ),
        SolverEntry(
            "adaptive-ftrl",
            "gamesolve.solvers.bandit_ftrl:AdaptiveFTRL",
            "Adaptive FTRL, trajectory feedback (average; 2p0s extensive form)",
        ),
        SolverEntry(
            "lp", "gamesolve.solvers.lp:ZeroSumLP", "two-player zero-sum Nash equilibrium by LP (HiGHS)"
        ),
        SolverEntry(
            "sequence-lp",
            "gamesolve.solvers.sequence_lp:SequenceFormLP",
            "two-player zero-sum extensive-form Nash equilibrium by sequence-form LP (HiGHS)",
        ),
        SolverEntry("xfp", "gamesolve.solvers.xfp:XFP", "extensive-form fictitious play (average)"),
        SolverEntry(
            "psro",
            "gamesolve.solvers.psro:PSRO",
            "PSRO: best-response oracles + meta-solver (nash = Double Oracle, uniform, prd, alpharank, "
            "ce, cce, anytime)",
        ),
        SolverEntry(
            "neupl",
            "gamesolve.solvers.neupl:NeuPL",
            "NeuPL: one conditional network for a whole population (PSRO-N / FSP / self-play graphs; "
            "symmetric 2p zero-sum)",
        ),
        SolverEntry(
            "fsp",
            "gamesolve.solvers.psro:PSRO",
            "fictitious self-play: PSRO with the uniform meta-solver",
            (("meta_solver", "uniform"),),
        ),
        SolverEntry(
            "self-play",
            "gamesolve.solvers.psro:PSRO",
            "iterated best response: PSRO against the newest member",
            (("meta_solver", "self-play"),),
        ),
        SolverEntry(
            "shapley", "gamesolve.solvers.markov:ShapleyIteration", "Shapley value iteration (Markov games)"
        ),
        SolverEntry(
            "minimax-q", "gamesolve.solvers.markov:MinimaxQ", "tabular minimax-Q self-play (Markov games)"
        ),
        SolverEntry(
            "minimax-dqn", "gamesolve.solvers.markov_dqn:MinimaxDQN", "Minimax-DQN in torch (Markov games)"
        ),
        SolverEntry(
            "pma",
            "gamesolve.solvers.pma:PolicyMirrorAscent",
            "policy mirror ascent, entropy-regularized mean-field games (last iterate, linear rate)",
        ),
        SolverEntry(
            "enumerate", "gamesolve.solvers.two_player:EquilibriumEnumeration", "all equilibria (2 players)"
        ),
        SolverEntry(
            "lemke-howson", "gamesolve.solvers.two_player:LemkeHowson", "one equilibrium by Lemke-Howson"
        ),
        SolverEntry(
            "homotopy",
            "gamesolve.solvers.homotopy:NashHomotopy",
            "one Nash equilibrium of an N-player game (logit homotopy, polished to exact)",
        ),
        SolverEntry(
            "nash-mp", "gamesolve.solvers.preference:NashMirrorProx", "Nash mirror-prox on a preference game"
        ),
        SolverEntry("egpo", "gamesolve.solvers.preference:EGPO", "extragradient preference optimization"),
        SolverEntry(
            "preference-mwu", "gamesolve.solvers.preference:PreferenceSelfPlay", "unregularized MWU self-play"
        ),
        SolverEntry(
            "preference-omwu",
            "gamesolve.solvers.preference:PreferenceSelfPlay",
            "unregularized optimistic MWU self-play",
            (("optimistic", True),),
        ),
        SolverEntry(
            "regret-matching",
            "gamesolve.solvers.dynamics:RegretMatching",
            "regret matching (average converges)",
        ),
        SolverEntry(
            "rm+",
            "gamesolve.solvers.dynamics:RegretMatching",
            "regret matching+, alternating updates, linear averaging (CFR+ on a matrix game)",
            (("plus", True), ("averaging", 1.0), ("alternating", True)),
        ),
        SolverEntry(
            "hedge", "gamesolve.solvers.dynamics:MirrorDescent", "Hedge / multiplicative weights (average)"
        ),
        SolverEntry(
            "omd",
            "gamesolve.solvers.dynamics:MirrorDescent",
            "projected gradient / Euclidean OMD (average)",
            (("geometry", "euclidean"),),
            _ef(
                "omd",
                "gamesolve.solvers.dilated:DilatedOMD",
                "dilated-entropy online mirror descent (average)",
            ),
        ),
        SolverEntry(
            "ftrl",
            "gamesolve.solvers.dynamics:MirrorDescent",
            "follow the regularized leader (average)",
            (("lazy", True),),
            _ef("ftrl", "gamesolve.solvers.dilated:DilatedOMD", "dilated-entropy FTRL (average)", lazy=True),
        ),
        SolverEntry(
            "omwu",
            "gamesolve.solvers.dynamics:MirrorDescent",
            "optimistic MWU (last iterate)",
            (("optimistic", True),),
            _ef(
                "omwu",
                "gamesolve.solvers.dilated:DilatedOMD",
                "dilated optimistic OMD (last iterate)",
                optimistic=True,
            ),
        ),
        SolverEntry(
            "extragradient",
            "gamesolve.solvers.dynamics:ExtraGradient",
            "extragradient, Euclidean (last iterate)",
            extensive=_ef(
                "extragradient",
                "gamesolve.solvers.dilated:DilatedMirrorProx",
                "dilated-entropy extragradient (last iterate)",
                output="last",
            ),
        ),
        SolverEntry(
            "mirror-prox",
            "gamesolve.solvers.dynamics:ExtraGradient",
            "mirror-prox, entropic (average)",
            (("geometry", "entropy"),),
            _ef(
                "mirror-prox",
                "gamesolve.solvers.dilated:DilatedMirrorProx",
                "dilated-entropy mirror-prox (average)",
            ),
        ),
        SolverEntry(
            "ogda",
            "gamesolve.solvers.dynamics:ExtraGradient",
            "optimistic gradient / Popov (last iterate)",
            (("popov", True),),
        ),
        SolverEntry(
            "aog",
            "gamesolve.solvers.dynamics:AcceleratedOptimisticGradient",
            "accelerated optimistic gradient (last)",
        ),
        SolverEntry(
            "mmd",
            "gamesolve.solvers.dynamics:MagneticMirrorDescent",
            "magnetic mirror descent (last iterate, QRE)",
            extensive=_ef(
                "mmd",
                "gamesolve.solvers.dilated:DilatedMMD",
                "dilated MMD, annealed temperature (last iterate -> Nash; anneal=0 for a QRE)",
                anneal=1,
            ),
        ),
        SolverEntry(
            "fictitious-play",
            "gamesolve.solvers.dynamics:FictitiousPlay",
            "fictitious play (empirical average)",
        ),
        SolverEntry(
            "smooth-fp",
            "gamesolve.solvers.dynamics:FictitiousPlay",
            "smooth fictitious play (logit QRE)",
            (("temperature", 0.1),),
        ),
        SolverEntry(
            "replicator", "gamesolve.solvers.dynamics:Replicator", "replicator dynamics (time average)"
        ),
        SolverEntry(
            "projected-replicator",
            "gamesolve.solvers.dynamics:Replicator",
            "projected replicator dynamics",
            (("projected", True),),
        ),
        SolverEntry("qre", "gamesolve.solvers.dynamics:LogitQRE", "logit quantal response equilibrium"),
        SolverEntry(
            "ne-loss-sgd", "gamesolve.solvers.dynamics:NashLossSGD", "Gemp et al. NE loss minimized by SGD"
        ),
        SolverEntry(
            "internal-regret",
            "gamesolve.solvers.dynamics:InternalRegret",
            "internal regret matching (empirical joint play -> correlated equilibrium)",
        ),
        SolverEntry(
            "ce",
            "gamesolve.solvers.correlated:CorrelatedLP",
            "optimal correlated equilibrium (LP)",
            (("kind", "ce"),),
        ),
        SolverEntry(
            "cce",
            "gamesolve.solvers.correlated:CorrelatedLP",
            "optimal coarse correlated equilibrium (LP)",
            (("kind", "cce"),),
        ),
    )
}


def available_solvers() -> list[tuple[str, str]]:
    """``(name, description)`` of every registered solver."""
    return [
        (e.name, e.description + (f"; extensive form: {e.extensive.description}" if e.extensive else ""))
        for e in _SOLVERS.values()
    ]


def parse_options(
    items: list[str] | tuple[str, ...] | None, *, flags: dict[str, Any] | tuple[str, ...] = ()
) -> dict[str, Any]:
    """Solver options from ``KEY=VALUE`` strings (values read as JSON when they parse, else text).

    ``nan``, ``inf`` and ``-inf`` (any case) are read as floats, so that the solver's check can say
    that the option must be finite rather than that it got a string.

    Args:
        items: The ``--set`` arguments.
        flags: Options the command sets through flags of its own (``meta_solver`` for
            ``--meta-solver``); ``--set`` may not give them a second time.

    Raises:
        InvalidArgumentError: An item without ``=``, with an empty key, a key given twice, or a key
            that one of ``flags`` sets.
    """
    from gamesolve.errors import InvalidArgumentError

    options: dict[str, Any] = {}
    for item in items or ():
        key, sep, raw = item.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or not key:
            raise InvalidArgumentError(f"--set expects KEY=VALUE, got {item!r}")
        if key in options:
            raise InvalidArgumentError(f"--set {key} is given twice")
        if key in flags:
            flag = "--" + key.replace("_", "-")
            raise InvalidArgumentError(f"--set {key}=... repeats the {flag} flag; give it once, as {flag}")
        if raw.strip().lower().lstrip("+-") in ("nan", "inf", "infinity"):
            options[key] = float(raw.strip().lower().replace("infinity", "inf"))
            continue
        try:
            options[key] = json.loads(raw)
        except json.JSONDecodeError:
            options[key] = raw
    return options


def make_solver(name: str, *, game: Any = None, **options: Any) -> Any:
    """Build a configured solver from its registry name (``"cfr+"``, ``"mccfr-os"``, ...).

    Args:
        name: Registry name.
        game: The game it will run on, when known. Names shared by a normal-form and an
            extensive-form method (``"mmd"``, ``"omwu"``, ...) pick the extensive-form one for any
            game that is not a normal-form or preference game; without a game the normal-form one.
        **options: The solver's configuration.

    Raises:
        InvalidArgumentError: Unknown name (the message lists the known ones), an unknown option
            (the message lists the solver's options) or an option the solver refuses; the message
            names the solver, e.g. ``bad options for solver 'dcfr': alpha must be a finite number,
            got nan``.
    """
    import difflib
    import inspect

    from gamesolve.errors import GamesolveError, InvalidArgumentError

    entry = _SOLVERS.get(name.strip().lower()) if isinstance(name, str) else None
    if entry is None:
        known = ", ".join(sorted(_SOLVERS))
        raise InvalidArgumentError(f"unknown solver {name!r}; known solvers: {known}")
    entry = entry.for_game(game)
    factory = _resolve(entry.entry_point)
    fixed = dict(entry.kwargs)
    try:
        parameters = list(inspect.signature(factory).parameters.values())
    except (TypeError, ValueError):  # pragma: no cover - a factory without a signature
        parameters = []
    if parameters and not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        accepted = [
            p.name
            for p in parameters
            if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
        ]
        unknown = [key for key in options if key not in accepted]
        if unknown:
            close = difflib.get_close_matches(unknown[0], accepted, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            listed = ", ".join(p for p in accepted if p not in fixed) or "none"
            raise InvalidArgumentError(
                f"bad options for solver {name!r}: unknown option {unknown[0]!r}{hint}; "
                f"known options: {listed}"
            )
    try:
        return factory(**{**fixed, **options})
    except TypeError as exc:
        if isinstance(exc, GamesolveError):  # UnsupportedGame is a TypeError too
            raise
        raise InvalidArgumentError(f"bad options for solver {name!r}: {exc}") from None
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"bad options for solver {name!r}: {exc}") from None
