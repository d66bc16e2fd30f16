"""`votectl run`: embedded servers and the three services, stopped cleanly, votes kept across restarts."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from votectl.localstack import free_port
from votectl.localstack.ports import wait_until
from votectl.votingclient import Voter, wait_for_tallies

pytestmark = pytest.mark.slow

# What `votectl run` must ignore here: the suite's own servers are configured through these.
SERVER_VARIABLES = ("REDIS_URL", "REDIS_HOST", "DATABASE_URL", "POSTGRES_HOST")


@pytest.fixture
def run_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in SERVER_VARIABLES}
    ports = {"VOTE_PORT": free_port(), "RESULT_PORT": free_port(), "WORKER_PORT": free_port()}
    return {**env, **{k: str(v) for k, v in ports.items()}, "BIND": "127.0.0.1"}


class RunningStack:
    """`votectl run` as a child process, started like a user would, with its URLs read from stdout."""

    def __init__(self, state_dir: Path, env: dict[str, str], args: tuple[str, ...] = ()) -> None:
        self.state_dir = state_dir
        self.process = subprocess.Popen(
            [sys.executable, "-m", "votectl", "run", "--state-dir", str(state_dir), *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.urls: dict[str, str] = {}
        assert self.process.stdout is not None
        for line in self.process.stdout:
            name, _, url = line.partition(" ")
            self.urls[name] = url.strip()
            if name == "worker":
                break
        if set(self.urls) != {"vote", "result", "worker"}:
            self.kill()
            raise AssertionError(f"votectl run did not start: {self.process.stderr.read()}")  # type: ignore[union-attr]
        self.children = psutil.Process(self.process.pid).children(recursive=True)

    def interrupt(self, sig: signal.Signals = signal.SIGINT) -> tuple[int, str]:
        self.process.send_signal(sig)
        _, stderr = self.process.communicate(timeout=60)
        return self.process.returncode, stderr

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def start_stack(server_dir: Path, run_env: dict[str, str]) -> Iterator[Callable[..., RunningStack]]:
    stacks: list[RunningStack] = []

    def start(*args: str, **env: str) -> RunningStack:
        stacks.append(RunningStack(server_dir / "state", {**run_env, **env}, args))
        return stacks[-1]

    yield start
    for stack in stacks:
        stack.kill()


def test_run_starts_everything_stops_on_ctrl_c_and_keeps_votes(
    start_stack: Callable[..., RunningStack], run_env: dict[str, str]
) -> None:
    first = start_stack()
    assert first.urls["vote"] == f"http://127.0.0.1:{run_env['VOTE_PORT']}"
    assert first.urls["result"] == f"http://127.0.0.1:{run_env['RESULT_PORT']}"
    voter = Voter(first.urls["vote"])
    assert voter.vote("Cats").status_code == 202
    assert wait_for_tallies(first.urls["result"], {"Cats": 1, "Dogs": 0}) == {"Cats": 1, "Dogs": 0}
    assert len(first.children) >= 5  # redis, postgres, worker, vote and result (and their workers)

    code, stderr = first.interrupt()

    assert code == 0, stderr
    assert "Traceback" not in stderr
    assert not [child for child in first.children if child.is_running() and child.status() != "zombie"]

    second = start_stack()
    assert wait_for_tallies(second.urls["result"], {"Cats": 1, "Dogs": 0}, timeout=10) == {
        "Cats": 1,
        "Dogs": 0,
    }
    voter.vote_url = second.urls["vote"]
    assert voter.vote("Dogs").status_code == 202  # the same voter (cookie still valid) changes its vote
    assert wait_for_tallies(second.urls["result"], {"Cats": 0, "Dogs": 1}) == {"Cats": 0, "Dogs": 1}
    code, stderr = second.interrupt()
    assert code == 0, stderr


def test_run_uses_configured_servers_and_stops_on_sigterm(
    start_stack: Callable[..., RunningStack], server_dir: Path, redis_url: str, database_url: str
) -> None:
    stack = start_stack(REDIS_URL=redis_url, DATABASE_URL=database_url)
    assert Voter(stack.urls["vote"]).vote("Dogs").status_code == 202
    assert wait_for_tallies(stack.urls["result"], {"Cats": 0, "Dogs": 1}) == {"Cats": 0, "Dogs": 1}

    code, stderr = stack.interrupt(signal.SIGTERM)

    assert code == 0, stderr
    assert "embedded servers: none" in stderr
    assert not (server_dir / "state" / "redis").exists()
    assert not (server_dir / "state" / "postgres").exists()
    assert not [child for child in stack.children if child.is_running() and child.status() != "zombie"]


def test_run_with_redis_replicas_survives_killing_the_primary(
    start_stack: Callable[..., RunningStack],
) -> None:
    stack = start_stack("--redis-replicas", "2")
    voter = Voter(stack.urls["vote"])
    assert voter.vote("Cats").status_code == 202
    servers = [child for child in stack.children if "redis-server" in " ".join(child.cmdline())]
    assert len(servers) == 6  # a primary, two replicas, three sentinels
    config = (stack.state_dir / "redis-sentinel" / "redis-0" / "redis.conf").read_text()
    port = next(line.split()[1] for line in config.splitlines() if line.startswith("port "))
    # redis-server retitles itself "redis-server 127.0.0.1:<port>" (sentinels add " [sentinel]").
    (primary,) = [server for server in servers if server.cmdline()[0].endswith(f":{port}")]
    primary.kill()
    assert wait_until(lambda: voter.vote("Dogs").status_code == 202, timeout=30, interval=0.2)
    assert wait_for_tallies(stack.urls["result"], {"Cats": 0, "Dogs": 1}) == {"Cats": 0, "Dogs": 1}

    code, stderr = stack.interrupt()

    assert code == 0, stderr
    assert "embedded servers: redis (primary, 2 replicas, 3 sentinels), postgres" in stderr
    assert not [child for child in stack.children if child.is_running() and child.status() != "zombie"]


def test_run_refuses_a_busy_port_with_one_line(tmp_path: Path, run_env: dict[str, str]) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "votectl", "run", "--state-dir", str(tmp_path / "state")],
            env={**run_env, "VOTE_PORT": str(port)},
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert result.returncode != 0
    assert result.stderr.strip().splitlines()[-1] == (
        f"votectl: error: port {port} on 127.0.0.1 is already in use (vote); "
        "stop what uses it or set VOTE_PORT"
    )
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "state" / "redis").exists()  # nothing was started


def test_run_reports_a_service_that_cannot_start_and_leaves_nothing_running(
    server_dir: Path, run_env: dict[str, str]
) -> None:
    state = server_dir / "state"
    result = subprocess.run(
        [sys.executable, "-m", "votectl", "run", "--state-dir", str(state)],
        env={**run_env, "VOTE_OPTIONS": "Only"},
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("votectl: error: ") and "VOTE_OPTIONS" in last, result.stderr
    assert "Traceback" not in result.stderr
    commands = [" ".join(p.info["cmdline"] or []) for p in psutil.process_iter(["cmdline"])]
    assert [command for command in commands if str(state) in command] == []


def test_run_rejects_a_malformed_port_variable(server_dir: Path, run_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "votectl", "run", "--state-dir", str(server_dir / "state")],
        env={**run_env, "RESULT_PORT": "80a"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode != 0
    assert result.stderr.strip() == "votectl: error: RESULT_PORT: not a port number: '80a'"
