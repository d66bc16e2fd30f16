"""One rehearsal from start to report: read the Rollout, start the stack and the traffic, play the strategy.

Time scaling (--speed N): pauses, analysis intervals and initial delays take 1/N of their real time, and
Prometheus scrapes N times as often as a 15 s cluster default would (between 0.25 s and 5 s), so a
measurement window still holds the same number of samples as in the cluster.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console

from votectl.errors import VotectlError
from votectl.rehearsal.binding import Hashes, Timing
from votectl.rehearsal.environment import RehearsalStack, StackSettings
from votectl.rehearsal.executor import RehearsalResult, StrategyExecutor
from votectl.rehearsal.report import ReportContext, error_ratio_series, write_report
from votectl.rehearsal.strategy import BlueGreenStrategy, Rollout, find_rollout
from votectl.rehearsal.timeline import Timeline
from votectl.rehearsal.traffic import SyntheticTraffic

CLUSTER_SCRAPE_SECONDS = 15.0
SCRAPE_BOUNDS = (0.25, 5.0)
REHEARSED_SERVICES = ("vote", "result")


@dataclass
class RehearsalOptions:
    service: str
    env: str = "staging"
    canary_env: dict[str, str] = field(default_factory=dict)
    speed: float = 1.0
    rate: float = 100.0  # synthetic requests per second through nginx (and to the preview, blue-green)
    report_dir: Path | None = None
    redis_url: str | None = None
    database_url: str | None = None
    controller: str = "argo"  # "argo": the real controller decides; "votectl": the in-process model
    kubeconfig: Path | None = None  # with "argo": a running cluster with the controller instead of a new one
    faults_when_live: bool = False  # the canary's faults start when it takes all the traffic, not at start


def scrape_interval_for(speed: float) -> float:
    low, high = SCRAPE_BOUNDS
    return min(high, max(low, CLUSTER_SCRAPE_SECONDS / speed))


def pod_template_hashes(pod_template: Mapping[str, object], canary_env: Mapping[str, str]) -> Hashes:
    """Stand-ins for the controller's pod-template-hash: the canary's template differs by its env."""

    def digest(value: object) -> str:
        return hashlib.sha256(json.dumps(value, sort_keys=True).encode()).hexdigest()[:10]

    return Hashes(
        stable=digest({"template": pod_template}),
        latest=digest({"template": pod_template, "canary": True, "env": dict(canary_env)}),
    )


def load_rollout(service: str, env: str) -> Rollout:
    from votectl.render import render_env
    from votectl.repo import Repo

    if service not in REHEARSED_SERVICES:
        raise VotectlError(f"cannot rehearse {service!r}: expected one of {', '.join(REHEARSED_SERVICES)}")
    Repo.current().env(env)  # an unknown env is refused before anything starts
    return find_rollout(render_env(env), service, env)


def _prepare_report_dir(path: Path) -> None:
    """Before minutes of rehearsal, not after: an unusable --report must not cost the run."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise VotectlError(f"--report {path}: cannot create the directory: {err.strerror or err}") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise VotectlError(f"--report {path}: directory is not writable")


def _report_context(
    options: RehearsalOptions,
    hashes: Hashes,
    prometheus_dir: Path,
    traffic: dict[str, int],
    timeline: Timeline,
) -> ReportContext:
    """What the report says about the run besides its decisions, the same for both deciders."""
    return ReportContext(
        service=options.service,
        env=options.env,
        speed=options.speed,
        canary_env=dict(options.canary_env),
        faults_when_live=options.faults_when_live,
        stable_hash=hashes.stable,
        canary_hash=hashes.latest,
        prometheus_dir=prometheus_dir,
        traffic=traffic,
        started_at=timeline.started_at,
    )


def rehearse(options: RehearsalOptions, console: Console | None = None) -> RehearsalResult:
    if not (math.isfinite(options.speed) and options.speed > 0):
        raise VotectlError(f"--speed must be positive and finite, got {options.speed:g}")
    if not (math.isfinite(options.rate) and options.rate >= 0):
        raise VotectlError(f"--rate must be >= 0 and finite, got {options.rate:g}")
    rollout = load_rollout(options.service, options.env)
    if options.report_dir is not None:
        _prepare_report_dir(options.report_dir)
    timing = Timing(options.speed, scrape_interval_for(options.speed))
    timeline = Timeline(console)
    if options.controller == "argo":
        return _with_controller(rollout, options, timing, timeline)
    if options.controller != "votectl":
        raise VotectlError(f"--controller must be argo or votectl, got {options.controller!r}")
    timeline.note(
        "rollout",
        "decisions by votectl's model of the Argo Rollouts controller (--controller votectl), not the "
        "controller itself",
    )
    hashes = pod_template_hashes(rollout.pod_template, options.canary_env)
    with tempfile.TemporaryDirectory(prefix="votectl-rehearse-") as scratch:
        work = Path(scratch)
        report_dir = options.report_dir.resolve() if options.report_dir else None
        prometheus_dir = report_dir / "prometheus" if report_dir else work / "prometheus"
        settings = StackSettings(
            service=options.service,
            work_dir=work,
            hashes=hashes,
            scrape_interval=timing.scrape_interval,
            canary_env=options.canary_env,
            prometheus_dir=prometheus_dir,
            redis_url=options.redis_url,
            database_url=options.database_url,
            faults_when_live=options.faults_when_live,
        )
        timeline.note("rollout", f"starting the local stack for {options.service} ({options.env} strategy)")
        with RehearsalStack(settings) as stack:
            assert stack.router is not None and stack.prometheus is not None
            timeline.note("rollout", f"ready: nginx {stack.router.url}, prometheus {stack.prometheus.url}")
            traffic = [SyntheticTraffic(stack.router.url, options.service, options.rate)]
            if isinstance(rollout.strategy, BlueGreenStrategy):
                traffic.append(SyntheticTraffic(stack.router.preview_url, options.service, options.rate))
            for generator in traffic:
                generator.start()
            executor = StrategyExecutor(rollout, stack, stack.prometheus.url, hashes, timing, timeline)
            try:
                result = executor.run()
            finally:
                for generator in traffic:
                    generator.stop()
            if report_dir is not None:
                series = error_ratio_series(
                    stack.prometheus.url,
                    options.service,
                    timeline.started_at,
                    result.finished_at,
                    timing.window(60.0),
                )
                answers: Counter[str] = Counter()
                for generator in traffic:
                    answers.update(generator.answers)
                context = _report_context(options, hashes, prometheus_dir, dict(answers), timeline)
                path = write_report(report_dir, result, context, series)
                timeline.note("rollout", f"report written to {path}")
    return result


def _with_controller(
    rollout: Rollout, options: RehearsalOptions, timing: Timing, timeline: Timeline
) -> RehearsalResult:
    """The real controller decides (rehearsal.controller); the report adds its runs and their replays."""
    from votectl.engines.catalog import engine
    from votectl.rehearsal.controller import ControllerRehearsal

    version = engine("rollouts-controller").version
    timeline.note(
        "rollout", f"decisions by the real Argo Rollouts controller {version} on a local control plane"
    )
    rehearsal = ControllerRehearsal(rollout, options.env, options, timing, timeline)
    report_dir = options.report_dir.resolve() if options.report_dir else None
    with tempfile.TemporaryDirectory(prefix="votectl-rehearse-argo-") as scratch:
        work = Path(scratch)
        prometheus_dir = report_dir / "prometheus" if report_dir else work / "prometheus"
        result = rehearsal.run(work, prometheus_dir)
    if report_dir is not None and rehearsal.hashes is not None:
        context = _report_context(options, rehearsal.hashes, prometheus_dir, rehearsal.answers, timeline)
        path = write_report(report_dir, result, context, rehearsal.series)
        (report_dir / "rehearsal.json").write_text(
            json.dumps(
                {
                    "service": options.service,
                    "env": options.env,
                    "controller": f"argo-rollouts {version}",
                    "outcome": result.outcome,
                    "message": result.message,
                    "hashes": {"stable": rehearsal.hashes.stable, "canary": rehearsal.hashes.latest},
                    "analysis_runs": [run.as_dict() for run in rehearsal.runs],
                },
                indent=2,
            )
            + "\n"
        )
        timeline.note("rollout", f"report written to {path} and rehearsal.json")
    return result
