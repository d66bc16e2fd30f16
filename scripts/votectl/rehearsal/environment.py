"""Everything a rehearsal runs on: Redis, PostgreSQL, the worker, a stable and a canary instance of the
service (same code, the canary with its own env), nginx in front of them, and Prometheus scraping both.

Prometheus labels each instance's series with `rollouts_pod_template_hash` (stable or canary hash), as
the PodMonitor relabelling does in the cluster; the analyses select the canary by that label only.

With `faults_when_live` the canary's injected faults (`<SERVICE>_FAULT_*`) wait for a file the stack
creates when the canary's weight reaches 100: the release degrades the moment it takes the live traffic.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import requests

from votectl.errors import VotectlError
from votectl.localstack.embedded import start_embedded
from votectl.localstack.nginx import WeightedRouter
from votectl.localstack.ports import wait_until
from votectl.localstack.prometheus_server import PrometheusServer, ScrapeTarget
from votectl.localstack.server import Startable
from votectl.localstack.service import ServiceProcess
from votectl.rehearsal.binding import Hashes

HASH_LABEL = "rollouts_pod_template_hash"
SCRAPE_READY_TIMEOUT = 30.0


@dataclass
class StackSettings:
    service: str
    work_dir: Path
    hashes: Hashes
    scrape_interval: float  # seconds
    canary_env: Mapping[str, str] = field(default_factory=dict)
    prometheus_dir: Path | None = None  # kept after the run when given (for `analyze --replay`)
    prometheus_port: int = 0  # 0: any free port; the controller rehearsal needs it before the stack starts
    redis_url: str | None = None  # existing servers (tests); embedded ones otherwise, as `make run`
    database_url: str | None = None
    faults_when_live: bool = False  # the canary's faults start when it takes all the traffic


class RehearsalStack(Startable):
    """Start in dependency order; `stop()` stops everything started, in reverse, even after a failure."""

    def __init__(self, settings: StackSettings) -> None:
        self.settings = settings
        self._running = ExitStack()
        self.stable: ServiceProcess | None = None
        self.canary: ServiceProcess | None = None
        self.router: WeightedRouter | None = None
        self.prometheus: PrometheusServer | None = None
        self._live_file = settings.work_dir / "canary-live"

    def start(self) -> Self:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        self._running.close()

    def set_weight(self, weight: int) -> None:
        """The canary's share of the traffic through nginx; at 100 it is live."""
        assert self.router is not None
        self.router.set_weight(weight)
        if weight == 100 and self.settings.faults_when_live:
            self._live_file.touch()

    def _start(self) -> None:
        settings, work = self.settings, self.settings.work_dir
        configured = {"REDIS_URL": settings.redis_url or "", "DATABASE_URL": settings.database_url or ""}
        base_env = {
            **configured,
            **start_embedded(configured, work, self._running).env,
            "SECRET_KEY": secrets.token_urlsafe(32),  # shared: a voter's cookie is valid on both sides
            "LOG_LEVEL": "WARNING",
        }
        worker = self._service("worker", base_env, "worker")
        stable = self._service(settings.service, base_env, "stable")
        canary_env = {**base_env, **settings.canary_env}
        if settings.faults_when_live:
            canary_env[f"{settings.service.upper()}_FAULT_AFTER_FILE"] = str(self._live_file)
        canary = self._service(settings.service, canary_env, "canary")
        # Prometheus first: it applies a new scrape config only after a few seconds (its discovery
        # manager batches updates), which then overlap the services' start-up.
        prometheus = PrometheusServer(
            settings.prometheus_dir or work / "prometheus",
            [
                ScrapeTarget(settings.service, _address(stable), {HASH_LABEL: settings.hashes.stable}),
                ScrapeTarget(settings.service, _address(canary), {HASH_LABEL: settings.hashes.latest}),
                ScrapeTarget("worker", _address(worker)),
            ],
            scrape_interval=f"{round(settings.scrape_interval * 1000)}ms",
            port=settings.prometheus_port,
            query_log=True,
        )
        self._running.callback(prometheus.stop)
        self.prometheus = prometheus.start()
        # One after the other, from this thread: children die with the thread that spawned them
        # (PR_SET_PDEATHSIG), so a thread pool would take them down when its threads exit.
        for process in (worker, stable, canary):
            process.start()
        self.stable, self.canary = stable, canary
        router = WeightedRouter(work / "nginx", _address(stable), _address(canary))
        self._running.callback(router.stop)
        self.router = router.start()
        if not wait_until(lambda: _all_up(prometheus.url, 3), SCRAPE_READY_TIMEOUT, interval=0.1):
            raise VotectlError(f"prometheus did not scrape all 3 instances within {SCRAPE_READY_TIMEOUT:g}s")

    def _service(self, name: str, env: dict[str, str], role: str) -> ServiceProcess:
        """Each instance keeps its own multiprocess metrics dir: shared files would sum both sides."""
        env = {"PROMETHEUS_MULTIPROC_DIR": str(self.settings.work_dir / f"metrics-{role}"), **env}
        process = ServiceProcess(name, env, self.settings.work_dir / "logs" / f"{role}.log")
        self._running.callback(process.stop)
        return process


def _all_up(prometheus_url: str, targets: int) -> bool:
    try:
        response = requests.get(f"{prometheus_url}/api/v1/query", params={"query": "up == 1"}, timeout=2)
        return len(response.json()["data"]["result"]) >= targets
    except (requests.RequestException, ValueError, KeyError):
        return False


def _address(process: ServiceProcess) -> str:
    return f"{process.host}:{process.port}"
