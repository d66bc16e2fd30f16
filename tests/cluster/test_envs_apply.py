"""Each env applied for real to the local control plane: every workload becomes available.

A dry run never creates pods; here the real controllers do (kwok plays the kubelets), so what only shows
when pods are made shows here: Pod Security refusing them, a selector matching no template, a claim
nothing can bind.
"""

from __future__ import annotations

import copy
import dataclasses
from concurrent.futures import ThreadPoolExecutor

import jsonpatch
import pytest
from votectl.cluster.client import KubeClient
from votectl.cluster.workloads import apply_objects, create_namespace, wait_available, workloads_of
from votectl.render import render_env
from votectl.repo import Repo

ENVS = Repo.current().env_names
TIMEOUT = 90.0


def _deploy(kube: KubeClient, env_name: str, objects: list[dict], namespace: str) -> list:
    """Apply `objects` into `namespace` (labelled like the env's) and wait; the findings of both steps."""
    env = dataclasses.replace(Repo.current().env(env_name), namespace=namespace)
    moved = copy.deepcopy(objects)
    for obj in moved:
        if (obj.get("metadata") or {}).get("namespace"):
            obj["metadata"]["namespace"] = namespace
    create_namespace(kube, env)
    refused = apply_objects(kube, env, moved, namespace)
    return refused + wait_available(kube, env, workloads_of(moved, namespace), TIMEOUT, rollouts=True)


@pytest.fixture(scope="module")
def env_findings(kube: KubeClient) -> dict[str, list]:
    """Every env deployed at once, each into its own namespace as the ApplicationSet does."""
    with ThreadPoolExecutor(max_workers=len(ENVS)) as pool:
        futures = {
            env: pool.submit(_deploy, kube, env, render_env(env), Repo.current().env(env).namespace)
            for env in ENVS
        }
        return {env: future.result() for env, future in futures.items()}


@pytest.mark.slow
@pytest.mark.parametrize("env", ENVS)
def test_env_applies_and_every_workload_becomes_available(env_findings: dict[str, list], env: str) -> None:
    watched = workloads_of(render_env(env), Repo.current().env(env).namespace)
    assert {w.kind for w in watched} >= {"Rollout", "StatefulSet"}
    assert [(f.kind, f.name, f.rule, f.message) for f in env_findings[env]] == []


def _broken(kind: str, name: str, patch: list[dict]) -> list[dict]:
    """dev with one workload broken; the other Rollouts left out (faster, same namespace rules)."""
    return [
        jsonpatch.apply_patch(obj, patch) if (obj["kind"], obj["metadata"]["name"]) == (kind, name) else obj
        for obj in render_env("dev")
        if obj["kind"] != "Rollout" or obj["metadata"]["name"] == name
    ]


BROKEN = {
    "pod-security": (
        _broken(
            "StatefulSet", "redis", [{"op": "add", "path": "/spec/template/spec/hostNetwork", "value": True}]
        ),
        ("StatefulSet", "redis", "violates PodSecurity"),
    ),
    "unbindable-claim": (
        _broken(
            "StatefulSet",
            "redis",
            [
                {
                    "op": "add",
                    "path": "/spec/volumeClaimTemplates/0/spec/storageClassName",
                    "value": "fast-ssd",
                }
            ],
        ),
        ("StatefulSet", "redis", "unbound immediate PersistentVolumeClaims"),
    ),
    "selector": (
        _broken(
            "Rollout",
            "worker",
            [
                {
                    "op": "replace",
                    "path": "/spec/selector/matchLabels",
                    "value": {"app.kubernetes.io/name": "none"},
                }
            ],
        ),
        ("Rollout", "worker", "selector"),
    ),
}


@pytest.fixture(scope="module")
def broken_findings(kube: KubeClient) -> dict[str, list]:
    """Every broken deployment at once (each waits ~15 s for its failure to settle)."""
    with ThreadPoolExecutor(max_workers=len(BROKEN)) as pool:
        futures = {
            case: pool.submit(_deploy, kube, "dev", objects, f"apply-{case}")
            for case, (objects, _) in BROKEN.items()
        }
        return {case: future.result() for case, future in futures.items()}


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(BROKEN))
def test_what_only_pods_show_is_reported(broken_findings: dict[str, list], case: str) -> None:
    kind, name, expected = BROKEN[case][1]
    reported = [(f.kind, f.name, f.rule, f.message) for f in broken_findings[case]]
    assert [row[:3] for row in reported] == [(kind, f"apply-{case}/{name}", "apply/unavailable")], reported
    assert expected.lower() in reported[0][3].lower()


JOB = {
    "apiVersion": "batch/v1",
    "kind": "Job",
    "metadata": {"name": "migrate", "namespace": "voting-dev"},
    "spec": {
        "backoffLimit": 0,
        "template": {
            "spec": {
                "restartPolicy": "Never",
                "automountServiceAccountToken": False,
                "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                "containers": [
                    {
                        "name": "migrate",
                        "image": "registry.example.com/voting/worker:1.0.0",
                        "securityContext": {
                            "allowPrivilegeEscalation": False,
                            "capabilities": {"drop": ["ALL"]},
                        },
                    }
                ],
            }
        },
    },
}


@pytest.mark.slow
def test_a_job_counts_as_available_once_complete(kube: KubeClient) -> None:
    """kwok completes Job pods as a kubelet would; the wait then reports nothing."""
    assert _deploy(kube, "dev", [JOB], "apply-job") == []
