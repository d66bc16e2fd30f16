"""Waiting between retries during an outage: doubling delays with jitter, interrupted by shutdown."""

from __future__ import annotations

import random
import threading


class Backoff:
    def __init__(self, stop: threading.Event, base: float = 0.1, cap: float = 5.0) -> None:
        self._stop = stop
        self._base = base
        self._cap = cap
        self._attempt = 0

    def wait(self) -> bool:
        """Sleep before the next attempt; False when shutdown was requested meanwhile."""
        delay = min(self._cap, self._base * 2**self._attempt)
        self._attempt += 1
        return not self._stop.wait(delay * random.uniform(0.5, 1.0))

    def reset(self) -> None:
        self._attempt = 0
