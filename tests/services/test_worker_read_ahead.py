"""Reading the next batch while one commits: entries read ahead are applied once, and never left behind."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import redis
from servicetools import metric, recount, tallies
from votingcommon.connections import PgPool
from votingcommon.votes import CONSUMER_GROUP, Vote, now_ms
from worker.config import WorkerConfig
from worker.consumer import Consumer
from worker.stream import VoteStream

BATCH = 20


@pytest.fixture
def consumer(redis_url: str, database_url: str, stop: threading.Event) -> Iterator[Consumer]:
    settings = {
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url,
        "WORKER_NAME": "worker-ahead",
        "WORKER_BLOCK_MS": "20",
        "WORKER_BATCH_SIZE": str(BATCH),
        "WORKER_MAX_DELIVERIES": "2",
    }
    config = WorkerConfig.from_env(settings)
    pool = PgPool(database_url, "worker", size=2)
    client = redis.Redis.from_url(redis_url)
    consumer = Consumer(config, VoteStream(client, config.stream, config.consumer, config.redis), pool, stop)
    consumer.prepare()
    yield consumer
    pool.close()
    client.close()


def add_votes(client: redis.Redis, count: int, voters: int) -> dict[str, str]:
    """XADD `count` votes cycling over `voters` voters; returns each voter's last choice."""
    pipe = client.pipeline(transaction=False)
    last: dict[str, str] = {}
    for i in range(count):
        voter, option = f"voter-{i % voters:04d}", ("Cats", "Dogs")[i * 7 // 3 % 2]
        last[voter] = option
        pipe.xadd("votes", Vote("default", voter, option, now_ms()).fields())
    pipe.execute()
    return last


def counts(last: dict[str, str]) -> dict[str, int]:
    return {option: list(last.values()).count(option) for option in set(last.values())}


def pending(client: redis.Redis) -> int:
    return int(client.xpending("votes", CONSUMER_GROUP)["pending"])


def test_a_poison_entry_does_not_make_read_ahead_entries_count_twice(
    consumer: Consumer, redis_conn: redis.Redis, pool: PgPool
) -> None:
    """The poison entry makes the consumer reread its own pending entries; by then nothing read ahead
    may still be pending, or those entries would be committed (and counted) twice."""
    processed = metric("votes_processed_total")
    redis_conn.xadd("votes", {"poll": "default", "voter": "bad voter", "option": "Cats", "ts": "1"})
    last = add_votes(redis_conn, 10 * BATCH - 1, voters=37)

    deadline = time.monotonic() + 20
    while not (redis_conn.xlen("votes:dead") == 1 and pending(redis_conn) == 0):
        assert time.monotonic() < deadline, "the consumer did not finish in time"
        consumer.step()

    assert metric("votes_processed_total") == processed + 10 * BATCH - 1
    assert tallies(pool) == recount(pool) == counts(last)


def test_shutdown_commits_what_was_read_ahead(
    consumer: Consumer, stop: threading.Event, redis_conn: redis.Redis, pool: PgPool
) -> None:
    total = 100 * BATCH
    add_votes(redis_conn, total, voters=500)
    processed = metric("votes_processed_total")
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while metric("votes_processed_total") < processed + 3 * BATCH:
        assert time.monotonic() < deadline, "the consumer did not start draining"
        time.sleep(0.001)
    stop.set()
    thread.join(20)

    assert not thread.is_alive()
    assert pending(redis_conn) == 0  # everything read, ahead or not, was committed and acknowledged
    committed = metric("votes_processed_total") - processed
    assert committed < total, "stopped mid-drain, or the test says nothing"
    assert committed + undelivered(redis_conn) == total
    assert tallies(pool) == recount(pool)


def undelivered(client: redis.Redis) -> int:
    [group] = client.xinfo_groups("votes")
    return len(client.xrange("votes", min="(" + group["last-delivered-id"].decode()))
