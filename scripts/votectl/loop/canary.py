"""Real processes behind a Rollout's canary while the real controller runs it, as `rehearse` does.

kwok's pods run nothing, so the metrics the AnalysisRuns query come from processes here: once the
controller has created the new ReplicaSet, a stable and a canary instance of the service start (the
canary with the release's env, e.g. a fault to inject), Prometheus labels each one's series with its
ReplicaSet's `rollouts_pod_template_hash`, and nginx splits synthetic traffic by the canary weight the
controller writes on the canary Ingress. Everything stops once the controller has decided.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from votectl.cluster.client import KubeClient
from votectl.errors import VotectlError
from votectl.rehearsal.binding import Hashes
from votectl.rehearsal.environment import RehearsalStack, StackSettings
from votectl.rehearsal.traffic import SyntheticTraffic

API = "/apis/argoproj.io/v1alpha1"
PROMOTED, ABORTED = "promoted", "aborted"
WEIGHT_ANNOTATION = "nginx.ingress.kubernetes.io/canary-weight"


@dataclass(frozen=True)
class Backends:
    """Where the processes keep state and find their servers; the Prometheus port the analyses query."""

    work_dir: Path
    prometheus_port: int
    redis_url: str
    database_url: str
    scrape_interval: float = 1.0
    rate: float = 40.0  # synthetic requests per second


@dataclass
class CanaryOutcome:
    verdict: str
    message: str
    hashes: Hashes
    answers: dict[str, int] = field(default_factory=dict)
    weights: list[tuple[float, int]] = field(default_factory=list)  # (unix time, canary weight)


class CanaryTraffic:
    def __init__(self, client: KubeClient, namespace: str, service: str, backends: Backends) -> None:
        self.client = client
        self.namespace = namespace
        self.service = service
        self.backends = backends

    def rollout(self) -> dict[str, Any]:
        answer = self.client.get(f"{API}/namespaces/{self.namespace}/rollouts/{self.service}")
        if not answer.ok:
            raise VotectlError(f"reading Rollout {self.namespace}/{self.service} failed: {answer.message}")
        return answer.body

    def run(
        self,
        stable: str,
        canary_env: Mapping[str, str],
        timeout: float,
        note: Callable[[str], None] = lambda _text: None,
    ) -> CanaryOutcome:
        """Wait for the ReplicaSet that replaces `stable`, serve it until the controller decides."""
        hashes = self._wait_for_canary(stable, timeout=120.0)
        note(f"canary ReplicaSet {hashes.latest} created next to stable {hashes.stable}")
        settings = StackSettings(
            service=self.service,
            work_dir=self.backends.work_dir / f"{self.namespace}-{hashes.latest}",
            hashes=hashes,
            scrape_interval=self.backends.scrape_interval,
            canary_env=canary_env,
            prometheus_port=self.backends.prometheus_port,
            redis_url=self.backends.redis_url,
            database_url=self.backends.database_url,
        )
        with RehearsalStack(settings) as stack:
            assert stack.router is not None
            note(f"processes up behind nginx {stack.router.url}")
            traffic = SyntheticTraffic(stack.router.url, self.service, self.backends.rate).start()
            try:
                outcome = self._follow(stack, hashes, timeout)
            finally:
                traffic.stop()
            outcome.answers = dict(traffic.answers)
        note(f"{outcome.verdict}: {outcome.message}")
        return outcome

    def _wait_for_canary(self, stable: str, timeout: float) -> Hashes:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.rollout().get("status") or {}
            current = status.get("currentPodHash")
            if current and current != stable:
                return Hashes(stable=stable, latest=str(current))
            time.sleep(0.5)
        raise VotectlError(f"no new ReplicaSet for {self.namespace}/{self.service} within {timeout:g} s")

    def _follow(self, stack: RehearsalStack, hashes: Hashes, timeout: float) -> CanaryOutcome:
        assert stack.router is not None
        outcome = CanaryOutcome("", "", hashes)
        weight = -1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.rollout().get("status") or {}
            verdict = _verdict(status, hashes)
            current = 100 if status.get("stableRS") == hashes.latest else self._canary_weight()
            if current != weight:
                weight = current
                stack.router.set_weight(weight)
                outcome.weights.append((time.time(), weight))
            if verdict is not None:
                outcome.verdict, outcome.message = verdict
                return outcome
            time.sleep(0.5)
        status = self.rollout().get("status") or {}
        raise VotectlError(
            f"the controller did not decide on {self.namespace}/{self.service} within {timeout:g} s: "
            f"{status.get('phase')} {status.get('message') or ''}".rstrip()
        )

    def _canary_weight(self) -> int:
        name = f"{self.service}-{self.service}-canary"  # <rollout>-<stable ingress>-canary
        answer = self.client.get(f"/apis/networking.k8s.io/v1/namespaces/{self.namespace}/ingresses/{name}")
        if not answer.ok:
            return 0
        text = str(((answer.body.get("metadata") or {}).get("annotations") or {}).get(WEIGHT_ANNOTATION, "0"))
        return int(text) if text.isdigit() else 0


def _verdict(status: dict[str, Any], hashes: Hashes) -> tuple[str, str] | None:
    if status.get("abort") or status.get("phase") == "Degraded":
        return ABORTED, str(status.get("message") or "the controller aborted the rollout")
    if status.get("phase") == "Healthy" and status.get("stableRS") == hashes.latest:
        return PROMOTED, "the canary ReplicaSet is the stable one"
    if status.get("phase") == "Paused" and any(
        c.get("reason") == "InconclusiveAnalysisRun" for c in status.get("pauseConditions") or []
    ):
        return "paused", str(status.get("message") or "an analysis was inconclusive")
    return None
