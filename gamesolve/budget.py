"""Memory budget: refuse work that would not fit, up front, with an estimate.

Every game that allocates from user-given sizes (a deck of ``ranks * suits`` cards, ``states=``,
``players=``, the strategy counts in an ``.nfg`` header, an OpenSpiel tree) estimates the memory it
needs from its parameters, before allocating anything, and calls :func:`require_memory`. Work that
needs more than the budget fails at once with :class:`~gamesolve.errors.GameTooLargeError`, whose
one-line message gives the estimate, the budget and how to raise it, instead of running for minutes
and dying of ``MemoryError`` (or taking the machine down with it).

The budget, in order of precedence:

1. :func:`memory_budget` (a context manager) or :func:`set_memory_budget` (process-wide);
2. the environment variable ``GAMESOLVE_MEMORY_BUDGET``: bytes, a size with a unit (``"8G"``,
   ``"512MiB"``, ``"1.5T"``; units are powers of 1024) or a share of the machine's memory
   (``"75%"``);
3. otherwise half of the machine's memory (the physical memory, or the container's limit when it
   is lower), or 4 GiB when that cannot be read.

Expansion of a game tree whose size cannot be computed in advance is bounded by
:func:`node_budget`: the number of histories the generic compiler can hold within the budget.

>>> with memory_budget("64M"):
...     get_memory_budget()
67108864
>>> parse_memory_size("1.5G")
1610612736
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import math
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gamesolve.errors import GameTooLargeError, InvalidArgumentError

__all__ = [
    "DEFAULT_FRACTION",
    "ENV_VAR",
    "GENERIC_BYTES_PER_NODE",
    "MAX_INDEX",
    "IndexLimitError",
    "SizeEstimate",
    "format_bytes",
    "get_memory_budget",
    "machine_memory",
    "memory_budget",
    "node_budget",
    "parse_memory_size",
    "require_memory",
    "set_memory_budget",
]

log = logging.getLogger(__name__)

#: Environment variable that sets the budget (bytes, ``8G``, ``512MiB``, ``75%``).
ENV_VAR = "GAMESOLVE_MEMORY_BUDGET"
#: Share of the machine's memory used as the budget when nothing else sets it.
DEFAULT_FRACTION = 0.5
#: Machine memory assumed when it cannot be read (the budget is then half of it).
_FALLBACK_MEMORY = 8 * 1024**3
#: Peak bytes per history of :func:`gamesolve.compiled.compile_game` (node arrays while walking and
#: after the breadth-first relayout, the payoff rows, the sequence pass), measured with tracemalloc
#: on Kuhn (2-5 players), Leduc and Liar's dice: 128 to 138; add 4 per player. Information-set keys
#: come on top, per infoset.
GENERIC_BYTES_PER_NODE = 128
#: Most nodes (or infosets, sequences) a compiled game can index: ids are int32.
MAX_INDEX = 2**31 - 1

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "m": 1024**2,
    "g": 1024**3,
    "t": 1024**4,
    "p": 1024**5,
}
_SIZE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:e[+-]?[0-9]+)?)\s*([kmgtp]?)(?:i?b)?\s*$", re.IGNORECASE)
_PERCENT = re.compile(r"^\s*([0-9]*\.?[0-9]+)\s*%\s*$")


def _count(n: int) -> str:
    """``"301,845,761"``, or ``"10^440"`` beyond 10**15."""
    return f"{n:,}" if n < 10**15 else f"10^{len(str(int(n))) - 1}"


class IndexLimitError(GameTooLargeError):
    """The game has more histories than int32 ids can index; no memory budget makes it fit."""


@dataclass(frozen=True)
class SizeEstimate:
    """What a piece of work will need, estimated from the parameters before doing it.

    Attributes:
        what: The object as the user named it (``"leduc(ranks=40,suits=4)"``).
        doing: The work, as a verb (``"compile"``, ``"build"``, ``"read"``).
        nbytes: Estimated peak bytes.
        count: The number that drives the estimate (histories, states, payoff entries).
        unit: What ``count`` counts (``"histories"``).
        exact: Whether ``count`` is exact (computed) rather than sampled.
        extra: More of the size, for the message (``"25 joint actions each"``).
    """

    what: str
    doing: str
    nbytes: int
    count: int
    unit: str
    exact: bool = True
    extra: str = ""

    @property
    def detail(self) -> str:
        """``"301,845,761 histories"`` (``"about ..."`` when sampled)."""
        text = f"{'' if self.exact else 'about '}{_count(self.count)} {self.unit}"
        return f"{text}, {self.extra}" if self.extra else text

    def require(self, *, max_index: int | None = None) -> None:
        """Refuse the work when it exceeds the budget (or ``max_index`` when given).

        Raises:
            IndexLimitError: ``count`` exceeds ``max_index``.
            GameTooLargeError: ``nbytes`` exceeds the memory budget.
        """
        if max_index is not None and self.count > max_index:
            raise IndexLimitError(
                f"{self.what} has {self.detail}, more than the 2**31 - 1 that a compiled game can "
                f"index (it would need about {format_bytes(self.nbytes)} to {self.doing})"
            )
        require_memory(self.what, self.nbytes, doing=self.doing, detail=self.detail)


_process_budget: int | None = None
_scoped_budget: contextvars.ContextVar[int | None] = contextvars.ContextVar("gamesolve_budget", default=None)


def format_bytes(n: float) -> str:
    """``n`` bytes in the largest binary unit that keeps the number >= 1 (``"11.2 GiB"``).

    Sizes of 1024 PiB and more are written as a power of ten (``"10^477 B"``).
    """
    try:
        value = float(n)
    except OverflowError:
        return f"10^{len(str(int(n))) - 1} B"
    if not math.isfinite(value):
        return "an unbounded amount"
    if value >= 1024.0**6:
        return f"10^{math.floor(math.log10(value))} B"
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(value) < 1024:
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PiB"


def _read_int(path: str) -> int | None:
    try:
        with open(path, encoding="ascii") as f:
            text = f.read().strip()
    except (OSError, UnicodeDecodeError):
        return None
    return int(text) if text.isdigit() else None


def _physical_memory() -> int | None:
    try:
        pages = os.sysconf("SC_PHYS_PAGES")
        page_size = os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        pages = page_size = -1
    if pages > 0 and page_size > 0:
        return int(pages) * int(page_size)
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError, UnicodeDecodeError):
        pass
    return None


def machine_memory() -> int | None:
    """Bytes of memory this process may use: physical memory, or a lower container limit.

    Reads ``os.sysconf`` (or ``/proc/meminfo``) and the cgroup limits (v2 ``memory.max``, v1
    ``memory.limit_in_bytes``). ``None`` when nothing can be read.
    """
    total = _physical_memory()
    for path in ("/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"):
        limit = _read_int(path)
        if limit is not None and limit > 0 and (total is None or limit < total):
            total = limit
    return total


def parse_memory_size(value: Any, *, name: str = ENV_VAR) -> int:
    """A memory size in bytes from an int, a float or a string such as ``"8G"`` or ``"75%"``.

    Units are powers of 1024 (``K``, ``M``, ``G``, ``T``, ``P``, optionally followed by ``B`` or
    ``iB``); a percentage is a share of :func:`machine_memory`.

    Raises:
        InvalidArgumentError: Not a positive size (the message names ``name``).
    """
    if isinstance(value, bool):
        raise InvalidArgumentError(f"{name} must be a memory size such as 8G or 512M, got {value!r}")
    if isinstance(value, int | float):
        number = float(value)
        factor = 1
    elif isinstance(value, str):
        text = value.strip()
        percent = _PERCENT.match(text)
        match = _SIZE.match(text)
        if percent:
            share = float(percent.group(1))
            if not 0 < share <= 100:
                raise InvalidArgumentError(f"{name} must be a share in (0%, 100%], got {value!r}")
            return max(1, int(share / 100 * (machine_memory() or _FALLBACK_MEMORY)))
        if not match:
            raise InvalidArgumentError(
                f"{name} must be a memory size in bytes or with a unit (8G, 512M, 75%), got {value!r}"
            )
        number = float(match.group(1))
        factor = _UNITS[match.group(2).lower()]
    else:
        raise InvalidArgumentError(
            f"{name} must be a memory size such as 8G or 512M, got {type(value).__name__}"
        )
    if not math.isfinite(number) or number <= 0:
        raise InvalidArgumentError(f"{name} must be a positive memory size, got {value!r}")
    size = number * factor
    if size >= 2**63:
        raise InvalidArgumentError(f"{name} is larger than any machine's memory: {value!r}")
    return max(1, int(size))


def _default_budget() -> int:
    return int(DEFAULT_FRACTION * (machine_memory() or _FALLBACK_MEMORY))


def get_memory_budget() -> int:
    """The memory budget in bytes (see the module docstring for where it comes from).

    Raises:
        InvalidArgumentError: ``GAMESOLVE_MEMORY_BUDGET`` is set to something that is not a size.
    """
    scoped = _scoped_budget.get()
    if scoped is not None:
        return scoped
    if _process_budget is not None:
        return _process_budget
    text = os.environ.get(ENV_VAR, "").strip()
    if text:
        return parse_memory_size(text)
    return _default_budget()


def set_memory_budget(value: int | float | str | None) -> None:
    """Set the budget for the whole process (``None``: back to the environment or the default).

    Args:
        value: Bytes, or a size string (``"8G"``, ``"75%"``).

    Raises:
        InvalidArgumentError: ``value`` is not a positive size.
    """
    global _process_budget
    _process_budget = None if value is None else parse_memory_size(value, name="memory budget")


@contextlib.contextmanager
def memory_budget(value: int | float | str) -> Iterator[int]:
    """Use another budget inside a ``with`` block (this thread or task only); yields it in bytes.

    Raises:
        InvalidArgumentError: ``value`` is not a positive size.
    """
    size = parse_memory_size(value, name="memory budget")
    token = _scoped_budget.set(size)
    try:
        yield size
    finally:
        _scoped_budget.reset(token)


def node_budget(bytes_per_node: float = GENERIC_BYTES_PER_NODE) -> int:
    """How many histories a tree expansion may create within the budget (at least 1)."""
    return max(1, int(get_memory_budget() // max(1.0, float(bytes_per_node))))


def _suggest(needed: float) -> str:
    """A round budget above ``needed`` bytes, written as the environment variable takes it."""
    gib = needed * 1.25 / 1024**3
    if gib < 1:
        return f"{max(1, math.ceil(needed * 1.25 / 1024**2))}M"
    if gib < 1024:
        return f"{math.ceil(gib)}G"
    return f"{math.ceil(gib / 1024)}T"


def require_memory(
    what: str, needed: float, *, doing: str = "build", detail: str = "", at_least: bool = False
) -> None:
    """Refuse (with :class:`GameTooLargeError`) work whose estimate exceeds the memory budget.

    Args:
        what: The object, as the user named it (``"leduc(ranks=40,suits=4)"``).
        needed: Estimated peak bytes of the work.
        doing: The work, as a verb (``"compile"``, ``"build"``, ``"read"``).
        detail: The size behind the estimate (``"about 301,845,761 histories"``).
        at_least: ``needed`` is a lower bound (work stopped part way), not an estimate.

    Raises:
        GameTooLargeError: ``needed`` exceeds :func:`get_memory_budget`; the one-line message gives
            the estimate, the budget and how to raise it.
    """
    budget = get_memory_budget()
    if needed <= budget:
        log.debug("%s: about %s to %s (budget %s)", what, format_bytes(needed), doing, format_bytes(budget))
        return
    size = f" ({detail})" if detail else ""
    machine = machine_memory() or _FALLBACK_MEMORY
    raise_it = f"set {ENV_VAR}={_suggest(needed)} to try anyway" if needed <= 64 * machine else ""
    if needed > machine:
        mine = f"that is {'far ' if not raise_it else ''}more than this machine's {format_bytes(machine)}"
        hint = f"{mine}; {raise_it}" if raise_it else mine
    else:
        hint = raise_it
    amount = format_bytes(needed)
    amount = (
        "an unbounded amount"
        if amount.startswith("an ")
        else f"{'at least' if at_least else 'about'} {amount}"
    )
    raise GameTooLargeError(
        f"{what} needs {amount} to {doing}{size}, more than the memory budget of "
        f"{format_bytes(budget)}; {hint}"
    )
