"""The real envs under gitops/envs: each renders, facts the issue demands hold, and the gate is clean."""

from __future__ import annotations

import pytest
from votectl.render import render_envs
from votectl.repo import Repo
from votectl.verify.gate import check_objects
from votectl.verify.objects import Index, dig, items, name_of
from votectl.verify.schemas import SchemaStore

ENVS = Repo.current().env_names


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict]]:
    return render_envs(ENVS)


def containers(objects: list[dict]) -> list[tuple[str, dict]]:
    index = Index(objects)
    return [
        (name_of(workload), container)
        for workload, template in index.workloads()
        for field in ("initContainers", "containers")
        for container in items(dig(template, "spec", field))
    ]


@pytest.mark.parametrize("env", ENVS)
def test_env_renders_into_its_namespace(rendered: dict[str, list[dict]], env: str) -> None:
    objects = rendered[env]
    assert objects, f"{env} rendered nothing"
    namespaced = [obj for obj in objects if dig(obj, "metadata", "namespace")]
    assert {dig(obj, "metadata", "namespace") for obj in namespaced} == {f"voting-{env}"}


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_images_are_pinned_by_digest(rendered: dict[str, list[dict]], env: str) -> None:
    unpinned = [
        (name, c.get("image")) for name, c in containers(rendered[env]) if "@sha256:" not in c["image"]
    ]
    assert unpinned == []


def test_prod_runs_at_least_three_vote_pods(rendered: dict[str, list[dict]]) -> None:
    index = Index(rendered["prod"])
    vote = index.find("Rollout", "vote", {})
    assert vote is not None
    scalers = [
        hpa
        for hpa in index.of_kind("HorizontalPodAutoscaler")
        if dig(hpa, "spec", "scaleTargetRef", "name") == "vote"
    ]
    floor = min(
        [dig(vote, "spec", "replicas") or 1] + [dig(hpa, "spec", "minReplicas") or 1 for hpa in scalers]
    )
    assert floor >= 3


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_every_rollout_is_analysed(rendered: dict[str, list[dict]], env: str) -> None:
    def analysed(rollout: dict) -> bool:
        strategy = dig(rollout, "spec", "strategy") or {}
        steps = items(dig(strategy, "canary", "steps"))
        return bool(
            dig(strategy, "canary", "analysis")
            or any("analysis" in step for step in steps)
            or dig(strategy, "blueGreen", "prePromotionAnalysis")
        )

    rollouts = list(Index(rendered[env]).of_kind("Rollout"))
    assert {name_of(rollout) for rollout in rollouts} >= {"vote", "result", "worker"}
    assert [name_of(rollout) for rollout in rollouts if not analysed(rollout)] == []


@pytest.mark.parametrize("env", ENVS)
def test_whole_gate_is_clean(rendered: dict[str, list[dict]], store: SchemaStore, env: str) -> None:
    result = check_objects(env, rendered[env], store, env)
    assert [(f.rule, f.kind, f.name, f.message) for f in result.findings] == []
