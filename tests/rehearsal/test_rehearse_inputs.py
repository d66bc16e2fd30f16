"""How the rehearsal reads a Rollout and binds its analyses (no processes), and its CLI refusals."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from votectl.analysis.clock import VirtualClock
from votectl.analysis.providers.prometheus import PrometheusProvider
from votectl.analysis.reconcile import AnalysisRunner
from votectl.errors import VotectlError
from votectl.rehearsal.binding import Hashes, Timing, bind_analysis
from votectl.rehearsal.driver import load_rollout, pod_template_hashes, scrape_interval_for
from votectl.rehearsal.strategy import BlueGreenStrategy, CanaryStrategy, Rollout, find_rollout

HASHES = Hashes(stable="stable0001", latest="canary0001")


@pytest.fixture(scope="module")
def staging_vote() -> Rollout:
    return load_rollout("vote", "staging")


def _metrics(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {metric["name"]: metric for metric in template["spec"]["metrics"]}


def test_staging_vote_strategy_is_read_in_order(staging_vote: Rollout) -> None:
    strategy = staging_vote.strategy
    assert isinstance(strategy, CanaryStrategy)
    assert [step.describe() for step in strategy.steps] == [
        "setWeight 10",
        "pause 120s",
        "analysis vote-error-ratio+vote-latency-p99",
        "setWeight 50",
        "pause 120s",
        "analysis vote-error-ratio+vote-latency-p99",
    ]
    assert strategy.starting_step == 1
    assert strategy.background is not None


def test_step_analysis_is_merged_bound_and_scaled(staging_vote: Rollout) -> None:
    assert isinstance(staging_vote.strategy, CanaryStrategy)
    ref = staging_vote.strategy.steps[2].analysis
    assert ref is not None
    bound = bind_analysis(ref, staging_vote, HASHES, Timing(speed=30, scrape_interval=0.5))
    metrics = _metrics(bound.template)
    assert set(metrics) == {"error-ratio", "latency-p99"}
    assert bound.args == {}
    error_ratio = metrics["error-ratio"]
    assert error_ratio["interval"] == "2000ms"  # 1m / 30
    assert error_ratio["count"] == "3"
    query = error_ratio["provider"]["prometheus"]["query"]
    assert 'rollouts_pod_template_hash="canary0001"' in query
    assert "[4000ms]" in query  # the 2m rate() window / 30
    assert 'service="vote"' in query


def test_rate_window_never_drops_below_four_scrapes(staging_vote: Rollout) -> None:
    assert isinstance(staging_vote.strategy, CanaryStrategy)
    ref = staging_vote.strategy.steps[2].analysis
    assert ref is not None
    bound = bind_analysis(ref, staging_vote, HASHES, Timing(speed=600, scrape_interval=0.25))
    assert "[1000ms]" in _metrics(bound.template)["error-ratio"]["provider"]["prometheus"]["query"]
    assert _metrics(bound.template)["error-ratio"]["interval"] == "100ms"


def test_background_analysis_keeps_the_rollouts_unbounded_count(staging_vote: Rollout) -> None:
    assert isinstance(staging_vote.strategy, CanaryStrategy)
    assert staging_vote.strategy.background is not None
    bound = bind_analysis(staging_vote.strategy.background, staging_vote, HASHES, Timing(30, 0.5))
    assert _metrics(bound.template)["error-ratio"]["count"] == "0"


def test_blue_green_job_metric_is_played_by_the_rehearsal() -> None:
    rollout = load_rollout("result", "staging")
    assert isinstance(rollout.strategy, BlueGreenStrategy)
    assert rollout.strategy.pre_promotion is not None
    bound = bind_analysis(rollout.strategy.pre_promotion, rollout, HASHES, Timing(30, 0.5))
    assert bound.played_by_rehearsal == ["synthetic-traffic"]
    assert set(_metrics(bound.template)) == {"error-ratio", "latency-p99"}


def _rollout(steps: list[dict[str, Any]], extra: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    rollout = {
        "kind": "Rollout",
        "metadata": {"name": "vote"},
        "spec": {
            "strategy": {"canary": {"trafficRouting": {"nginx": {"stableIngress": "vote"}}, "steps": steps}}
        },
    }
    return [rollout, *(extra or [])]


def test_pause_without_duration_and_noted_steps() -> None:
    rollout = find_rollout(
        _rollout([{"pause": {}}, {"setCanaryScale": {"replicas": 1}}, {"pause": {"duration": 30}}]),
        "vote",
        "x",
    )
    assert isinstance(rollout.strategy, CanaryStrategy)
    assert [step.duration for step in rollout.strategy.steps] == [None, None, 30.0]
    assert rollout.strategy.steps[1].kind == "setCanaryScale"


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([{"experiment": {}}], "experiment steps cannot be rehearsed"),
        ([{"pause": {"duration": "soon"}}], "invalid pause duration"),
        ([{"setWeight": 5, "pause": {}}], "exactly one step kind"),
    ],
)
def test_unplayable_steps_are_refused_before_anything_starts(
    steps: list[dict[str, Any]], message: str
) -> None:
    with pytest.raises(VotectlError, match=message):
        find_rollout(_rollout(steps), "vote", "x")


def test_a_canary_without_traffic_routing_is_refused() -> None:
    objects = [
        {"kind": "Rollout", "metadata": {"name": "worker"}, "spec": {"strategy": {"canary": {"steps": []}}}}
    ]
    with pytest.raises(VotectlError, match="only canaries routed by the nginx ingress"):
        find_rollout(objects, "worker", "staging")


def test_unresolvable_args_reach_the_engine_as_its_error() -> None:
    """A required template arg the Rollout does not give: the run ends Error with the controller's text."""
    template = {
        "kind": "AnalysisTemplate",
        "metadata": {"name": "t"},
        "spec": {
            "args": [{"name": "needed"}],
            "metrics": [{"name": "m", "provider": {"prometheus": {"query": "up{x='{{args.needed}}'}"}}}],
        },
    }
    rollout = find_rollout(
        _rollout([{"analysis": {"templates": [{"templateName": "t"}]}}], [template]), "vote", "x"
    )
    assert isinstance(rollout.strategy, CanaryStrategy)
    ref = rollout.strategy.steps[0].analysis
    assert ref is not None
    bound = bind_analysis(ref, rollout, HASHES, Timing(30, 0.5))
    runner = AnalysisRunner(
        bound.template, bound.args, PrometheusProvider("http://127.0.0.1:9"), VirtualClock(0)
    )
    assert runner.phase == "Error"
    assert "args.needed was not resolved" in runner.message


def _two_template_rollout(first: dict[str, Any], second: dict[str, Any]) -> Rollout:
    def template(name: str, arg: dict[str, Any]) -> dict[str, Any]:
        query = "vector({{args.x}})"
        metric = {"name": f"m-{name}", "provider": {"prometheus": {"query": query}}}
        return {
            "kind": "AnalysisTemplate",
            "metadata": {"name": name},
            "spec": {"args": [arg], "metrics": [metric]},
        }

    step = {"analysis": {"templates": [{"templateName": "a"}, {"templateName": "b"}]}}
    return find_rollout(_rollout([step], [template("a", first), template("b", second)]), "vote", "x")


def test_merged_templates_share_an_arg_and_a_default_completes_a_bare_declaration() -> None:
    rollout = _two_template_rollout({"name": "x"}, {"name": "x", "value": "7"})
    assert isinstance(rollout.strategy, CanaryStrategy)
    ref = rollout.strategy.steps[0].analysis
    assert ref is not None
    bound = bind_analysis(ref, rollout, HASHES, Timing(30, 0.5))
    queries = [m["provider"]["prometheus"]["query"] for m in bound.template["spec"]["metrics"]]
    assert queries == ["vector(7)", "vector(7)"]


def test_merged_templates_with_different_defaults_are_refused() -> None:
    rollout = _two_template_rollout({"name": "x", "value": "1"}, {"name": "x", "value": "2"})
    assert isinstance(rollout.strategy, CanaryStrategy)
    ref = rollout.strategy.steps[0].analysis
    assert ref is not None
    with pytest.raises(VotectlError, match="two templates give arg x different values"):
        bind_analysis(ref, rollout, HASHES, Timing(30, 0.5))


def test_hashes_differ_between_stable_and_canary_and_follow_the_env() -> None:
    plain = pod_template_hashes({"spec": {}}, {})
    faulty = pod_template_hashes({"spec": {}}, {"VOTE_FAULT_RATE": "0.1"})
    assert plain.stable != plain.latest
    assert plain.stable == faulty.stable
    assert plain.latest != faulty.latest


def test_scrape_interval_follows_speed_within_bounds() -> None:
    assert scrape_interval_for(1) == 5.0
    assert scrape_interval_for(30) == 0.5
    assert scrape_interval_for(1000) == 0.25


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["rehearse", "worker"], "cannot rehearse 'worker'"),
        (["rehearse", "vote", "--speed", "0"], "--speed must be positive"),
        (["rehearse", "vote", "--speed", "nan"], "--speed must be positive and finite, got nan"),
        (["rehearse", "vote", "--rate", "nan"], "--rate must be >= 0 and finite, got nan"),
        (["rehearse", "vote", "--report", "/dev/null/report"], "--report /dev/null/report: cannot create"),
        (["rehearse", "vote", "--strategy-from", "qa"], "unknown env 'qa'"),
        (["rehearse", "vote", "--canary-env", "NOEQUALS"], "expected NAME=VALUE"),
    ],
)
def test_cli_refuses_bad_input_with_one_line_and_exit_2(argv: list[str], message: str) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "votectl", *argv], capture_output=True, text=True, timeout=60, check=False
    )
    assert completed.returncode == 2
    assert message in completed.stderr
    assert "Traceback" not in completed.stderr
