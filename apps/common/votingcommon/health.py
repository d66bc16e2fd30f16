"""The three health answers every service gives: alive, ready, and the original design's /health JSON."""

from __future__ import annotations

import logging
import time
from typing import Any

import psycopg2
import redis

from votingcommon.connections import PgPool

log = logging.getLogger(__name__)


class HealthProbe:
    def __init__(self, redis_client: redis.Redis, pool: PgPool) -> None:
        self._redis = redis_client
        self._pool = pool
        self._started = time.monotonic()

    def report(self) -> tuple[dict[str, Any], bool]:
        """`{"status", "database", "redis", "uptime"}` and whether both dependencies answered."""
        redis_ok = self._redis_answers()
        database_ok = self._database_answers()
        healthy = redis_ok and database_ok
        body = {
            "status": "healthy" if healthy else "unhealthy",
            "database": "connected" if database_ok else "disconnected",
            "redis": "connected" if redis_ok else "disconnected",
            "uptime": f"{int(time.monotonic() - self._started)}s",
        }
        return body, healthy

    def _redis_answers(self) -> bool:
        try:
            return bool(self._redis.ping())
        except redis.RedisError as err:
            log.warning("redis health check failed: %s", err)
            return False

    def _database_answers(self) -> bool:
        try:
            return self._pool.query("SELECT 1") == [(1,)]
        except psycopg2.Error as err:
            log.warning("database health check failed: %s", str(err).strip())
            return False
