"""The FROM..TO a rehearsal prints for `analyze --replay` re-judges what the live run saw, no more.

Live measurements come late on a loaded machine (each wake-up here is 10 ms late, so the schedule
drifts), replayed ones fall exactly on FROM + k * interval. A run terminated between its metrics'
measurements must not be replayed into one the live run never took.
"""

from __future__ import annotations

import pytest
from votectl.analysis.clock import VirtualClock
from votectl.analysis.providers.prometheus import PrometheusProvider
from votectl.analysis.reconcile import AnalysisRunner
from votectl.rehearsal.executor import AnalysisRecord

pytestmark = pytest.mark.prometheus

T0 = 1_700_000_000.0
ELAPSED = f"vector(time() - {T0:.0f})"
LATE = 0.01


class LateClock(VirtualClock):
    """Virtual time whose sleeper always wakes LATE seconds after the moment it asked for."""

    def sleep_until(self, moment: float) -> None:
        super().sleep_until(moment + LATE)


def _template() -> dict:
    # Like the staging step analysis: two metrics on the same interval, one 1 ms behind the other.
    latency = {"name": "latency", "interval": "4s", "count": 3, "successCondition": "true"}
    errors = {
        "name": "errors",
        "interval": "4s",
        "count": 3,
        "initialDelay": "1ms",
        "successCondition": "result[0] < 6",  # a third measurement (8 s in) fails
    }
    for metric in (latency, errors):
        metric["provider"] = {"prometheus": {"query": ELAPSED}}
    return {"kind": "AnalysisTemplate", "metadata": {"name": "t"}, "spec": {"metrics": [latency, errors]}}


def test_a_run_terminated_between_its_metrics_replays_to_the_same_verdict(prometheus_url: str) -> None:
    template = _template()
    provider = PrometheusProvider(prometheus_url)
    live = AnalysisRunner(template, {}, provider, LateClock(T0))
    # Terminated (as by a failed background analysis) after latency's third measurement at 8.02 s and
    # before errors' third, due at 8.021 s.
    live.run_until_done(until=T0 + 8.0205)
    assert [len(live.results[name].measurements) for name in ("latency", "errors")] == [3, 2]
    assert (live.phase, live.message) == ("Successful", "Run Terminated")

    record = AnalysisRecord("step 2 analysis", "t", template, live, T0)
    start, end = record.replay_window()
    # On the replay's exact schedule errors' third measurement falls at 8.001 s, before live's last
    # measurement (8.02 s): the window must end before it.
    assert start == T0
    assert end < T0 + 8.001
    replay = AnalysisRunner(template, {}, provider, VirtualClock(round(start, 3)))
    replay.run_until_done(until=round(end, 3))  # as printed: `--replay FROM..TO` in milliseconds
    provider.close()
    assert (replay.phase, replay.message) == (live.phase, live.message)
    assert len(replay.results["errors"].measurements) == 2


def test_a_run_terminated_before_its_second_metric_began_replays_one_instant(prometheus_url: str) -> None:
    """A step analysis terminated right after it began: latency measured once, errors (1 ms later) never.

    The replay window shrinks to FROM == TO, and `analyze --replay` judges that single instant."""
    template = _template()
    provider = PrometheusProvider(prometheus_url)
    live = AnalysisRunner(template, {}, provider, LateClock(T0))
    live.run_until_done(until=T0 + 0.0005)
    assert len(live.results["latency"].measurements) == 1
    assert "errors" not in live.results  # a metric has a result from its first measurement on

    record = AnalysisRecord("step 2 analysis", "t", template, live, T0)
    start, end = record.replay_window()
    assert start == end == T0
    replay = AnalysisRunner(template, {}, provider, VirtualClock(round(start, 3)))
    replay.run_until_done(until=round(end, 3))
    provider.close()
    assert (replay.phase, replay.message) == (live.phase, live.message)
    assert len(replay.results["latency"].measurements) == 1
    assert "errors" not in replay.results
