"""The result service's settings, read once from the environment and checked before gunicorn forks."""

from __future__ import annotations

from dataclasses import dataclass

from votingcommon.config import Env, RedisSettings, database_url, env_float, env_int, redis_settings
from votingcommon.faults import FaultSettings
from votingcommon.polls import PollCatalog
from votingcommon.pollsfile import polls_from_env

DEFAULT_THREADS = 32  # gunicorn threads per worker; each open SSE stream holds one


@dataclass(frozen=True)
class ResultConfig:
    redis: RedisSettings
    database_url: str
    polls: PollCatalog
    refresh_interval: float  # safety net: re-read tallies this often even if no notification arrives
    max_streams: int  # open SSE streams per worker process; the other threads serve pages, API and probes
    faults: FaultSettings  # RESULT_FAULT_*: a bad release on purpose, for rehearsals

    @classmethod
    def from_env(cls, env: Env) -> ResultConfig:
        return cls(
            redis=redis_settings(env),
            database_url=database_url(env),
            polls=polls_from_env(env),
            refresh_interval=env_float(env, "RESULT_REFRESH_INTERVAL", 5.0, 0.1, 3600.0),
            max_streams=_max_streams(env),
            faults=FaultSettings.from_env(env, "RESULT"),
        )


def _max_streams(env: Env) -> int:
    """Three quarters of the threads by default (24 of 32); never all of them, so that a crowd of open
    streams cannot starve /readyz, the JSON API and the pages."""
    threads = env_int(env, "WEB_THREADS", DEFAULT_THREADS, 1, 1000)
    return env_int(env, "RESULT_MAX_STREAMS", max(1, threads * 3 // 4), 1, max(1, threads - 1))


def prepare_environment(env: dict[str, str]) -> None:
    ResultConfig.from_env(env)
