"""The status that operators which cannot run here would report, so Argo CD's own health checks can judge.

external-secrets, CloudNativePG and KEDA are not built here (their controllers need what a kwok cluster
lacks: a secret store, running PostgreSQL pods, a metrics server). Without them their objects have no
status and Argo CD's health checks for them (its resource_customizations Lua scripts) call them
Progressing forever, so no Application could become Healthy. This stand-in writes, once per object, the
status each operator writes when it has reconciled the object successfully, through the status
subresource as the operator would; it never touches a spec, and nothing else gets a status from it.
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


# collection path -> the status that operator reports once it has reconciled an object
STANDINS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "/apis/external-secrets.io/v1/externalsecrets": _ready("SecretSynced", "secret synced (stand-in)"),
    "/apis/postgresql.cnpg.io/v1/clusters": _cnpg,
    "/apis/keda.sh/v1alpha1/scaledobjects": _ready("ScaledObjectReady", "ScaledObject is ready (stand-in)"),
}


def report_status(client: KubeClient) -> int:
    """One pass: give every object without a status its operator's; returns how many were written."""
    written = 0
    for collection, status_of in STANDINS.items():
        answer = client.get(collection)
        if not answer.ok:
            continue  # that CRD is not installed in this cluster
        for obj in answer.body.get("items") or []:
            if (obj.get("status") or {}).get("conditions"):
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
