"""Fixtures for the service tests: app environments, clients and a migrated database (real servers only)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
import redis
from servicetools import SECRET
from votingcommon.connections import PgPool
from votingcommon.store import migrate


@pytest.fixture
def service_env(redis_url: str, postgres_server_url: str) -> dict[str, str]:
    """Apps that only read the database share the server's main one (a fresh database costs ~0.5 s);
    tests that need tables use `database_url` / `migrated`."""
    return {"REDIS_URL": redis_url, "DATABASE_URL": postgres_server_url, "SECRET_KEY": SECRET}


@pytest.fixture
def redis_conn(redis_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_url)
    yield client
    client.close()


@pytest.fixture
def pool(database_url: str) -> Iterator[PgPool]:
    pool = PgPool(database_url, "test", size=4)
    yield pool
    pool.close()


@pytest.fixture
def migrated(pool: PgPool) -> PgPool:
    with pool.connection() as conn:
        migrate(conn)
    return pool


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on: a real refused connection, as when a server is down."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def stop() -> Iterator[threading.Event]:
    """The stop signal of a worker Consumer under test; set at teardown so no consumer loop outlives it."""
    event = threading.Event()
    yield event
    event.set()
