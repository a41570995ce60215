"""The survey life cycle as data: which state changes are allowed and what each one does.

A survey code has versions; each version is ``draft``, ``live`` or ``closed``. Editing a draft
replaces it; editing a live or closed survey makes a new draft version. Publishing a draft makes
it live and closes the version that was live, so at most one version of a code takes answers;
answers keep the version they were given on.
"""

from __future__ import annotations

from typing import Final

from cxo.errors import Conflict

TRANSITIONS: Final[dict[tuple[str, str], tuple[str, ...]]] = {
    ("draft", "live"): ("close_other_live", "stamp_published"),
    ("live", "closed"): ("stamp_closed",),
    ("closed", "live"): ("require_latest", "close_other_live", "stamp_published"),
}
STATES: Final = ("draft", "live", "closed")


def plan_transition(previous: str, new: str) -> tuple[str, ...]:
    """The actions moving a survey version from ``previous`` to ``new``; refuse anything else."""
    try:
        return TRANSITIONS[(previous, new)]
    except KeyError:
        allowed = ", ".join(n for (p, n) in TRANSITIONS if p == previous) or "none"
        raise Conflict(
            f"A {previous} survey cannot become {new}.",
            hint=f"From {previous} it can become: {allowed}.",
        ) from None
