"""The local stack's servers: real redis-server and PostgreSQL, restarted and killed like in production."""

from __future__ import annotations

import os
from pathlib import Path

import psycopg2
import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from votectl.errors import VotectlError
from votectl.localstack import PostgresServer, RedisServer, ServiceProcess
from votectl.localstack.ports import free_port

# redis-py retries failed commands with backoff by default; these tests expect the failure at once.
NO_RETRY = Retry(NoBackoff(), 0)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_redis_keeps_stream_entries_across_stop_and_start(tmp_path: Path) -> None:
    with RedisServer(tmp_path) as server:
        with server.client() as client:
            entry_id = client.xadd("votes", {"option": "Cats"})
        server.stop()
        server.start()
        with server.client() as client:
            assert [e[0] for e in client.xrange("votes")] == [entry_id]
    assert "appendonly yes" in (tmp_path / "redis.conf").read_text()


def test_redis_kill_leaves_no_process_and_restarts_on_the_same_port(tmp_path: Path) -> None:
    server = RedisServer(tmp_path).start()
    pid, port = server.pid, server.port
    assert pid is not None
    server.kill()
    assert not _alive(pid)
    with pytest.raises(redis.ConnectionError):
        redis.Redis.from_url(server.url, socket_connect_timeout=0.5, retry=NO_RETRY).ping()
    server.start()
    try:
        assert server.port == port
        assert server.client().ping()
    finally:
        server.stop()


def test_redis_requires_its_password(tmp_path: Path) -> None:
    with RedisServer(tmp_path) as server:
        anonymous = redis.Redis(host="127.0.0.1", port=server.port, retry=NO_RETRY)
        with pytest.raises(redis.AuthenticationError):
            anonymous.ping()
        assert (tmp_path / "redis.password").stat().st_mode & 0o777 == 0o600


def test_a_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    with (
        RedisServer(tmp_path / "a") as first,
        pytest.raises(VotectlError, match=f"port {first.port} .* already in use"),
    ):
        RedisServer(tmp_path / "b", port=first.port).start()


@pytest.mark.parametrize(
    ("bind", "reason"),
    [
        ("no-such-host.invalid", "cannot listen on no-such-host.invalid"),
        ("192.0.2.1", "cannot listen on 192.0.2.1"),
    ],
)
def test_a_bind_address_that_cannot_work_is_not_called_busy(tmp_path: Path, bind: str, reason: str) -> None:
    """BIND=typo used to read "port 5000 is already in use"; the operator must see the real reason."""
    service = ServiceProcess("vote", {}, tmp_path / "vote.log", port=free_port(), bind=bind)
    with pytest.raises(VotectlError, match=reason):
        service.launch()
    assert not service.running


def test_postgres_keeps_data_across_restart_and_creates_the_app_database(server_dir: Path) -> None:
    with PostgresServer(server_dir) as server:
        assert server.url.endswith("/voting")
        with server.connect() as conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE t (v int); INSERT INTO t VALUES (42)")
        server.restart()
        with server.connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT v FROM t")
            assert cur.fetchone() == (42,)
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(host="127.0.0.1", port=server.port, user="postgres", password="wrong")
        pid = server.pid
    assert pid is not None and not _alive(pid)


def test_database_fixture_gives_an_empty_private_database(
    database_url: str, postgres_server_url: str
) -> None:
    assert database_url != postgres_server_url
    with psycopg2.connect(database_url) as conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
        assert cur.fetchone() == (0,)
        cur.execute("CREATE TABLE mine (v int)")


def test_redis_fixture_starts_empty(redis_url: str) -> None:
    with redis.Redis.from_url(redis_url) as client:
        assert client.dbsize() == 0
        client.set("left-over", "1")  # the next test using the fixture must not see it


def test_redis_fixture_starts_empty_again(redis_url: str) -> None:
    with redis.Redis.from_url(redis_url) as client:
        assert client.dbsize() == 0


def test_service_process_rejects_an_unknown_service(tmp_path: Path) -> None:
    with pytest.raises(VotectlError, match="unknown service 'ballot'"):
        ServiceProcess("ballot", {}, tmp_path / "log")


def test_service_that_cannot_start_reports_why_in_one_line(tmp_path: Path) -> None:
    env = {"REDIS_URL": f"redis://127.0.0.1:{free_port()}/0", "VOTE_OPTIONS": "Only"}
    with pytest.raises(VotectlError) as failure:
        ServiceProcess("vote", env, tmp_path / "vote.log").start(timeout=20)
    message = str(failure.value)
    assert message.startswith("vote exited with code 2")
    assert "VOTE_OPTIONS" in message
    assert "\n" not in message


def test_picked_ports_are_distinct_and_outside_the_ephemeral_range() -> None:
    """Outgoing connections take ephemeral ports; a port picked from that range was stolen in CI."""
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = [free_port() for _ in range(50)]
    assert len(set(ports)) == len(ports)
    assert all(1024 < port < low for port in ports)
