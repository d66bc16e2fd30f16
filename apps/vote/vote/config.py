"""The vote service's settings, read once from the environment and checked before gunicorn forks."""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

import limits
from votingcommon.config import (
    ConfigError,
    Env,
    RedisSettings,
    database_url,
    env_bool,
    env_int,
    redis_settings,
)
from votingcommon.faults import FaultSettings
from votingcommon.polls import PollCatalog
from votingcommon.pollsfile import polls_from_env
from votingcommon.votes import stream_name

log = logging.getLogger(__name__)

# Per client address and per gunicorn worker (in-memory counters: no Redis round trip per vote). Generous so
# that the benchmark's 50 connections from one address are never limited; the cluster's ConfigMap sets a
# per-voter limit and TRUSTED_PROXIES, so the address counted is the voter's, not the ingress controller's.
DEFAULT_RATE_LIMIT = "10000 per second"
# How many reverse proxies in front of vote append to X-Forwarded-For (0: trust none, use the peer address).
MAX_TRUSTED_PROXIES = 5
MIN_SECRET_LENGTH = 16


@dataclass(frozen=True)
class VoteConfig:
    redis: RedisSettings
    database_url: str
    stream: str
    polls: PollCatalog
    secret_key: str
    cookie_secure: bool
    rate_limit: str
    trusted_proxies: int
    faults: FaultSettings

    @classmethod
    def from_env(cls, env: Env) -> VoteConfig:
        return cls(
            redis=redis_settings(env),
            database_url=database_url(env),
            stream=stream_name(env),
            polls=polls_from_env(env),
            secret_key=_secret_key(env),
            cookie_secure=env_bool(env, "COOKIE_SECURE", False),
            rate_limit=_rate_limit(env),
            trusted_proxies=env_int(env, "TRUSTED_PROXIES", 0, 0, MAX_TRUSTED_PROXIES),
            faults=FaultSettings.from_env(env, "VOTE"),
        )


def prepare_environment(env: dict[str, str]) -> None:
    """Validate in the gunicorn master; a missing SECRET_KEY is generated here so every worker shares it."""
    if not env.get("SECRET_KEY", "").strip():
        env["SECRET_KEY"] = secrets.token_urlsafe(32)
        log.warning("SECRET_KEY is not set: generated one for this run; voter cookies end with it")
    VoteConfig.from_env(env)


def _secret_key(env: Env) -> str:
    key = env.get("SECRET_KEY", "").strip()
    if not key:
        log.warning("SECRET_KEY is not set: generated one for this app; voter cookies end with it")
        return secrets.token_urlsafe(32)
    if len(key) < MIN_SECRET_LENGTH:
        raise ConfigError("SECRET_KEY", f"must be at least {MIN_SECRET_LENGTH} characters")
    return key


def _rate_limit(env: Env) -> str:
    value = env.get("VOTE_RATE_LIMIT", "").strip() or DEFAULT_RATE_LIMIT
    try:
        limits.parse_many(value)
    except ValueError:
        raise ConfigError("VOTE_RATE_LIMIT", f"expected e.g. '100 per second', got {value!r}") from None
    return value
