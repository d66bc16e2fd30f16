"""A private Prometheus (the Debian binary) scraping local targets, for rehearsals and tests.

Static labels on a target play the part of the PodMonitor's `rollouts_pod_template_hash` relabelling,
which is how an analysis tells canary from stable in the cluster.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import requests

from votectl.errors import VotectlError
from votectl.localstack.server import HOST, Command, ManagedServer


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


class PrometheusServer(ManagedServer):
    """Prometheus on 127.0.0.1 with its TSDB and config in `data_dir`; `.url` is its base URL."""

    start_timeout = 30.0
    not_ready = "/-/ready not 200"

    def __init__(
        self,
        data_dir: Path | str,
        targets: list[ScrapeTarget],
        scrape_interval: str = "1s",
        port: int = 0,
        query_log: bool = False,
    ) -> None:
        self.data_dir = Path(data_dir)
        super().__init__("prometheus", self.data_dir / "prometheus.log", port)
        # every query with its exact evaluation time (JSON lines), for replays of what others queried
        self.query_log = self.data_dir / "queries.log" if query_log else None
        self.targets = targets
        self.scrape_interval = scrape_interval

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def config_path(self) -> Path:
        return self.data_dir / "prometheus.yml"

    def command(self) -> Command:
        return Command(
            [
                str(prometheus_binary()),
                f"--config.file={self.config_path}",
                f"--storage.tsdb.path={self.data_dir / 'tsdb'}",
                f"--web.listen-address={HOST}:{self.port}",
                "--log.level=warn",
            ]
        )

    def write_config(self) -> None:
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
        self.config_path.write_text(json.dumps(config, indent=2))

    def ready(self) -> bool:
        try:
            return requests.get(f"{self.url}/-/ready", timeout=1).status_code == 200
        except requests.RequestException:
            return False
