"""The whole GitOps loop on one machine (`make e2e`): real Argo CD syncs the envs from a local git remote,
promotions and rollbacks are pull requests merged there, the real Argo Rollouts controller runs each
canary with its analyses against a real Prometheus fed by real processes.

The steps run in order on one cluster (module scope); each records the cluster's state in
test-artifacts/e2e/summary.json. Time is compressed SPEED times (pauses, analysis intervals, windows) by
the override's kustomize patches, as `votectl rehearse --speed` does.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fake_github import TOKEN, FakeGitHub, serve
from votectl.cli import main
from votectl.cluster.client import KubeClient
from votectl.cluster.control_plane import ClusterOptions, LocalCluster
from votectl.cluster.live import read_application
from votectl.localstack.databases import create_database
from votectl.localstack.ports import free_port
from votectl.loop.canary import ABORTED, PROMOTED, Backends, CanaryTraffic
from votectl.loop.override import env_patches, write_override
from votectl.loop.remote import LocalRemote, git
from votectl.loop.summary import Summary
from votectl.rehearsal.binding import Timing
from votectl.render import render_dirs
from votectl.repo import Repo

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
ENVS = ("dev", "staging", "prod")
SPEED = 6.0
OWNER, NAME = "acme", "voting"
GITHUB_URL = f"https://github.com/{OWNER}/{NAME}.git"
GOOD, BAD = "sha256:" + "a1" * 32, "sha256:" + "b2" * 32
FAULT = {"VOTE_FAULT_RATE": "0.5"}
SYNC_TIMEOUT = 240.0
API = "/apis/argoproj.io/v1alpha1"


@dataclass
class Loop:
    client: KubeClient
    remote: LocalRemote
    clone: Path
    github: FakeGitHub
    backends: Backends
    summary: Summary
    facts: dict[str, Any] = field(default_factory=dict)

    def votectl(self, *argv: str) -> str:
        """Run the CLI in the clone, on the remote's latest main, as a release manager would."""
        git(self.clone, "pull", "--quiet", "--ff-only")
        out, err = io.StringIO(), io.StringIO()
        with contextlib.chdir(self.clone), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(argv))
        assert code == 0, f"votectl {' '.join(argv)}: {err.getvalue()}"
        return out.getvalue()

    def merge_pull(self) -> str:
        """Merge the newest open pull request as GitHub's merge button would; the new main."""
        pull = next(p for p in reversed(self.github.pulls) if p["state"] == "open")
        revision = self.remote.merge(pull["head"]["ref"], f"Merge pull request #{pull['number']}")
        pull.update(state="closed", merged=True)
        return revision

    def rollout(self, env: str, name: str = "vote") -> dict[str, Any]:
        return self.client.get(f"{API}/namespaces/voting-{env}/rollouts/{name}").body

    def wait_app(self, env: str, health: str, revision: str | None = None) -> float:
        """Until Argo CD shows the env Synced (to `revision`) with `health`; when, as a unix time."""
        deadline = time.monotonic() + SYNC_TIMEOUT
        while time.monotonic() < deadline:
            app = read_application(self.client, env)
            if (
                app.sync == "Synced"
                and app.health == health
                and (revision is None or app.revision == revision)
            ):
                return time.time()
            time.sleep(1)
        raise AssertionError(
            f"voting-{env} is {app.sync}/{app.health} at {app.revision}, not Synced/{health}"
        )

    def release(self, env: str, canary_env: dict[str, str], *argv: str) -> tuple[str, Any, float, float]:
        """Promote (argv) by pull request, merge it, serve the canary until the controller decides."""
        stable = self.rollout(env)["status"]["stableRS"]
        self.votectl(*argv)
        merged_at = time.time()
        revision = self.merge_pull()
        canary = CanaryTraffic(self.client, f"voting-{env}", "vote", self.backends)
        outcome = canary.run(stable, canary_env, timeout=600)
        return revision, outcome, merged_at, time.time()


@pytest.fixture(scope="module")
def loop(
    redis_server_url: str, postgres_server_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Loop]:
    work = tmp_path_factory.mktemp("loop")
    repo = Repo.current()
    remote = LocalRemote.create(work / "remote.git", ROOT)
    clone = work / "clone"
    git(work, "clone", "--quiet", str(remote.bare), str(clone))
    git(clone, "remote", "set-url", "origin", GITHUB_URL)
    git(clone, "config", f"url.{remote.url}.insteadOf", GITHUB_URL)
    for key, value in (("user.name", "Release Manager"), ("user.email", "rm@example.com")):
        git(clone, "config", key, value)
    github = FakeGitHub(owner=OWNER, repo=NAME)
    server = serve(github)
    prometheus_port = free_port()
    backends = Backends(
        work_dir=work / "processes",
        prometheus_port=prometheus_port,
        redis_url=redis_server_url,
        database_url=create_database(postgres_server_url, f"loop_{os.getpid()}"),
    )
    patches = env_patches(
        repo, f"http://127.0.0.1:{prometheus_port}", Timing(SPEED, backends.scrape_interval)
    )
    override = write_override(work / "override", repo, remote.url, patches)
    summary = Summary(ROOT / "test-artifacts" / "e2e" / "summary.json", ENVS)
    options = ClusterOptions(nodes=3, with_rollouts=True, with_argocd=True)
    with (
        pytest.MonkeyPatch.context() as env,
        LocalCluster(work / "cluster", options) as cluster,
        KubeClient(cluster.kubeconfig) as client,
    ):
        env.setenv("GITHUB_API_URL", github.url)
        env.setenv("GITHUB_TOKEN", TOKEN)
        env.delenv("GH_TOKEN", raising=False)
        env.setenv("KUBECONFIG", str(cluster.kubeconfig))
        [objects] = render_dirs([override])
        for obj in objects:
            answer = client.apply(obj, dry_run=False, namespace="argocd")
            assert answer.ok, f"{obj['kind']}: {answer.message}"
        summary.record("bootstrap applied", client)
        yield Loop(client, remote, clone, github, backends, summary)
        print("\n" + summary.timeline())
    server.shutdown()
    server.server_close()


def test_bootstrap_generates_three_applications_that_become_synced_and_healthy(loop: Loop) -> None:
    started = loop.summary.started
    for env in ENVS:
        loop.wait_app(env, "Healthy", loop.remote.head())
    apps = loop.client.get(f"{API}/namespaces/argocd/applications").body["items"]
    assert sorted(app["metadata"]["name"] for app in apps) == ["voting-dev", "voting-prod", "voting-staging"]
    for env in ENVS:
        rollouts = loop.client.get(f"{API}/namespaces/voting-{env}/rollouts").body["items"]
        assert {r["metadata"]["name"] for r in rollouts} == {"vote", "worker", "result"}
        assert all(r["status"]["phase"] == "Healthy" for r in rollouts)
        pods = loop.client.get(f"/api/v1/namespaces/voting-{env}/pods").body["items"]
        assert pods and all(_ready(pod) for pod in pods)
    loop.summary.record("bootstrap Synced/Healthy", loop.client, seconds=round(time.time() - started, 1))


def test_a_promotion_is_a_merged_pull_request_that_argo_cd_rolls_out_as_a_healthy_canary(loop: Loop) -> None:
    revision, outcome, _, _ = loop.release("dev", {}, "promote", "vote", "--to", "dev", "--digest", GOOD)
    assert outcome.verdict == PROMOTED, outcome.message
    loop.wait_app("dev", "Healthy", revision)
    loop.summary.record("dev: vote canary promoted", loop.client, revision=revision)

    revision, outcome, merged_at, decided_at = loop.release(
        "staging", {}, "promote", "vote", "--to", "staging"
    )
    assert outcome.verdict == PROMOTED, outcome.message
    healthy_at = loop.wait_app("staging", "Healthy", revision)
    rollout = loop.rollout("staging")
    assert rollout["spec"]["template"]["spec"]["containers"][0]["image"].endswith("@" + GOOD)
    assert rollout["status"]["stableRS"] == outcome.hashes.latest
    assert outcome.answers.get("2xx", 0) > 0 and set(outcome.answers) == {"2xx"}
    runs = loop.client.get(f"{API}/namespaces/voting-staging/analysisruns").body["items"]
    step_runs = [
        r for r in runs if r["metadata"]["labels"].get("rollouts-pod-template-hash") == outcome.hashes.latest
    ]
    assert step_runs and all(r["status"]["phase"] in ("Successful", "Running") for r in step_runs)
    assert any(r["status"]["phase"] == "Successful" for r in step_runs)
    pull = loop.github.pulls[-1]
    assert pull["base"]["ref"] == "main" and pull["head"]["ref"].startswith("promote/")
    loop.facts["good_revision"] = revision
    loop.summary.record(
        "staging: vote canary Healthy",
        loop.client,
        revision=revision,
        merge_to_healthy_seconds=round(healthy_at - merged_at, 1),
        merge_to_promoted_seconds=round(decided_at - merged_at, 1),
        speed=SPEED,
    )


def test_a_bad_release_is_aborted_and_the_rollback_pull_request_restores_the_previous_digest(
    loop: Loop,
) -> None:
    revision, outcome, _, _ = loop.release("dev", {}, "promote", "vote", "--to", "dev", "--digest", BAD)
    assert outcome.verdict == PROMOTED, outcome.message
    loop.wait_app("dev", "Healthy", revision)

    revision, outcome, _, _ = loop.release("staging", FAULT, "promote", "vote", "--to", "staging")
    assert outcome.verdict == ABORTED, outcome.message
    loop.wait_app("staging", "Degraded", revision)
    loop.summary.record(
        "staging: bad canary aborted", loop.client, revision=revision, message=outcome.message
    )

    loop.votectl("rollback", "staging")
    pull = loop.github.pulls[-1]
    assert pull["head"]["ref"].startswith("rollback/")
    merged_at = time.time()
    revision = loop.merge_pull()
    healthy_at = loop.wait_app("staging", "Healthy", revision)
    rollout = loop.rollout("staging")
    assert rollout["spec"]["template"]["spec"]["containers"][0]["image"].endswith("@" + GOOD)
    assert rollout["status"]["phase"] == "Healthy"
    loop.summary.record(
        "staging: rollback Healthy",
        loop.client,
        revision=revision,
        merge_to_healthy_seconds=round(healthy_at - merged_at, 1),
    )


def test_status_live_shows_git_and_the_cluster_side_by_side(loop: Loop) -> None:
    out = loop.votectl("status", "--live", "--format", "json")
    import json

    report = json.loads(out)
    staging = report["live"]["staging"]
    assert staging["application"]["sync"] == "Synced" and staging["application"]["health"] == "Healthy"
    vote = next(r for r in staging["rollouts"] if r["name"] == "vote")
    assert vote["phase"] == "Healthy" and vote["image"].endswith("@" + GOOD)
    table = loop.votectl("status", "--live")
    assert "Synced" in table and "Healthy" in table


def test_drift_is_reverted_by_self_heal(loop: Loop) -> None:
    """An edit of a managed ConfigMap and a `kubectl scale` of a managed Rollout, both undone from git."""
    config = "/api/v1/namespaces/voting-staging/configmaps/voting-config"
    scale = f"{API}/namespaces/voting-staging/rollouts/result/scale"
    before = loop.client.get(config).body["data"]
    replicas = loop.client.get(scale).body["spec"]["replicas"]
    key = sorted(before)[0]
    merge = {"Content-Type": "application/merge-patch+json"}
    edited = loop.client.request("PATCH", config, {"data": {key: "drifted"}}, headers=merge)
    scaled = loop.client.request("PATCH", scale, {"spec": {"replicas": replicas + 3}}, headers=merge)
    assert edited.ok and scaled.ok, (edited.message, scaled.message)
    drifted_at = time.time()

    def reverted() -> bool:
        return (
            loop.client.get(config).body["data"] == before
            and loop.client.get(scale).body["spec"]["replicas"] == replicas
        )

    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and not reverted():
        time.sleep(1)
    assert reverted()
    loop.summary.record(
        "staging: drift reverted by selfHeal", loop.client, seconds=round(time.time() - drifted_at, 1)
    )


def test_a_file_removed_from_git_is_pruned(loop: Loop) -> None:
    rule = "/apis/monitoring.coreos.com/v1/namespaces/voting-staging/prometheusrules/voting"
    assert loop.client.get(rule).ok
    removed = time.time()
    revision = loop.remote.commit_removal(
        "gitops/base/observability/voting-prometheusrule.yaml", "Remove the voting alert rules"
    )
    loop.wait_app("staging", "Healthy", revision)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and loop.client.get(rule).ok:
        time.sleep(1)
    assert loop.client.get(rule).status == 404
    loop.summary.record(
        "staging: removed file pruned",
        loop.client,
        revision=revision,
        seconds=round(time.time() - removed, 1),
    )


def _ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
