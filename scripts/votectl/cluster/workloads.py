"""Apply an env for real and wait until its workloads are available: what a dry run cannot show.

A dry run creates no pods; here the controllers do. Pods the namespace's Pod Security level forbids never
exist (the ReplicaSet or StatefulSet controller reports FailedCreate), a selector that matches no template
is refused or leaves the workload without pods, a claim nothing can bind keeps its pod Pending. Each
workload that is not available in time is reported with the reason the cluster gives.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from votectl.cluster.client import KubeClient
from votectl.errors import VotectlError
from votectl.findings import Finding
from votectl.repo import Env
from votectl.verify.objects import display_name

# kind -> apiVersion of the workloads whose availability is awaited
WATCHED = {
    "Deployment": "apps/v1",
    "StatefulSet": "apps/v1",
    "Job": "batch/v1",
    "Rollout": "argoproj.io/v1alpha1",
}


@dataclass(frozen=True)
class Workload:
    kind: str
    namespace: str
    name: str

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.name}"


def create_namespace(client: KubeClient, env: Env, namespace: str | None = None) -> str:
    """The env's namespace, labelled as the ApplicationSet's managedNamespaceMetadata labels it."""
    name = namespace or env.namespace
    answer = client.apply(
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": env.namespace_labels}},
        dry_run=False,
    )
    if not answer.ok:
        raise VotectlError(f"creating namespace {name} failed: {answer.message}")
    return name


def apply_objects(client: KubeClient, env: Env, objects: list[dict], namespace: str) -> list[Finding]:
    """Server-side apply of every object (as Argo CD's sync would); refusals become findings."""
    findings = []
    for obj in objects:
        answer = client.apply(obj, dry_run=False, namespace=namespace)
        if not answer.ok:
            reason = answer.body.get("reason") or f"HTTP{answer.status}"
            findings.append(
                Finding(env.name, str(obj.get("kind")), display_name(obj), f"apply/{reason}", answer.message)
            )
    return findings


def workloads_of(objects: list[dict], namespace: str) -> list[Workload]:
    return [
        Workload(
            str(obj["kind"]),
            (obj.get("metadata") or {}).get("namespace") or namespace,
            obj["metadata"]["name"],
        )
        for obj in objects
        if obj.get("kind") in WATCHED and isinstance(obj.get("metadata"), dict)
    ]


def wait_available(
    client: KubeClient,
    env: Env,
    workloads: list[Workload],
    timeout: float,
    rollouts: bool,
    settle: float = 15.0,
) -> list[Finding]:
    """Poll until every workload is available; findings for those that are not.

    A workload whose controller keeps reporting the same failure (a warning event, a Degraded Rollout) for
    `settle` seconds is given up on early: a refused pod is not going to be admitted by waiting longer.
    Rollouts count only when the Argo Rollouts controller runs (`rollouts`); without it nothing would
    ever reconcile them, and they are reported as not checked."""
    findings = []
    pending = []
    for workload in workloads:
        if workload.kind == "Rollout" and not rollouts:
            message = "not checked: no Argo Rollouts controller runs (votectl cluster up --with rollouts)"
            findings.append(
                Finding(env.name, workload.kind, workload.label, "apply/unchecked", message, "warning")
            )
        else:
            pending.append(workload)
    failing: dict[Workload, tuple[str, float]] = {}  # workload -> (failure, first seen)
    deadline = time.monotonic() + timeout
    while pending:
        now = time.monotonic()
        still = []
        for workload in pending:
            available, why, failed = _available(client, workload)
            if available:
                continue
            if not failed:
                failing.pop(workload, None)
            elif failing.get(workload, (None,))[0] != why:
                failing[workload] = (why, now)
            if now >= deadline or (workload in failing and now - failing[workload][1] >= settle):
                findings.append(Finding(env.name, workload.kind, workload.label, "apply/unavailable", why))
            else:
                still.append(workload)
        pending = still
        if pending:
            time.sleep(0.5)
    return findings


def _object(client: KubeClient, workload: Workload) -> dict:
    path = client.path_of(WATCHED[workload.kind], workload.kind, workload.namespace, workload.name)
    answer = client.get(path) if path else None
    if answer is None or not answer.ok:
        return {}
    return answer.body


def _available(client: KubeClient, workload: Workload) -> tuple[bool, str, bool]:
    """(available, why not, whether the cluster reports a failure) from the workload's status, its pods'
    and its own events."""
    obj = _object(client, workload)
    if not obj:
        return False, "does not exist", True
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    generation_seen = status.get("observedGeneration") in (
        None,
        obj["metadata"].get("generation"),
        str(obj["metadata"].get("generation")),
    )
    if workload.kind == "Job":
        if any(
            c.get("type") == "Complete" and c.get("status") == "True" for c in status.get("conditions") or []
        ):
            return True, "", False
    elif workload.kind == "Rollout":
        if status.get("phase") == "Healthy" and generation_seen:
            return True, "", False
    else:
        wanted = spec.get("replicas", 1)
        ready = (
            status.get("readyReplicas", 0)
            if workload.kind == "StatefulSet"
            else status.get("availableReplicas", 0)
        )
        if generation_seen and ready >= wanted:
            return True, "", False
    return (False, *_why(client, workload, obj))


def _why(client: KubeClient, workload: Workload, obj: dict) -> tuple[str, bool]:
    """The most telling reason the cluster gives, and whether it is a failure rather than progress."""
    status = obj.get("status") or {}
    if workload.kind == "Rollout" and status.get("message"):
        return f"Rollout {status.get('phase')}: {status['message']}", status.get("phase") == "Degraded"
    events = client.get(f"/api/v1/namespaces/{workload.namespace}/events").body.get("items") or []
    warnings = [event for event in events if event.get("type") == "Warning" and _involves(event, workload)]
    if warnings:
        latest = max(warnings, key=lambda event: event.get("lastTimestamp") or event.get("eventTime") or "")
        return f"{latest.get('reason')}: {' '.join(str(latest.get('message')).split())}", True
    for condition in status.get("conditions") or []:
        if condition.get("status") == "False" and condition.get("message"):
            return f"{condition.get('type')}: {condition['message']}", False
    return f"not available (status: {_short(status)})", False


def _involves(event: dict, workload: Workload) -> bool:
    """Events of the workload itself, of its ReplicaSets and of its pods (names start with its name)."""
    involved = event.get("involvedObject") or {}
    return str(involved.get("name", "")).startswith(workload.name)


def _short(status: dict) -> str:
    keep = {
        key: status[key]
        for key in ("replicas", "readyReplicas", "availableReplicas", "phase")
        if key in status
    }
    return ", ".join(f"{key}={value}" for key, value in keep.items()) or "empty"
