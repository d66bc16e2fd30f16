"""Embedded Redis and PostgreSQL for whatever the environment does not already point at.

`votectl run`, rehearsals and the test suite follow one rule, the services' own: REDIS_URL or REDIS_HOST
names the Redis to use, DATABASE_URL or POSTGRES_HOST the PostgreSQL; what is not named runs here.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from votectl.localstack.postgres_server import PostgresServer
from votectl.localstack.redis_sentinel import RedisSentinelGroup
from votectl.localstack.redis_server import RedisServer


@dataclass
class EmbeddedServers:
    """What `start_embedded` started (None: configured in the environment) and the variables reaching it."""

    redis: RedisServer | RedisSentinelGroup | None = None
    postgres: PostgresServer | None = None
    env: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> list[str]:
        return [server.name for server in (self.redis, self.postgres) if server is not None]


def start_embedded(
    env: Mapping[str, str],
    state_dir: Path,
    running: ExitStack,
    redis_replicas: int = 0,
    postgres_settings: dict[str, str] | None = None,
) -> EmbeddedServers:
    """Start, with their data under `state_dir`, the servers `env` does not configure; closing `running`
    stops them. `redis_replicas` above 0: a primary, that many replicas and three sentinels."""
    embedded = EmbeddedServers()
    if not (env.get("REDIS_URL") or env.get("REDIS_HOST")):
        embedded.redis = (
            RedisSentinelGroup(state_dir / "redis-sentinel", redis_replicas)
            if redis_replicas
            else RedisServer(state_dir / "redis")
        )
    if not (env.get("DATABASE_URL") or env.get("POSTGRES_HOST")):
        embedded.postgres = PostgresServer(state_dir / "postgres", settings=postgres_settings)
    for server in (embedded.redis, embedded.postgres):
        if server is not None:
            # registered first: a server that fails half-way through its start is stopped too
            running.callback(server.stop)
            embedded.env.update(server.start().env())
    return embedded
