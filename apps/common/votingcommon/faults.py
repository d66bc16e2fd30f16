"""Fault injection for rehearsals (VOTE_FAULT_* on vote, RESULT_FAULT_* on result): failures and latency
that the request metrics count like real ones, so an analysis sees a bad canary as it would in a cluster."""

from __future__ import annotations

import random
import time

from werkzeug.exceptions import InternalServerError

from votingcommon.web import mark_error


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
