"""The whole stack for `votectl run`: embedded servers unless configured, then worker, vote and result."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from votectl.errors import VotectlError
from votectl.localstack.embedded import EmbeddedServers, start_embedded
from votectl.localstack.ports import port_in_use
from votectl.localstack.server import Startable, start_together, stop_together
from votectl.localstack.service import SERVICE_PORT_ENV, ServiceProcess

# Launched together (vote and result wait for the worker's schema by themselves), stopped together before
# the servers they use.
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


class LocalStack(Startable):
    """Starts what `env` does not already provide; `stop()` (or leaving the `with`) stops it all, in order."""

    def __init__(self, config: StackConfig, env: Mapping[str, str] | None = None) -> None:
        self.config = config
        self.env = dict(os.environ if env is None else env)
        self.services: dict[str, ServiceProcess] = {}
        self.embedded = EmbeddedServers()
        self._running = ExitStack()

    def start(self) -> Self:
        self._check_ports()
        try:
            self.embedded = start_embedded(
                self.env, self.config.state_dir, self._running, redis_replicas=self.config.redis_replicas
            )
            service_env = {**self.env, **self.embedded.env}
            service_env.setdefault("SECRET_KEY", _persistent_secret(self.config.state_dir / "secret_key"))
            # Ctrl-C should not wait gunicorn's default 10 s for open result streams (browsers reconnect).
            service_env.setdefault("GRACEFUL_TIMEOUT", "2")
            self.services = {
                name: ServiceProcess(
                    name,
                    service_env,
                    self.config.state_dir / "logs" / f"{name}.log",
                    port=self.config.ports[name],
                    bind=self.config.bind,
                )
                for name in SERVICES
            }
            self._running.callback(stop_together, list(self.services.values()))
            start_together(self.services.values())
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self._running.close()

    def dead_services(self) -> list[str]:
        return [name for name, process in self.services.items() if not process.running]

    def _check_ports(self) -> None:
        for name, port in self.config.ports.items():
            if port_in_use(self.config.bind, port):
                raise VotectlError(
                    f"port {port} on {self.config.bind} is already in use ({name}); "
                    f"stop what uses it or set {SERVICE_PORT_ENV[name]}"
                )
