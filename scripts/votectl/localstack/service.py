"""One of our services (`python -m vote|result|worker`) as a child process on its own port."""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from votectl.errors import VotectlError
from votectl.localstack.ports import free_port, port_in_use
from votectl.localstack.process import ManagedProcess

# The environment variable each service reads its HTTP port from (docs/architecture.md).
SERVICE_PORT_ENV = {"vote": "VOTE_PORT", "result": "RESULT_PORT", "worker": "WORKER_PORT"}


class ServiceProcess:
    """Runs `python -m <service>` with `env` added to ours, on `port` (0: a free one), bound to `bind`.

    Any other module serving HTTP with `/readyz` (a benchmark baseline, say) runs too when `port_env`
    names the variable it reads its port from.

    `start()` returns once `/readyz` answers 200, so callers can send traffic right away; the service's
    output goes to `log_path`, whose last line is quoted when it fails to come up.
    """

    def __init__(
        self,
        service: str,
        env: Mapping[str, str],
        log_path: Path | str,
        port: int = 0,
        bind: str = "127.0.0.1",
        port_env: str | None = None,
    ) -> None:
        if port_env is None and service not in SERVICE_PORT_ENV:
            raise VotectlError(f"unknown service {service!r}: expected one of {', '.join(SERVICE_PORT_ENV)}")
        self.service = service
        self.port_env = port_env or SERVICE_PORT_ENV[service]
        self.bind = bind
        self.port = port or free_port(bind)
        self.env = dict(env)
        self._process = ManagedProcess(service, Path(log_path))

    @property
    def host(self) -> str:
        # A wildcard bind is still reached through loopback.
        return "127.0.0.1" if self.bind in ("0.0.0.0", "") else self.bind  # noqa: S104

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._process.running

    @property
    def pid(self) -> int | None:
        """The service's main process (gunicorn's master for vote and result)."""
        return self._process.pid

    def start(self, timeout: float = 30.0) -> ServiceProcess:
        self.launch()
        return self.wait_ready(timeout)

    def launch(self) -> ServiceProcess:
        """Spawn without waiting, so several services can boot at once (then `wait_ready` each)."""
        if port_in_use(self.bind, self.port):
            where = f"port {self.port} on {self.bind}"
            raise VotectlError(f"cannot start {self.service}: {where} is already in use")
        env = {**os.environ, **self.env, "BIND": self.bind, self.port_env: str(self.port)}
        self._process.spawn([sys.executable, "-m", self.service], env=env)
        return self

    def wait_ready(self, timeout: float = 30.0) -> ServiceProcess:
        self._process.wait_ready(self._ready, timeout, "/readyz not 200")
        return self

    def terminate(self) -> None:
        """SIGTERM without waiting; `stop` then waits (stopping several services side by side)."""
        self._process.terminate()

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM (graceful: gunicorn finishes requests, the worker finishes its batch), SIGKILL after."""
        self._process.stop(timeout)

    def kill(self) -> None:
        self._process.kill()

    def __enter__(self) -> ServiceProcess:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _ready(self) -> bool:
        if not self._process.running:
            raise self._process.exit_error("exited at start")
        try:
            with urllib.request.urlopen(f"{self.url}/readyz", timeout=2) as response:  # noqa: S310 - our http URL
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False
