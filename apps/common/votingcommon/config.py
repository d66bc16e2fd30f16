"""Reading settings from the environment, with one clear line naming the variable when one is wrong."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

Env = Mapping[str, str]


class ConfigError(Exception):
    """A setting is invalid; the message starts with the variable's name so the operator knows what to fix."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


def env_str(env: Env, name: str, default: str) -> str:
    value = env.get(name, "").strip()
    return value or default


def env_int(env: Env, name: str, default: int, minimum: int, maximum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, f"not an integer: {raw!r}") from None
    if not minimum <= value <= maximum:
        raise ConfigError(name, f"must be between {minimum} and {maximum}, got {value}")
    return value


def env_float(env: Env, name: str, default: float, minimum: float, maximum: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, f"not a number: {raw!r}") from None
    if not minimum <= value <= maximum:  # also rejects nan
        raise ConfigError(name, f"must be between {minimum:g} and {maximum:g}, got {raw}")
    return value


def env_bool(env: Env, name: str, default: bool) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in {"1", "true", "yes", "on"}:
        return True
    if raw in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(name, f"expected 1/0, true/false, yes/no or on/off, got {raw!r}")


def env_port(env: Env, name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= 65535:
        raise ConfigError(name, f"not a port number: {raw!r}")
    return int(raw)


@dataclass(frozen=True)
class RedisSettings:
    """Where the vote stream lives: one URL, or a Sentinel-monitored primary found through its sentinels.

    `wait_replicas` is how many replicas must hold a write before it counts as done (Redis WAIT); it
    defaults to one when sentinels are configured, since a failover promotes a replica and only what a
    replica holds survives it.
    """

    url: str  # the primary's URL; with sentinels, only its password and database number are used
    sentinels: tuple[tuple[str, int], ...] = ()
    master_name: str = "voting"
    sentinel_password: str = ""
    wait_replicas: int = 0
    wait_timeout_ms: int = 1000


def redis_settings(env: Env) -> RedisSettings:
    sentinels = _sentinel_addresses(env.get("REDIS_SENTINELS", ""))
    url = redis_url(env)
    return RedisSettings(
        url=url,
        sentinels=sentinels,
        master_name=env_str(env, "REDIS_SENTINEL_MASTER", "voting"),
        # Sentinels usually share the data nodes' password (ours do): that is the default.
        sentinel_password=env.get("REDIS_SENTINEL_PASSWORD", "") or (urlsplit(url).password or ""),
        wait_replicas=env_int(env, "REDIS_WAIT_REPLICAS", 1 if sentinels else 0, 0, 16),
        wait_timeout_ms=env_int(env, "REDIS_WAIT_TIMEOUT_MS", 1000, 1, 60_000),
    )


def redis_url(env: Env) -> str:
    """REDIS_URL wins; otherwise the seed's REDIS_HOST/REDIS_PORT/REDIS_PASSWORD are assembled into one."""
    url = env.get("REDIS_URL", "").strip()
    if url:
        if urlsplit(url).scheme not in {"redis", "rediss", "unix"}:
            raise ConfigError("REDIS_URL", "expected a redis://, rediss:// or unix:// URL")
        return url
    host = env_str(env, "REDIS_HOST", "127.0.0.1")
    port = env_port(env, "REDIS_PORT", 6379)
    password = env.get("REDIS_PASSWORD", "")
    auth = f":{quote(password, safe='')}@" if password else ""
    return f"redis://{auth}{host}:{port}/0"


def _sentinel_addresses(raw: str) -> tuple[tuple[str, int], ...]:
    """`host:port,host:port`; a sentinel's port defaults to 26379."""
    addresses = []
    for item in (part.strip() for part in raw.split(",")):
        if not item:
            continue
        host, _, port = item.rpartition(":") if ":" in item else (item, "", "26379")
        if not host or not port.isdigit() or not 0 < int(port) <= 65535:
            raise ConfigError("REDIS_SENTINELS", f"expected host:port[,host:port...], got {item!r}")
        addresses.append((host, int(port)))
    return tuple(addresses)


def database_url(env: Env) -> str:
    """DATABASE_URL wins; otherwise the seed's POSTGRES_* variables are assembled into one."""
    url = env.get("DATABASE_URL", "").strip()
    if url:
        if urlsplit(url).scheme not in {"postgres", "postgresql"}:
            raise ConfigError("DATABASE_URL", "expected a postgresql:// URL")
        return url
    host = env_str(env, "POSTGRES_HOST", "127.0.0.1")
    port = env_port(env, "POSTGRES_PORT", 5432)
    database = env_str(env, "POSTGRES_DB", "postgres")
    user = env_str(env, "POSTGRES_USER", "postgres")
    password = env.get("POSTGRES_PASSWORD", "")
    auth = quote(user, safe="") + (f":{quote(password, safe='')}" if password else "")
    return f"postgresql://{auth}@{host}:{port}/{quote(database, safe='')}"


def log_level(env: Env) -> str:
    level = env_str(env, "LOG_LEVEL", "INFO").upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ConfigError("LOG_LEVEL", f"expected DEBUG, INFO, WARNING, ERROR or CRITICAL, got {level!r}")
    return level
