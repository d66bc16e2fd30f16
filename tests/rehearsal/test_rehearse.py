"""End-to-end rehearsals of the staging vote strategy on real processes (Redis, PostgreSQL, worker, two vote
instances, nginx, Prometheus).

Speeds and rates are chosen for the statistics, not only the clock. A healthy canary has no errors to
sample, so it runs at speed 30 (4 s pauses, a measurement every 2 s over a 4 s window) and a light 40
requests/s. A 10 % error canary is judged against a 5 % threshold: at a 10 % weight the window must hold
enough canary requests that a 10 % rate is not read as <= 5 % by chance. At speed 15 and 150 requests/s a
window holds about 120 canary requests and a single measurement misreads with p ~ 0.04, so two failed
measurements out of three come with p > 0.99.

Each rehearsal runs once per module; the tests read its result, its report and its kept Prometheus data.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from rehearsals import Rehearsed, described, left_behind, reaped
from votectl.localstack.prometheus_server import PrometheusServer
from votectl.rehearsal.executor import ABORTED, PAUSED, PROMOTED, RehearsalResult

pytestmark = [pytest.mark.slow, pytest.mark.prometheus]

SPEED = 30.0
FAULT_SPEED = 15.0
VOTECTL = [sys.executable, "-m", "votectl"]


@pytest.fixture(scope="module")
def model(run_rehearsal) -> Iterator:
    """Rehearsals decided by votectl's model (test_rehearse_controller.py has the real controller)."""

    def run(name: str, service: str = "vote", **options: object) -> Rehearsed:
        return run_rehearsal(name, service, controller="votectl", **options)

    yield run


@pytest.fixture(scope="module")
def healthy(model) -> Rehearsed:
    return model("healthy", speed=SPEED, rate=40.0)


@pytest.fixture(scope="module")
def faulty(model) -> Rehearsed:
    return model("faulty", speed=FAULT_SPEED, rate=150.0, canary_env={"VOTE_FAULT_RATE": "0.1"})


def _weights(result: RehearsalResult) -> list[int]:
    return [weight for _, weight in result.timeline.weights]


def test_healthy_canary_is_promoted(healthy: Rehearsed) -> None:
    result = healthy.result
    assert result.outcome == PROMOTED, result.message
    assert _weights(result) == [0, 10, 50, 100]
    steps = [record for record in result.analyses if record.label.startswith("step")]
    assert [record.label for record in steps] == ["step 2 analysis", "step 5 analysis"]
    assert all(record.runner.phase == "Successful" for record in steps)
    measured = [m for r in steps[0].runner.results.values() for m in r.measurements]
    assert len(measured) == 6  # count 3 of each of the two metrics
    assert not healthy.leaked, described(healthy.leaked)


def test_faulty_canary_is_aborted_at_its_first_analysis(faulty: Rehearsed) -> None:
    result = faulty.result
    assert result.outcome == ABORTED, result.message
    assert max(_weights(result)) == 10, "the canary must never reach the 50 % step"
    assert _weights(result)[-1] == 0, "an abort sends all traffic back to stable"
    deciding = next(record for record in result.analyses if record.runner.phase == "Failed")
    assert deciding.label in ("background analysis", "step 2 analysis")
    error_ratio = deciding.runner.results["error-ratio"]
    assert error_ratio.failed == 2  # failureLimit 1: the second failed measurement aborts
    failed_values = [json.loads(m.value or "[]") for m in error_ratio.measurements if m.phase == "Failed"]
    assert all(values[0] > 0.05 for values in failed_values)
    assert not faulty.leaked, described(faulty.leaked)


def test_report_has_markdown_chart_and_resolved_templates(faulty: Rehearsed) -> None:
    markdown = (faulty.report / "rehearsal.md").read_text()
    assert "**Outcome: Aborted**" in markdown
    assert "VOTE_FAULT_RATE=0.1" in markdown
    assert (faulty.report / "rehearsal.png").read_bytes().startswith(b"\x89PNG")
    templates = sorted((faulty.report / "analyses").glob("*.yaml"))
    assert len(templates) == len(faulty.result.analyses)
    text = templates[-1].read_text()
    assert "{{" not in text, "the written templates are fully resolved"
    assert "interval: 4000ms" in text  # 1m / speed 15


def test_replay_over_the_recorded_run_gives_the_live_verdict(faulty: Rehearsed, tmp_path: Path) -> None:
    """The rehearsal's Prometheus data dir is reused by a new Prometheus; every analysis is re-judged."""
    templates = sorted((faulty.report / "analyses").glob("*.yaml"))
    with PrometheusServer(faulty.report / "prometheus", []) as prometheus:
        for record, template in zip(faulty.result.analyses, templates, strict=True):
            start, end = record.replay_window()
            replay = subprocess.run(
                [
                    *VOTECTL,
                    "analyze",
                    str(template),
                    "--prometheus",
                    prometheus.url,
                    "--replay",
                    f"{start:.3f}..{end:.3f}",
                    "--format",
                    "json",
                ],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            assert replay.stdout, (record.label, f"{start:.3f}..{end:.3f}", replay.stderr)
            replayed = json.loads(replay.stdout)
            assert replayed["phase"] == record.runner.phase, (record.label, replayed["message"])
            assert replayed["message"].replace("Run Terminated", "") == record.runner.message.replace(
                "Run Terminated", ""
            )


def test_blue_green_result_switches_after_pre_promotion_and_is_judged_again(model) -> None:
    rehearsed = model("blue-green", service="result", speed=SPEED, rate=40.0)
    result = rehearsed.result
    assert result.outcome == PROMOTED, result.message
    pre, post = result.analyses
    assert (pre.label, post.label) == ("pre-promotion analysis", "post-promotion analysis")
    assert pre.played_by_rehearsal == ["synthetic-traffic"]
    assert all(record.runner.phase == "Successful" for record in (pre, post))
    switched_at = next(at for at, weight in result.timeline.weights if weight == 100)
    assert pre.finished_at is not None and pre.finished_at <= switched_at <= post.started_at
    assert not rehearsed.leaked, described(rehearsed.leaked)


def test_canary_without_traffic_ends_paused_not_promoted(tmp_path: Path) -> None:
    """Through the CLI, with its own embedded Redis and PostgreSQL: no data is Inconclusive, never a pass.
    The CLI runs under rehearsals.reaped, which collects whatever it leaves running."""
    left = tmp_path / "left-running.json"
    argv = ["rehearse", "vote", "--controller", "votectl", "--speed", str(SPEED), "--rate", "0"]
    completed = subprocess.run(
        reaped([*VOTECTL, *argv, "--report", str(tmp_path / "report")], left),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert completed.returncode == 4, completed.stderr
    assert completed.stdout.startswith(f"{PAUSED}: background analysis Inconclusive")
    assert "inconclusive (2) > inconclusiveLimit (1)" in completed.stdout
    assert "canary weight 50%" not in completed.stderr
    assert left_behind(left) == []
