"""One way to run a server: start until it answers, stop politely, kill like a crash, `with` for both.

A subclass says only what differs: how it is run (`command`), what it reads before it starts
(`write_config`) and how to tell it is ready (`ready`). Everything else, the busy-port check, the log
file, the one-line error quoting the log when it does not come up, lives here once.
"""

from __future__ import annotations

import signal
from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from votectl.errors import VotectlError
from votectl.localstack.ports import free_port, port_in_use
from votectl.localstack.process import ManagedProcess

HOST = "127.0.0.1"


class Startable(ABC):
    """`with thing:` starts it and stops it again, also when the body fails."""

    @abstractmethod
    def start(self) -> Self: ...

    @abstractmethod
    def stop(self) -> None: ...

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


@dataclass(frozen=True)
class Command:
    """How a server is spawned; `user` drops privileges (PostgreSQL refuses to run as root)."""

    argv: Sequence[str]
    env: dict[str, str] | None = None
    user: str | None = None
    cwd: Path | None = None


class ManagedServer(Startable):
    """A server process listening on `bind`:`port` (0: a free one; None: no port of its own), logging to
    `log_path`. `start()` returns once `ready()` holds; `stop()`, `kill()` and `start()` again reuse the
    same port and data, as a restarted server in production would."""

    start_timeout = 10.0  # seconds `start`/`wait_ready` wait for `ready()` unless told otherwise
    stop_timeout = 10.0  # seconds between `stop_signal` and SIGKILL
    stop_signal = signal.SIGTERM
    ready_interval = 0.05
    not_ready = "no answer"  # what the error says when `ready()` never holds: "<name> is not ready (...)"

    def __init__(self, name: str, log_path: Path, port: int | None = 0, bind: str = HOST) -> None:
        self.name = name
        self.bind = bind
        self.port = free_port(bind) if port == 0 else port
        self._process = ManagedProcess(name, log_path)

    @abstractmethod
    def command(self) -> Command:
        """The program, its arguments and environment, built afresh for every start."""

    @abstractmethod
    def ready(self) -> bool:
        """The readiness probe, polled until True: the server answers as its clients will use it."""

    def write_config(self) -> None:
        """Write what the server reads at start (config files, a first data directory); runs before each
        spawn, so a restart picks up changed settings."""

    @property
    def host(self) -> str:
        """Where clients connect: a wildcard bind is still reached through loopback."""
        return HOST if self.bind in ("0.0.0.0", "") else self.bind  # noqa: S104

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def running(self) -> bool:
        return self._process.running

    def start(self, timeout: float | None = None) -> Self:
        """Start (or start again after `stop`/`kill`) and return once ready."""
        return self.launch().wait_ready(timeout)

    def launch(self) -> Self:
        """Spawn without waiting, so several servers can boot at once (then `wait_ready` each)."""
        if self.port is not None and port_in_use(self.bind, self.port):
            raise VotectlError(f"cannot start {self.name}: port {self.port} on {self.bind} is already in use")
        self.write_config()
        command = self.command()
        self._process.spawn(command.argv, env=command.env, user=command.user, cwd=command.cwd)
        return self

    def wait_ready(self, timeout: float | None = None) -> Self:
        """Poll `ready()`; a server that exits or never gets ready is stopped and raises a one-line error."""
        self._process.wait_ready(
            self._probe,
            self.start_timeout if timeout is None else timeout,
            self.not_ready,
            self.ready_interval,
        )
        return self

    def terminate(self) -> None:
        """Send `stop_signal` without waiting, so several servers shut down side by side (then `stop`)."""
        self._process.terminate(self.stop_signal)

    def stop(self, timeout: float | None = None) -> None:
        """`stop_signal`, then SIGKILL after `timeout` (default `stop_timeout`) seconds; idempotent."""
        self._process.stop(self.stop_timeout if timeout is None else timeout, sig=self.stop_signal)

    def kill(self) -> None:
        """SIGKILL the whole process group at once, as a crash would (fault tests)."""
        self._process.kill()

    def restart(self, timeout: float | None = None) -> Self:
        self.stop()
        return self.start(timeout)

    def exit_error(self, what: str) -> VotectlError:
        """ "<name> exited with code N (<what>): <last log line>", or "is not ready" while it still runs."""
        return self._process.exit_error(what)

    def _probe(self) -> bool:
        if not self._process.running:
            raise self.exit_error("while starting")
        return self.ready()


def start_together(servers: Iterable[ManagedServer], timeout: float | None = None) -> None:
    """Launch every server, then wait for each: they boot side by side (from this thread, since children
    die with the thread that spawned them)."""
    launched = [server.launch() for server in servers]
    for server in launched:
        server.wait_ready(timeout)


def stop_together(servers: Iterable[ManagedServer], timeout: float | None = None) -> None:
    """Signal every server first, then wait for each: they shut down side by side, not one after another."""
    servers = list(servers)
    for server in servers:
        server.terminate()
    for server in servers:
        server.stop(timeout)
