"""The whole stack for `votectl run`: embedded servers unless configured, then worker, vote and result."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from votectl.errors import VotectlError
from votectl.localstack.ports import port_in_use
from votectl.localstack.postgres_server import PostgresServer
from votectl.localstack.redis_sentinel import RedisSentinelGroup
from votectl.localstack.redis_server import RedisServer
from votectl.localstack.service import SERVICE_PORT_ENV, ServiceProcess

# Launched together (vote and result wait for the worker's schema by themselves); stopped in reverse order.
SERVICES = ("worker", "vote", "result")


# Each service's default port (docs/architecture.md); SERVICE_PORT_ENV names the variable that overrides it.
DEFAULT_PORTS = {"vote": 5000, "result": 4000, "worker": 9000}


@dataclass(frozen=True)
class StackConfig:
    state_dir: Path
    ports: Mapping[str, int]
    bind: str = "127.0.0.1"
    redis_replicas: int = 0  # above 0: a primary, this many replicas and three sentinels instead of one Redis

    @classmethod
    def from_env(cls, env: Mapping[str, str], state_dir: Path, redis_replicas: int = 0) -> StackConfig:
        ports = {name: _port(env, SERVICE_PORT_ENV[name], default) for name, default in DEFAULT_PORTS.items()}
        bind = env.get("BIND", "").strip() or "127.0.0.1"
        return cls(state_dir=state_dir, ports=ports, bind=bind, redis_replicas=redis_replicas)


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        raise VotectlError(f"{name}: not a port number: {raw!r}")
    return int(raw)


def _persistent_secret(path: Path) -> str:
    """A random SECRET_KEY kept in the state dir, so voters' signed cookies survive a restart."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


class LocalStack:
    """Starts what `env` does not already provide; `stop()` (or leaving the `with`) stops it all, in order."""

    def __init__(self, config: StackConfig, env: Mapping[str, str] | None = None) -> None:
        self.config = config
        self.env = dict(os.environ if env is None else env)
        self.services: dict[str, ServiceProcess] = {}
        self.embedded: list[str] = []
        self.redis_group: RedisSentinelGroup | None = None
        self._running = ExitStack()

    def start(self) -> LocalStack:
        self._check_ports()
        try:
            service_env = {**self.env, **self._servers()}
            service_env.setdefault("SECRET_KEY", _persistent_secret(self.config.state_dir / "secret_key"))
            # Ctrl-C should not wait gunicorn's default 10 s for open result streams (browsers reconnect).
            service_env.setdefault("GRACEFUL_TIMEOUT", "2")
            self._running.callback(self._stop_services)
            for name in SERVICES:
                process = ServiceProcess(
                    name,
                    service_env,
                    self.config.state_dir / "logs" / f"{name}.log",
                    port=self.config.ports[name],
                    bind=self.config.bind,
                )
                self.services[name] = process.launch()
            for process in self.services.values():
                process.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self._running.close()

    def dead_services(self) -> list[str]:
        return [name for name, process in self.services.items() if not process.running]

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _embedded_redis(self) -> dict[str, str]:
        replicas = self.config.redis_replicas
        if not replicas:
            redis_server = RedisServer(self.config.state_dir / "redis")
            self._running.callback(redis_server.stop)
            self.embedded.append("redis")
            return {"REDIS_URL": redis_server.start().url}
        self.redis_group = RedisSentinelGroup(self.config.state_dir / "redis-sentinel", replicas)
        self._running.callback(self.redis_group.stop)
        self.embedded.append(f"redis (primary, {replicas} replicas, 3 sentinels)")
        return self.redis_group.start().env()

    def _stop_services(self) -> None:
        for process in self.services.values():
            process.terminate()
        for process in self.services.values():
            process.stop()

    def _check_ports(self) -> None:
        for name, port in self.config.ports.items():
            if port_in_use(self.config.bind, port):
                raise VotectlError(
                    f"port {port} on {self.config.bind} is already in use ({name}); "
                    f"stop what uses it or set {SERVICE_PORT_ENV[name]}"
                )

    def _servers(self) -> dict[str, str]:
        """Start embedded Redis/PostgreSQL when neither a URL nor a host is configured for them."""
        urls: dict[str, str] = {}
        if not (self.env.get("REDIS_URL") or self.env.get("REDIS_HOST")):
            urls.update(self._embedded_redis())
        if not (self.env.get("DATABASE_URL") or self.env.get("POSTGRES_HOST")):
            postgres_server = PostgresServer(self.config.state_dir / "postgres")
            self._running.callback(postgres_server.stop)
            urls["DATABASE_URL"] = postgres_server.start().url
            self.embedded.append("postgres")
        return urls
