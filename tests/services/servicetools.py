"""Small helpers shared by the service tests."""

from __future__ import annotations

import re

import redis
from prometheus_client import REGISTRY
from votingcommon.connections import PgPool

SECRET = "test-secret-key-0123456789abcdef"


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def metric(name: str, **labels: str) -> float:
    """A sample of this process's registry (the apps under test run in-process), 0 when absent."""
    return REGISTRY.get_sample_value(name, labels) or 0.0


def stream_votes(client: redis.Redis, stream: str = "votes") -> list[dict[str, str]]:
    return [
        {key.decode(): value.decode() for key, value in fields.items()}
        for _id, fields in client.xrange(stream)
    ]


def tallies(pool: PgPool, poll: str = "default") -> dict[str, int]:
    rows = pool.query("SELECT option, votes FROM tallies WHERE poll_id = %s AND votes <> 0", (poll,))
    return {option: int(votes) for option, votes in rows}


def recount(pool: PgPool, poll: str = "default") -> dict[str, int]:
    rows = pool.query("SELECT option, count(*) FROM votes WHERE poll_id = %s GROUP BY option", (poll,))
    return {option: int(count) for option, count in rows}
