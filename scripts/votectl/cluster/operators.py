"""The status that operators which cannot run here would report, so Argo CD's own health checks can judge.

external-secrets, CloudNativePG, KEDA and ingress-nginx are not run here (they need what a kwok cluster
lacks: a secret store, running PostgreSQL pods, a metrics server, a network edge). Without them their
objects have no status, and Argo CD's health checks (its resource_customizations Lua scripts, and for an
Ingress a load balancer address) call them Progressing forever, so no Application could become Healthy.
This stand-in writes, once per object, the status each operator writes when it has reconciled the object
successfully, through the status subresource as the operator would; it never touches a spec.
What is proven with it is Argo CD's sync and health of everything else, not those operators.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from votectl.cluster.client import KubeClient


def _ready(reason: str, message: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def status(_obj: dict[str, Any]) -> dict[str, Any]:
        condition = {
            "type": "Ready",
            "status": "True",
            "reason": reason,
            "message": message,
            "lastTransitionTime": _now(),
        }
        return {"conditions": [condition]}

    return status


def _cnpg(obj: dict[str, Any]) -> dict[str, Any]:
    instances = int((obj.get("spec") or {}).get("instances") or 1)
    return {
        "phase": "Cluster in healthy state",
        "instances": instances,
        "readyInstances": instances,
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "ClusterIsReady",
                "message": "Cluster is Ready",
                "lastTransitionTime": _now(),
            }
        ],
    }


def _ingress(_obj: dict[str, Any]) -> dict[str, Any]:
    # what ingress-nginx publishes once it serves the Ingress: its own address
    return {"loadBalancer": {"ingress": [{"ip": "127.0.0.1"}]}}


def _has_conditions(obj: dict[str, Any]) -> bool:
    return bool((obj.get("status") or {}).get("conditions"))


def _has_address(obj: dict[str, Any]) -> bool:
    return bool(((obj.get("status") or {}).get("loadBalancer") or {}).get("ingress"))


Status = Callable[[dict[str, Any]], dict[str, Any]]
# collection path -> (has the operator reported yet, the status it reports once it has reconciled an object)
STANDINS: dict[str, tuple[Callable[[dict[str, Any]], bool], Status]] = {
    "/apis/external-secrets.io/v1/externalsecrets": (
        _has_conditions,
        _ready("SecretSynced", "secret synced (stand-in)"),
    ),
    "/apis/postgresql.cnpg.io/v1/clusters": (_has_conditions, _cnpg),
    "/apis/keda.sh/v1alpha1/scaledobjects": (
        _has_conditions,
        _ready("ScaledObjectReady", "ScaledObject is ready (stand-in)"),
    ),
    "/apis/networking.k8s.io/v1/ingresses": (_has_address, _ingress),
}


def report_status(client: KubeClient) -> int:
    """One pass: give every object without a status its operator's; returns how many were written."""
    written = 0
    for collection, (reported, status_of) in STANDINS.items():
        answer = client.get(collection)
        if not answer.ok:
            continue  # that CRD is not installed in this cluster
        for obj in answer.body.get("items") or []:
            if reported(obj):
                continue
            metadata = obj["metadata"]
            target = f"{collection.rsplit('/', 1)[0]}/namespaces/{metadata['namespace']}/"
            target += f"{collection.rsplit('/', 1)[1]}/{metadata['name']}/status"
            patch = client.request(
                "PATCH",
                target,
                {"status": status_of(obj)},
                headers={"Content-Type": "application/merge-patch+json"},
            )
            written += patch.ok
    return written


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
