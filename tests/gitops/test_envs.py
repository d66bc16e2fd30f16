"""Facts about what each env renders to: the promises docs/gitops.md makes, checked on the real output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from gitops_helpers import analysis_blocks, find, of_kind, pod_containers, resolve_metrics
from votectl.repo import Repo
from votectl.verify.gate import check_objects
from votectl.verify.schemas import SchemaStore

ENVS = Repo.current().env_names
ENVS_DIR = Repo.current().envs_dir

DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")
OUR_IMAGES = {f"ghcr.io/votingplatform/{service}" for service in ("vote", "worker", "result")}


def images(objects: list[dict]) -> list[str]:
    pods = [obj for obj in objects if obj["kind"] in ("Rollout", "StatefulSet", "AnalysisTemplate")]
    return [container["image"] for obj in pods for container in pod_containers(obj)]


@pytest.mark.parametrize("env", ENVS)
def test_env_renders_into_its_own_namespace(rendered: dict[str, list[dict]], env: str) -> None:
    namespaces = {obj["metadata"].get("namespace") for obj in rendered[env]}
    assert namespaces == {f"voting-{env}"}
    instances = {obj["metadata"]["labels"].get("app.kubernetes.io/instance") for obj in rendered[env]}
    assert instances == {f"voting-{env}"}


@pytest.mark.parametrize("env", ENVS)
def test_envs_differ_only_in_values_not_in_objects(rendered: dict[str, list[dict]], env: str) -> None:
    """Overlays patch; they never add or drop an object, so what runs in prod was rehearsed in staging."""
    names = {(obj["kind"], obj["metadata"]["name"]) for obj in rendered[env]}
    assert names == {(obj["kind"], obj["metadata"]["name"]) for obj in rendered["staging"]}


@pytest.mark.parametrize("env", ENVS)
def test_image_references_live_in_one_component_file(env: str) -> None:
    component = yaml.safe_load((ENVS_DIR / env / "images" / "kustomization.yaml").read_text())
    assert component["kind"] == "Component"
    assert set(component) == {"apiVersion", "kind", "images"}
    assert {image["name"] for image in component["images"]} == OUR_IMAGES


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_staging_and_prod_pin_every_image_by_digest(rendered: dict[str, list[dict]], env: str) -> None:
    refs = images(rendered[env])
    assert len(refs) == 6  # vote, worker, result, redis and its sentinel, the synthetic-traffic job
    assert [ref for ref in refs if not DIGEST.search(ref)] == []


def test_dev_runs_our_images_by_tag(rendered: dict[str, list[dict]]) -> None:
    ours = [ref for ref in images(rendered["dev"]) if ref.split(":")[0] in OUR_IMAGES]
    assert sorted(ref.split(":")[0] for ref in ours) == sorted(OUR_IMAGES)
    assert all(re.fullmatch(r"[^@]+:[\w.-]+", ref) and not ref.endswith(":latest") for ref in ours)


def test_prod_runs_at_least_three_of_each_service(rendered: dict[str, list[dict]]) -> None:
    prod = rendered["prod"]
    for name in ("vote", "worker", "result"):
        assert find(prod, "Rollout", name)["spec"]["replicas"] >= 3
    assert find(prod, "HorizontalPodAutoscaler", "vote")["spec"]["minReplicas"] >= 3
    assert find(prod, "ScaledObject", "worker")["spec"]["minReplicaCount"] >= 3
    assert find(prod, "Cluster", "voting-db")["spec"]["instances"] == 3


def test_dev_runs_one_database_instance(rendered: dict[str, list[dict]]) -> None:
    assert find(rendered["dev"], "Cluster", "voting-db")["spec"]["instances"] == 1


@pytest.mark.parametrize("env", ["staging", "prod"])
def test_every_rollout_in_staging_and_prod_is_analysed(rendered: dict[str, list[dict]], env: str) -> None:
    for rollout in of_kind(rendered[env], "Rollout"):
        kinds = {kind for kind, _ in analysis_blocks(rollout)}
        strategy = rollout["spec"]["strategy"]
        if "blueGreen" in strategy:
            assert "prePromotionAnalysis" in strategy["blueGreen"], rollout["metadata"]["name"]
        else:
            assert "step" in kinds, f"{rollout['metadata']['name']} has no analysis step"


def _supplied(block: dict) -> dict[str, str]:
    """The Rollout's args as the controller would bind them; a pod template hash becomes a sample."""
    return {arg["name"]: arg.get("value", "5d8f7c9b4") for arg in block.get("args", [])}


@pytest.mark.parametrize("env", ENVS)
def test_referenced_templates_exist_and_resolve(rendered: dict[str, list[dict]], env: str) -> None:
    """Every template exists, gets every arg, and is finite where Argo Rollouts requires it.

    Also guards the failureLimit trap: with count <= failureLimit a failed measurement can never fail
    the run, the analysis passes whatever the canary does.
    """
    checked = 0
    for rollout in of_kind(rendered[env], "Rollout"):
        for kind, block in analysis_blocks(rollout):
            for ref in block["templates"]:
                template = find(rendered[env], "AnalysisTemplate", ref["templateName"])
                for metric in resolve_metrics(template, _supplied(block)):
                    checked += 1
                    if "job" in metric["provider"]:
                        assert "count" not in metric and "interval" not in metric  # one run of the job
                        continue
                    count = int(metric["count"])
                    if kind == "background":
                        assert count == 0 and metric["interval"]
                        continue
                    assert count > int(metric.get("failureLimit", 0)), (rollout["metadata"]["name"], metric)
                    assert count >= int(metric.get("inconclusiveLimit", 0))
    assert checked >= 10


@pytest.mark.parametrize("env", ENVS)
def test_no_data_is_never_a_pass(rendered: dict[str, list[dict]], env: str) -> None:
    """Each Prometheus metric needs data for both verdicts, so an empty result ends Inconclusive."""
    for template in of_kind(rendered[env], "AnalysisTemplate"):
        for metric in template["spec"]["metrics"]:
            if "prometheus" in metric["provider"]:
                assert metric["successCondition"].startswith("len(result) > 0 && ")
                assert metric["failureCondition"].startswith("len(result) > 0 && ")
                query = metric["provider"]["prometheus"]["query"]
                assert 'rollouts_pod_template_hash="{{args.canary-hash}}"' in query


def test_prod_thresholds_are_stricter_than_staging(rendered: dict[str, list[dict]]) -> None:
    def thresholds(env: str) -> dict[str, float]:
        blocks = [block for _, block in analysis_blocks(find(rendered[env], "Rollout", "vote"))]
        steps = [block for block in blocks if len(block["templates"]) > 1]
        args = {arg["name"]: arg.get("value") for arg in steps[0]["args"]}
        template = find(rendered[env], "AnalysisTemplate", "vote-error-ratio")
        default = next(arg["value"] for arg in template["spec"]["args"] if arg["name"] == "max-error-ratio")
        return {"max-error-ratio": float(args.get("max-error-ratio") or default)}

    assert thresholds("prod")["max-error-ratio"] < thresholds("staging")["max-error-ratio"]


def test_dev_canary_is_faster_than_staging_and_staging_than_prod(rendered: dict[str, list[dict]]) -> None:
    def paused_seconds(env: str) -> int:
        steps = find(rendered[env], "Rollout", "vote")["spec"]["strategy"]["canary"]["steps"]
        units = {"s": 1, "m": 60, "h": 3600}
        return sum(
            int(step["pause"]["duration"][:-1]) * units[step["pause"]["duration"][-1]]
            for step in steps
            if "pause" in step
        )

    assert paused_seconds("dev") < paused_seconds("staging") < paused_seconds("prod")


@pytest.mark.parametrize("env", ENVS)
def test_pods_are_scraped_with_the_pod_template_hash(rendered: dict[str, list[dict]], env: str) -> None:
    monitor = find(rendered[env], "PodMonitor", "voting")
    assert monitor["spec"]["podTargetLabels"] == ["rollouts-pod-template-hash"]
    ports = {endpoint["port"] for endpoint in monitor["spec"]["podMetricsEndpoints"]}
    for rollout in of_kind(rendered[env], "Rollout"):
        assert {port["name"] for port in pod_containers(rollout)[0]["ports"]} >= ports
    assert of_kind(rendered[env], "ServiceMonitor") == []


@pytest.mark.parametrize("env", ENVS)
def test_no_secret_values_in_git(rendered: dict[str, list[dict]], env: str) -> None:
    assert of_kind(rendered[env], "Secret") == []
    stores = {obj["spec"]["secretStoreRef"]["name"] for obj in of_kind(rendered[env], "ExternalSecret")}
    assert stores == {f"voting-{env}"}


def test_dashboard_is_valid_grafana_json(rendered: dict[str, list[dict]]) -> None:
    dashboard = find(rendered["prod"], "ConfigMap", "voting-dashboard")
    assert dashboard["metadata"]["labels"]["grafana_dashboard"] == "1"
    panels = json.loads(dashboard["data"]["voting-platform.json"])["panels"]
    titles = {panel["title"] for panel in panels}
    wanted = {"Total votes", "Votes per second", "Response time", "Error rate", "Pod CPU", "Pod memory"}
    assert wanted | {"Database connections in use", "Redis queue length"} == titles
    assert all(target["expr"] for panel in panels for target in panel["targets"])


def test_argocd_project_allows_every_kind_the_envs_render(
    rendered: dict[str, list[dict]], argocd: list[dict]
) -> None:
    project = find(argocd, "AppProject", "voting-platform")
    allowed = {(kind["group"], kind["kind"]) for kind in project["spec"]["namespaceResourceWhitelist"]}
    for env in ENVS:
        used = {(obj["apiVersion"].rpartition("/")[0], obj["kind"]) for obj in rendered[env]}
        assert used - allowed == set(), env
    destinations = {dest["namespace"] for dest in project["spec"]["destinations"]}
    assert destinations == {f"voting-{env}" for env in ENVS}
    assert "*" not in {*project["spec"]["sourceRepos"], *destinations}


def test_argocd_generates_one_self_healing_app_per_env_folder(argocd: list[dict]) -> None:
    appset = find(argocd, "ApplicationSet", "voting-platform")
    generated = appset["spec"]["generators"][0]["git"]["directories"][0]["path"]
    assert generated == "gitops/envs/*"
    assert sorted(path.name for path in Path(ENVS_DIR).iterdir() if path.is_dir()) == sorted(ENVS)
    spec = appset["spec"]["template"]["spec"]
    assert spec["project"] == "voting-platform"
    assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    window = find(argocd, "AppProject", "voting-platform")["spec"]["syncWindows"][0]
    assert window["applications"] == ["voting-prod"]


def test_argocd_objects_pass_the_gate_with_prod_rules(argocd: list[dict], schema_store: SchemaStore) -> None:
    """The envs go through `votectl verify` already; the Argo CD folder is checked the same way here."""
    result = check_objects("argocd", argocd, schema_store, "prod")
    assert [(f.rule, f.kind, f.name, f.message) for f in result.findings] == []
    assert sorted(kind for kind, _ in result.objects) == ["AppProject", "ApplicationSet"]
