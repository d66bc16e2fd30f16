"""`votectl verify` as a new user meets it: run in any checkout, every env folder, and `--server`.

The CLI runs as a subprocess in a copy of the project (its own git checkout), with the votectl installed
from this tree: the gate must check the tree it runs in, not the one it was installed from.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from votectl.cluster.client import KubeClient
from votectl.cluster.control_plane import LocalCluster
from votectl.cluster.workloads import create_namespace
from votectl.engines.build import CACHE_ENV, cache_dir
from votectl.repo import Repo

ROOT = Path(__file__).resolve().parents[2]
COPIED = ("gitops", "policies", "engines")
VOTECTL = [sys.executable, "-m", "votectl"]


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """A second checkout of the project: the manifests, policies and engine pins, under real git."""
    copy = tmp_path / "checkout"
    for rel in COPIED:
        shutil.copytree(ROOT / rel, copy / rel, ignore=shutil.ignore_patterns("__pycache__", "*.partial"))
    subprocess.run(["git", "init", "--quiet", str(copy)], check=True)
    return copy


def votectl(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """votectl in `cwd`, sharing this checkout's built engines (a new checkout would build its own)."""
    env = {**os.environ, CACHE_ENV: str(cache_dir())}
    return subprocess.run([*VOTECTL, *argv], cwd=cwd, env=env, capture_output=True, text=True, check=False)


def report(result: subprocess.CompletedProcess[str]) -> dict:
    assert result.stderr == "", result.stderr
    return json.loads(result.stdout)


def patch_prod_vote(checkout: Path, spec: dict) -> None:
    """Add a strategic-merge patch of prod's vote Rollout to the checkout's prod overlay."""
    patch = checkout / "gitops" / "envs" / "prod" / "test-vote-patch.yaml"
    patch.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Rollout",
                "metadata": {"name": "vote"},
                "spec": spec,
            }
        )
    )
    kustomization = checkout / "gitops" / "envs" / "prod" / "kustomization.yaml"
    data = yaml.safe_load(kustomization.read_text())
    data["patches"].append({"path": patch.name})
    kustomization.write_text(yaml.safe_dump(data, sort_keys=False))


def rules_of(result: dict, env: str) -> set[str]:
    return {f["rule"] for f in result["findings"] if f["env"] == env and f["severity"] == "error"}


def test_verify_checks_the_checkout_it_runs_in(checkout: Path) -> None:
    """The misspelt field is in the copy only: it must be found although votectl lives in another tree."""
    patch_prod_vote(checkout, {"replicaz": 3})
    result = votectl(checkout / "gitops" / "envs", "verify", "--env", "prod", "--format", "json")
    assert result.returncode == 1
    findings = [f for f in report(result)["findings"] if f["severity"] == "error"]
    assert [(f["kind"], f["name"], f["rule"]) for f in findings] == [
        ("Rollout", "voting-prod/vote", "schema")
    ]
    assert "'replicaz' was unexpected" in findings[0]["message"]
    assert votectl(ROOT, "verify", "--env", "prod").returncode == 0  # this tree is untouched


def test_a_new_env_folder_is_verified_with_the_strictest_rules(checkout: Path) -> None:
    envs = checkout / "gitops" / "envs"
    shutil.copytree(envs / "dev", envs / "qa")
    kustomization = envs / "qa" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("voting-dev", "voting-qa"))
    result = votectl(checkout, "verify", "--format", "json")
    assert result.returncode == 1
    body = report(result)
    assert [e["env"] for e in body["envs"]] == ["dev", "staging", "prod", "qa"]
    # dev's image tags are fine under dev's rules; an env promotion.yaml does not list gets prod's
    assert rules_of(body, "dev") == set()
    assert {"IMG-002", "crossref/appproject-destination"} <= rules_of(body, "qa")
    assert votectl(checkout, "verify", "--env", "qa").returncode == 1
    refused = votectl(checkout, "promote", "vote", "--to", "qa")
    assert refused.returncode == 2
    assert (
        refused.stderr
        == "votectl: error: env 'qa' takes no promotions until gitops/promotion.yaml lists it in `order`\n"
    )


def test_unknown_env_names_the_envs_of_this_checkout(checkout: Path) -> None:
    result = votectl(checkout, "verify", "--env", "qa")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "votectl: error: unknown env 'qa': choose one of dev, staging, prod\n"


def test_pod_level_seccomp_unconfined_fails_offline_and_on_the_server(checkout: Path) -> None:
    """The namespaces enforce Pod Security restricted, which refuses the pod: both gates say so."""
    patch_prod_vote(
        checkout, {"template": {"spec": {"securityContext": {"seccompProfile": {"type": "Unconfined"}}}}}
    )
    result = votectl(checkout, "verify", "--env", "prod", "--server", "--format", "json")
    assert result.returncode == 1
    findings = report(result)["findings"]
    assert {(f["kind"], f["name"], f["rule"]) for f in findings} == {
        ("Rollout", "voting-prod/vote", "SEC-008"),
        ("Rollout", "voting-prod/vote", "server/pod/Forbidden"),
    }
    server = next(f for f in findings if f["rule"] == "server/pod/Forbidden")
    assert 'violates PodSecurity "restricted:latest": seccompProfile' in server["message"]


def test_server_gate_passes_the_real_envs_in_junit(tmp_path: Path) -> None:
    result = votectl(ROOT, "verify", "--server", "--format", "junit")
    assert (result.returncode, result.stderr) == (0, "")
    assert '<testsuite name="prod"' in result.stdout and "<failure" not in result.stdout


def test_server_gate_against_a_given_cluster(
    checkout: Path, local_cluster: LocalCluster, kube: KubeClient
) -> None:
    """--kubeconfig checks that cluster and writes nothing to it: a missing namespace is a finding."""
    envs = checkout / "gitops" / "envs"
    shutil.copytree(envs / "prod", envs / "given")
    kustomization = envs / "given" / "kustomization.yaml"
    kustomization.write_text(kustomization.read_text().replace("voting-prod", "voting-given"))
    (envs / "given" / "test-vote-patch.yaml").write_text(
        yaml.safe_dump(
            {
                "apiVersion": "argoproj.io/v1alpha1",
                "kind": "Rollout",
                "metadata": {"name": "vote"},
                "spec": {"replicaz": 3},
            }
        )
    )
    data = yaml.safe_load(kustomization.read_text())
    data["patches"].append({"path": "test-vote-patch.yaml"})
    kustomization.write_text(yaml.safe_dump(data, sort_keys=False))
    args = (
        "verify",
        "--server",
        "--kubeconfig",
        str(local_cluster.kubeconfig),
        "--env",
        "given",
        "--format",
        "json",
    )
    missing = report(votectl(checkout, *args))
    assert rules_of(missing, "given") == {"schema", "server/namespace", "crossref/appproject-destination"}
    assert kube.get("/api/v1/namespaces/voting-given").status == 404  # nothing was created
    create_namespace(kube, Repo(checkout).env("given"))
    present = report(votectl(checkout, *args))
    assert rules_of(present, "given") == {"schema", "server/UnknownField", "crossref/appproject-destination"}
    server = next(f for f in present["findings"] if f["rule"] == "server/UnknownField")
    assert ".spec.replicaz: field not declared in schema" in server["message"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--kubeconfig", "x"], "--kubeconfig needs --server"),
        (["--server", "--files", "a.yaml"], "--server checks the envs; it does not take --files"),
        (["--server", "--kubeconfig", "/nonexistent"], "--kubeconfig /nonexistent: no such file"),
    ],
)
def test_server_option_mistakes_are_one_line(argv: list[str], message: str) -> None:
    result = votectl(ROOT, "verify", *argv)
    assert (result.returncode, result.stdout, result.stderr) == (2, "", f"votectl: error: {message}\n")
