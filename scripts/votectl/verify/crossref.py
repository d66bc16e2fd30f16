"""Cross-checks between the objects of one env: the mistakes a per-object schema cannot see.

Each check yields (object, rule, message); the gate turns them into Findings. Secrets may come from an
ExternalSecret, a SealedSecret or a CloudNativePG Cluster instead of a Secret in git (docs/verify.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TypeGuard

from votectl.verify.objects import Index, dig, items, mapping, name_of, selector_matches

Problem = tuple[dict, str, str]

# Secrets the CloudNativePG operator creates for a Cluster named N: N-app, N-superuser, ...
CNPG_SECRET_SUFFIXES = ("app", "superuser", "ca", "server", "replication")
_ROLLOUT_ANALYSES = (
    ("canary", "analysis"),
    ("blueGreen", "prePromotionAnalysis"),
    ("blueGreen", "postPromotionAnalysis"),
)


def _analyses(rollout: dict) -> Iterator[tuple[str, dict]]:
    """Every analysis block of a Rollout with where it sits: background, steps, blue-green pre/post."""
    strategy = mapping(dig(rollout, "spec", "strategy"))
    for kind, field in _ROLLOUT_ANALYSES:
        block = dig(strategy, kind, field)
        if isinstance(block, dict):
            yield f"strategy.{kind}.{field}", block
    for index, step in enumerate(items(dig(strategy, "canary", "steps"))):
        if isinstance(step.get("analysis"), dict):
            yield f"strategy.canary.steps[{index}].analysis", step["analysis"]
        for run, analysis in enumerate(items(dig(step, "experiment", "analyses"))):
            yield (
                f"strategy.canary.steps[{index}].experiment.analyses[{run}]",
                {
                    "templates": [analysis],
                    "args": analysis.get("args"),
                },
            )


def _required_args(template: dict) -> set[str]:
    """Template args with neither value nor valueFrom: the Rollout must supply them."""
    return {
        str(arg.get("name"))
        for arg in items(dig(template, "spec", "args"))
        if "value" not in arg and "valueFrom" not in arg
    }


def analysis_templates(index: Index) -> Iterator[Problem]:
    """Every referenced (Cluster)AnalysisTemplate exists and receives all its args without defaults."""
    for rollout in index.of_kind("Rollout"):
        for where, block in _analyses(rollout):
            supplied = {str(arg.get("name")) for arg in items(block.get("args"))}
            for ref in items(block.get("templates")):
                kind = "ClusterAnalysisTemplate" if ref.get("clusterScope") else "AnalysisTemplate"
                name = str(ref.get("templateName"))
                template = index.find(kind, name, rollout)
                if template is None:
                    message = f"{where} references {kind} {name!r}, not in env"
                    yield rollout, "crossref/analysis-template", message
                    continue
                for arg in sorted(_required_args(template) - supplied):
                    yield (
                        rollout,
                        "crossref/analysis-args",
                        f"{where}: {kind} {name!r} needs arg {arg!r} (no default), which the Rollout "
                        "does not pass",
                    )


def rollout_services(index: Index) -> Iterator[Problem]:
    """Services, ingresses and workloadRefs a Rollout names exist (the controller stalls otherwise)."""
    for rollout in index.of_kind("Rollout"):
        strategy = mapping(dig(rollout, "spec", "strategy"))
        refs = [
            ("Service", f"strategy.{kind}.{field}", dig(strategy, kind, field))
            for kind, field in (
                ("canary", "stableService"),
                ("canary", "canaryService"),
                ("blueGreen", "activeService"),
                ("blueGreen", "previewService"),
            )
        ]
        nginx = mapping(dig(strategy, "canary", "trafficRouting", "nginx"))
        refs.append(("Ingress", "trafficRouting.nginx.stableIngress", nginx.get("stableIngress")))
        extras = nginx.get("additionalStableIngresses")
        for extra in extras if isinstance(extras, list) else []:
            refs.append(("Ingress", "trafficRouting.nginx.additionalStableIngresses", extra))
        workload = mapping(dig(rollout, "spec", "workloadRef"))
        refs.append((str(workload.get("kind") or "Deployment"), "spec.workloadRef", workload.get("name")))
        for kind, where, name in refs:
            if name and index.find(kind, str(name), rollout) is None:
                yield rollout, "crossref/rollout-ref", f"{where} names {kind} {name!r}, not in env"


def service_selectors(index: Index) -> Iterator[Problem]:
    """A Service selector must match the pod labels of some workload, or it routes nowhere."""
    for service in index.of_kind("Service"):
        selector = dig(service, "spec", "selector")
        if not isinstance(selector, dict) or not selector:
            continue  # ExternalName or manually managed endpoints
        pods = index.pod_labels(service)
        if not any(selector_matches({"matchLabels": selector}, labels) for labels in pods):
            labels = ", ".join(f"{key}={value}" for key, value in sorted(selector.items()))
            yield service, "crossref/service-selector", f"selector {{{labels}}} matches no workload's pods"


def _pod_spec_refs(template: dict) -> Iterator[tuple[str, str, str]]:
    """(kind, name, field) of every ConfigMap, Secret and ServiceAccount a pod spec needs."""
    spec = mapping(template.get("spec"))
    containers = [*items(spec.get("initContainers")), *items(spec.get("containers"))]
    for container in containers:
        yield from _container_refs(container)
    for volume in items(spec.get("volumes")):
        yield from _volume_refs(volume)
    for secret in items(spec.get("imagePullSecrets")):
        yield "Secret", str(secret.get("name")), "imagePullSecrets"
    account = spec.get("serviceAccountName")
    if account and account != "default":
        yield "ServiceAccount", str(account), "serviceAccountName"


def _needed(ref: object) -> TypeGuard[dict]:
    """A reference marked optional lets the pod start without what it names, so it is not checked."""
    return isinstance(ref, dict) and not ref.get("optional")


def _container_refs(container: dict) -> Iterator[tuple[str, str, str]]:
    at = f"container {container.get('name')!r}"
    for env in items(container.get("env")):
        for kind, field in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
            ref = dig(env, "valueFrom", field)
            if _needed(ref):
                yield kind, str(ref.get("name")), f"{at} env {env.get('name')}"
    for source in items(container.get("envFrom")):
        for kind, field in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
            ref = source.get(field)
            if _needed(ref):
                yield kind, str(ref.get("name")), f"{at} envFrom"


def _volume_refs(volume: dict) -> Iterator[tuple[str, str, str]]:
    """A volume names its ConfigMap by `name` but its Secret by `secretName`; projected sources by `name`."""
    at = f"volume {volume.get('name')!r}"
    if _needed(volume.get("configMap")):
        yield "ConfigMap", str(volume["configMap"].get("name")), at
    if _needed(volume.get("secret")):
        yield "Secret", str(volume["secret"].get("secretName")), at
    for source in items(dig(volume, "projected", "sources")):
        for kind, field in (("ConfigMap", "configMap"), ("Secret", "secret")):
            ref = source.get(field)
            if _needed(ref):
                yield kind, str(ref.get("name")), at


def _produced_secrets(index: Index) -> set[str]:
    """Secret names the env brings into being without a Secret object in git."""
    names = set()
    for external in index.of_kind("ExternalSecret"):
        names.add(str(dig(external, "spec", "target", "name") or name_of(external)))
    for sealed in index.of_kind("SealedSecret"):
        names.add(str(dig(sealed, "spec", "template", "metadata", "name") or name_of(sealed)))
    for cluster in index.of_kind("Cluster"):
        if str(cluster.get("apiVersion", "")).startswith("postgresql.cnpg.io/"):
            names.update(f"{name_of(cluster)}-{suffix}" for suffix in CNPG_SECRET_SUFFIXES)
    return names


def config_refs(index: Index) -> Iterator[Problem]:
    """ConfigMaps, Secrets and ServiceAccounts that pods and analyses read exist in the env."""
    produced = {"Secret": _produced_secrets(index)}
    refs: list[tuple[dict, str, str, str]] = [
        (workload, kind, name, field)
        for workload, template in index.workloads()
        for kind, name, field in _pod_spec_refs(template)
    ]
    for template in index.of_kind("AnalysisTemplate", "ClusterAnalysisTemplate"):
        for arg in items(dig(template, "spec", "args")):
            ref = dig(arg, "valueFrom", "secretKeyRef")
            if isinstance(ref, dict):
                refs.append((template, "Secret", str(ref.get("name")), f"arg {arg.get('name')}"))
    for obj, kind, name, field in refs:
        if index.find(kind, name, obj) is None and name not in produced.get(kind, set()):
            yield obj, f"crossref/{kind.lower()}-ref", f"{field} uses {kind} {name!r}, not in env"


def _service_has_port(service: dict, port: dict) -> bool:
    ports = items(dig(service, "spec", "ports"))
    if "number" in port:
        return any(entry.get("port") == port["number"] for entry in ports)
    return any(entry.get("name") == port.get("name") for entry in ports)


def ingress_backends(index: Index) -> Iterator[Problem]:
    """Every Ingress backend names an existing Service and one of its ports."""
    for ingress in index.of_kind("Ingress"):
        backends = [("defaultBackend", dig(ingress, "spec", "defaultBackend", "service"))]
        for rule in items(dig(ingress, "spec", "rules")):
            for path in items(dig(rule, "http", "paths")):
                where = f"rule {rule.get('host', '*')}{path.get('path', '')}"
                backends.append((where, dig(path, "backend", "service")))
        for where, backend in backends:
            if not isinstance(backend, dict):
                continue
            name, port = str(backend.get("name")), mapping(backend.get("port"))
            service = index.find("Service", name, ingress)
            if service is None:
                yield ingress, "crossref/ingress-backend", f"{where} routes to Service {name!r}, not in env"
            elif not _service_has_port(service, port):
                wanted = port.get("number", port.get("name"))
                yield ingress, "crossref/ingress-backend", f"{where}: Service {name!r} has no port {wanted!r}"


def scale_targets(index: Index) -> Iterator[Problem]:
    """HPAs and KEDA ScaledObjects scale something that exists; PDBs protect some workload's pods."""
    for scaler in index.of_kind("HorizontalPodAutoscaler", "ScaledObject"):
        ref = mapping(dig(scaler, "spec", "scaleTargetRef"))
        kind, name = str(ref.get("kind") or "Deployment"), str(ref.get("name"))
        if index.find(kind, name, scaler) is None:
            yield scaler, "crossref/scale-target", f"scaleTargetRef names {kind} {name!r}, not in env"
    for budget in index.of_kind("PodDisruptionBudget"):
        selector = dig(budget, "spec", "selector")
        if isinstance(selector, dict) and not any(
            selector_matches(selector, labels) for labels in index.pod_labels(budget)
        ):
            yield budget, "crossref/pdb-selector", "selector matches no workload's pods"


CHECKS: tuple[Callable[[Index], Iterator[Problem]], ...] = (
    analysis_templates,
    rollout_services,
    service_selectors,
    config_refs,
    ingress_backends,
    scale_targets,
)


def cross_check(objects: list[dict]) -> Iterator[Problem]:
    index = Index(objects)
    for check in CHECKS:
        yield from check(index)
