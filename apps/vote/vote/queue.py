"""Putting votes on the stream: the only place vote talks to Redis.

Concurrent requests of one process share round trips (group commit): the first request to arrive sends
every XADD waiting at that moment in one round trip, and hands the next batch to the first request that
arrived meanwhile. A lone request still goes out at once; under load one round trip carries many votes,
which matters most when Redis competes with the web workers for the same CPUs.

When the answers are in, the leader wakes only the next request of its batch, which wakes the one after it,
and so on: waking them all at once would have a dozen threads fight for the GIL only to queue up behind
it again (16 threads enqueueing against a real Redis, the loop `python -m bench vote_cpu` runs, with
in-process metrics: 29.5 -> 24.7 µs of CPU per vote).

With replicas, a vote is answered only once it is on the primary and on `wait_replicas` replicas: the
batch's XADDs and one WAIT travel in the same round trip, and a WAIT that comes back short fails every
vote of the batch (503, retried by the voter) rather than acknowledge one a failover could lose.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache
from typing import Any

import hiredis
import redis
from votingcommon import metrics
from votingcommon.connections import NotReplicated, replicas_acknowledged
from votingcommon.votes import Vote
from votingcommon.web import mark_error
from werkzeug.exceptions import ServiceUnavailable

log = logging.getLogger(__name__)
RETRY_AFTER_SECONDS = 2


class _Slot:
    def __init__(self, fields: dict[str, str]) -> None:
        self.fields = fields
        # A bare lock taken at birth and released to wake the request: a third of the cost of an Event,
        # which builds a Condition and a fresh waiter lock on every wait.
        self.wake = threading.Lock()
        self.wake.acquire()
        self.leads = False  # this request sends the next batch
        self.finished = False
        self.result: Any = None
        self.next: _Slot | None = None  # the request of the same batch this one wakes when it finishes


class VoteQueue:
    def __init__(
        self, client: redis.Redis, stream: str, wait_replicas: int = 0, wait_timeout_ms: int = 0
    ) -> None:
        self._redis = client
        self._stream = stream
        self._wait = hiredis.pack_command(("WAIT", wait_replicas, wait_timeout_ms)) if wait_replicas else b""
        self._wait_replicas = wait_replicas
        self._lock = threading.Lock()
        self._waiting: list[_Slot] = []
        self._sending = False
        self._connection: Any = None  # opened by the first batch

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
            slot.wake.acquire()
        if slot.next is not None:
            slot.next.wake.release()  # pass the wake-up along the batch
        if isinstance(slot.result, redis.RedisError):
            log.warning("enqueue failed: %s", slot.result)
            mark_error("replication" if isinstance(slot.result, NotReplicated) else "redis")
            raise ServiceUnavailable("vote queue unavailable, retry later", retry_after=RETRY_AFTER_SECONDS)
        if isinstance(slot.result, Exception):
            raise slot.result
        _enqueued(vote.option).inc()
        entry_id = slot.result
        return entry_id.decode("ascii") if isinstance(entry_id, bytes) else str(entry_id)

    def _send_batch(self) -> None:
        with self._lock:
            batch, self._waiting = self._waiting, []
        try:
            results = self._xadd_all([slot.fields for slot in batch])
        except Exception as err:  # every waiting request must get an answer, whatever failed
            results = [err] * len(batch)
        # batch[0] is always the leader (the first to arrive, or the successor picked from the front), so
        # the chain of wake-ups starts with this very request.
        for slot, following, result in zip(batch, [*batch[1:], None], results, strict=True):
            slot.leads = False
            slot.result = result
            slot.finished = True
            slot.next = following
        with self._lock:
            if self._waiting:
                successor = self._waiting[0]
                successor.leads = True
                successor.wake.release()
            else:
                self._sending = False

    def _xadd_all(self, entries: list[dict[str, str]]) -> list[Any]:
        """One round trip for the whole batch; a refused entry comes back as its error, in its place.

        Only the leading request sends, so the queue keeps one connection of its own and writes the commands
        straight to it: redis-py's Pipeline and pool checkout cost ~7 µs per batch more (objects, command
        stack, a lock and a getpid() system call). Connection errors are retried, on a reopened connection,
        by the client's own retry policy.
        """
        if self._connection is None:
            self._connection = self._redis.connection_pool.get_connection()
        connection = self._connection
        # hiredis packs each command in C; redis-py's pack_commands adds ~1.7 µs a vote around the same call.
        payload = b"".join(hiredis.pack_command(("XADD", self._stream, "*", *_flatten(f))) for f in entries)
        replies = len(entries) + (1 if self._wait else 0)
        results = connection.retry.call_with_retry(
            lambda: _round_trip(connection, payload + self._wait, replies),
            lambda _error: connection.disconnect(),
        )
        if self._wait:
            try:
                replicas_acknowledged(results.pop(), self._wait_replicas)
            except redis.RedisError as err:
                return [err] * len(entries)
        return results


@lru_cache(maxsize=256)  # options are validated against the configured polls: a bounded set
def _enqueued(option: str) -> Any:
    """votes_enqueued_total's child for `option`, looked up once (`labels()` takes a lock every time)."""
    return metrics.ENQUEUED.labels(option)


def _flatten(fields: dict[str, str]) -> list[str]:
    return [item for pair in fields.items() for item in pair]


def _round_trip(connection: Any, payload: bytes, replies: int) -> list[Any]:
    # connect() first (a no-op while connected): send_packed_command would reopen a dropped connection to
    # the address it last had, while a Sentinel-managed connection's connect() asks for the current primary.
    connection.connect()
    connection.send_packed_command([payload])
    results: list[Any] = []
    for _ in range(replies):
        try:
            results.append(connection.read_response())
        except redis.ResponseError as err:
            results.append(err)
    return results
