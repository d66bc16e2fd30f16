"""A private Prometheus (the Debian binary) scraping local targets, for rehearsals and tests.

Static labels on a target play the part of the PodMonitor's `rollouts_pod_template_hash` relabelling,
which is how an analysis tells canary from stable in the cluster.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import requests

from votectl.errors import VotectlError
from votectl.localstack.ports import free_port, port_in_use
from votectl.localstack.process import ManagedProcess

HOST = "127.0.0.1"


@dataclass(frozen=True)
class ScrapeTarget:
    job: str
    address: str  # host:port serving /metrics
    labels: dict[str, str] = field(default_factory=dict)


def prometheus_binary() -> Path:
    found = shutil.which("prometheus")
    if found is None:
        raise VotectlError("prometheus not found: apt-get install -y --no-install-recommends prometheus")
    return Path(found)


class PrometheusServer:
    """Prometheus on 127.0.0.1 with its TSDB and config in `data_dir`; `.url` is its base URL."""

    def __init__(
        self,
        data_dir: Path | str,
        targets: list[ScrapeTarget],
        scrape_interval: str = "1s",
        port: int = 0,
        query_log: bool = False,
    ) -> None:
        self.data_dir = Path(data_dir)
        # every query with its exact evaluation time (JSON lines), for replays of what others queried
        self.query_log = self.data_dir / "queries.log" if query_log else None
        self.targets = targets
        self.scrape_interval = scrape_interval
        self.port = port or free_port(HOST)
        self._process = ManagedProcess("prometheus", self.data_dir / "prometheus.log")

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self, timeout: float = 30.0) -> PrometheusServer:
        if port_in_use(HOST, self.port):
            raise VotectlError(f"cannot start prometheus: port {self.port} on {HOST} is already in use")
        config = self._write_config()
        self._process.spawn(
            [
                str(prometheus_binary()),
                f"--config.file={config}",
                f"--storage.tsdb.path={self.data_dir / 'tsdb'}",
                f"--web.listen-address={HOST}:{self.port}",
                "--log.level=warn",
            ]
        )
        self._process.wait_ready(self._ready, timeout, "not ready")
        return self

    def stop(self) -> None:
        self._process.stop()

    def __enter__(self) -> PrometheusServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _write_config(self) -> Path:
        """JSON is valid YAML: no template engine needed for the scrape config."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        jobs: dict[str, list[dict[str, object]]] = {}
        for target in self.targets:
            jobs.setdefault(target.job, []).append({"targets": [target.address], "labels": target.labels})
        settings: dict[str, object] = {
            "scrape_interval": self.scrape_interval,
            "evaluation_interval": self.scrape_interval,
        }
        if self.query_log is not None:
            settings["query_log_file"] = str(self.query_log)
        config = {
            "global": settings,
            "scrape_configs": [{"job_name": job, "static_configs": groups} for job, groups in jobs.items()],
        }
        path = self.data_dir / "prometheus.yml"
        path.write_text(json.dumps(config, indent=2))
        return path

    def _ready(self) -> bool:
        if not self._process.running:
            return False
        try:
            return requests.get(f"{self.url}/-/ready", timeout=1).status_code == 200
        except requests.RequestException:
            return False
