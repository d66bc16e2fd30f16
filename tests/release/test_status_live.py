"""`votectl status --live` against a real kube-apiserver holding Argo CD Applications and Rollouts.

No controller runs, so the statuses written here stay as written: an Application's with the object (its CRD
has no status subresource), a Rollout's through its status subresource, as the Argo Rollouts controller
writes it. The git side is the release tests' throwaway project.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from release_project import Project
from votectl.cluster.client import KubeClient
from votectl.cluster.control_plane import ClusterOptions, LocalCluster
from votectl.localstack.ports import free_port

REVISION = "0123456789abcdef0123456789abcdef01234567"
VOTE_IMAGE = "ghcr.io/votingplatform/vote@sha256:" + "5bc66d1f" * 8
RESULT_IMAGE = "ghcr.io/votingplatform/result:1.4.0"
CANARY_STEPS = [
    {"setWeight": 10},
    {"pause": {"duration": "1m"}},
    {"setWeight": 50},
    {"pause": {}},
    {"setWeight": 80},
    {"pause": {"duration": "1m"}},
]
OPTIONS = ClusterOptions(
    nodes=1,
    workloads=False,
    crd_kinds=frozenset({("argoproj.io", "Application"), ("argoproj.io", "Rollout")}),
)


def application(env: str, status: dict) -> dict:
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": f"voting-{env}", "namespace": "argocd"},
        "spec": {
            "project": "default",
            "source": {
                "repoURL": "https://github.com/acme/voting.git",
                "targetRevision": "main",
                "path": f"gitops/envs/{env}",
            },
            "destination": {"server": "https://kubernetes.default.svc", "namespace": f"voting-{env}"},
        },
        "status": status,
    }


def rollout(name: str, image: str, strategy: dict) -> dict:
    labels = {"app.kubernetes.io/name": name}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "metadata": {"name": name, "namespace": "voting-staging"},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": name, "image": image}, {"name": "sidecar", "image": "x"}]},
            },
            "strategy": strategy,
        },
    }


def create(kube: KubeClient, obj: dict) -> dict:
    kind, metadata = obj["kind"], obj["metadata"]
    path = kube.path_of(obj["apiVersion"], kind, metadata.get("namespace"))
    assert path is not None, kind
    answer = kube.request("POST", path, obj)
    assert answer.ok, answer.message
    return answer.body


def set_rollout_status(kube: KubeClient, name: str, status: dict) -> None:
    """What the Argo Rollouts controller does: the status subresource (the object's own PUT ignores it)."""
    path = kube.path_of("argoproj.io/v1alpha1", "Rollout", "voting-staging", name)
    answer = kube.request(
        "PATCH",
        f"{path}/status",
        {"status": status},
        headers={"Content-Type": "application/merge-patch+json"},
    )
    assert answer.ok, answer.message


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalCluster]:
    """etcd and kube-apiserver with the Application and Rollout CRDs; staging deployed, dev without
    Rollouts, prod without an Application."""
    with LocalCluster(tmp_path_factory.mktemp("live") / "c", OPTIONS) as started:
        kube = started.client
        assert kube is not None
        for namespace in ("argocd", "voting-dev", "voting-staging"):
            create(kube, {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
        create(
            kube,
            application(
                "staging",
                {
                    "sync": {"status": "Synced", "revision": REVISION},
                    "health": {"status": "Progressing", "message": "Rollout is paused"},
                    "operationState": {
                        "operation": {"sync": {"revision": REVISION}},
                        "phase": "Succeeded",
                        "startedAt": "2025-05-01T10:00:00Z",
                    },
                    "reconciledAt": "2025-05-01T10:02:03Z",
                },
            ),
        )
        create(kube, application("dev", {"sync": {"status": "OutOfSync"}, "health": {"status": "Healthy"}}))
        create(kube, rollout("vote", VOTE_IMAGE, {"canary": {"steps": CANARY_STEPS}}))
        create(
            kube,
            rollout(
                "result",
                RESULT_IMAGE,
                {"blueGreen": {"activeService": "result", "autoPromotionEnabled": False}},
            ),
        )
        set_rollout_status(
            kube,
            "vote",
            {
                "phase": "Paused",
                "message": "CanaryPauseStep",
                "currentStepIndex": 3,
                "abort": False,
                "stableRS": "6d4f8b7c9",
                "currentPodHash": "58c7f6d9b4",
            },
        )
        set_rollout_status(
            kube,
            "result",
            {
                "phase": "Degraded",
                "message": "RolloutAborted",
                "abort": True,
                "stableRS": "7f9c",
                "currentPodHash": "5d8b",
            },
        )
        yield started


@pytest.fixture
def live(project: Project, monkeypatch: pytest.MonkeyPatch) -> Project:
    """The project, with no token (GitHub is not the point here) and no KUBECONFIG of the caller's."""
    for name in ("GITHUB_TOKEN", "GH_TOKEN", "KUBECONFIG"):
        monkeypatch.delenv(name, raising=False)
    return project


def test_live_json_reads_applications_and_rollouts(live: Project, cluster: LocalCluster) -> None:
    result = live.votectl("status", "--live", "--format", "json", "--kubeconfig", str(cluster.kubeconfig))
    assert (result.code, result.err) == (0, "")
    report = json.loads(result.out)
    assert set(report["services"]) == {"vote", "worker", "result"}  # the git report is still there
    assert list(report["live"]) == ["dev", "staging", "prod"]
    staging = report["live"]["staging"]
    assert staging["application"] == {
        "name": "voting-staging",
        "namespace": "argocd",
        "found": True,
        "sync": "Synced",
        "revision": REVISION,
        "health": "Progressing",
        "health_message": "Rollout is paused",
        "operation_phase": "Succeeded",
        "reconciled_at": "2025-05-01T10:02:03Z",
    }
    assert staging["rollouts"] == [
        {
            "name": "result",
            "phase": "Degraded",
            "message": "RolloutAborted",
            "strategy": "blueGreen",
            "step": None,
            "steps": None,
            "aborted": True,
            "image": RESULT_IMAGE,
            "stable_rs": "7f9c",
            "current_pod_hash": "5d8b",
        },
        {
            "name": "vote",
            "phase": "Paused",
            "message": "CanaryPauseStep",
            "strategy": "canary",
            "step": 3,
            "steps": 6,
            "aborted": False,
            "image": VOTE_IMAGE,
            "stable_rs": "6d4f8b7c9",
            "current_pod_hash": "58c7f6d9b4",
        },
    ]
    dev = report["live"]["dev"]
    assert (dev["application"]["sync"], dev["application"]["revision"], dev["rollouts"]) == (
        "OutOfSync",
        None,
        [],
    )
    assert report["live"]["prod"] == {
        "application": {
            "name": "voting-prod",
            "namespace": "argocd",
            "found": False,
            "sync": None,
            "revision": None,
            "health": None,
            "health_message": None,
            "operation_phase": None,
            "reconciled_at": None,
        },
        "rollouts": [],
    }


def test_live_table_after_the_git_table(live: Project, cluster: LocalCluster) -> None:
    result = live.votectl("status", "--live", "--kubeconfig", str(cluster.kubeconfig))
    assert (result.code, result.err) == (0, "")
    git_table, live_table = result.out.split("live at https://127.0.0.1:", 1)
    assert "images at" in git_table and "differs from source" in git_table
    for column in ("Application sync (revision)", "health", "Rollout", "phase", "step", "image"):
        assert column in live_table
    rows = {line.split("│")[4].strip(): line for line in live_table.splitlines() if line.count("│") == 8}
    # the env's Application cells sit on its first Rollout's row (by name: result, then vote)
    assert "staging" in rows["result"] and f"Synced ({REVISION[:7]})" in rows["result"]
    assert "Progressing" in rows["result"] and "Degraded (aborted)" in rows["result"]
    assert "blue-green" in rows["result"]
    assert "Paused" in rows["vote"] and "step 3/6" in rows["vote"]
    assert "ghcr.io/votingplatform/vote@5bc66d1f5bc6" in rows["vote"]
    assert RESULT_IMAGE in rows["result"]
    assert "Rollout is paused" in live_table and "CanaryPauseStep" in live_table
    prod = next(line for line in live_table.splitlines() if "│ prod " in line)
    assert "missing" in prod and "none" in prod


def test_without_live_nothing_is_read(live: Project) -> None:
    result = live.votectl("status", "--format", "json")
    assert result.code == 0, result.err
    assert "live" not in json.loads(result.out)
    assert "live at" not in live.votectl("status").out


def test_kubeconfig_from_the_environment(
    live: Project, cluster: LocalCluster, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KUBECONFIG", str(cluster.kubeconfig))
    result = live.votectl("status", "--live", "--format", "json")
    assert result.code == 0, result.err
    assert json.loads(result.out)["live"]["staging"]["application"]["found"] is True


def unreachable(tmp_path: Path, cluster: LocalCluster) -> Path:
    """The cluster's own kubeconfig, pointed at a port nothing listens on."""
    config = yaml.safe_load(cluster.kubeconfig.read_text())
    config["clusters"][0]["cluster"]["server"] = f"https://127.0.0.1:{free_port()}"
    path = tmp_path / "closed.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize("case", ["no-such-file", "closed-port", "no-cluster", "kubeconfig-without-live"])
def test_failures_are_one_line(
    live: Project, cluster: LocalCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, case: str
) -> None:
    monkeypatch.setenv("VOTECTL_CLUSTER_DIR", str(tmp_path / "no-cluster-here"))
    argv, expected = {
        "no-such-file": (
            ["--live", "--kubeconfig", str(tmp_path / "nope")],
            f"votectl: error: kubeconfig {tmp_path / 'nope'}: cannot read: ",
        ),
        "closed-port": (
            ["--live", "--kubeconfig", str(unreachable(tmp_path, cluster))],
            "votectl: error: the API server at https://127.0.0.1:",
        ),
        "no-cluster": (["--live"], "votectl: error: no cluster to read: "),
        "kubeconfig-without-live": (
            ["--kubeconfig", str(cluster.kubeconfig)],
            "votectl: error: --kubeconfig needs --live",
        ),
    }[case]
    result = live.votectl("status", *argv, "--format", "json")
    assert (result.code, result.out) == (2, "")
    assert result.err.startswith(expected), result.err
    assert result.err.count("\n") == 1 and "Traceback" not in result.err
