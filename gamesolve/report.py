"""The exploitability report shared by every game class."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["ExploitabilityReport"]


@dataclass(frozen=True)
class ExploitabilityReport:
    """Exact NashConv of a profile and its parts.

    Attributes:
        nash_conv: Sum over players of what each gains by best-responding (>= 0; the duality gap
            in two-player zero-sum normal-form games).
        exploitability: ``nash_conv / num_players``.
        on_policy_values: ``[P]`` expected utility of every player under the profile.
        best_response_values: ``[P]`` expected utility of each player when it alone best-responds.
        best_responses: Per player, its best response: for extensive-form games the profile with
            that player best-responding (a :class:`~gamesolve.policy.TabularPolicy`), for
            normal-form games the best pure action (lowest index on ties).
    """

    nash_conv: float
    exploitability: float
    on_policy_values: tuple[float, ...]
    best_response_values: tuple[float, ...]
    best_responses: tuple[Any, ...]

    @property
    def improvements(self) -> tuple[float, ...]:
        """What each player gains by deviating to its best response."""
        return tuple(b - v for b, v in zip(self.best_response_values, self.on_policy_values, strict=True))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary (best-response policies are left out; pure actions are kept)."""
        out: dict[str, Any] = {
            "nash_conv": self.nash_conv,
            "exploitability": self.exploitability,
            "on_policy_values": list(self.on_policy_values),
            "best_response_values": list(self.best_response_values),
        }
        if all(isinstance(b, int) for b in self.best_responses):
            out["best_responses"] = list(self.best_responses)
        return out
