"""Plays a Rollout strategy the way the Argo Rollouts controller walks it, on real processes.

Canary: steps in order (setWeight moves nginx, pause sleeps its duration / speed, analysis blocks until
its run completes), with the background analysis started on entering `startingStep` and running beside
the steps until the end. Blue-green: pre-promotion analysis on the preview, switch, post-promotion
analysis. Verdicts as the controller gives them: a Failed or Error run aborts (traffic back to stable),
an Inconclusive one pauses for a human, and so does `pause: {}`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any, Protocol

from votectl.analysis import phases
from votectl.analysis.clock import RealClock
from votectl.analysis.providers.prometheus import PrometheusProvider
from votectl.analysis.reconcile import AnalysisRunner, wait_after
from votectl.analysis.spec import MetricSpec
from votectl.rehearsal.binding import Hashes, Timing, bind_analysis
from votectl.rehearsal.strategy import AnalysisRef, BlueGreenStrategy, CanaryStrategy, Rollout, Step
from votectl.rehearsal.timeline import Timeline

PROMOTED, ABORTED, PAUSED = "Promoted", "Aborted", "Paused"


class Router(Protocol):
    def set_weight(self, weight: int) -> None: ...


@dataclass
class AnalysisRecord:
    """One AnalysisRun of the rehearsal, with the resolved template a replay needs."""

    label: str
    name: str
    template: dict[str, Any]
    runner: AnalysisRunner
    started_at: float
    finished_at: float | None = None
    played_by_rehearsal: list[str] = field(default_factory=list)
    # with --controller argo: the controller's AnalysisRun (its verdict and window); `runner` is its replay
    controller: Any = None

    def replay_window(self) -> tuple[float, float]:
        """FROM..TO for `analyze --replay`: from the first reconcile to the last measurement taken.

        Live measurements drift later by each query's duration, replayed ones fall exactly on
        FROM + k * interval; ending at the last live measurement keeps a replay from squeezing in one
        more measurement that the live run, terminated just before it, never took. A run terminated
        between two metrics due at (nearly) the same moment also ends before the first replayed
        measurement it never took, even if that drops the other metric's last one: the replay must not
        judge what the live run did not see; terminated right after its first measurement, the run's
        window is that one instant (FROM == TO)."""
        measurements = [m for r in self.runner.results.values() for m in r.measurements]
        start = min([m.started_at for m in measurements] + [self.runner.started_at or self.started_at])
        end = max((m.finished_at for m in measurements), default=self.finished_at or self.started_at)
        if self.runner.terminate_requested:
            untaken = [_next_replayed(metric, self.runner, start) for metric in self.runner.metrics]
            end = min([end] + [moment - REPLAY_MARGIN for moment in untaken if moment is not None])
        return start, max(start, end)


# Ends a terminated run's replay this long before its first untaken measurement: more than the
# millisecond rounding of a printed FROM..TO, less than any interval a rehearsal uses.
REPLAY_MARGIN = 0.005


def _next_replayed(metric: MetricSpec, runner: AnalysisRunner, start: float) -> float | None:
    """When a replay from `start` takes the metric's first measurement that the live run did not take."""
    moment = start + (metric.initial_delay or 0.0)
    result = runner.results.get(metric.name)
    if result is None:
        return moment
    if metric.effective_count is not None and result.count >= metric.effective_count:
        return None
    for measurement in result.measurements:
        moment += wait_after(metric, measurement)  # the schedule the replay's runner follows
    return moment


@dataclass
class RehearsalResult:
    outcome: str
    message: str
    analyses: list[AnalysisRecord]
    timeline: Timeline
    finished_at: float


def outcome_of(phase: str) -> str | None:
    """What the controller does with a completed run: nothing, abort, or pause."""
    if phase in (phases.FAILED, phases.ERROR):
        return ABORTED
    if phase == phases.INCONCLUSIVE:
        return PAUSED
    return None


class StrategyExecutor:
    def __init__(
        self,
        rollout: Rollout,
        router: Router,
        prometheus_url: str,
        hashes: Hashes,
        timing: Timing,
        timeline: Timeline,
    ) -> None:
        self.rollout = rollout
        self.router = router
        self.prometheus_url = prometheus_url
        self.hashes = hashes
        self.timing = timing
        self.timeline = timeline
        self.analyses: list[AnalysisRecord] = []
        self._halt = threading.Event()  # set when the background analysis ends the rollout
        self._lock = threading.Lock()
        self._active: AnalysisRunner | None = None
        self._background: tuple[AnalysisRecord, threading.Thread] | None = None

    def run(self) -> RehearsalResult:
        strategy = self.rollout.strategy
        try:
            if isinstance(strategy, CanaryStrategy):
                outcome, message = self._canary(strategy)
            else:
                outcome, message = self._blue_green(strategy)
        finally:
            self._stop_background()
        if outcome == ABORTED:
            self._route(0)
        elif outcome == PROMOTED and self._weight != 100:
            self._route(100)
        self.timeline.note("rollout", f"{outcome}: {message}", outcome)
        return RehearsalResult(outcome, message, self.analyses, self.timeline, time.time())

    @property
    def _weight(self) -> int:
        return self.timeline.weights[-1][1]

    def _canary(self, strategy: CanaryStrategy) -> tuple[str, str]:
        for index, step in enumerate(strategy.steps):
            if strategy.background and index >= strategy.starting_step and self._background is None:
                self._start_background(strategy.background)
            if verdict := self._background_verdict():
                return verdict
            self.timeline.note("rollout", f"step {index}: {self._describe(step)}")
            if step.kind == "setWeight" and step.weight is not None:
                self._route(step.weight)
            elif step.kind == "pause":
                if step.duration is None:
                    return (
                        PAUSED,
                        f"step {index} is a pause without duration: it waits for a human to promote",
                    )
                self._halt.wait(self.timing.scaled(step.duration))
            elif step.kind == "analysis" and step.analysis is not None:
                record = self._run_analysis(f"step {index} analysis", step.analysis)
                if self._halt.is_set():
                    continue  # the background analysis ended the rollout meanwhile
                if outcome := outcome_of(record.runner.phase):
                    return outcome, f"step {index} analysis {record.runner.phase}: {record.runner.message}"
            else:
                self.timeline.note("rollout", f"step {index}: {step.kind} has no effect in a rehearsal")
        return self._background_verdict() or (PROMOTED, "all steps completed")

    def _blue_green(self, strategy: BlueGreenStrategy) -> tuple[str, str]:
        self.timeline.note("rollout", "preview up: the new version gets synthetic traffic only")
        if strategy.pre_promotion is not None:
            record = self._run_analysis("pre-promotion analysis", strategy.pre_promotion)
            if outcome := outcome_of(record.runner.phase):
                return outcome, f"pre-promotion analysis {record.runner.phase}: {record.runner.message}"
        if not strategy.auto_promotion:
            return PAUSED, "autoPromotionEnabled is false: the switch waits for a human to promote"
        self.timeline.note("rollout", "switch: the active service now points at the new version")
        self._route(100)
        if strategy.post_promotion is not None:
            record = self._run_analysis("post-promotion analysis", strategy.post_promotion)
            if outcome := outcome_of(record.runner.phase):
                return outcome, f"post-promotion analysis {record.runner.phase}: {record.runner.message}"
        return PROMOTED, "the new version is active"

    def _describe(self, step: Step) -> str:
        if step.kind == "pause" and step.duration is not None:
            return (
                f"{step.describe()} ({self.timing.scaled(step.duration):g}s at speed {self.timing.speed:g})"
            )
        return step.describe()

    def _route(self, weight: int) -> None:
        self.router.set_weight(weight)
        self.timeline.weight(weight)

    def _new_record(self, label: str, ref: AnalysisRef, finite: bool) -> AnalysisRecord:
        bound = bind_analysis(ref, self.rollout, self.hashes, self.timing)
        for name in bound.played_by_rehearsal:
            self.timeline.note(
                label, f"metric {name} (job provider): played by the rehearsal's synthetic traffic"
            )
        runner = AnalysisRunner(
            bound.template,
            bound.args,
            PrometheusProvider(self.prometheus_url),
            RealClock(),
            finite=finite,
            on_event=self.timeline.analysis_listener(label),
        )
        record = AnalysisRecord(
            label, bound.name, bound.template, runner, time.time(), None, bound.played_by_rehearsal
        )
        self.analyses.append(record)
        return record

    def _run_analysis(self, label: str, ref: AnalysisRef) -> AnalysisRecord:
        """A blocking step analysis; a background verdict terminates it (Run Terminated)."""
        record = self._new_record(label, ref, finite=True)
        with self._lock:
            self._active = record.runner
            if self._halt.is_set():
                record.runner.terminate()
        _finish(record)
        with self._lock:
            self._active = None
        return record

    def _start_background(self, ref: AnalysisRef) -> None:
        record = self._new_record("background analysis", ref, finite=False)

        def run() -> None:
            _finish(record)
            if outcome_of(record.runner.phase):
                with self._lock:
                    self._halt.set()
                    if self._active is not None:
                        self._active.terminate()

        thread = threading.Thread(target=run, name="background-analysis", daemon=True)
        self._background = (record, thread)
        thread.start()

    def _background_verdict(self) -> tuple[str, str] | None:
        if self._background is None or not self._halt.is_set():
            return None
        record, thread = self._background
        thread.join()
        outcome = outcome_of(record.runner.phase)
        assert outcome is not None  # _halt is only set for a bad verdict
        return outcome, f"background analysis {record.runner.phase}: {record.runner.message}"

    def _stop_background(self) -> None:
        """At the end of the rollout the controller terminates the background run."""
        if self._background is None:
            return
        record, thread = self._background
        record.runner.terminate()
        thread.join()


def _finish(record: AnalysisRecord) -> None:
    try:
        record.runner.run_until_done()
    finally:
        record.finished_at = time.time()
        provider = record.runner.provider
        if isinstance(provider, PrometheusProvider):
            provider.close()
