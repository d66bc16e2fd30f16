"""Settings for a Sentinel-managed Redis, and what vote and worker do when a write is not on a replica."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from vote.queue import VoteQueue
from votectl.localstack.redis_sentinel import RedisSentinelGroup
from votingcommon.config import ConfigError, RedisSettings, redis_settings
from votingcommon.connections import NotReplicated, redis_client
from votingcommon.votes import Vote, now_ms
from werkzeug.exceptions import ServiceUnavailable
from worker.stream import VoteStream


def test_sentinels_turn_on_waiting_for_one_replica() -> None:
    settings = redis_settings(
        {"REDIS_SENTINELS": "redis-0.redis:26379, redis-1.redis", "REDIS_PASSWORD": "pw"}
    )
    assert settings.sentinels == (("redis-0.redis", 26379), ("redis-1.redis", 26379))
    assert settings.master_name == "voting"
    assert settings.wait_replicas == 1
    assert settings.url == "redis://:pw@127.0.0.1:6379/0"


def test_a_plain_url_waits_for_nobody_unless_asked() -> None:
    assert redis_settings({"REDIS_URL": "redis://r:6379/0"}).wait_replicas == 0
    assert redis_settings({"REDIS_URL": "redis://r:6379/0", "REDIS_WAIT_REPLICAS": "2"}).wait_replicas == 2
    assert redis_settings({"REDIS_SENTINELS": "s:1", "REDIS_WAIT_REPLICAS": "0"}).wait_replicas == 0


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"REDIS_SENTINELS": "host:port"}, "REDIS_SENTINELS"),
        ({"REDIS_SENTINELS": ":26379"}, "REDIS_SENTINELS"),
        ({"REDIS_SENTINELS": "s:70000"}, "REDIS_SENTINELS"),
        ({"REDIS_WAIT_REPLICAS": "-1"}, "REDIS_WAIT_REPLICAS"),
        ({"REDIS_WAIT_TIMEOUT_MS": "soon"}, "REDIS_WAIT_TIMEOUT_MS"),
    ],
)
def test_bad_settings_name_their_variable(env: dict[str, str], variable: str) -> None:
    with pytest.raises(ConfigError) as raised:
        redis_settings(env)
    assert raised.value.variable == variable


@pytest.fixture
def too_few_replicas(tmp_path: Path) -> Iterator[RedisSettings]:
    """Writes must reach two replicas where there is one: the primary takes them, no WAIT succeeds."""
    with RedisSentinelGroup(tmp_path / "redis", replicas=1) as group:
        yield redis_settings({**group.env(), "REDIS_WAIT_REPLICAS": "2", "REDIS_WAIT_TIMEOUT_MS": "100"})


def _vote() -> Vote:
    return Vote(poll="lunch", voter="v" * 24, option="Pizza", accepted_ms=now_ms())


def test_a_vote_no_replica_holds_is_a_503_not_a_202(too_few_replicas: RedisSettings) -> None:
    queue = VoteQueue(
        redis_client(too_few_replicas),
        "votes",
        too_few_replicas.wait_replicas,
        too_few_replicas.wait_timeout_ms,
    )
    with Flask(__name__).test_request_context(), pytest.raises(ServiceUnavailable) as refused:
        queue.enqueue(_vote())
    assert refused.value.retry_after


def test_the_worker_does_not_take_entries_no_replica_holds(too_few_replicas: RedisSettings) -> None:
    client = redis_client(too_few_replicas)
    stream = VoteStream(client, "votes", "worker-1", too_few_replicas)
    stream.ensure_group()
    assert stream.read_new(10, None) == []  # nothing to read: a short WAIT does not matter
    client.xadd("votes", _vote().fields())  # type: ignore[arg-type]
    with pytest.raises(NotReplicated):
        stream.read_new(10, None)
    # Delivered but not applied: still pending, read again once replicas catch up.
    assert client.xpending("votes", "workers")["pending"] == 1
