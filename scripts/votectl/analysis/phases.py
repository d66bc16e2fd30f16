"""Analysis phases and the controller's worst-first ordering of them."""

from __future__ import annotations

PENDING = "Pending"
RUNNING = "Running"
SUCCESSFUL = "Successful"
INCONCLUSIVE = "Inconclusive"
ERROR = "Error"
FAILED = "Failed"

COMPLETED = (SUCCESSFUL, FAILED, ERROR, INCONCLUSIVE)
# Best to worst, as utils/analysis/helpers.go orders them to pick a run's phase.
_ORDER = (SUCCESSFUL, RUNNING, PENDING, INCONCLUSIVE, ERROR, FAILED)


def is_completed(phase: str) -> bool:
    return phase in COMPLETED


def is_worse(current: str, candidate: str) -> bool:
    """True when `candidate` is worse than `current`."""
    return _ORDER.index(candidate) > _ORDER.index(current)
