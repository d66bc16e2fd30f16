"""The worker's settings, read once from the environment."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from votingcommon.config import (
    Env,
    RedisSettings,
    database_url,
    env_int,
    env_port,
    env_str,
    log_level,
    redis_settings,
)
from votingcommon.votes import stream_name


@dataclass(frozen=True)
class WorkerConfig:
    redis: RedisSettings
    database_url: str
    stream: str
    consumer: str
    bind: str
    port: int
    batch_size: int
    block_ms: int
    claim_idle_ms: int
    max_deliveries: int
    log_level: str

    @classmethod
    def from_env(cls, env: Env) -> WorkerConfig:
        return cls(
            redis=redis_settings(env),
            database_url=database_url(env),
            stream=stream_name(env),
            # Unique per process: a restarted worker is a new consumer and claims what the old one left.
            consumer=env_str(env, "WORKER_NAME", f"{socket.gethostname()}-{os.getpid()}"),
            bind=env_str(env, "BIND", "127.0.0.1"),
            port=env_port(env, "WORKER_PORT", 9000),
            batch_size=env_int(env, "WORKER_BATCH_SIZE", 1000, 1, 10_000),
            block_ms=env_int(env, "WORKER_BLOCK_MS", 1000, 1, 60_000),
            # Longer than any healthy batch takes, so only a dead or stuck consumer's entries are claimed.
            claim_idle_ms=env_int(env, "WORKER_CLAIM_IDLE_MS", 30_000, 100, 3_600_000),
            max_deliveries=env_int(env, "WORKER_MAX_DELIVERIES", 5, 1, 1000),
            log_level=log_level(env),
        )
