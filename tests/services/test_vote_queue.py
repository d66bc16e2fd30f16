"""vote's group-commit queue against a real Redis: concurrent requests share round trips, yet each gets
its own entry id, and a failure reaches every waiting request as a 503 instead of a hang or a drop."""

from __future__ import annotations

import contextlib
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
from flask import Flask
from vote.queue import VoteQueue
from votingcommon.config import RedisSettings
from votingcommon.connections import redis_client
from votingcommon.votes import Vote
from werkzeug.exceptions import ServiceUnavailable

THREADS = 24
VOTES_PER_THREAD = 40


def _vote(thread: int, number: int) -> Vote:
    return Vote(poll="default", voter=f"voter-{thread:04d}", option=f"opt-{number}", accepted_ms=number)


def _enqueue_all(queue: VoteQueue, thread: int, start: threading.Barrier) -> list[tuple[str, Vote]]:
    with Flask(__name__).test_request_context():
        start.wait()
        return [(queue.enqueue(vote), vote) for vote in (_vote(thread, n) for n in range(VOTES_PER_THREAD))]


def test_concurrent_votes_each_get_their_own_entry(redis_url: str, redis_conn: redis.Redis) -> None:
    queue = VoteQueue(redis_client(RedisSettings(redis_url)), "votes")
    start = threading.Barrier(THREADS)
    with ThreadPoolExecutor(THREADS) as pool:
        results = [r for rs in pool.map(lambda t: _enqueue_all(queue, t, start), range(THREADS)) for r in rs]

    assert len(results) == THREADS * VOTES_PER_THREAD
    assert len({entry_id for entry_id, _vote in results}) == len(results)
    stored = {entry_id.decode(): fields for entry_id, fields in redis_conn.xrange("votes")}
    assert len(stored) == len(results)
    for entry_id, vote in results:  # the id a request was given is the entry holding its own vote
        assert stored[entry_id] == {key.encode(): value.encode() for key, value in vote.fields().items()}
    # one thread's votes are in the stream in the order that thread sent them
    for thread in range(THREADS):
        ids = [entry_id for entry_id, vote in results if vote.voter == f"voter-{thread:04d}"]
        assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))


def test_unreachable_redis_answers_every_waiting_request_with_503(closed_port: int) -> None:
    queue = VoteQueue(
        redis_client(RedisSettings(f"redis://127.0.0.1:{closed_port}/0"), socket_timeout=0.5), "votes"
    )
    start = threading.Barrier(8, timeout=20)  # a thread that fails before it must not hang the suite

    def attempt(thread: int) -> str:
        with Flask(__name__).test_request_context():
            with contextlib.suppress(threading.BrokenBarrierError):  # together if all get here, else anyway
                start.wait()
            try:
                queue.enqueue(_vote(thread, 0))
            except ServiceUnavailable as err:
                return f"{err.code} retry-after={err.retry_after}"
            return "accepted"

    with ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(attempt, range(8), timeout=30))
    assert outcomes == ["503 retry-after=2"] * 8


def test_refused_command_is_a_503_then_the_queue_works(redis_url: str, redis_conn: redis.Redis) -> None:
    redis_conn.set("votes", "not a stream")  # XADD answers WRONGTYPE
    queue = VoteQueue(redis_client(RedisSettings(redis_url)), "votes")
    with Flask(__name__).test_request_context():
        with pytest.raises(ServiceUnavailable):
            queue.enqueue(_vote(1, 0))
        redis_conn.delete("votes")
        entry_id = queue.enqueue(_vote(1, 1))
    assert [i.decode() for i, _fields in redis_conn.xrange("votes")] == [entry_id]


def test_killed_connection_is_reopened_not_a_503(redis_url: str, redis_conn: redis.Redis) -> None:
    queue = VoteQueue(redis_client(RedisSettings(redis_url)), "votes")
    with Flask(__name__).test_request_context():
        first = queue.enqueue(_vote(1, 0))
        redis_conn.client_kill_filter(_type="normal", skipme=True)  # drops the queue's own connection
        second = queue.enqueue(_vote(1, 1))  # retried on a reopened connection, not a 503
    assert [i.decode() for i, _fields in redis_conn.xrange("votes")] == [first, second]
