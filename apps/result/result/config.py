"""The result service's settings, read once from the environment and checked before gunicorn forks."""

from __future__ import annotations

from dataclasses import dataclass

from votingcommon.config import Env, database_url, env_float, redis_url
from votingcommon.polls import PollCatalog
from votingcommon.pollsfile import polls_from_env


@dataclass(frozen=True)
class ResultConfig:
    redis_url: str
    database_url: str
    polls: PollCatalog
    refresh_interval: float  # safety net: re-read tallies this often even if no notification arrives

    @classmethod
    def from_env(cls, env: Env) -> ResultConfig:
        return cls(
            redis_url=redis_url(env),
            database_url=database_url(env),
            polls=polls_from_env(env),
            refresh_interval=env_float(env, "RESULT_REFRESH_INTERVAL", 5.0, 0.1, 3600.0),
        )


def prepare_environment(env: dict[str, str]) -> None:
    ResultConfig.from_env(env)
