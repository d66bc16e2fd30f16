"""One of our services (`python -m vote|result|worker`) as a child process on its own port."""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from votectl.errors import VotectlError
from votectl.localstack.server import HOST, Command, ManagedServer

# The environment variable each service reads its HTTP port from (docs/architecture.md).
SERVICE_PORT_ENV = {"vote": "VOTE_PORT", "result": "RESULT_PORT", "worker": "WORKER_PORT"}


class ServiceProcess(ManagedServer):
    """Runs `python -m <service>` with `env` added to ours, on `port` (0: a free one), bound to `bind`.

    Any other module serving HTTP with `/readyz` (a benchmark baseline, say) runs too when `port_env`
    names the variable it reads its port from.

    `start()` returns once `/readyz` answers 200, so callers can send traffic right away; the service's
    output goes to `log_path`, whose last line is quoted when it fails to come up. `stop()` is SIGTERM
    (graceful: gunicorn finishes requests, the worker finishes its batch), SIGKILL after 15 s.
    """

    start_timeout = 30.0
    stop_timeout = 15.0
    not_ready = "/readyz not 200"

    def __init__(
        self,
        service: str,
        env: Mapping[str, str],
        log_path: Path | str,
        port: int = 0,
        bind: str = HOST,
        port_env: str | None = None,
    ) -> None:
        if port_env is None and service not in SERVICE_PORT_ENV:
            raise VotectlError(f"unknown service {service!r}: expected one of {', '.join(SERVICE_PORT_ENV)}")
        super().__init__(service, Path(log_path), port, bind)
        self.service = service
        self.port_env = port_env or SERVICE_PORT_ENV[service]
        self.env = dict(env)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def command(self) -> Command:
        env = {**os.environ, **self.env, "BIND": self.bind, self.port_env: str(self.port)}
        return Command([sys.executable, "-m", self.service], env=env)

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as response:  # noqa: S310 - our http URL
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False
