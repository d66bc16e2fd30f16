"""Putting votes on the stream: the only place vote talks to Redis.

Concurrent requests of one process share round trips (group commit): the first request to arrive sends
every XADD waiting at that moment in one round trip, and hands the next batch to the first request that
arrived meanwhile. A lone request still goes out at once; under load one round trip carries many votes,
which matters most when Redis competes with the web workers for the same CPUs.

When the answers are in, the leader wakes only the next request of its batch, which wakes the one after it,
and so on: waking them all at once would have a dozen threads fight for the GIL only to queue up behind
it again (what that saves, measured with the loop `python -m bench vote_cpu` runs: docs/benchmarks.md,
"Vote queue").

With replicas, a vote is answered only once it is on the primary and on `wait_replicas` replicas: the
batch's XADDs and one WAIT travel in the same round trip, and a WAIT that comes back short fails every
vote of the batch (503, retried by the voter) rather than acknowledge one a failover could lose.

What the code relies on, and what callers and the worker may rely on, is VoteQueue's contract below.
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
        # A bare lock taken at birth and released to wake the request: cheaper than an Event, which
        # builds a Condition and a fresh waiter lock on every wait (docs/benchmarks.md, "Vote queue").
        self.wake = threading.Lock()
        self.wake.acquire()
        self.leads = False  # this request sends the next batch
        self.finished = False
        self.result: Any = None
        self.next: _Slot | None = None  # the request of the same batch this one wakes when it finishes


class VoteQueue:
    """One process's group commit of votes onto the stream.

    The contract (tests/services/test_vote_queue_contract.py checks each point against a real Redis):

    1. The leader is first in its batch. A request leads either because it found nobody sending, and so
       entered an empty waiting list, or because the previous leader picked the front of the waiting list
       as its successor; a batch is always the whole waiting list. The wake-up chain starts at batch[0]
       and only the leader returns without being woken, so a leader elsewhere in its batch would leave the
       requests ahead of it asleep for good.
    2. A vote may reach the stream more than once, and that is harmless. A round trip that fails with a
       connection error is sent again, whole, by the client's retry policy; if Redis had applied it before
       the connection broke, every vote of the batch is on the stream twice (and a vote answered 503, after
       the last retry or for a short WAIT, may be on the stream all the same). The copies cannot change a
       tally because
       - batches are serial: one round trip at a time per queue, votes in the order they reached it, and
         a retry goes out before the next batch is taken. Every copy of a vote is therefore older on the
         stream than any vote that reached the queue after it, even one in flight beside it;
       - the worker keeps, for each voter, the entry with the newest stream id (worker/apply.py: within a
         batch and against the stored row), so an older copy never replaces a newer vote, and the newest
         copy of a voter's last vote counts once, as the vote itself would.
       Were a retry sent after a later batch, an older vote's copy could beat a newer one; were entries
       counted rather than voters, copies would count.
    """

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
        straight to it: redis-py's Pipeline and pool checkout cost more per batch (objects, command stack, a
        lock and a getpid() system call; docs/benchmarks.md, "Vote queue"). Connection errors are retried,
        on a reopened connection, by the client's own retry policy: the whole batch again (contract, 2).
        """
        if self._connection is None:
            self._connection = self._redis.connection_pool.get_connection()
        connection = self._connection
        # hiredis packs each command in C; redis-py's pack_commands wraps that call in Python work per vote.
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
