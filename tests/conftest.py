"""Suite-wide fixtures: real Redis and PostgreSQL servers, a clean database per test, service processes.

One Redis and one PostgreSQL are started per test session (about 0.7 s); each test then gets a flushed
Redis database and a freshly created PostgreSQL database. With REDIS_URL or REDIS_HOST (DATABASE_URL or
POSTGRES_HOST) set, that server is used instead, as by `votectl run` (its data is flushed / test
databases are created and dropped on it).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
import redis
from votectl.cluster.client import KubeClient
from votectl.cluster.control_plane import ClusterOptions, LocalCluster
from votectl.localstack import ServiceProcess
from votectl.localstack.databases import create_database, drop_database
from votectl.localstack.embedded import start_embedded
from votectl.localstack.server import start_together, stop_together
from votectl.verify.schemas import crd_schema_dir as configured_crd_schema_dir
from votingcommon import config as service_config


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked `prometheus` need the real server binary; say so instead of failing on a bare machine."""
    if shutil.which("prometheus"):
        return
    skip = pytest.mark.skip(reason="needs Debian's prometheus (apt-get install -y prometheus; .ci/run does)")
    for item in items:
        if "prometheus" in item.keywords:
            item.add_marker(skip)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Under CI=true a skipped test fails the run: a green CI must not hide an untested gate."""
    if os.environ.get("CI", "").lower() != "true":
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if not skipped:
        return
    reporter.write_sep("=", f"CI=true: {len(skipped)} skipped test(s) fail the run", red=True)
    for report in skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        reporter.write_line(f"SKIPPED {report.nodeid}: {reason}")
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


ROOT = Path(__file__).resolve().parents[1]

# Test servers trade crash safety (not tested through them) for speed; fault tests start their own.
FAST_POSTGRES_SETTINGS = {"fsync": "off", "full_page_writes": "off", "max_connections": "200"}


@pytest.fixture(scope="session")
def _servers_dir() -> Iterator[Path]:
    path = Path(tempfile.mkdtemp(prefix="voting-test-servers-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def server_dir() -> Iterator[Path]:
    """A private directory for a server of the test's own (not under tmp_path: pytest resets its base
    directory to mode 0700 whenever another session starts, which locks PostgreSQL's user out)."""
    path = Path(tempfile.mkdtemp(prefix="voting-test-server-"))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def _server_env(_servers_dir: Path) -> Iterator[dict[str, str]]:
    """Our environment plus the URLs of embedded servers for what it does not configure."""
    with ExitStack() as running:
        embedded = start_embedded(os.environ, _servers_dir, running, postgres_settings=FAST_POSTGRES_SETTINGS)
        yield {**os.environ, **embedded.env}


@pytest.fixture(scope="session")
def redis_server_url(_server_env: dict[str, str]) -> str:
    """The session's Redis server URL, read from the environment as the services read it."""
    return service_config.redis_url(_server_env)


@pytest.fixture(scope="session")
def postgres_server_url(_server_env: dict[str, str]) -> str:
    """The session's PostgreSQL server URL, read from the environment as the services read it."""
    return service_config.database_url(_server_env)


@pytest.fixture
def redis_url(redis_server_url: str) -> str:
    """A Redis database emptied before the test."""
    with redis.Redis.from_url(redis_server_url) as client:
        client.flushdb()
    return redis_server_url


@pytest.fixture
def database_url(postgres_server_url: str) -> Iterator[str]:
    """A new, empty PostgreSQL database for this test only, dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    url = create_database(postgres_server_url, name)
    yield url
    drop_database(postgres_server_url, name)


@pytest.fixture
def start_services(
    redis_url: str, database_url: str, tmp_path: Path
) -> Iterator[Callable[..., list[ServiceProcess]]]:
    """Start `python -m <service>` processes on free ports against this test's Redis and database.

    `start_services("worker", "vote", VOTE_OPTIONS="A,B")` boots them side by side and returns them once
    each answers /readyz; `env` overrides anything (REDIS_URL too). Every process started is stopped at
    teardown, even when the test fails. Logs go to tmp_path/<service>-<n>.log.
    """
    started: list[ServiceProcess] = []
    # Tests do not exercise gunicorn's graceful drain; an open SSE stream would hold each stop for 10 s.
    base = {
        "REDIS_URL": redis_url,
        "DATABASE_URL": database_url,
        "LOG_LEVEL": "WARNING",
        "GRACEFUL_TIMEOUT": "1",
    }

    def start(*services: str, **env: str) -> list[ServiceProcess]:
        batch = [
            ServiceProcess(service, {**base, **env}, tmp_path / f"{service}-{len(started) + index}.log")
            for index, service in enumerate(services)
        ]
        started.extend(batch)
        start_together(batch)
        return batch

    yield start
    stop_together(started)


@pytest.fixture
def start_service(start_services: Callable[..., list[ServiceProcess]]) -> Callable[..., ServiceProcess]:
    """One service: `start_service("vote", VOTE_OPTIONS="A,B")`, see `start_services`."""

    def start(service: str, **env: str) -> ServiceProcess:
        return start_services(service, **env)[0]

    return start


@pytest.fixture(scope="session")
def crd_schema_dir() -> Path:
    """The CRD JSON schemas the gate uses: the committed engines/crd-schemas (or CRD_SCHEMA_DIR)."""
    return configured_crd_schema_dir().resolve()


@pytest.fixture(scope="session")
def local_cluster(_servers_dir: Path) -> Iterator[LocalCluster]:
    """One real control plane for the session (etcd, kube-apiserver, controllers, kwok nodes, the
    platform's CRDs and the Argo Rollouts controller), ~10 s to start; tests use their own namespaces."""
    with LocalCluster(_servers_dir / "cluster", ClusterOptions(with_rollouts=True)) as cluster:
        yield cluster


@pytest.fixture(scope="session")
def kube(local_cluster: LocalCluster) -> Iterator[KubeClient]:
    with KubeClient(local_cluster.kubeconfig) as client:
        yield client
