"""`votectl verify --server`: every env sent to a real kube-apiserver, as Argo CD would send it.

Each env goes into its namespace, labelled as the ApplicationSet labels it (Pod Security `restricted`);
every object is applied with server-side dry run and strict field validation, so unknown or misspelt
fields, wrong types, CRD schema and CEL rules, and admission are the API server's own verdict. A dry run
creates no pods, so each workload's pod template is also dry-run created as the Pod its ReplicaSet would
make: that is where Pod Security admission decides. The offline gate runs too; findings of both are in one
report, in the same formats and with the same exit codes.

Without --kubeconfig a throwaway control plane (etcd and kube-apiserver with the platform's CRDs) is
started and removed; with it, the cluster it names is checked and nothing is written to it.
"""

from __future__ import annotations

import copy
import tempfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path

from votectl.cluster.client import Answer, KubeClient
from votectl.errors import VotectlError
from votectl.findings import Finding
from votectl.repo import Env, Repo
from votectl.verify.gate import EnvResult, Report, check_objects, project_findings
from votectl.verify.objects import Index, display_name
from votectl.verify.schemas import SchemaStore

_POD_SECURITY = "would violate PodSecurity"
_WORKERS = 8


def verify_envs_on_server(envs: list[str], store: SchemaStore, kubeconfig: str | None = None) -> Report:
    """The offline gate plus the server's verdict on every env."""
    from votectl.render import start_envs

    repo = Repo.current()
    chosen = [repo.env(name) for name in envs]
    with ExitStack() as stack:
        rendered = dict(zip(envs, stack.enter_context(start_envs(envs, repo)).result(), strict=True))
        kinds = frozenset(_group_kind(obj) for objects in rendered.values() for obj in objects)
        client = stack.enter_context(_client(stack, kubeconfig, kinds))
        # The server checks mostly wait on the API server and regopy releases the GIL: both gates of every
        # env run at once, so the server's verdict costs little on top of the offline gate.
        with ThreadPoolExecutor(max_workers=2 * len(chosen)) as pool:
            offline = {
                env.name: pool.submit(check_objects, env.name, rendered[env.name], store, env.name)
                for env in chosen
            }
            server = {
                env.name: pool.submit(server_findings, client, env, rendered[env.name], kubeconfig is None)
                for env in chosen
            }
            results = []
            for env in chosen:
                checked = offline[env.name].result()
                findings = sorted(
                    {*checked.findings, *project_findings(env.name), *server[env.name].result()}
                )
                results.append(EnvResult(env.name, env.name, checked.objects, findings, checked.exemptions))
        return Report(results)


def _group_kind(obj: dict) -> tuple[str, str]:
    return str(obj.get("apiVersion", "")).rpartition("/")[0], str(obj.get("kind", ""))


def _client(stack: ExitStack, kubeconfig: str | None, kinds: frozenset[tuple[str, str]]) -> KubeClient:
    if kubeconfig:
        path = Path(kubeconfig)
        if not path.is_file():
            raise VotectlError(f"--kubeconfig {kubeconfig}: no such file")
        return KubeClient(path)
    from votectl.cluster.control_plane import ClusterOptions, LocalCluster

    scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="votectl-verify-")))
    options = ClusterOptions(workloads=False, crd_kinds=kinds)  # only the CRDs these envs use
    cluster = stack.enter_context(LocalCluster(scratch / "cluster", options))
    return KubeClient(cluster.kubeconfig)


def server_findings(client: KubeClient, env: Env, objects: list[dict], throwaway: bool) -> list[Finding]:
    """What the API server says about one env's objects (empty when it accepts all of them)."""
    problem = _prepare_namespace(client, env, throwaway)
    if problem:
        return [Finding(env.name, "Namespace", env.namespace, "server/namespace", problem)]
    workloads = list(Index(objects).workloads())
    accounts = _service_accounts(client, env)
    with ThreadPoolExecutor(max_workers=_WORKERS) as pool:
        applied = [pool.submit(client.apply, obj, True, env.namespace) for obj in objects]
        pods = [pool.submit(_pod_check, client, env, *item, accounts) for item in workloads]
        findings = []
        for obj, answer in zip(objects, applied, strict=True):
            findings += _answer_findings(env, obj, answer.result(), "server")
        for (workload, _), answer in zip(workloads, pods, strict=True):
            findings += _answer_findings(env, workload, answer.result(), "server/pod")
    return findings


def _service_accounts(client: KubeClient, env: Env) -> frozenset[str]:
    """The accounts the namespace has: one list instead of a lookup per pod check."""
    answer = client.get(f"/api/v1/namespaces/{env.namespace}/serviceaccounts")
    items = (answer.body.get("items") or []) if answer.ok else []
    return frozenset(str((item.get("metadata") or {}).get("name")) for item in items)


def _prepare_namespace(client: KubeClient, env: Env, throwaway: bool) -> str | None:
    """The env's namespace as Argo CD creates it; on a real cluster it must already exist."""
    path = f"/api/v1/namespaces/{env.namespace}"
    if not throwaway:
        answer = client.get(path)
        if answer.status == 404:
            return (
                f"namespace {env.namespace} does not exist on this cluster, so its objects cannot be checked"
            )
        if not answer.ok:
            return f"cannot read namespace {env.namespace}: {answer.message}"
        labels = (answer.body.get("metadata") or {}).get("labels") or {}
        missing = {key: value for key, value in env.namespace_labels.items() if labels.get(key) != value}
        if missing:
            wanted = ", ".join(f"{key}={value}" for key, value in missing.items())
            return f"namespace {env.namespace} lacks the labels the ApplicationSet gives it: {wanted}"
        return None
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": env.namespace, "labels": env.namespace_labels},
    }
    answer = client.apply(namespace, dry_run=False)
    if not answer.ok:
        raise VotectlError(f"creating namespace {env.namespace} failed: {answer.message}")
    # The pod check names a service account; a throwaway cluster has no controller to make `default`.
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}}
    client.ensure(f"/api/v1/namespaces/{env.namespace}/serviceaccounts", account)
    return None


def _pod_check(
    client: KubeClient, env: Env, workload: dict, template: dict, accounts: frozenset[str]
) -> Answer:
    """Dry-run create the Pod this workload's controller would create from its template."""
    spec: dict = copy.deepcopy(template["spec"]) if isinstance(template.get("spec"), dict) else {}
    # Admission looks the service account up; a dry run created none, and Pod Security does not depend on it.
    if (spec.get("serviceAccountName") or "default") not in accounts:
        spec["serviceAccountName"] = "default"
    if workload.get("kind") == "StatefulSet":
        # The StatefulSet controller adds a volume per claim template (claim `<template>-<set>-<ordinal>`).
        claims = (workload.get("spec") or {}).get("volumeClaimTemplates") or []
        set_name = (workload.get("metadata") or {}).get("name")
        spec["volumes"] = [
            *(spec.get("volumes") or []),
            *(
                {
                    "name": claim["metadata"]["name"],
                    "persistentVolumeClaim": {"claimName": f"{claim['metadata']['name']}-{set_name}-0"},
                }
                for claim in claims
                if isinstance(claim, dict) and isinstance(claim.get("metadata"), dict)
            ),
        ]
    metadata: dict = template["metadata"] if isinstance(template.get("metadata"), dict) else {}
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": f"{display_name(workload).rpartition('/')[2] or 'workload'}-pod-check"[:63],
            "namespace": env.namespace,
            "labels": metadata.get("labels") or {},
            "annotations": metadata.get("annotations") or {},
        },
        "spec": spec,
    }
    return client.request(
        "POST",
        f"/api/v1/namespaces/{env.namespace}/pods",
        pod,
        params={"dryRun": "All", "fieldValidation": "Strict", "fieldManager": "votectl"},
    )


def _answer_findings(env: Env, obj: dict, answer: Answer, rule: str) -> list[Finding]:
    kind, name = str(obj.get("kind") or "?"), display_name(obj) or "(unnamed)"
    findings = []
    if not answer.ok:
        findings.append(Finding(env.name, kind, name, f"{rule}/{_reason(answer)}", _status_message(answer)))
    for warning in answer.warnings:
        # Workload warnings about Pod Security repeat what the pod check reports as an error.
        if rule == "server" and warning.startswith(_POD_SECURITY):
            continue
        findings.append(Finding(env.name, kind, name, f"{rule}/warning", warning, severity="warning"))
    return findings


def _reason(answer: Answer) -> str:
    """The Status reason; server-side apply answers an undeclared field with a bare 500, named here."""
    if answer.body.get("reason"):
        return str(answer.body["reason"])
    if answer.status == 500 and "field not declared in schema" in answer.message:
        return "UnknownField"
    return f"HTTP{answer.status}"


def _status_message(answer: Answer) -> str:
    """The Status message; for Invalid ones each cause on its own, field first."""
    causes = (answer.body.get("details") or {}).get("causes") or []
    if causes:
        return "; ".join(
            f"{cause.get('field')}: {cause.get('message')}"
            if cause.get("field")
            else str(cause.get("message"))
            for cause in causes
        )
    return answer.message
