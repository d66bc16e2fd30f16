"""Putting votes on the stream: the only place vote talks to Redis.

Concurrent requests of one process share round trips (group commit): the first request to arrive sends
every XADD waiting at that moment in one pipeline, and hands the next batch to the first request that
arrived meanwhile. A lone request still goes out at once; under load one round trip carries many votes,
which matters most when Redis competes with the web workers for the same CPUs.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import redis
from votingcommon import metrics
from votingcommon.votes import Vote
from votingcommon.web import mark_error
from werkzeug.exceptions import ServiceUnavailable

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 2


class _Slot:
    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields
        self.wake = threading.Event()
        self.leads = False  # this request sends the next batch
        self.finished = False
        self.result: Any = None


class VoteQueue:
    def __init__(self, client: redis.Redis, stream: str) -> None:
        self._redis = client
        self._stream = stream
        self._lock = threading.Lock()
        self._waiting: list[_Slot] = []
        self._sending = False

    def enqueue(self, vote: Vote) -> str:
        """XADD and return the stream id; a Redis failure is a 503 for the client to retry, never a drop."""
        slot = _Slot(vote.fields())
        with self._lock:
            self._waiting.append(slot)
            slot.leads = not self._sending
            self._sending = True
        while True:
            if slot.leads:
                self._send_batch()  # the batch includes this request's own vote
            if slot.finished:
                break
            slot.wake.wait()
            slot.wake.clear()
        if isinstance(slot.result, redis.RedisError):
            log.warning("enqueue failed: %s", slot.result)
            mark_error("redis")
            raise ServiceUnavailable("vote queue unavailable, retry later", retry_after=RETRY_AFTER_SECONDS)
        if isinstance(slot.result, Exception):
            raise slot.result
        metrics.ENQUEUED.labels(vote.option).inc()
        entry_id = slot.result
        return entry_id.decode("ascii") if isinstance(entry_id, bytes) else str(entry_id)

    def _send_batch(self) -> None:
        with self._lock:
            batch, self._waiting = self._waiting, []
        results: list[Any]
        try:
            pipe = self._redis.pipeline(transaction=False)
            for slot in batch:
                pipe.xadd(self._stream, slot.fields)  # type: ignore[arg-type]
            results = pipe.execute(raise_on_error=False)
        except Exception as err:  # every waiting request must get an answer, whatever failed
            results = [err] * len(batch)
        for slot, result in zip(batch, results, strict=True):
            slot.leads = False
            slot.result = result
            slot.finished = True
            slot.wake.set()
        with self._lock:
            if self._waiting:
                successor = self._waiting[0]
                successor.leads = True
                successor.wake.set()
            else:
                self._sending = False
