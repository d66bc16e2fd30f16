"""vote, worker and result as real processes over HTTP, on real Redis and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import redis
from votectl.localstack import ServiceProcess
from votectl.votingclient import SseRecorder, cast, expected_tallies, tallies, vote_plan, wait_for_tallies

pytestmark = pytest.mark.slow

OPTIONS = ("Cats", "Dogs", "Birds")
STACK_ENV = {"VOTE_OPTIONS": ",".join(OPTIONS)}


def test_thousand_votes_from_300_voters_count_each_voters_last_vote(
    start_services: Callable[..., list[ServiceProcess]], redis_url: str
) -> None:
    worker, vote, result = start_services("worker", "vote", "result", **STACK_ENV)
    assert worker.running
    assert tallies(result.url) == dict.fromkeys(OPTIONS, 0)
    stream = SseRecorder(result.url)
    try:
        plan = vote_plan(voters=300, votes=1000, options=OPTIONS, seed=2)
        assert sum(len(choices) > 1 for choices in plan) > 100  # plenty of changed votes

        responses = cast(vote.url, plan)

        assert [r.status_code for r in responses] == [202] * 1000
        assert all(r.json()["accepted"] is True for r in responses)
        expected = expected_tallies(plan, OPTIONS)
        assert sum(expected.values()) == 300
        assert wait_for_tallies(result.url, expected) == expected
        assert stream.wait_for(expected) == expected
    finally:
        stream.close()
    with redis.Redis.from_url(redis_url) as client:
        assert client.xpending("votes", "workers")["pending"] == 0
        assert client.xlen("votes:dead") == 0
