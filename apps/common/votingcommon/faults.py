"""Fault injection for rehearsals (VOTE_FAULT_* on vote, RESULT_FAULT_* on result): failures and latency
that the request metrics count like real ones, so an analysis sees a bad release as it would in a cluster.

`<PREFIX>_FAULT_AFTER_SECONDS` delays the faults from process start: a release that degrades under load
after a while. `<PREFIX>_FAULT_AFTER_FILE` holds them until that file exists: `votectl rehearse
--faults-when-live` creates it the moment the instance takes the live traffic, so a release that degrades
after the switch (what a blue-green post-promotion analysis exists to catch) fails at a known moment,
however long the pre-promotion analysis took.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass

from werkzeug.exceptions import InternalServerError

from votingcommon.config import Env, env_float, env_int


@dataclass(frozen=True)
class FaultSettings:
    rate: float = 0.0  # share of requests answered 500
    latency_ms: int = 0  # added to every request
    after_seconds: float = 0.0  # no fault before this long after start
    after_file: str = ""  # no fault before this file exists ("": no such condition)

    @classmethod
    def from_env(cls, env: Env, prefix: str) -> FaultSettings:
        return cls(
            rate=env_float(env, f"{prefix}_FAULT_RATE", 0.0, 0.0, 1.0),
            latency_ms=env_int(env, f"{prefix}_FAULT_LATENCY_MS", 0, 0, 60_000),
            after_seconds=env_float(env, f"{prefix}_FAULT_AFTER_SECONDS", 0.0, 0.0, 86_400.0),
            after_file=env.get(f"{prefix}_FAULT_AFTER_FILE", "").strip(),
        )


class FaultInjector:
    def __init__(self, settings: FaultSettings) -> None:
        self._rate = settings.rate
        self._latency = settings.latency_ms / 1000
        self._from = time.monotonic() + settings.after_seconds
        self._after_file = settings.after_file

    def apply(self) -> None:
        if not (self._rate or self._latency) or not self._armed():
            return
        if self._latency:
            time.sleep(self._latency)
        if self._rate and random.random() < self._rate:
            # imported here: the configs import this module in gunicorn's master, which must not load the
            # metrics (and prometheus-client) before PROMETHEUS_MULTIPROC_DIR is set for the workers
            from votingcommon.web import mark_error

            mark_error("injected")
            raise InternalServerError("injected fault")

    def _armed(self) -> bool:
        if time.monotonic() < self._from:
            return False
        if self._after_file:
            if not os.path.exists(self._after_file):
                return False
            self._after_file = ""  # once armed, armed for good: no stat per request from here
        return True
