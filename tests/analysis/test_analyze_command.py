"""`votectl analyze` against a real Prometheus scraping three canaries served from this test.

healthy: no errors; faulty: every 10th request fails (10 %); idle: no traffic at all. The repository's
own vote-error-ratio template judges them: Successful, Failed and Inconclusive (no data must never pass).
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import requests
from votectl.analysis.clock import RealClock
from votectl.analysis.providers.prometheus import PrometheusProvider
from votectl.analysis.reconcile import AnalysisRunner
from votectl.analysis.template import TEMPLATE_KINDS, load_template
from votectl.cli import main
from votectl.localstack.ports import free_port, wait_until
from votectl.repo import Repo

pytestmark = pytest.mark.prometheus

WINDOW = "3s"  # six 0.5 s scrapes: rate() has enough samples


def error_ratio_args(canary: str, *extra: str) -> list[str]:
    return ["--arg", "service=vote", "--arg", f"canary-hash={canary}", "--arg", f"window={WINDOW}", *extra]


@pytest.fixture(scope="module")
def prometheus(scraped: str) -> str:
    """The scraped Prometheus once the canaries with traffic have a full rate() window of samples."""
    query = (
        f'count_over_time(vote_requests_total{{rollouts_pod_template_hash="faulty",code="202"}}[{WINDOW}])'
    )

    def has_window() -> bool:
        body = requests.get(f"{scraped}/api/v1/query", params={"query": query}, timeout=2).json()
        return any(float(series["value"][1]) >= 6 for series in body["data"]["result"])

    assert wait_until(has_window, timeout=20, interval=0.2), "Prometheus never scraped the canaries"
    return scraped


def analyze(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["analyze", *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("canary", "code", "phase"),
    [("healthy", 0, "Successful"), ("faulty", 3, "Failed"), ("idle", 4, "Inconclusive")],
)
def test_once_judges_each_canary(
    prometheus: str, capsys: pytest.CaptureFixture[str], canary: str, code: int, phase: str
) -> None:

    exit_code, out, _ = analyze(
        capsys,
        "vote-error-ratio",
        "--prometheus",
        prometheus,
        *error_ratio_args(canary, "--once", "--format", "json"),
    )
    report = json.loads(out)
    assert (exit_code, report["phase"]) == (code, phase)
    [measurement] = report["metrics"][0]["measurements"]
    assert measurement["phase"] == phase
    if canary == "idle":
        assert measurement["value"] == "[]"
    elif canary == "faulty":
        assert 0.07 < json.loads(measurement["value"])[0] < 0.13


def test_replay_reaches_the_live_verdict(prometheus: str, capsys: pytest.CaptureFixture[str]) -> None:
    template = load_template("vote-error-ratio")
    live: dict[str, AnalysisRunner] = {}

    def run_live(canary: str) -> None:
        args = {"service": "vote", "canary-hash": canary, "window": WINDOW, "interval": "1s", "count": "3"}
        runner = AnalysisRunner(template, args, PrometheusProvider(prometheus), RealClock())
        runner.run_until_done()
        live[canary] = runner

    threads = [threading.Thread(target=run_live, args=(canary,)) for canary in ("healthy", "faulty")]
    start = time.time()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    end = time.time()
    assert (live["healthy"].phase, live["faulty"].phase) == ("Successful", "Failed")
    assert len(live["faulty"].results["error-ratio"].measurements) == 2  # a 10 % error canary fails within 2

    for canary, runner in live.items():
        window = f"{start:.3f}..{end:.3f}"
        extra = ("--arg", "interval=1s", "--arg", "count=3", "--replay", window, "--format", "json")
        code, out, _ = analyze(
            capsys, "vote-error-ratio", "--prometheus", prometheus, *error_ratio_args(canary, *extra)
        )
        replayed = json.loads(out)
        assert (replayed["phase"], replayed["message"]) == (runner.phase, runner.message)
        phases = [m["phase"] for m in replayed["metrics"][0]["measurements"]]
        assert phases == [m.phase for m in runner.results["error-ratio"].measurements]
        assert code == {"Successful": 0, "Failed": 3}[runner.phase]


def write_template(tmp_path: Path, query: str) -> Path:
    path = tmp_path / "broken.yaml"
    path.write_text(
        "apiVersion: argoproj.io/v1alpha1\nkind: AnalysisTemplate\nmetadata: {name: broken}\nspec:\n"
        "  metrics:\n  - name: q\n    consecutiveErrorLimit: 0\n    successCondition: 'true'\n"
        f"    provider: {{prometheus: {{query: '{query}'}}}}\n"
    )
    return path


def test_promql_error_is_an_error(
    prometheus: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_template(tmp_path, "sum(rate(vote_requests_total[1m])")
    code, out, _ = analyze(
        capsys, str(path), "--prometheus", prometheus, "--replay", "now-1m..now", "--format", "json"
    )
    report = json.loads(out)
    assert (code, report["phase"]) == (5, "Error")
    assert report["message"].startswith(
        'Metric "q" assessed Error due to consecutiveErrors (1) > consecutiveErrorLimit (0): '
        '"Error Message: bad_data:'
    )


def test_a_one_instant_replay_takes_the_measurements_due_at_that_instant(
    prometheus: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """FROM == TO: what a rehearsal prints for a run terminated right after its first measurement."""
    path = write_template(tmp_path, "vector(1)")
    moment = f"{time.time() - 60:.3f}"
    code, out, _ = analyze(
        capsys, str(path), "--prometheus", prometheus, "--replay", f"{moment}..{moment}", "--format", "json"
    )
    report = json.loads(out)
    assert (code, report["phase"]) == (0, "Successful")
    assert [m["value"] for m in report["metrics"][0]["measurements"]] == ["[1]"]


def test_unreachable_prometheus_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_template(tmp_path, "vector(1)")
    code, out, _ = analyze(capsys, str(path), "--prometheus", f"http://127.0.0.1:{free_port()}", "--once")
    assert code == 5
    assert "Phase: Error" in out and "failed" in out


def test_table_lists_measurements(prometheus: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = analyze(
        capsys, "vote-error-ratio", "--prometheus", prometheus, *error_ratio_args("faulty", "--once")
    )
    assert code == 3
    assert "error-ratio" in out and "Phase: Failed" in out
    assert 'Message: Metric "error-ratio" measured Failed (value [0.' in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["vote-error-ratio", "--arg", "service"], "expected NAME=VALUE"),
        (["no-such-template"], "no template named 'no-such-template'"),
        (["/nonexistent/template.yaml"], "no such file"),
        (["vote-error-ratio", "--replay", "yesterday..now"], "cannot read time 'yesterday'"),
        (["vote-error-ratio", "--replay", "now..now-1h"], "FROM must not be after TO"),
    ],
)
def test_usage_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, out, err = analyze(capsys, *argv)
    assert code == 2 and out == ""
    assert err.startswith("votectl: error: ") and message in err and err.count("\n") == 1


def test_missing_arg_is_a_run_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = analyze(capsys, "vote-error-ratio", "--once", "--format", "json")
    assert code == 5
    assert json.loads(out)["message"] == "args.service was not resolved"


def test_repository_templates_resolve_and_validate() -> None:
    """Every template in gitops/base/analysis/ passes the controller's validation once its required args are
    given."""
    from votectl.analysis.clock import VirtualClock
    from votectl.render import parse_manifests

    documents = [
        d
        for f in sorted(Repo.current().analysis_dir.glob("*.yaml"))
        for d in parse_manifests(f.read_text(), str(f))
    ]
    templates = [d for d in documents if d.get("kind") in TEMPLATE_KINDS]
    assert templates, "gitops/base/analysis/ holds no AnalysisTemplate"
    for template in templates:
        # "1" fits both numeric fields (count, limits) and labels
        required = {a["name"]: "1" for a in template["spec"].get("args", []) if "value" not in a}
        runner = AnalysisRunner(template, required, PrometheusProvider("http://127.0.0.1:1"), VirtualClock(0))
        providers = {name for m in template["spec"]["metrics"] for name in m["provider"]}
        if providers == {"prometheus"}:
            assert runner.phase == "Running", f"{template['metadata']['name']}: {runner.message}"
        else:
            assert (
                runner.phase == "Error"
                and "votectl analyze evaluates prometheus metrics only" in runner.message
            )


def test_real_time_run_prints_a_live_timeline(
    prometheus_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "quick.yaml"
    path.write_text(
        "kind: AnalysisTemplate\nmetadata: {name: quick}\nspec:\n  metrics:\n  - name: up\n"
        "    interval: 300ms\n    count: 2\n    successCondition: result[0] == 1\n"
        "    provider: {prometheus: {query: vector(1)}}\n"
    )
    started = time.time()
    code, out, err = analyze(capsys, str(path), "--prometheus", prometheus_url)
    assert code == 0 and time.time() - started >= 0.3  # the second measurement waited for its interval
    lines = [line.split(" ", 1)[1] for line in err.splitlines()]
    assert lines == [
        "measured up: Successful value=[1]",
        "measured up: Successful value=[1]",
        "metric up -> Successful",
        "run -> Successful",
    ]
    assert "Phase: Successful" in out


def test_ctrl_c_terminates_a_real_time_run_with_a_verdict(prometheus_url: str, tmp_path: Path) -> None:
    path = tmp_path / "forever.yaml"
    path.write_text(
        "kind: AnalysisTemplate\nmetadata: {name: forever}\nspec:\n  metrics:\n  - name: up\n"
        "    interval: 1m\n    successCondition: result[0] == 1\n"
        "    provider: {prometheus: {query: vector(1)}}\n"
    )
    command = [sys.executable, "-m", "votectl", "analyze", str(path), "--prometheus", prometheus_url]
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) as process:
        try:
            assert process.stderr is not None
            assert "measured up: Successful" in process.stderr.readline()  # the loop now waits a minute
            process.send_signal(signal.SIGINT)
            out, _ = process.communicate(timeout=30)
        finally:
            process.kill()
    assert process.returncode == 0
    assert "Phase: Successful" in out and "Message: Run Terminated" in out
