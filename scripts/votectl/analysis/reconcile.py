"""The AnalysisRun loop, reconcile by reconcile, as analysis/analysis.go in Argo Rollouts runs it.

Typical use (what `votectl analyze` and `votectl rehearse` do):

    runner = AnalysisRunner(template, {"service": "vote"}, PrometheusProvider(url), RealClock(),
                            on_event=print)
    runner.run_until_done()             # or: call runner.step() yourself and sleep until
    runner.phase, runner.message        # runner.next_reconcile_time(); runner.terminate() ends it

Each `step()` is one reconcile at `clock.now()`: take the measurements that are due, update the
counters, assess every metric (limits in the controller's order) and the run. Argument or validation
problems do not raise: the run starts in phase Error with the controller's message, as it would in the
cluster. `events` (and `on_event`) record every measurement and phase change for a live timeline.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from votectl.analysis import phases
from votectl.analysis.args import resolve_args, substitute
from votectl.analysis.clock import Clock
from votectl.analysis.conditions import evaluate_result
from votectl.analysis.errors import ExprError, ProviderError, SpecError
from votectl.analysis.providers import Provider
from votectl.analysis.spec import MetricSpec, build_metrics, object_list, require_finite

ERROR_RETRY_INTERVAL = 10.0  # seconds; DefaultErrorRetryInterval


@dataclass
class Measurement:
    phase: str
    started_at: float
    finished_at: float
    value: str | None = None
    message: str = ""


@dataclass
class MetricResult:
    """A metric's status: counters keep totals for the whole run, like status.metricResults[]."""

    name: str
    dry_run: bool
    phase: str = phases.RUNNING
    message: str = ""
    measurements: list[Measurement] = field(default_factory=list)
    count: int = 0
    successful: int = 0
    failed: int = 0
    inconclusive: int = 0
    error: int = 0
    consecutive_error: int = 0
    consecutive_success: int = 0


@dataclass(frozen=True)
class Event:
    """One line of a live timeline: kind is "measurement", "metric" (phase change) or "run"."""

    at: float
    kind: str
    phase: str
    metric: str | None = None
    value: str | None = None
    message: str = ""


class AnalysisRunner:
    """Runs one AnalysisTemplate (object or its spec) with `args` against `provider` on `clock`."""

    def __init__(
        self,
        template: Mapping[str, Any],
        args: Mapping[str, str],
        provider: Provider,
        clock: Clock,
        *,
        finite: bool = False,
        on_event: Callable[[Event], None] | None = None,
    ) -> None:
        """`finite=True` refuses unbounded metrics, as canary steps and blue-green analyses do."""
        self.provider = provider
        self.clock = clock
        self.on_event = on_event
        self.events: list[Event] = []
        self.phase = phases.RUNNING
        self.message = ""
        self.started_at: float | None = None
        self.terminate_requested = False
        self.metrics: list[MetricSpec] = []
        self.results: dict[str, MetricResult] = {}
        try:
            self.metrics = self._resolve(template, args, finite)
        except SpecError as err:
            self._set_phase(phases.ERROR, str(err))

    def _resolve(
        self, template: Mapping[str, Any], supplied: Mapping[str, str], finite: bool
    ) -> list[MetricSpec]:
        spec = template.get("spec", template)
        try:
            if not isinstance(spec, Mapping):
                raise SpecError("spec must be an object")
            declared = object_list(spec.get("args"), "args")
            raw_metrics = object_list(spec.get("metrics"), "metrics")
            dry_run = object_list(spec.get("dryRun"), "dryRun")
        except SpecError as err:
            raise SpecError(f"Analysis spec invalid: {err}") from None
        values = resolve_args(declared, supplied)
        try:
            metrics = substitute(raw_metrics, values)
        except SpecError as err:
            raise SpecError(f"Unable to resolve metric arguments: {err}") from None
        try:
            specs = build_metrics(metrics, dry_run)
            if finite:
                require_finite(specs)
        except SpecError as err:
            raise SpecError(f"Analysis spec invalid: {err}") from None
        return specs

    @property
    def done(self) -> bool:
        return phases.is_completed(self.phase)

    def terminate(self) -> None:
        """Ask the run to stop (spec.terminate): no new measurements; unfinished metrics end Successful."""
        self.terminate_requested = True
        self.clock.interrupt()

    def step(self) -> bool:
        """One reconcile at clock.now(); returns True when a metric or the run changed phase."""
        if self.done:
            return False
        terminating = self._terminating()
        for metric in self.metrics:
            if self._due(metric, terminating):
                self._measure(metric)
        return self._assess_run()

    def measure_once(self) -> str:
        """`--once`: one measurement of every metric now, whatever its schedule; the run takes the worst
        measurement phase of the non-dry-run metrics, since limits need a series of measurements."""
        if self.done:
            return self.phase
        worst, message = phases.SUCCESSFUL, ""
        for metric in self.metrics:
            self._measure(metric)
            result = self.results[metric.name]
            measurement = result.measurements[-1]
            result.phase = measurement.phase
            result.message = measurement.message
            if not metric.dry_run and phases.is_worse(worst, measurement.phase):
                worst = measurement.phase
                message = f'Metric "{metric.name}" measured {measurement.phase} (value {measurement.value})'
                if measurement.message:
                    message += f': "Error Message: {measurement.message}"'
        self.started_at = self.started_at or self.clock.now()
        self._set_phase(worst, message)
        return worst

    def run_until_done(self, until: float | None = None) -> str:
        """Reconcile until the run completes; at `until` (replay end) the run is terminated."""
        while not self.done:
            if self.step() or self.done:
                continue  # a status change makes the controller reconcile again at once
            moment = self.next_reconcile_time()
            if self.terminate_requested or moment is None:
                self.terminate()
                continue
            if until is not None and moment > until:
                self.clock.sleep_until(until)
                self.terminate()
                continue
            self.clock.sleep_until(moment)
        return self.phase

    def next_reconcile_time(self) -> float | None:
        """The earliest time a metric becomes due (calculateNextReconcileTime), or None."""
        moments = [self._due_at(metric) for metric in self.metrics]
        return min((moment for moment in moments if moment is not None), default=None)

    def _terminating(self) -> bool:
        """IsTerminating: the first metric in a terminal-bad phase decides (and a dry-run one says no)."""
        if self.terminate_requested:
            return True
        for result in self.results.values():
            if result.phase in (phases.FAILED, phases.ERROR, phases.INCONCLUSIVE):
                return not result.dry_run
        return False

    def _due(self, metric: MetricSpec, terminating: bool) -> bool:
        due_at = self._due_at(metric)
        return not terminating and due_at is not None and self.clock.now() >= due_at

    def _due_at(self, metric: MetricSpec) -> float | None:
        """When the metric's next measurement is due (generateMetricTasks); None once it needs no more."""
        result = self.results.get(metric.name)
        if result is not None and phases.is_completed(result.phase):
            return None
        if result is None or not result.measurements:
            if metric.initial_delay is None:
                return -math.inf
            # The first reconcile only sets startedAt; the delay counts from there.
            return None if self.started_at is None else self.started_at + metric.initial_delay
        effective = metric.effective_count
        if effective is not None and result.count >= effective:
            return None
        last = result.measurements[-1]
        return last.finished_at + wait_after(metric, last)

    def _measure(self, metric: MetricSpec) -> None:
        started = self.clock.now()
        value: str | None = None
        try:
            answer = self.provider.query(metric, started)
            value = answer.value
            phase = evaluate_result(answer.result, metric.success_condition, metric.failure_condition)
            message = ""
        except (ProviderError, ExprError) as err:
            phase, message = phases.ERROR, str(err)
        measurement = Measurement(phase, started, self.clock.now(), value, message)
        result = self.results.setdefault(metric.name, MetricResult(metric.name, metric.dry_run))
        _count(result, measurement)
        self._emit(Event(measurement.finished_at, "measurement", phase, metric.name, value, message))

    def _assess_run(self) -> bool:
        """assessRunStatus: update each metric's phase, then the run's (worst non-dry-run metric wins)."""
        terminating = self._terminating()
        if self.started_at is None:
            self.started_at = self.clock.now()
        worst: str | None = None
        worst_message = "Run Terminated" if self.terminate_requested else ""
        everything_completed = True
        changed = False
        for metric in self.metrics:
            result = self.results.get(metric.name)
            if result is None:
                everything_completed = False
                continue
            status = _assess_metric(metric, result, terminating)
            changed = self._update_metric(metric, result, status) or changed
            if not phases.is_completed(status):
                everything_completed = False
                continue
            worst, worst_message = _weigh_completed(metric, result, status, worst, worst_message)
        new_phase, new_message = _run_phase(terminating, everything_completed, worst, worst_message)
        if new_phase != self.phase:
            self._set_phase(new_phase, new_message)
            changed = True
        return changed

    def _update_metric(self, metric: MetricSpec, result: MetricResult, status: str) -> bool:
        """Record a metric's new phase (with its last measurement's message); False if it kept its phase."""
        if status == result.phase:
            return False
        if result.measurements:
            result.message = result.measurements[-1].message
        result.phase = status
        self._emit(Event(self.clock.now(), "metric", status, metric.name, message=result.message))
        return True

    def _set_phase(self, phase: str, message: str) -> None:
        self.phase, self.message = phase, message
        self._emit(Event(self.clock.now(), "run", phase, message=message))

    def _emit(self, event: Event) -> None:
        self.events.append(event)
        if self.on_event is not None:
            self.on_event(event)


def wait_after(metric: MetricSpec, last: Measurement) -> float:
    """Seconds from a measurement's end to the metric's next one: its interval, or the error retry."""
    if last.phase == phases.ERROR or metric.interval is None:
        return ERROR_RETRY_INTERVAL
    return metric.interval


def _count(result: MetricResult, measurement: Measurement) -> None:
    """Counters as runMeasurements keeps them: an Error bumps `error` but never `count`."""
    result.measurements.append(measurement)
    if measurement.phase == phases.ERROR:
        result.error += 1
        result.consecutive_error += 1
        result.consecutive_success = 0
        return
    result.count += 1
    result.consecutive_error = 0
    if measurement.phase == phases.SUCCESSFUL:
        result.successful += 1
        result.consecutive_success += 1
        return
    result.consecutive_success = 0
    if measurement.phase == phases.FAILED:
        result.failed += 1
    else:
        result.inconclusive += 1


def _weigh_completed(
    metric: MetricSpec, result: MetricResult, status: str, worst: str | None, worst_message: str
) -> tuple[str | None, str]:
    """The run's worst phase and message so far, with a completed metric added.

    A dry-run metric never makes the run worse than Successful; its breach shows in its own message.
    """
    _, reason = _limit_breach(metric, result)
    if metric.dry_run:
        if reason:
            result.message = f"Metric assessed {status} due to {reason}"
        return worst or phases.SUCCESSFUL, worst_message
    if worst is None or phases.is_worse(worst, status):
        worst = status
        if reason:
            worst_message = f'Metric "{metric.name}" assessed {status} due to {reason}'
            if result.message:
                worst_message += f': "Error Message: {result.message}"'
    return worst, worst_message


def _run_phase(
    terminating: bool, everything_completed: bool, worst: str | None, worst_message: str
) -> tuple[str, str]:
    """A terminating run ends now; otherwise it runs on until every metric has completed."""
    if terminating:
        return worst or phases.SUCCESSFUL, worst_message.strip()
    if not everything_completed or worst is None:
        return phases.RUNNING, ""
    return worst, worst_message.strip()


def _limit_breach(metric: MetricSpec, result: MetricResult) -> tuple[str | None, str]:
    """assessMetricFailureInconclusiveOrError: later checks override earlier ones."""
    phase: str | None = None
    reason = ""
    if metric.failure_limit >= 0 and result.failed > metric.failure_limit:
        phase = phases.FAILED
        reason = f"failed ({result.failed}) > failureLimit ({metric.failure_limit})"
    if result.inconclusive > metric.inconclusive_limit:
        phase = phases.INCONCLUSIVE
        reason = f"inconclusive ({result.inconclusive}) > inconclusiveLimit ({metric.inconclusive_limit})"
    if result.consecutive_error > metric.consecutive_error_limit:
        phase = phases.ERROR
        reason = (
            f"consecutiveErrors ({result.consecutive_error}) > "
            f"consecutiveErrorLimit ({metric.consecutive_error_limit})"
        )
    return phase, reason


def _assess_metric(metric: MetricSpec, result: MetricResult, terminating: bool) -> str:
    """assessMetricStatus for a metric that has a result."""
    if phases.is_completed(result.phase):
        return result.phase
    if not result.measurements:
        return phases.SUCCESSFUL if terminating else phases.PENDING
    breached, _ = _limit_breach(metric, result)
    if breached:
        return breached
    success_limit = metric.consecutive_success_limit
    if success_limit > 0 and result.consecutive_success >= success_limit:
        return phases.SUCCESSFUL
    effective = metric.effective_count
    if effective is not None and result.count >= effective:
        if success_limit > 0:
            # consecutiveSuccessLimit not reached by the end: Inconclusive, or Failed without a failureLimit
            return phases.INCONCLUSIVE if metric.failure_limit >= 0 else phases.FAILED
        return phases.SUCCESSFUL
    return phases.SUCCESSFUL if terminating else phases.RUNNING
