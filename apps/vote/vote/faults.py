"""Fault injection for canary rehearsals: failures and latency that metrics count like real ones."""

from __future__ import annotations

import random
import time

from votingcommon.web import mark_error
from werkzeug.exceptions import InternalServerError


class FaultInjector:
    def __init__(self, rate: float, latency_ms: int) -> None:
        self._rate = rate
        self._latency = latency_ms / 1000

    def apply(self) -> None:
        if self._latency:
            time.sleep(self._latency)
        if self._rate and random.random() < self._rate:
            mark_error("injected")
            raise InternalServerError("injected fault")
