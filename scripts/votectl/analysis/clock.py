"""Clocks for the reconcile loop: real time, or virtual time that jumps to the next due measurement.

A virtual clock makes `--replay` (instant queries at t0 + k*interval from Prometheus history) and the
tests run in milliseconds while keeping every timestamp the controller would have used.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float: ...

    def sleep_until(self, moment: float) -> None: ...

    def interrupt(self) -> None:
        """Wake a sleeper early (e.g. the run was asked to terminate from another thread)."""


class RealClock:
    """Wall-clock time; `sleep_until` can be cut short by `interrupt()`."""

    def __init__(self) -> None:
        self._wake = threading.Event()

    def now(self) -> float:
        return time.time()

    def sleep_until(self, moment: float) -> None:
        self._wake.wait(max(0.0, moment - time.time()))
        self._wake.clear()

    def interrupt(self) -> None:
        self._wake.set()


class VirtualClock:
    """Time that only moves when the loop sleeps: sleeping to t sets now to t at once."""

    def __init__(self, start: float) -> None:
        self._now = start

    def now(self) -> float:
        return self._now

    def sleep_until(self, moment: float) -> None:
        self._now = max(self._now, moment)

    def interrupt(self) -> None:
        """Nothing sleeps in virtual time."""
