"""Real Prometheus servers for the analysis tests.

`prometheus_url` has no targets: the run-loop cases query `time()` and literals at virtual times, so a
real Prometheus computes every `result` in a millisecond. `scraped` serves three canaries' metrics with
prometheus-client (healthy, 10 % errors, no traffic) and a Prometheus scraping them every 0.5 s.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, Counter, start_http_server
from votectl.localstack.prometheus_server import PrometheusServer, ScrapeTarget


@pytest.fixture(scope="session")
def prometheus_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with PrometheusServer(tmp_path_factory.mktemp("prometheus-empty"), []) as server:
        yield server.url


@dataclass
class Canary:
    """One scrape target: a /metrics endpoint whose counters a background thread drives."""

    hash: str
    requests_per_tick: int
    errors_every: int  # an error every N requests; 0 = never
    registry: CollectorRegistry

    def __post_init__(self) -> None:
        self.requests = Counter(
            "vote_requests", "requests", ["service", "method", "route", "code"], registry=self.registry
        )
        self.errors = Counter("vote_errors", "errors", ["service", "reason"], registry=self.registry)
        self.served = 0

    def tick(self) -> None:
        for _ in range(self.requests_per_tick):
            self.served += 1
            failed = self.errors_every and self.served % self.errors_every == 0
            code = "500" if failed else "202"
            self.requests.labels("vote", "POST", "/", code).inc()
            if failed:
                self.errors.labels("vote", "fault").inc()


@pytest.fixture(scope="module")
def scraped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a Prometheus scraping the healthy, faulty and idle canaries."""
    canaries = [
        Canary("healthy", 5, 0, CollectorRegistry()),
        Canary("faulty", 5, 10, CollectorRegistry()),
        Canary("idle", 0, 0, CollectorRegistry()),
    ]
    servers = [start_http_server(0, addr="127.0.0.1", registry=c.registry) for c in canaries]
    stop = threading.Event()

    def drive() -> None:
        while not stop.wait(0.02):
            for canary in canaries:
                canary.tick()

    driver = threading.Thread(target=drive, daemon=True)
    driver.start()
    targets = [
        ScrapeTarget("vote", f"127.0.0.1:{server.server_port}", {"rollouts_pod_template_hash": canary.hash})
        for canary, (server, _) in zip(canaries, servers, strict=True)
    ]
    data_dir: Path = tmp_path_factory.mktemp("prometheus-scraped")
    try:
        with PrometheusServer(data_dir, targets, scrape_interval="500ms") as prometheus:
            yield prometheus.url
    finally:
        stop.set()
        driver.join()
        for server, _ in servers:
            server.shutdown()
            server.server_close()
