"""Pooled Redis and PostgreSQL connections: one pool per process, never a connection per request."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.extensions
import redis
from redis.backoff import ExponentialBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

from votingcommon.config import RedisSettings
from votingcommon.metrics import DB_CONNECTIONS_IN_USE

_BROKEN = (psycopg2.OperationalError, psycopg2.InterfaceError)


class NotReplicated(redis.RedisError):
    """A write reached the primary but not enough replicas in time: it would not survive a failover."""


def redis_client(settings: RedisSettings, socket_timeout: float = 5.0) -> redis.Redis:
    """A client with short timeouts and two quick retries, so an outage turns into an error within ~2 s.

    With sentinels, every (re)connection asks them for the current primary, and a connection that finds
    its server demoted (READONLY) reconnects: a failover needs no restart, only the retry after it.
    """
    options: dict[str, Any] = {
        "socket_connect_timeout": 2.0,
        "socket_timeout": socket_timeout,
        "health_check_interval": 30,
        "retry": Retry(ExponentialBackoff(cap=0.2, base=0.02), 2),
    }
    if not settings.sentinels:
        return redis.Redis.from_url(settings.url, **options)
    primary = redis.connection.parse_url(settings.url)
    sentinel = Sentinel(
        list(settings.sentinels),
        sentinel_kwargs={
            "password": settings.sentinel_password or None,
            "socket_connect_timeout": 1.0,
            "socket_timeout": 1.0,
        },
    )
    return sentinel.master_for(
        settings.master_name,
        password=primary.get("password"),
        username=primary.get("username"),
        db=primary.get("db", 0),
        **options,
    )


def replicas_acknowledged(reply: Any, wanted: int) -> None:
    """Check a WAIT reply: raise NotReplicated when fewer than `wanted` replicas hold the writes."""
    if isinstance(reply, Exception):
        raise reply
    if int(reply) < wanted:
        raise NotReplicated(f"{int(reply)} of {wanted} replicas acknowledged the write in time")


class PgPool:
    """At most `size` PostgreSQL connections, opened on first use and reused.

    psycopg2's own pools either connect eagerly when built (failing while the database is still starting)
    or close every connection above `minconn` when it is returned, which would reconnect per request.
    """

    def __init__(self, url: str, service: str, size: int = 4, wait_seconds: float = 5.0) -> None:
        self._url = url
        self._service = service
        self._idle: list[psycopg2.extensions.connection] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(size)
        self._wait_seconds = wait_seconds
        self._in_use = DB_CONNECTIONS_IN_USE.labels(service)

    @contextmanager
    def connection(self) -> Iterator[psycopg2.extensions.connection]:
        """Lend a connection; a broken one is closed instead of returned, an open transaction rolled back."""
        if not self._slots.acquire(timeout=self._wait_seconds):
            raise psycopg2.OperationalError(f"no free database connection within {self._wait_seconds:g}s")
        try:
            conn = self._take()
        except BaseException:
            self._slots.release()
            raise
        self._in_use.inc()
        broken = False
        try:
            yield conn
        except _BROKEN:
            broken = True
            raise
        finally:
            self._in_use.dec()
            self._give_back(conn, broken)
            self._slots.release()

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run a read; retried once on a fresh connection, since pooled ones die when PostgreSQL restarts."""
        try:
            return self._query_once(sql, params)
        except _BROKEN:
            return self._query_once(sql, params)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def _query_once(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        with self.connection() as conn, conn.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            conn.rollback()  # end the read transaction so the connection goes back idle
            return rows

    def _take(self) -> psycopg2.extensions.connection:
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return psycopg2.connect(self._url, connect_timeout=3, application_name=self._service)

    def _give_back(self, conn: psycopg2.extensions.connection, broken: bool) -> None:
        if not broken and not conn.closed:
            try:
                if conn.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE:
                    conn.rollback()
            except psycopg2.Error:
                broken = True
        if broken or conn.closed:
            conn.close()
            return
        with self._lock:
            self._idle.append(conn)
