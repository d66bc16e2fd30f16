"""The AnalysisRun loop against a real Prometheus, in virtual time, case by case.

Every query is evaluated by Prometheus at the measurement's virtual time, and `time() - T0` gives the
seconds since the run started, so a condition such as `result[0] < 15` scripts a run that passes twice
and then fails. Each case states the run phase and message the controller gives and the timeline of
measurements (seconds after start, phase).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from votectl.analysis.clock import VirtualClock
from votectl.analysis.providers.prometheus import PrometheusProvider
from votectl.analysis.reconcile import AnalysisRunner, Event

pytestmark = pytest.mark.prometheus


T0 = 1_700_000_000.0
ELAPSED = f"vector(time() - {T0:.0f})"
SLOW_QUERY = "sum(count_over_time(vector(time())[7d:1s]))"
S, F, INC, E = "Successful", "Failed", "Inconclusive", "Error"


def metric(name: str = "m", query: str = ELAPSED, **fields: Any) -> dict[str, Any]:
    return {"name": name, "provider": {"prometheus": {"query": query}}, **fields}


@dataclass
class Case:
    id: str
    metrics: list[dict[str, Any]]
    phase: str
    message: str = ""  # exact, or a prefix when it ends with "..."
    timeline: dict[str, list[tuple[float, str]]] = field(default_factory=dict)
    args: list[dict[str, Any]] = field(default_factory=list)
    supplied: dict[str, str] = field(default_factory=dict)
    dry_run: list[dict[str, str]] = field(default_factory=list)
    until: float | None = None


CASES = [
    Case(
        "count reached, all pass",
        [metric(interval="10s", count=3, successCondition="result[0] < 100")],
        S,
        timeline={"m": [(0, S), (10, S), (20, S)]},
    ),
    Case(
        "first failure with the default failureLimit 0",
        [metric(interval="10s", count=3, successCondition="result[0] < 5")],
        F,
        'Metric "m" assessed Failed due to failed (1) > failureLimit (0)',
        {"m": [(0, S), (10, F)]},
    ),
    Case(
        "failureLimit 1: the second failure fails the run",
        [metric(interval="10s", count=5, failureLimit=1, successCondition="result[0] < 15")],
        F,
        'Metric "m" assessed Failed due to failed (2) > failureLimit (1)',
        {"m": [(0, S), (10, S), (20, F), (30, F)]},
    ),
    Case(
        "failures within failureLimit, then count reached",
        [metric(interval="10s", count=4, failureLimit=2, successCondition="result[0] < 15")],
        S,
        timeline={"m": [(0, S), (10, S), (20, F), (30, F)]},
    ),
    Case(
        "neither condition true -> Inconclusive at once with inconclusiveLimit 0",
        [
            metric(
                interval="10s", count=3, successCondition="result[0] < 0", failureCondition="result[0] > 100"
            )
        ],
        INC,
        'Metric "m" assessed Inconclusive due to inconclusive (1) > inconclusiveLimit (0)',
        {"m": [(0, INC)]},
    ),
    Case(
        "inconclusiveLimit 1",
        [
            metric(
                interval="10s",
                count=4,
                inconclusiveLimit=1,
                successCondition="result[0] < 5",
                failureCondition="result[0] > 100",
            )
        ],
        INC,
        'Metric "m" assessed Inconclusive due to inconclusive (2) > inconclusiveLimit (1)',
        {"m": [(0, S), (10, INC), (20, INC)]},
    ),
    Case(
        "both conditions true: failure wins",
        [metric(successCondition="result[0] >= 0", failureCondition="result[0] >= 0")],
        F,
        'Metric "m" assessed Failed due to failed (1) > failureLimit (0)',
        {"m": [(0, F)]},
    ),
    Case("no conditions -> Successful", [metric(interval="10s", count=2)], S, "", {"m": [(0, S), (10, S)]}),
    Case(
        "PromQL error: retried every 10 s whatever the interval, Error after 5 in a row",
        [metric(query="vector(", interval="60s", count=3, successCondition="true")],
        E,
        'Metric "m" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): '
        '"Error Message: bad_data: ...',
        {"m": [(0, E), (10, E), (20, E), (30, E), (40, E)]},
    ),
    Case(
        "consecutiveErrorLimit 0",
        [metric(query="vector(", consecutiveErrorLimit=0, successCondition="true")],
        E,
        'Metric "m" assessed Error due to consecutiveErrors (1) > consecutiveErrorLimit (0): ...',
        {"m": [(0, E)]},
    ),
    Case(
        "an Error does not count toward count, and is retried after 10 s",
        [metric(interval="30s", count=2, successCondition="result[0] == 30 ? result[5] > 0 : true")],
        S,
        timeline={"m": [(0, S), (30, E), (40, S)]},
    ),
    Case(
        "errors that are not consecutive never reach consecutiveErrorLimit",
        [
            metric(
                interval="10s",
                count=3,
                consecutiveErrorLimit=1,
                successCondition="result[0] == 10 || result[0] == 30 ? result[5] > 0 : true",
            )
        ],
        S,
        timeline={"m": [(0, S), (10, E), (20, S), (30, E), (40, S)]},
    ),
    Case(
        "consecutiveSuccessLimit reached before count",
        [
            metric(
                interval="10s",
                count=5,
                failureLimit=-1,
                consecutiveSuccessLimit=2,
                successCondition="result[0] >= 10",
            )
        ],
        S,
        timeline={"m": [(0, F), (10, S), (20, S)]},
    ),
    Case(
        "consecutiveSuccessLimit not reached, failureLimit -1 -> Failed",
        [
            metric(
                interval="10s",
                count=4,
                failureLimit=-1,
                consecutiveSuccessLimit=3,
                successCondition="result[0] != 20",
            )
        ],
        F,
        "",
        {"m": [(0, S), (10, S), (20, F), (30, S)]},
    ),
    Case(
        "consecutiveSuccessLimit not reached with a failureLimit -> Inconclusive",
        [
            metric(
                interval="10s",
                count=5,
                failureLimit=2,
                consecutiveSuccessLimit=3,
                successCondition="result[0] != 20 && result[0] != 40",
            )
        ],
        INC,
        "",
        {"m": [(0, S), (10, S), (20, F), (30, S), (40, F)]},
    ),
    Case(
        "failureLimit -1 needs consecutiveSuccessLimit",
        [metric(failureLimit=-1, successCondition="true")],
        E,
        "Analysis spec invalid: metrics[0]: failureLimit must be >= 0 ...",
    ),
    Case(
        "count must be >= failureLimit",
        [metric(count=1, failureLimit=2)],
        E,
        "Analysis spec invalid: metrics[0]: count must be >= failureLimit",
    ),
    Case(
        "count must be >= inconclusiveLimit",
        [metric(count=1, interval="1m", inconclusiveLimit=2)],
        E,
        "Analysis spec invalid: metrics[0]: count must be >= inconclusiveLimit",
    ),
    Case(
        "count > 1 needs an interval",
        [metric(count=3)],
        E,
        "Analysis spec invalid: metrics[0]: interval must be specified when count > 1",
    ),
    Case(
        "bad interval",
        [metric(count=3, interval="soon")],
        E,
        'Analysis spec invalid: metrics[0]: invalid interval string: time: invalid duration "soon"',
    ),
    Case(
        "no provider",
        [{"name": "m", "provider": {}}],
        E,
        "Analysis spec invalid: metrics[0]: no provider specified",
    ),
    Case(
        "metrics that are not objects",
        [1],  # type: ignore[list-item]
        E,
        "Analysis spec invalid: metrics must be a list of objects",
    ),
    Case(
        "a provider that is not an object",
        [{"name": "m", "provider": {"prometheus": "http://x"}}],
        E,
        "Analysis spec invalid: metrics[0]: provider must be an object holding one provider object",
    ),
    Case(
        "duplicate metric names",
        [metric(), metric()],
        E,
        "Analysis spec invalid: metrics[1]: duplicate name 'm'",
    ),
    Case(
        "neither count nor interval: exactly one measurement",
        [metric(successCondition="result[0] < 5")],
        S,
        timeline={"m": [(0, S)]},
    ),
    Case(
        "initialDelay postpones the first measurement",
        [metric(initialDelay="30s", interval="10s", count=2)],
        S,
        timeline={"m": [(30, S), (40, S)]},
    ),
    Case(
        "templated count",
        [
            metric(
                interval="{{ args.interval }}",
                count="{{args.count}}",
                successCondition="result[0] < {{args.max}}",
            )
        ],
        S,
        timeline={"m": [(0, S), (5, S)]},
        args=[{"name": "count", "value": "2"}, {"name": "interval", "value": "5s"}, {"name": "max"}],
        supplied={"max": "100"},
    ),
    Case(
        "templated count 0 with an interval runs until terminated",
        [metric(interval="{{args.interval}}", count="{{args.count}}")],
        S,
        "Run Terminated",
        {"m": [(0, S), (10, S), (20, S), (30, S)]},
        args=[{"name": "count", "value": "0"}, {"name": "interval", "value": "10s"}],
        until=T0 + 35,
    ),
    Case(
        "missing arg",
        [metric(successCondition="result[0] < {{args.limit}}")],
        E,
        "args.limit was not resolved",
        args=[{"name": "limit"}],
    ),
    Case(
        "a tag left over after substitution",
        [metric(successCondition="result[0] < {{args.nope}}")],
        E,
        "Unable to resolve metric arguments: failed to resolve {{args.nope}}",
    ),
    Case(
        "string result is not supported",
        [metric(query='"abc"', consecutiveErrorLimit=0)],
        E,
        'Metric "m" assessed Error due to consecutiveErrors (1) > consecutiveErrorLimit (0): '
        '"Error Message: Prometheus metric type not supported"',
    ),
    Case(
        "a query slower than the provider timeout is an Error",
        [
            {
                "name": "m",
                "consecutiveErrorLimit": 0,
                # about 0.25 s of PromQL work against a 1 ms timeout
                "provider": {"prometheus": {"query": SLOW_QUERY, "timeout": 0.001}},
            }
        ],
        E,
        'Metric "m" assessed Error due to consecutiveErrors (1) > consecutiveErrorLimit (0): '
        '"Error Message: query to http...',
        {"m": [(0, E)]},
    ),
    Case(
        "empty vector: all() passes vacuously (the trap)",
        [metric(query="vector(1) > 2", successCondition="all(result, # < 0.05)")],
        S,
        timeline={"m": [(0, S)]},
    ),
    Case(
        "empty vector: guarded conditions give Inconclusive",
        [
            metric(
                query="vector(1) > 2",
                successCondition="len(result) > 0 && result[0] <= 0.05",
                failureCondition="len(result) > 0 && result[0] > 0.05",
            )
        ],
        INC,
        'Metric "m" assessed Inconclusive due to inconclusive (1) > inconclusiveLimit (0)',
    ),
    Case(
        "empty vector: result[0] errors until consecutiveErrorLimit",
        [metric(query="vector(1) > 2", successCondition="result[0] < 0.05")],
        E,
        'Metric "m" assessed Error due to consecutiveErrors (5) > consecutiveErrorLimit (4): '
        '"Error Message: index out of range: 0 (array length is 0)"',
    ),
    Case(
        "NaN scalar fails a success-only condition",
        [metric(query="0 / 0", successCondition="result < 0.05")],
        F,
        'Metric "m" assessed Failed due to failed (1) > failureLimit (0)',
    ),
    Case(
        "matrix samples are flattened into one list",
        [metric(query="vector(1)[30s:10s]", successCondition="len(result) >= 3 && all(result, # == 1)")],
        S,
    ),
    Case(
        "a failed metric terminates an unbounded sibling",
        [
            metric("bad", interval="10s", count=3, successCondition="result[0] < 5"),
            metric("background", interval="10s", successCondition="true"),
        ],
        F,
        'Metric "bad" assessed Failed due to failed (1) > failureLimit (0)',
        {"bad": [(0, S), (10, F)], "background": [(0, S), (10, S)]},
    ),
    Case(
        "worst phase wins: Failed is worse than Error",
        [
            metric("broken", query="vector(", consecutiveErrorLimit=0),
            metric("bad", successCondition="false"),
        ],
        F,
        'Metric "bad" assessed Failed due to failed (1) > failureLimit (0)',
    ),
    Case(
        "Inconclusive is worse than Successful",
        [metric("good"), metric("unsure", successCondition="false", failureCondition="false")],
        INC,
        'Metric "unsure" assessed Inconclusive due to inconclusive (1) > inconclusiveLimit (0)',
    ),
    Case(
        "a dry-run metric never changes the run (unanchored regex)",
        [
            metric("canary", interval="10s", count=2),
            metric("experimental-latency", successCondition="false"),
        ],
        S,
        timeline={"canary": [(0, S), (10, S)], "experimental-latency": [(0, F)]},
        dry_run=[{"metricName": "experi"}],
    ),
    Case(
        "a dryRun rule must match a metric",
        [metric()],
        E,
        "Analysis spec invalid: dryRun[0]: Rule didn't match any metric name(s)",
        dry_run=[{"metricName": "^nothing$"}],
    ),
]


def run_case(prometheus_url: str, case: Case) -> AnalysisRunner:
    template = {
        "kind": "AnalysisTemplate",
        "metadata": {"name": "t"},
        "spec": {"args": case.args, "metrics": case.metrics, "dryRun": case.dry_run},
    }
    provider = PrometheusProvider(prometheus_url)
    runner = AnalysisRunner(template, case.supplied, provider, VirtualClock(T0))
    runner.run_until_done(until=case.until)
    provider.close()
    return runner


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_run_phase(prometheus_url: str, case: Case) -> None:
    runner = run_case(prometheus_url, case)
    assert runner.phase == case.phase, [(r.name, r.measurements) for r in runner.results.values()]
    if case.message.endswith("..."):
        assert runner.message.startswith(case.message[:-3])
    else:
        assert runner.message == case.message
    for name, expected in case.timeline.items():
        taken = [(m.started_at - T0, m.phase) for m in runner.results[name].measurements]
        assert taken == expected


def test_counters_and_values(prometheus_url: str) -> None:
    case = Case(
        "counters",
        [metric(interval="30s", count=2, successCondition="result[0] == 30 ? result[5] > 0 : true")],
        S,
    )
    result = run_case(prometheus_url, case).results["m"]
    assert (result.count, result.successful, result.error, result.consecutive_error) == (2, 2, 1, 0)
    assert [m.value for m in result.measurements] == ["[0]", "[30]", "[40]"]
    assert "index out of range" in result.measurements[1].message


def test_dry_run_metric_keeps_its_own_verdict(prometheus_url: str) -> None:
    dry = next(c for c in CASES if c.id.startswith("a dry-run metric"))
    result = run_case(prometheus_url, dry).results["experimental-latency"]
    assert (result.phase, result.dry_run) == (F, True)
    assert result.message == "Metric assessed Failed due to failed (1) > failureLimit (0)"


def test_terminate_before_any_measurement_is_successful(prometheus_url: str) -> None:
    template = {"spec": {"metrics": [metric(initialDelay="1m", successCondition="false")]}}
    runner = AnalysisRunner(template, {}, PrometheusProvider(prometheus_url), VirtualClock(T0))
    runner.step()
    runner.terminate()
    runner.step()
    assert (runner.phase, runner.message, runner.results) == (S, "Run Terminated", {})


def test_once_takes_one_measurement_per_metric(prometheus_url: str) -> None:
    template = {
        "spec": {
            "metrics": [
                metric("slow", initialDelay="5m", interval="1m", count=5),
                metric("bad", interval="1m", count=5, failureLimit=3, successCondition="result[0] > 1"),
            ]
        }
    }
    runner = AnalysisRunner(template, {}, PrometheusProvider(prometheus_url), VirtualClock(T0))
    assert runner.measure_once() == F
    assert runner.message == 'Metric "bad" measured Failed (value [0])'
    assert [len(r.measurements) for r in runner.results.values()] == [1, 1]


def test_events_form_a_timeline(prometheus_url: str) -> None:
    events: list[Event] = []
    template = {"spec": {"metrics": [metric(interval="10s", count=2, successCondition="result[0] < 5")]}}
    runner = AnalysisRunner(
        template, {}, PrometheusProvider(prometheus_url), VirtualClock(T0), on_event=events.append
    )
    runner.run_until_done()
    assert [(e.at - T0, e.kind, e.phase) for e in events] == [
        (0, "measurement", S),
        (10, "measurement", F),
        (10, "metric", F),
        (10, "run", F),
    ]


def test_finite_runs_refuse_unbounded_metrics(prometheus_url: str) -> None:
    template = {"spec": {"metrics": [metric(interval="10s")]}}
    runner = AnalysisRunner(template, {}, PrometheusProvider(prometheus_url), VirtualClock(T0), finite=True)
    assert runner.phase == E
    assert "runs indefinitely" in runner.message


def test_address_falls_back_to_the_controller_env_var(
    prometheus_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARGO_ROLLOUTS_PROMETHEUS_ADDRESS", prometheus_url)
    headers = [{"key": "X-Scope-OrgID", "value": "voting"}]
    template = {
        "spec": {"metrics": [{"name": "m", "provider": {"prometheus": {"query": "1", "headers": headers}}}]}
    }
    runner = AnalysisRunner(template, {}, PrometheusProvider(), VirtualClock(T0))
    assert runner.run_until_done() == S
    assert runner.results["m"].measurements[0].value == "1"


def test_malformed_headers_are_a_measurement_error(prometheus_url: str) -> None:
    settings = {"query": "1", "headers": ["X-Scope-OrgID: voting"]}
    template = {
        "spec": {"metrics": [{"name": "m", "consecutiveErrorLimit": 0, "provider": {"prometheus": settings}}]}
    }
    runner = AnalysisRunner(template, {}, PrometheusProvider(prometheus_url), VirtualClock(T0))
    assert runner.run_until_done() == E
    assert runner.message.endswith('"Error Message: prometheus headers must be a list of {key, value}"')
