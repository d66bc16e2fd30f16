"""Faults while votes flow: a killed worker, a restarted PostgreSQL, a stopped Redis, a poison entry."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import psycopg2
import pytest
import redis
import requests
from votectl.localstack import PostgresServer, RedisServer, ServiceProcess
from votectl.localstack.ports import wait_until
from votectl.votingclient import Voter, cast, expected_tallies, vote_plan, wait_for_tallies

pytestmark = pytest.mark.slow

OPTIONS = ("Cats", "Dogs")
# A restarted worker is a new consumer: it claims a dead one's entries once they are idle this long.
STACK_ENV = {"VOTE_OPTIONS": ",".join(OPTIONS), "WORKER_CLAIM_IDLE_MS": "500"}


class Background:
    """Casts a vote plan in a thread so a fault can be injected while votes flow."""

    def __init__(self, vote_url: str, plan: list[list[str]]) -> None:
        self.responses: list[requests.Response] = []
        self._answered: list[int] = []
        self._thread = threading.Thread(target=self._run, args=(vote_url, plan))
        self._thread.start()

    @property
    def sent(self) -> int:
        return len(self._answered)

    def join(self) -> list[requests.Response]:
        self._thread.join(60)
        return self.responses

    def _run(self, vote_url: str, plan: list[list[str]]) -> None:
        self.responses = cast(vote_url, plan, threads=4, answered=self._answered)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    with RedisServer(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def own_postgres(server_dir: Path) -> Iterator[PostgresServer]:
    with PostgresServer(server_dir, settings={"fsync": "off"}) as server:
        yield server


def _votes_so_far(flow: Background, at_least: int) -> None:
    """Block until `at_least` votes were sent: the fault then hits a flow in progress."""
    assert wait_until(lambda: flow.sent >= at_least, timeout=30), f"fewer than {at_least} votes were sent"


def test_worker_killed_mid_batch_loses_and_doubles_nothing(
    start_services: Callable[..., list[ServiceProcess]], redis_url: str, database_url: str
) -> None:
    worker, vote, result = start_services("worker", "vote", "result", **STACK_ENV)
    plan = vote_plan(voters=200, votes=1200, options=OPTIONS, seed=7)
    flow = Background(vote.url, plan)
    _votes_so_far(flow, 300)
    # Hold the tally table so the worker's next batch blocks inside its transaction: it has read entries
    # it cannot commit, and the kill below is guaranteed to leave them pending, half-applied.
    with closing(psycopg2.connect(database_url)) as blocker, blocker.cursor() as cur:
        cur.execute("LOCK TABLE tallies IN ACCESS EXCLUSIVE MODE")
        with redis.Redis.from_url(redis_url) as client:
            assert wait_until(lambda: client.xpending("votes", "workers")["pending"] > 0, timeout=30)
            worker.kill()
            left_by_dead_worker = client.xpending("votes", "workers")["pending"]
        blocker.rollback()
    _votes_so_far(flow, 600)
    start_services("worker", **STACK_ENV)
    responses = flow.join()

    assert left_by_dead_worker > 0
    assert [r.status_code for r in responses] == [202] * 1200
    expected = expected_tallies(plan, OPTIONS)
    assert wait_for_tallies(result.url, expected) == expected
    with redis.Redis.from_url(redis_url) as client:
        assert client.xlen("votes:dead") == 0
        assert client.xpending("votes", "workers")["pending"] == 0


def test_postgres_restart_mid_flow_worker_catches_up(
    start_services: Callable[..., list[ServiceProcess]], redis_url: str, own_postgres: PostgresServer
) -> None:
    env = {**STACK_ENV, "DATABASE_URL": own_postgres.url}
    worker, vote = start_services("worker", "vote", **env)
    plan = vote_plan(voters=200, votes=1000, options=OPTIONS, seed=11)
    flow = Background(vote.url, plan)
    _votes_so_far(flow, 250)
    own_postgres.restart()
    responses = flow.join()

    assert [r.status_code for r in responses] == [202] * 1000  # vote needs Redis only
    assert worker.running
    (result,) = start_services("result", **env)
    expected = expected_tallies(plan, OPTIONS)
    assert wait_for_tallies(result.url, expected) == expected


def test_redis_down_means_503_and_nothing_half_written_then_recovery(
    start_services: Callable[..., list[ServiceProcess]], own_redis: RedisServer
) -> None:
    env = {**STACK_ENV, "REDIS_URL": own_redis.url}
    _, vote, result = start_services("worker", "vote", "result", **env)
    before, during, after = Voter(vote.url), Voter(vote.url), Voter(vote.url)
    assert before.vote("Cats").status_code == 202

    own_redis.stop()
    refused = [during.vote("Dogs") for _ in range(5)]
    assert {r.status_code for r in refused} == {503}
    assert all(r.headers.get("Retry-After") for r in refused)
    assert all("error" in r.json() for r in refused)

    own_redis.start()
    assert after.vote("Dogs").status_code == 202
    # Had any refused vote been written, `during` would count too and Dogs would be 2.
    assert wait_for_tallies(result.url, {"Cats": 1, "Dogs": 1}) == {"Cats": 1, "Dogs": 1}


def test_poison_entry_goes_to_dead_letter_and_the_worker_goes_on(
    start_services: Callable[..., list[ServiceProcess]], redis_url: str
) -> None:
    _, vote, result = start_services("worker", "vote", "result", **STACK_ENV)
    with redis.Redis.from_url(redis_url) as client:
        poison_id = client.xadd("votes", {"poll": "default", "voter": "not a voter id!", "option": "Cats"})
        assert Voter(vote.url).vote("Dogs").status_code == 202
        assert wait_for_tallies(result.url, {"Cats": 0, "Dogs": 1}) == {"Cats": 0, "Dogs": 1}
        assert wait_until(lambda: client.xlen("votes:dead") > 0, timeout=15)
        dead = client.xrange("votes:dead")
        pending = client.xpending("votes", "workers")["pending"]
    assert len(dead) == 1
    fields = {k.decode(): v.decode() for k, v in dead[0][1].items()}
    assert fields["source_id"] == poison_id.decode()
    assert "voter" in fields["error"]
    assert pending == 0
    assert Voter(vote.url).vote("Cats").status_code == 202  # still consuming after the poison
    assert wait_for_tallies(result.url, {"Cats": 1, "Dogs": 1}) == {"Cats": 1, "Dogs": 1}
