"""conftest over the rendered manifests, as CI and a developer without votectl run the gate.

`conftest test --combine --namespace main` with the env's rules as `--data`: every real env passes, one
deliberate violation fails with its policy ID, and without `--data` the strictest rules apply. The
delivery manifests (Argo CD, Tekton) belong to no env and pass the strictest rules.
"""

from __future__ import annotations

import copy
import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from votectl.engines.build import path
from votectl.policy.engine import policy_data, policy_dir
from votectl.render import render_dirs, render_envs
from votectl.repo import Repo

REPO = Repo.current()
ENVS = REPO.env_names


@dataclass(frozen=True)
class Report:
    """conftest's verdict: exit code, the policy ID of each failure, and its text for messages."""

    returncode: int
    policies: list[str]
    text: str


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    return render_envs(ENVS)


@pytest.fixture
def conftest(tmp_path):
    def run(objects: list[dict], data: dict | None) -> Report:
        manifests = tmp_path / "manifests.yaml"
        manifests.write_text(yaml.safe_dump_all(objects, sort_keys=False), encoding="utf-8")
        command = [
            str(path("conftest")),
            "test",
            "--combine",
            "--policy",
            str(policy_dir()),
            "--namespace",
            "main",
        ]
        if data is not None:
            data_file = tmp_path / "data.json"
            data_file.write_text(json.dumps(data), encoding="utf-8")
            command += ["--data", str(data_file)]
        command += ["--output", "json", "--no-color", str(manifests)]
        result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=120)
        text = f"exit {result.returncode}\n{result.stdout}{result.stderr}"
        try:
            failures = [f for entry in json.loads(result.stdout) for f in entry.get("failures") or []]
        except json.JSONDecodeError:  # the policies did not load: conftest printed the error instead
            raise AssertionError(f"conftest gave no results:\n{text}") from None
        return Report(result.returncode, sorted(f["metadata"]["policy"] for f in failures), text)

    return run


def _containers(objects: list[dict], kind: str, name: str) -> list[dict]:
    [obj] = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    return obj["spec"]["template"]["spec"]["containers"]


@pytest.mark.parametrize("env", ENVS)
def test_real_env_passes(env, rendered, conftest):
    report = conftest(rendered[env], policy_data(env))
    assert (report.returncode, report.policies) == (0, []), report.text


def test_image_by_tag_fails_in_staging(rendered, conftest):
    objects = copy.deepcopy(rendered["staging"])
    [container] = _containers(objects, "Rollout", "vote")
    assert "@sha256:" in container["image"], "staging is expected to pin vote by digest"
    container["image"] = container["image"].split("@")[0] + ":1.4.2"
    report = conftest(objects, policy_data("staging"))
    assert (report.returncode, report.policies) == (1, ["IMG-002"]), report.text
    assert "IMG-002 (high) Rollout voting-staging/vote" in report.text


def test_root_container_fails_in_prod(rendered, conftest):
    objects = copy.deepcopy(rendered["prod"])
    [container] = _containers(objects, "Rollout", "result")
    container.setdefault("securityContext", {})["runAsUser"] = 0
    report = conftest(objects, policy_data("prod"))
    assert (report.returncode, report.policies) == (1, ["SEC-001"]), report.text


def test_without_data_the_strictest_rules_apply(rendered, conftest):
    """dev runs images by tag, which only its env data allows: without --data they are refused."""
    report = conftest(rendered["dev"], None)
    assert report.returncode == 1, report.text
    assert "IMG-002" in report.policies, report.text


@pytest.mark.parametrize("directory", ["gitops/argocd", "pipelines/tekton"])
def test_delivery_manifests_pass_the_strictest_rules(directory, conftest):
    [objects] = render_dirs([Path(REPO.root) / directory])
    report = conftest(objects, None)
    assert (report.returncode, report.policies) == (0, []), report.text
