"""The PrometheusRule's alerts, run by the real promtool: rule syntax, and each alert firing and quiet."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from gitops_helpers import find

PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
CASES = Path(__file__).with_name("alerts_test.yaml")

pytestmark = pytest.mark.skipif(
    not Path(PROMTOOL).is_file(), reason="promtool not installed (Debian package prometheus, see .ci/run)"
)


@pytest.fixture(scope="module")
def rules_dir(rendered: dict[str, list[dict]], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """prod's rendered PrometheusRule groups as a plain rules file, beside a copy of the test cases."""
    rule = find(rendered["prod"], "PrometheusRule", "voting")
    directory = tmp_path_factory.mktemp("rules")
    (directory / "voting-rules.yaml").write_text(yaml.safe_dump({"groups": rule["spec"]["groups"]}))
    shutil.copy(CASES, directory / CASES.name)
    return directory


def promtool(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMTOOL, *args], cwd=directory, capture_output=True, text=True, timeout=60)


def test_rules_pass_promtool_check(rules_dir: Path) -> None:
    result = promtool(rules_dir, "check", "rules", "voting-rules.yaml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 4 rules found" in result.stdout


def test_alert_unit_tests_pass(rules_dir: Path) -> None:
    result = promtool(rules_dir, "test", "rules", CASES.name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_firing_and_a_quiet_case(rendered: dict[str, list[dict]]) -> None:
    """A case list that only proves alerts fire (or only that they stay quiet) proves half."""
    rule = find(rendered["prod"], "PrometheusRule", "voting")
    rules = [entry for group in rule["spec"]["groups"] for entry in group["rules"]]
    alerts = {entry["alert"] for entry in rules if "alert" in entry}
    cases = [case for test in yaml.safe_load(CASES.read_text())["tests"] for case in test["alert_rule_test"]]
    firing = {case["alertname"] for case in cases if case["exp_alerts"]}
    quiet = {case["alertname"] for case in cases if not case["exp_alerts"]}
    assert alerts == {"VoteHighErrorRatio", "WorkerVoteLagHigh", "VotesDeadLettered", "VotingPodCrashLooping"}
    assert alerts <= firing, f"no firing case for {sorted(alerts - firing)}"
    assert alerts <= quiet, f"no quiet case for {sorted(alerts - quiet)}"
