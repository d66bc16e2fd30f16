"""`votectl rehearse --controller argo`: the real Argo Rollouts controller makes every decision.

The service's Rollout and what it needs (manifests.py) go into a local control plane running the pinned
controller. The first apply deploys the stable revision; a pod template change starts the rollout, held
paused until the canary's ReplicaSet exists, so that the real `rollouts-pod-template-hash` of each
ReplicaSet labels its process's series in Prometheus before any AnalysisRun queries them. Then the
controller walks the steps: the canary Ingress weight it writes drives the nginx split, the active
Service selector it switches drives blue-green traffic, its AnalysisRuns query the rehearsal's
Prometheus, and the Rollout's status says how it ended. Afterwards every AnalysisRun is replayed with
`votectl analyze`'s engine over the same template, args and window, for the report.
"""

from __future__ import annotations

import dataclasses
import secrets
import time
from contextlib import ExitStack
from datetime import datetime
from pathlib import Path
from typing import Any

from votectl.analysis.reconcile import AnalysisRunner
from votectl.cluster.client import KubeClient
from votectl.cluster.control_plane import ClusterOptions, LocalCluster
from votectl.cluster.workloads import create_namespace
from votectl.errors import VotectlError
from votectl.localstack.ports import free_port
from votectl.rehearsal.binding import Hashes, Timing
from votectl.rehearsal.environment import RehearsalStack, StackSettings
from votectl.rehearsal.executor import ABORTED, PAUSED, PROMOTED, AnalysisRecord, RehearsalResult
from votectl.rehearsal.manifests import canary_revision, rehearsal_objects
from votectl.rehearsal.report import Series, error_ratio_series
from votectl.rehearsal.strategy import BlueGreenStrategy, CanaryStrategy, Rollout
from votectl.rehearsal.timeline import Timeline
from votectl.rehearsal.traffic import SyntheticTraffic
from votectl.repo import Repo

API = "/apis/argoproj.io/v1alpha1"
POLL_SECONDS = 0.5
# reasons a Rollout pauses for a human, as the controller writes them in status.pauseConditions
HUMAN_PAUSES = {"InconclusiveAnalysisRun", "BlueGreenPause"}
RUN_LABELS = {
    "Background": "background analysis",
    "PrePromotion": "pre-promotion analysis",
    "PostPromotion": "post-promotion analysis",
}


@dataclasses.dataclass
class ControllerRun:
    """One AnalysisRun as the controller left it, and what the replay says."""

    name: str
    label: str
    phase: str
    message: str
    measurements: list[dict[str, Any]]
    template: dict[str, Any]
    window: tuple[float, float]
    replay: AnalysisRunner | None = None  # None for a run of job metrics only (nothing in Prometheus)
    aligned: str = ""  # the metric whose first query (from Prometheus' query log) the replay starts at

    @property
    def replay_phase(self) -> str:
        return self.replay.phase if self.replay is not None else self.phase

    def replay_measurements(self) -> list[dict[str, Any]]:
        if self.replay is None:
            return []
        return [
            {"metric": result.name, "phase": m.phase, "value": m.value}
            for result in self.replay.results.values()
            for m in result.measurements
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "label": self.label,
            "controller": {"phase": self.phase, "message": self.message, "measurements": self.measurements},
            "replay": {
                "phase": self.replay_phase,
                "aligned": self.aligned,
                "measurements": self.replay_measurements(),
                "window": list(self.window),
            },
            # a run the controller had not finished when the rehearsal ended has no verdict to compare
            "agrees": self.phase == self.replay_phase if self.phase not in ("Running", "Pending") else None,
            "values": self.value_agreement(),
        }

    def value_agreement(self) -> dict[str, float]:
        """Measurements taken by both (metric by metric, in order): how many gave the very same value, and
        the largest relative difference (the replay queries within milliseconds of the controller)."""
        replayed = self.replay_measurements()
        compared = equal = 0
        worst = 0.0
        for metric in {m["metric"] for m in self.measurements}:
            live = [str(m.get("value", "")) for m in self.measurements if m["metric"] == metric]
            again = [str(m.get("value", "")) for m in replayed if m["metric"] == metric]
            for a, b in zip(live, again, strict=False):
                compared += 1
                equal += a == b
                worst = max(worst, _relative_difference(a, b))
        first = next((m for m in self.measurements if m["metric"] == self.aligned), None)
        first_again = next((m for m in replayed if m["metric"] == self.aligned), None)
        return {
            "compared": compared,
            "equal": equal,
            "max_relative_difference": worst,
            # the measurement both took at the same instant: its value must be the very same
            "first_equal": bool(first and first_again and first.get("value") == first_again.get("value")),
        }


class ControllerRehearsal:
    def __init__(self, rollout: Rollout, env: str, options: Any, timing: Timing, timeline: Timeline) -> None:
        self.rollout = rollout
        self.env = env
        self.options = options
        self.timing = timing
        self.timeline = timeline
        self.runs: list[ControllerRun] = []
        self.hashes: Hashes | None = None
        self.client: KubeClient
        self.stack: RehearsalStack
        self.answers: dict[str, int] = {}
        self.series: list[Series] = []
        self.namespace = f"rehearsal-{secrets.token_hex(3)}"
        self._seen_runs: dict[str, str] = {}
        self._seen_measurements: dict[tuple[str, str], tuple[int, int]] = {}  # (counted, listed)
        self._step: int | None = None
        self._weight = 0

    def run(self, work: Path, prometheus_dir: Path) -> RehearsalResult:
        prometheus_port = free_port()
        prometheus_url = f"http://127.0.0.1:{prometheus_port}"
        objects = rehearsal_objects(
            list(self.rollout.objects), self.rollout.name, self.namespace, prometheus_url, self.timing
        )
        with ExitStack() as running:
            kubeconfig = self.options.kubeconfig
            if kubeconfig is None:
                self.timeline.note(
                    "rollout", "starting a local control plane with the real Argo Rollouts controller"
                )
                options = ClusterOptions(nodes=2, with_rollouts=True)
                kubeconfig = running.enter_context(LocalCluster(work / "cluster", options)).kubeconfig
            self.client = client = running.enter_context(KubeClient(kubeconfig))
            create_namespace(client, Repo.current().env(self.env), self.namespace)
            self.hashes = self._deploy(objects)
            settings = StackSettings(
                service=self.rollout.name,
                work_dir=work,
                hashes=self.hashes,
                scrape_interval=self.timing.scrape_interval,
                canary_env=self.options.canary_env,
                prometheus_dir=prometheus_dir,
                prometheus_port=prometheus_port,
                redis_url=self.options.redis_url,
                database_url=self.options.database_url,
                faults_when_live=self.options.faults_when_live,
            )
            with RehearsalStack(settings) as stack:
                assert stack.router is not None and stack.prometheus is not None
                self.stack = stack
                self.timeline.note(
                    "rollout", f"ready: nginx {stack.router.url}, prometheus {stack.prometheus.url}"
                )
                traffic = [SyntheticTraffic(stack.router.url, self.rollout.name, self.options.rate)]
                if isinstance(self.rollout.strategy, BlueGreenStrategy):
                    traffic.append(
                        SyntheticTraffic(stack.router.preview_url, self.rollout.name, self.options.rate)
                    )
                for generator in traffic:
                    generator.start()
                try:
                    if isinstance(self.rollout.strategy, BlueGreenStrategy) and self.options.rate > 0:
                        self._wait_for_preview_traffic(prometheus_url)
                    self._apply(canary_revision(objects[-1], self.options.canary_env, paused=False))
                    self.timeline.note("rollout", "resumed: the controller runs the steps from here")
                    outcome, message = self._watch()
                finally:
                    for generator in traffic:
                        generator.stop()
                for generator in traffic:
                    for key, value in generator.answers.items():
                        self.answers[key] = self.answers.get(key, 0) + value
                self._collect_runs(prometheus_url, stack.prometheus.query_log)
                self.series = error_ratio_series(
                    prometheus_url,
                    self.rollout.name,
                    self.timeline.started_at,
                    time.time(),
                    self.timing.window(60.0),
                )
        self.timeline.note("rollout", f"{outcome}: {message}", outcome)
        return RehearsalResult(outcome, message, self._records(), self.timeline, time.time())

    # --- the cluster side -------------------------------------------------------------------------

    def _apply(self, obj: dict[str, Any]) -> None:
        answer = self.client.apply(obj, dry_run=False, namespace=self.namespace)
        if not answer.ok:
            raise VotectlError(f"applying {obj['kind']} {obj['metadata']['name']} failed: {answer.message}")

    def _rollout_status(self) -> dict[str, Any]:
        answer = self.client.get(f"{API}/namespaces/{self.namespace}/rollouts/{self.rollout.name}")
        if not answer.ok:
            raise VotectlError(f"reading Rollout {self.rollout.name} failed: {answer.message}")
        return answer.body

    def _wait(self, check: Any, timeout: float, what: str) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            body = self._rollout_status()
            if check(body.get("status") or {}):
                return body
            time.sleep(POLL_SECONDS)
        status = body.get("status") or {}
        state = f"{status.get('phase')} {status.get('message') or ''}".rstrip()
        raise VotectlError(f"timed out waiting for {what}: the Rollout is {state}")

    def _deploy(self, objects: list[dict[str, Any]]) -> Hashes:
        """The stable revision first (a first deploy runs no steps), then the canary revision, paused."""
        for obj in objects:
            self._apply(obj)
        body = self._wait(
            lambda s: s.get("phase") == "Healthy" and s.get("stableRS"), 120, "the stable revision"
        )
        stable = body["status"]["stableRS"]
        self.timeline.note("rollout", f"stable revision healthy: ReplicaSet hash {stable}")
        self._apply(canary_revision(objects[-1], self.options.canary_env, paused=True))
        body = self._wait(
            lambda s: s.get("currentPodHash") not in (None, stable), 60, "the canary ReplicaSet"
        )
        canary = body["status"]["currentPodHash"]
        self.timeline.note("rollout", f"canary revision created: ReplicaSet hash {canary} (held paused)")
        return Hashes(stable=stable, latest=canary)

    def _watch(self) -> tuple[str, str]:
        deadline = time.monotonic() + self._time_budget()
        while time.monotonic() < deadline:
            body = self._rollout_status()
            status = body.get("status") or {}
            self._follow_traffic()
            self._follow_step(status)
            self._follow_runs()
            if verdict := self._verdict(body, status):
                self._settle_traffic(verdict[0])
                self._wait_runs_completed(timeout=self.timing.scaled(180.0) + 10)
                return verdict
            time.sleep(POLL_SECONDS)
        raise VotectlError(f"the rollout did not end within {self._time_budget():.0f} s")

    def _wait_for_preview_traffic(self, prometheus_url: str, timeout: float = 30.0) -> None:
        """Blue-green analyses start the moment the preview is up; in a cluster its pods would already be
        taking synthetic traffic and be scraped. Here that traffic started with the stack: hold the rollout
        until Prometheus has seen it, so a first measurement does not read "no data" only because the
        rehearsal started its processes a moment ago."""
        import requests

        assert self.hashes is not None
        window = f"{max(1, round(self.timing.window(60.0) * 1000))}ms"
        selector = f'rollouts_pod_template_hash="{self.hashes.latest}"'
        query = f"sum(rate(vote_requests_total{{{selector}}}[{window}])) > 0"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                answer = requests.get(
                    f"{prometheus_url}/api/v1/query", params={"query": query}, timeout=5
                ).json()
                if answer["data"]["result"]:
                    self.timeline.note(
                        "traffic", "the preview is taking synthetic traffic (seen by Prometheus)"
                    )
                    return
            except (requests.RequestException, ValueError, KeyError):
                pass
            time.sleep(POLL_SECONDS)
        raise VotectlError(f"Prometheus saw no traffic to the preview within {timeout:g} s")

    def _wait_runs_completed(self, timeout: float) -> None:
        """Runs the verdict left running (a step analysis beside an aborting background one) end soon."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._follow_runs()
            if all(_completed(run) for run in self._analysis_runs()):
                return
            time.sleep(POLL_SECONDS)

    def _settle_traffic(self, outcome: str, timeout: float = 20.0) -> None:
        """After an abort the controller takes the traffic back to stable a moment later: follow it there."""
        deadline = time.monotonic() + timeout
        self._follow_traffic()
        while outcome == ABORTED and self._weight != 0 and time.monotonic() < deadline:
            time.sleep(POLL_SECONDS)
            self._follow_traffic()

    def _time_budget(self) -> float:
        """Every pause and analysis of the strategy at this speed, with room for measurement retries."""
        strategy = self.rollout.strategy
        pauses = (
            sum(step.duration or 0 for step in strategy.steps) if isinstance(strategy, CanaryStrategy) else 0
        )
        return 120 + 4 * self.timing.scaled(pauses + 15 * 60)

    def _verdict(self, body: dict[str, Any], status: dict[str, Any]) -> tuple[str, str] | None:
        assert self.hashes is not None
        message = str(status.get("message") or "")
        if status.get("abort") or status.get("phase") == "Degraded":
            return ABORTED, message or "the controller aborted the rollout"
        if status.get("phase") == "Healthy" and status.get("stableRS") == self.hashes.latest:
            return PROMOTED, "the controller promoted the canary revision: it is the stable one now"
        reasons = {condition.get("reason") for condition in status.get("pauseConditions") or []}
        if status.get("phase") == "Paused" and reasons & HUMAN_PAUSES:
            return PAUSED, self._pause_message(reasons & HUMAN_PAUSES)
        if (
            status.get("phase") == "Paused"
            and "CanaryPauseStep" in reasons
            and self._indefinite_pause(status)
        ):
            return (
                PAUSED,
                f"step {status.get('currentStepIndex')} is a pause without duration: it waits for a human",
            )
        return None

    def _pause_message(self, reasons: set[str]) -> str:
        """Why a human must decide: the Inconclusive run and its message, as the controller put it."""
        for run in self._analysis_runs():
            status = run.get("status") or {}
            if status.get("phase") == "Inconclusive":
                return f"{_run_label(run)} Inconclusive: {status.get('message') or ''}".rstrip(": ")
        return f"paused for a human ({', '.join(sorted(reasons))})"

    def _indefinite_pause(self, status: dict[str, Any]) -> bool:
        strategy = self.rollout.strategy
        index = status.get("currentStepIndex")
        if (
            not isinstance(strategy, CanaryStrategy)
            or not isinstance(index, int)
            or index >= len(strategy.steps)
        ):
            return False
        step = strategy.steps[index]
        return step.kind == "pause" and step.duration is None

    def _follow_traffic(self) -> None:
        """nginx follows what the controller wrote: the canary Ingress weight, or the active Service."""
        assert self.hashes is not None
        strategy = self.rollout.strategy
        status = self._rollout_status().get("status") or {}
        if status.get("stableRS") == self.hashes.latest:
            weight = 100  # promoted: the canary revision is the stable one, all traffic is its
        elif isinstance(strategy, CanaryStrategy):
            weight = self._canary_weight()
        else:
            weight = 100 if self._active_hash() == self.hashes.latest else 0
        if weight != self._weight:
            self._weight = weight
            self.stack.set_weight(weight)
            self.timeline.weight(weight)

    def _canary_weight(self) -> int:
        stable_ingress = (
            (self._rollout_status()["spec"]["strategy"]["canary"].get("trafficRouting") or {})
            .get("nginx", {})
            .get("stableIngress")
        )
        name = f"{self.rollout.name}-{stable_ingress}-canary"
        answer = self.client.get(f"/apis/networking.k8s.io/v1/namespaces/{self.namespace}/ingresses/{name}")
        annotations = (answer.body.get("metadata") or {}).get("annotations") or {} if answer.ok else {}
        text = str(annotations.get("nginx.ingress.kubernetes.io/canary-weight", "0"))
        return int(text) if text.isdigit() else 0

    def _active_hash(self) -> str | None:
        service = self._rollout_status()["spec"]["strategy"]["blueGreen"]["activeService"]
        answer = self.client.get(f"/api/v1/namespaces/{self.namespace}/services/{service}")
        selector = (answer.body.get("spec") or {}).get("selector") or {} if answer.ok else {}
        return selector.get("rollouts-pod-template-hash")

    def _follow_step(self, status: dict[str, Any]) -> None:
        strategy = self.rollout.strategy
        index = status.get("currentStepIndex")
        if not isinstance(strategy, CanaryStrategy) or not isinstance(index, int) or index == self._step:
            return
        if status.get("abort"):
            return  # an abort resets the step index: no step runs again
        self._step = index
        if index < len(strategy.steps):
            step = strategy.steps[index]
            text = step.describe()
            if step.kind == "pause" and step.duration is not None:
                text += f" ({self.timing.scaled(step.duration):g}s at speed {self.timing.speed:g})"
            self.timeline.note("rollout", f"step {index}: {text} (controller)")
        else:
            self.timeline.note("rollout", "all steps completed (controller)")

    def _analysis_runs(self) -> list[dict[str, Any]]:
        answer = self.client.get(f"{API}/namespaces/{self.namespace}/analysisruns")
        runs = answer.body.get("items") or [] if answer.ok else []
        return sorted(runs, key=lambda run: run["metadata"].get("creationTimestamp", ""))

    def _follow_runs(self) -> None:
        for run in self._analysis_runs():
            name = run["metadata"]["name"]
            status = run.get("status") or {}
            label = _run_label(run)
            for metric in status.get("metricResults") or []:
                self._note_measurements(label, (name, str(metric.get("name"))), metric)
            current = str(status.get("phase") or "Pending")
            if current != self._seen_runs.get(name):
                self.timeline.note(label, f"run {current} {status.get('message') or ''}".rstrip(), current)
            self._seen_runs[name] = current

    def _note_measurements(self, label: str, key: tuple[str, str], metric: dict[str, Any]) -> None:
        """The measurements not noted yet: the list keeps only the last few (measurementRetention), the
        counters keep growing, so whichever says more is new wins."""
        kept = metric.get("measurements") or []
        total = int(metric.get("count", 0)) + int(metric.get("error", 0))
        seen_total, seen_kept = self._seen_measurements.get(key, (0, 0))
        new = min(len(kept), max(len(kept) - seen_kept, total - seen_total, 0))
        for measurement in kept[len(kept) - new :]:
            text = f"{key[1]} = {measurement.get('value', '')} -> {measurement.get('phase')}"
            if measurement.get("message"):
                text += f" ({measurement['message']})"
            self.timeline.note(label, text, str(measurement.get("phase", "")))
        self._seen_measurements[key] = (max(total, seen_total), max(len(kept), seen_kept))

    # --- after the run ------------------------------------------------------------------------------

    def _collect_runs(self, prometheus_url: str, query_log: Path | None) -> None:
        """The controller's verdicts, and `analyze --replay`'s over the same template, args and window.

        The controller keeps times in whole seconds; Prometheus' query log has the exact instant of its
        first query, so the replay starts where the run really started and queries at the same moments
        (later measurements drift by the controller's query and requeue time, milliseconds)."""
        from votectl.analysis.clock import VirtualClock
        from votectl.analysis.providers.prometheus import PrometheusProvider
        from votectl.analysis.reconcile import AnalysisRunner

        logged = _logged_queries(query_log)
        for run in self._analysis_runs():
            spec, status = run.get("spec") or {}, run.get("status") or {}
            metrics = [m for m in spec.get("metrics") or [] if "prometheus" in (m.get("provider") or {})]
            template = {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "AnalysisTemplate",
                "metadata": {"name": run["metadata"]["name"]},
                "spec": {
                    "args": spec.get("args") or [],
                    "metrics": metrics,
                    "dryRun": spec.get("dryRun") or [],
                },
            }
            measured = [
                {
                    "metric": metric["name"],
                    **{
                        k: m.get(k)
                        for k in ("phase", "value", "startedAt", "finishedAt", "message")
                        if m.get(k) is not None
                    },
                }
                for metric in status.get("metricResults") or []
                for m in metric.get("measurements") or []
            ]
            start = _moment(status.get("startedAt") or run["metadata"]["creationTimestamp"])
            # the controller keeps whole seconds: the window ends at the end of the last measurement's second
            ends = [_moment(m["finishedAt"]) + 1 for m in measured if m.get("finishedAt")]
            window = (start, max(ends, default=start + 1))
            record = ControllerRun(
                run["metadata"]["name"],
                _run_label(run),
                str(status.get("phase") or "Pending"),
                str(status.get("message") or ""),
                measured,
                template,
                window,
            )
            if metrics:
                provider = PrometheusProvider(prometheus_url)
                probe = AnalysisRunner(template, {}, provider, VirtualClock(window[0]))
                exact, record.aligned = _exact_start(probe, measured, logged)
                record.window = (exact if exact is not None else window[0], window[1])
                start = record.window[0]
                record.replay = AnalysisRunner(template, {}, provider, VirtualClock(start))
                try:
                    record.replay.run_until_done(until=window[1])
                finally:
                    provider.close()
            self.runs.append(record)

    def _records(self) -> list[AnalysisRecord]:
        """The runs as the report's AnalysisRecords (their runner is the replay)."""
        return [
            AnalysisRecord(
                run.label, run.name, run.template, run.replay, run.window[0], run.window[1], controller=run
            )
            for run in self.runs
            if run.replay is not None
        ]


def _logged_queries(path: Path | None) -> list[tuple[float, str]]:
    """(evaluation time, query) of every instant query in Prometheus' query log."""
    import json

    found = []
    if path is None or not path.is_file():
        return found
    for line in path.read_text(errors="replace").splitlines():
        try:
            params = json.loads(line)["params"]
            found.append((_moment(params["start"]), str(params["query"])))
        except (ValueError, KeyError, TypeError):
            continue
    return found


# Seconds between a measurement's startedAt stamp and its query that still count as that measurement's query:
# under the shortest interval a rehearsal uses (1m at speed 30: 2 s) the next measurement's query comes later.
_QUERY_LAG = 2.0


def _exact_start(
    runner: AnalysisRunner, measured: list[dict[str, Any]], logged: list[tuple[float, str]]
) -> tuple[float | None, str]:
    """When the run really started, and by which metric: the first Prometheus measurement's query in the
    log, less that metric's initial delay. The controller stamps the measurement (whole seconds) before it
    queries, and on a loaded machine the query can come a second or more later, so queries up to
    _QUERY_LAG seconds after the stamp count. A reconcile retried after a conflict queries twice within
    milliseconds; the query that gives the value the controller stored is the one it kept."""
    queries = {metric.name: metric for metric in runner.metrics}
    firsts = [m for m in measured if m.get("startedAt") and m["metric"] in queries]
    if not firsts:
        return None, ""
    first = min(firsts, key=lambda m: _moment(m["startedAt"]))
    second, metric = _moment(first["startedAt"]), queries[first["metric"]]
    query = str((metric.prometheus or {}).get("query") or "")
    times = sorted(t for t, text in logged if text == query and second <= t < second + _QUERY_LAG)
    if not times:
        return None, ""
    kept = next((t for t in times if _value_at(runner, metric, t) == first.get("value")), times[0])
    return kept - (metric.initial_delay or 0.0), metric.name


def _value_at(runner: AnalysisRunner, metric: Any, moment: float) -> str | None:
    from votectl.analysis.errors import ProviderError

    try:
        return runner.provider.query(metric, moment).value
    except ProviderError:  # a query that fails now cannot be the one the controller kept
        return None


def _relative_difference(live: str, replayed: str) -> float:
    """Between two measurement values ("[0.1,0.2]", "0.5", "[]"): 0 when equal, inf when shaped apart."""
    import math
    import re

    def numbers(text: str) -> list[float]:
        return [float(x) for x in re.findall(r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|NaN|Inf)", text)]

    a, b = numbers(live), numbers(replayed)
    if len(a) != len(b):
        return math.inf
    gaps = [0.0 if x == y else abs(x - y) / max(abs(x), abs(y)) for x, y in zip(a, b, strict=True)]
    return max(gaps, default=0.0)


def _completed(run: dict[str, Any]) -> bool:
    return (run.get("status") or {}).get("phase") in ("Successful", "Failed", "Error", "Inconclusive")


def _run_label(run: dict[str, Any]) -> str:
    labels = run["metadata"].get("labels") or {}
    kind = labels.get("rollout-type", "")
    if kind == "Step":
        return f"step {labels.get('step-index', '?')} analysis"
    return RUN_LABELS.get(kind, run["metadata"]["name"])


def _moment(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
