"""`python -m vote|result|worker` as real processes: config errors, serving, JSON logs, clean stops."""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from servicetools import SECRET
from votectl.localstack import ServiceProcess
from votectl.localstack.ports import free_port, wait_until

PORT_VARIABLES = {"vote": "VOTE_PORT", "result": "RESULT_PORT", "worker": "WORKER_PORT"}


def run_module(service: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    inherited = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "DATABASE_URL")}
    full_env = {**inherited, **env}
    return subprocess.run(
        [sys.executable, "-m", service], env=full_env, capture_output=True, text=True, timeout=20, check=False
    )


@pytest.mark.parametrize(
    ("service", "variable", "value", "message"),
    [
        ("vote", "VOTE_OPTIONS", "Cats", "VOTE_OPTIONS: need 2 to 12 options, got 1"),
        (
            "vote",
            "VOTE_OPTIONS",
            ",".join(f"O{i}" for i in range(13)),
            "VOTE_OPTIONS: need 2 to 12 options, got 13",
        ),
        ("vote", "VOTE_OPTIONS", "Cats,Cats", "VOTE_OPTIONS: options must be unique"),
        ("vote", "VOTE_PORT", "http", "VOTE_PORT: not a port number: 'http'"),
        ("vote", "VOTE_FAULT_RATE", "1.5", "VOTE_FAULT_RATE: must be between 0 and 1, got 1.5"),
        ("vote", "VOTE_RATE_LIMIT", "lots", "VOTE_RATE_LIMIT: expected e.g. '100 per second', got 'lots'"),
        ("vote", "SECRET_KEY", "short", "SECRET_KEY: must be at least 16 characters"),
        ("vote", "TRUSTED_PROXIES", "9", "TRUSTED_PROXIES: must be between 0 and 5, got 9"),
        ("vote", "REDIS_URL", "http://redis", "REDIS_URL: expected a redis://, rediss:// or unix:// URL"),
        ("result", "RESULT_PORT", "70000", "RESULT_PORT: not a port number: '70000'"),
        ("result", "RESULT_FAULT_RATE", "-1", "RESULT_FAULT_RATE: must be between 0 and 1, got -1"),
        ("result", "RESULT_REFRESH_INTERVAL", "soon", "RESULT_REFRESH_INTERVAL: not a number: 'soon'"),
        ("result", "RESULT_MAX_STREAMS", "32", "RESULT_MAX_STREAMS: must be between 1 and 31, got 32"),
        ("result", "DATABASE_URL", "mysql://db", "DATABASE_URL: expected a postgresql:// URL"),
        ("worker", "WORKER_BATCH_SIZE", "0", "WORKER_BATCH_SIZE: must be between 1 and 10000, got 0"),
        ("worker", "POSTGRES_PORT", "x", "POSTGRES_PORT: not a port number: 'x'"),
        (
            "worker",
            "LOG_LEVEL",
            "loud",
            "LOG_LEVEL: expected DEBUG, INFO, WARNING, ERROR or CRITICAL, got 'LOUD'",
        ),
    ],
)
def test_invalid_configuration_exits_with_one_line(
    service: str, variable: str, value: str, message: str
) -> None:
    # A free port, in case a wrong case started a server after all (it would then time out, not bind 5000).
    env = {"SECRET_KEY": SECRET, "WEB_CONCURRENCY": "1", PORT_VARIABLES[service]: str(free_port())}
    completed = run_module(service, {**env, variable: value})
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [f"{service}: {message}"]


@pytest.fixture
def spawn(tmp_path: Path) -> Iterator[Callable[..., tuple[subprocess.Popen[bytes], str, Path]]]:
    """Start a service module on a free port; every process is killed at teardown, even on failure."""
    processes: list[subprocess.Popen[bytes]] = []

    def start(service: str, env: dict[str, str]) -> tuple[subprocess.Popen[bytes], str, Path]:
        port = free_port()
        log = tmp_path / f"{service}.log"
        full_env = {**os.environ, **env, "BIND": "127.0.0.1", PORT_VARIABLES[service]: str(port)}
        with log.open("wb") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", service], env=full_env, stdout=out, stderr=subprocess.STDOUT
            )
        processes.append(process)
        url = f"http://127.0.0.1:{port}"
        assert wait_until(lambda: _status(f"{url}/readyz") == 200 or process.poll() is not None, 30)
        assert process.poll() is None, log.read_text()
        return process, url, log

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(10)


def _status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return err.code
    except OSError:
        return None


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def _post_vote(url: str, option: str) -> dict:
    request = urllib.request.Request(
        f"{url}/api/vote",
        data=json.dumps({"option": option}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 202
        return json.loads(response.read())


@pytest.mark.slow
def test_three_services_serve_and_stop_cleanly(spawn, redis_url: str, database_url: str) -> None:
    env = {"REDIS_URL": redis_url, "DATABASE_URL": database_url, "SECRET_KEY": SECRET, "LOG_LEVEL": "INFO"}
    worker, worker_url, worker_log = spawn("worker", env)
    vote, vote_url, vote_log = spawn("vote", env)
    result, result_url, _ = spawn("result", {**env, "GRACEFUL_TIMEOUT": "30"})

    for option in ("Cats", "Dogs", "Dogs"):
        _post_vote(vote_url, option)  # no cookie kept: three different voters

    def counted() -> bool:
        return _get_json(f"{result_url}/api/results")["total"] == 3

    assert wait_until(counted, 20)
    assert [(o["option"], o["votes"]) for o in _get_json(f"{result_url}/api/results")["options"]] == [
        ("Cats", 1),
        ("Dogs", 2),
    ]
    with urllib.request.urlopen(f"{vote_url}/metrics", timeout=5) as response:
        vote_metrics = response.read().decode()
    # Several gunicorn workers, one merged view: all three votes are counted whichever worker took them.
    assert (
        'vote_requests_total{code="202",method="POST",route="/api/vote",service="vote"} 3.0' in vote_metrics
    )
    with urllib.request.urlopen(f"{worker_url}/metrics", timeout=5) as response:
        assert "votes_processed_total 3.0" in response.read().decode()
    assert _get_json(f"{worker_url}/health")["status"] == "healthy"

    # An open SSE stream must not hold the shutdown for GRACEFUL_TIMEOUT (30 s here).
    stream = urllib.request.urlopen(f"{result_url}/api/results/stream", timeout=10)
    assert stream.readline().startswith(b"retry:")
    assert json.loads(stream.readline().removeprefix(b"data: "))["total"] == 3
    stopping = time.monotonic()
    for process in (vote, result, worker):
        process.send_signal(signal.SIGTERM)
    assert [p.wait(20) for p in (vote, result, worker)] == [0, 0, 0]
    assert time.monotonic() - stopping < 8
    assert stream.read() == b"\n"  # the end of the event already read; then the stream ended cleanly
    stream.close()
    for log in (vote_log, worker_log):
        lines = log.read_text().splitlines()
        assert lines, f"{log} is empty"
        for line in lines:
            entry = json.loads(line)  # every line is one JSON object
            assert {"ts", "level", "service", "msg"} <= entry.keys()
    assert SECRET not in vote_log.read_text()


def test_start_service_fixture_runs_our_entry_points(start_service: Callable[..., ServiceProcess]) -> None:
    """The suite's shared fixture (used by e2e and fault tests) starts our modules and sees them ready."""
    vote = start_service("vote")
    assert _get_json(f"{vote.url}/healthz") == {"status": "alive"}


def test_second_server_on_a_taken_port_exits_with_one_line(spawn, service_env: dict[str, str]) -> None:
    """Each worker listens with SO_REUSEPORT, which would let a second server silently share the port."""
    env = {**service_env, "WEB_CONCURRENCY": "1"}
    _process, url, _log = spawn("vote", env)
    port = url.rsplit(":", 1)[1]
    completed = run_module("vote", {**env, "BIND": "127.0.0.1", "VOTE_PORT": port})
    assert completed.returncode == 2
    assert completed.stderr.splitlines() == [f"vote: BIND: cannot listen on 127.0.0.1:{port}: already in use"]


def test_keep_alive_connections_are_spread_over_the_workers(spawn, service_env: dict[str, str]) -> None:
    """A burst of keep-alive connections must not all land on one gunicorn worker (see server.py)."""
    process, url, _log = spawn("vote", {**service_env, "WEB_CONCURRENCY": "2"})
    port = int(url.rsplit(":", 1)[1])
    workers = psutil.Process(process.pid).children()
    assert len(workers) == 2
    connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=5) for _ in range(40)]
    try:
        for connection in connections:  # all connected in one burst, as a load balancer or wrk does
            connection.connect()
        for connection in connections:
            connection.request("GET", "/healthz")
            assert connection.getresponse().read() == b'{"status":"alive"}\n'
        held = [
            sum(c.laddr.port == port and c.status == "ESTABLISHED" for c in worker.net_connections("tcp"))
            for worker in workers
        ]
    finally:
        for connection in connections:
            connection.close()
    assert sum(held) == 40
    # The kernel hashes each connection to one worker's socket: an even split is ~20/20, and fewer than 4
    # on one side has odds of about 2 in 100 million; a shared socket gave all 40 to one worker in 2 of 4
    # tries.
    assert min(held) >= 4, held
