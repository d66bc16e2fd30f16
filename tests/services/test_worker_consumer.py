"""The consumer loop against real Redis and PostgreSQL: acks, claims, redelivery and dead letters."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator

import pytest
import redis
from servicetools import metric, recount, tallies
from votingcommon.connections import PgPool
from votingcommon.votes import CONSUMER_GROUP, Vote, decode, now_ms, parse_stream_id
from worker.apply import Entry, apply_batch
from worker.config import WorkerConfig
from worker.consumer import Consumer
from worker.stream import VoteStream

OPTIONS = ("Cats", "Dogs")


@pytest.fixture
def make_consumer(redis_url: str, database_url: str, stop: threading.Event) -> Iterator:
    pools: list[PgPool] = []

    def make(name: str = "worker-a", **env: str) -> Consumer:
        settings = {
            "REDIS_URL": redis_url,
            "DATABASE_URL": database_url,
            "WORKER_NAME": name,
            "WORKER_BLOCK_MS": "20",
            "WORKER_BATCH_SIZE": "500",
            **env,
        }
        config = WorkerConfig.from_env(settings)
        pool = PgPool(database_url, "worker", size=2)
        pools.append(pool)
        consumer = Consumer(
            config, VoteStream(redis.Redis.from_url(redis_url), config.stream, name, config.redis), pool, stop
        )
        consumer.prepare()
        return consumer

    yield make
    for pool in pools:
        pool.close()


def add_votes(client: redis.Redis, votes: list[tuple[str, str]]) -> list[str]:
    pipe = client.pipeline(transaction=False)
    for voter, option in votes:
        pipe.xadd("votes", Vote("default", voter, option, now_ms()).fields())
    return [entry_id.decode() for entry_id in pipe.execute()]


def steps_until(consumer: Consumer, done, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "the consumer did not finish in time"
        consumer.step()


def pending(client: redis.Redis) -> int:
    return int(client.xpending("votes", CONSUMER_GROUP)["pending"])


def test_drains_the_stream_acks_and_trims(make_consumer, redis_conn: redis.Redis, pool: PgPool) -> None:
    voters = [f"voter-{i:04d}" for i in range(300)]
    votes = [(voters[i % 300], OPTIONS[(i * 7 // 3) % 2]) for i in range(2500)]
    expected: dict[str, str] = dict(votes)
    want = {option: list(expected.values()).count(option) for option in OPTIONS}
    consumer = make_consumer()
    add_votes(redis_conn, votes)
    processed = metric("votes_processed_total")

    steps_until(consumer, lambda: metric("votes_processed_total") >= processed + 2500)
    consumer.housekeeping()

    assert tallies(pool) == recount(pool) == want
    assert metric("votes_processed_total") == processed + 2500
    assert pending(redis_conn) == 0
    assert redis_conn.xlen("votes") == 0  # acknowledged entries are trimmed
    assert metric("worker_stream_backlog") == 0 and metric("worker_stream_pending") == 0


def test_backlog_gauge_counts_undelivered_entries(make_consumer, redis_conn: redis.Redis) -> None:
    consumer = make_consumer()
    add_votes(redis_conn, [(f"voter-{i:04d}", "Cats") for i in range(7)])
    consumer.housekeeping()
    assert (metric("worker_stream_pending"), metric("worker_stream_backlog")) == (0, 7)


def test_claims_what_a_dead_consumer_left_pending(
    make_consumer, redis_conn: redis.Redis, pool: PgPool
) -> None:
    live = make_consumer("worker-live", WORKER_CLAIM_IDLE_MS="100")
    add_votes(redis_conn, [("voter-aaaa", "Cats"), ("voter-bbbb", "Dogs")])
    # A consumer reads the entries and dies before acknowledging them.
    redis_conn.xreadgroup(CONSUMER_GROUP, "worker-dead", {"votes": ">"}, count=10)
    assert pending(redis_conn) == 2
    time.sleep(0.15)

    steps_until(live, lambda: pending(redis_conn) == 0)

    assert tallies(pool) == {"Cats": 1, "Dogs": 1}
    consumers = {
        c["name"].decode(): c["pending"] for c in redis_conn.xinfo_consumers("votes", CONSUMER_GROUP)
    }
    assert consumers["worker-dead"] == 0


def test_entries_committed_but_not_acked_are_not_doubled(
    make_consumer, redis_conn: redis.Redis, pool: PgPool
) -> None:
    """A worker killed between COMMIT and XACK: its entries come back, and change nothing."""
    consumer = make_consumer("worker-a")  # restarted under the same name: re-reads its own pending entries
    add_votes(redis_conn, [("voter-aaaa", "Cats"), ("voter-bbbb", "Cats"), ("voter-aaaa", "Dogs")])
    read = redis_conn.xreadgroup(CONSUMER_GROUP, "worker-a", {"votes": ">"}, count=10)[0][1]
    with pool.connection() as conn:
        apply_batch(conn, [Entry(i.decode(), parse_stream_id(i.decode()), decode(f)) for i, f in read])

    steps_until(consumer, lambda: pending(redis_conn) == 0)

    assert tallies(pool) == recount(pool) == {"Cats": 1, "Dogs": 1}


def test_poison_entry_is_dead_lettered_and_the_rest_applied(
    make_consumer, redis_conn: redis.Redis, pool: PgPool
) -> None:
    consumer = make_consumer(WORKER_MAX_DELIVERIES="3")
    dead_before = metric("votes_dead_lettered_total")
    poison = redis_conn.xadd(
        "votes", {"poll": "default", "voter": "no spaces allowed", "option": "Cats"}
    ).decode()
    add_votes(redis_conn, [("voter-aaaa", "Dogs")])

    steps_until(consumer, lambda: redis_conn.xlen("votes:dead") == 1 and pending(redis_conn) == 0)
    add_votes(redis_conn, [("voter-bbbb", "Cats")])  # still consuming after the poison
    steps_until(consumer, lambda: tallies(pool) == {"Cats": 1, "Dogs": 1})

    [(_, fields)] = redis_conn.xrange("votes:dead")
    dead = {key.decode(): value.decode() for key, value in fields.items()}
    assert dead["source_id"] == poison
    assert dead["error"] == "invalid voter, missing ts"
    assert int(dead["deliveries"]) == 3
    assert json.loads(dead["payload"])["voter"] == "no spaces allowed"
    assert metric("votes_dead_lettered_total") == dead_before + 1


def test_vote_lag_and_batch_size_are_observed(make_consumer, redis_conn: redis.Redis) -> None:
    consumer = make_consumer()
    batches = metric("worker_batch_size_count")
    lags = metric("worker_vote_lag_seconds_count")
    add_votes(redis_conn, [("voter-aaaa", "Cats"), ("voter-bbbb", "Dogs")])
    steps_until(consumer, lambda: pending(redis_conn) == 0 and redis_conn.xlen("votes") in (0, 2))
    steps_until(consumer, lambda: metric("worker_vote_lag_seconds_count") >= lags + 2)
    assert metric("worker_batch_size_count") > batches


def test_run_loop_recovers_when_the_stream_is_deleted(
    make_consumer, redis_conn: redis.Redis, pool: PgPool, stop: threading.Event
) -> None:
    consumer = make_consumer()
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    try:
        add_votes(redis_conn, [("voter-aaaa", "Cats")])
        deadline = time.monotonic() + 20
        while tallies(pool) != {"Cats": 1}:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        redis_conn.delete("votes")  # group gone too, as after a FLUSHALL
        time.sleep(0.1)
        add_votes(redis_conn, [("voter-bbbb", "Dogs")])
        while tallies(pool) != {"Cats": 1, "Dogs": 1}:
            assert time.monotonic() < deadline, "the worker did not recreate its group"
            time.sleep(0.02)
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_stats_before_the_stream_exists(make_consumer, redis_conn: redis.Redis) -> None:
    consumer = make_consumer()
    redis_conn.delete("votes")
    consumer.housekeeping()
    assert (metric("worker_stream_pending"), metric("worker_stream_backlog")) == (0, 0)
