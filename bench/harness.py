"""What the benchmarks share: a private stack in a temp dir, percentiles, and the results file."""

from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from votectl.localstack import PostgresServer, RedisServer, ServiceProcess

RESULTS_DIR = Path(__file__).parent / "results"
# Redis and PostgreSQL run with their durable defaults (AOF everysec, fsync on), as `votectl run` does.


@dataclass
class BenchStack:
    """Servers and services started for one benchmark; `start` adds a service against them."""

    directory: Path
    redis: RedisServer
    postgres: PostgresServer
    env: dict[str, str]
    services: dict[str, ServiceProcess] = field(default_factory=dict)
    _exit: ExitStack = field(default_factory=ExitStack)

    def start(self, service: str, name: str = "", **env: str) -> ServiceProcess:
        """`name` tells apart several instances of one service (their logs and `services` keys)."""
        name = name or service
        process = ServiceProcess(service, {**self.env, **env}, self.directory / f"{name}.log")
        self._exit.callback(process.stop)
        self.services[name] = process.start(timeout=60)
        return process


@contextmanager
def bench_stack(**env: str) -> Iterator[BenchStack]:
    directory = Path(tempfile.mkdtemp(prefix="voting-bench-"))
    try:
        with RedisServer(directory / "redis") as redis_server, PostgresServer(directory / "pg") as postgres:
            base = {
                "REDIS_URL": redis_server.url,
                "DATABASE_URL": postgres.url,
                "LOG_LEVEL": "WARNING",
                "SECRET_KEY": "bench-only-secret-key-not-used-anywhere-else",
                **env,
            }
            stack = BenchStack(directory, redis_server, postgres, base)
            with stack._exit:
                yield stack
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile (p in 0..100) of a non-empty sample."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def write_result(name: str, result: dict) -> dict:
    """Print the numbers and keep them (with when and where they were measured) in bench/results/."""
    record = {
        "benchmark": name,
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            # above ~0.5 with nothing else of ours running, the machine was shared with other jobs
            "load_1m_at_end": os.getloadavg()[0],
        },
        **result,
    }
    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"{name}.json").write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record, indent=2), flush=True)
    return record
