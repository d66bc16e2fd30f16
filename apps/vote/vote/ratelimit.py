"""The per-client vote rate limit: fixed windows counted in this process's memory.

Measured here: flask-limiter added ~100 µs of CPU per request (a whole trivial Flask request costs ~65 µs),
and the in-memory storage of `limits` starts a timer thread every 10 ms under load (4.4% of a loaded vote
worker's samples in py-spy). Counting a fixed window needs neither: `limits` only parses the setting here.
Counters live in each gunicorn worker, so there is no Redis round trip per vote, and a client may get up to
WEB_CONCURRENCY times the limit.
"""

from __future__ import annotations

import math
import threading
import time

import limits
from werkzeug.exceptions import TooManyRequests


class _FixedWindow:
    def __init__(self, amount: int, seconds: int) -> None:
        self._amount = amount
        self._seconds = seconds
        self._window = -1
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def hit(self, client: str, now: float) -> float | None:
        """Count one hit; None when within the limit, else the seconds until the window ends."""
        window = int(now // self._seconds)
        with self._lock:
            if window != self._window:  # a new window forgets every client: memory stays bounded
                self._window = window
                self._counts = {}
            count = self._counts.get(client, 0) + 1
            self._counts[client] = count
        return None if count <= self._amount else (window + 1) * self._seconds - now


class VoteRateLimit:
    def __init__(self, spec: str) -> None:
        self._windows = [_FixedWindow(item.amount, item.get_expiry()) for item in limits.parse_many(spec)]

    def check(self, client: str) -> None:
        """Count one vote of `client`; 429 with Retry-After once any of the limits is exhausted."""
        now = time.time()
        waits = [wait for window in self._windows if (wait := window.hit(client, now)) is not None]
        if waits:
            raise TooManyRequests(
                "too many votes from this address", retry_after=max(1, math.ceil(max(waits)))
            )
