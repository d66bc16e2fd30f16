"""Argo CD on the local control plane: the real application controller, repo-server and ApplicationSet
controller (one `argocd` binary run under three names, as upstream's Procfile runs them), with a real Redis.

What differs from an in-cluster install, and why:
- `ARGOCD_FAKE_IN_CLUSTER=true`: `https://kubernetes.default.svc` (the destination the Applications name) is
  the cluster of the kubeconfig, as in upstream's local development setup.
- `ARGOCD_RECONCILIATION_TIMEOUT` is short (RECONCILE_SECONDS): nothing calls a git webhook here, so Argo
  CD finds a merged commit by polling, like an install without webhooks, only more often than its 3 min.
- No API server, UI or Dex: nothing here logs in; the Applications are read from the Kubernetes API.
- The repo-server finds `git` and our pinned `kustomize` on PATH; GPG verification is off (no keys).
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path

from votectl.cluster.client import KubeClient
from votectl.engines.build import path
from votectl.errors import VotectlError
from votectl.localstack.ports import free_port
from votectl.localstack.redis_server import RedisServer
from votectl.localstack.server import ManagedServer

NAMESPACE = "argocd"
RECONCILE_SECONDS = 10
ROLES = ("argocd-repo-server", "argocd-application-controller", "argocd-applicationset-controller")
ENGINES = ("argocd", "kustomize")
_PART_OF = {"app.kubernetes.io/part-of": "argocd"}


def config_objects() -> list[dict]:
    """The config objects every Argo CD component reads at start (empty ones mean the defaults)."""

    def config_map(name: str, data: dict[str, str] | None = None) -> dict:
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": NAMESPACE, "labels": _PART_OF},
            "data": data or {},
        }

    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "argocd-secret", "namespace": NAMESPACE, "labels": _PART_OF},
        "type": "Opaque",
        # a fresh cluster each time: a fresh key, never one kept in git
        "stringData": {"server.secretkey": secrets.token_urlsafe(32)},
    }
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NAMESPACE}},
        config_map("argocd-cm", {"application.instanceLabelKey": "argocd.argoproj.io/instance"}),
        config_map("argocd-rbac-cm"),
        config_map("argocd-cmd-params-cm"),
        config_map("argocd-ssh-known-hosts-cm"),
        config_map("argocd-tls-certs-cm"),
        config_map("argocd-gpg-keys-cm"),
        secret,
    ]


def install_config(client: KubeClient) -> None:
    for obj in config_objects():
        answer = client.apply(obj, dry_run=False)
        if not answer.ok:
            raise VotectlError(f"creating {obj['kind']} {obj['metadata']['name']} failed: {answer.message}")


def components(
    state_dir: Path, kubeconfig: Path, make: Callable[..., ManagedServer], http_ok: Callable[[str], bool]
) -> tuple[RedisServer, list[ManagedServer]]:
    """Redis, then the repo-server, application controller and ApplicationSet controller (in start order).

    `make` builds a control-plane Component (name, argv, port, health, not_ready, env): the same process
    handling as the rest of the cluster."""
    home = state_dir / "argocd"
    redis = RedisServer(home / "redis")
    binary, kustomize = path("argocd"), path("kustomize")
    git = shutil.which("git")
    if git is None:
        raise VotectlError("Argo CD's repo-server needs git on PATH")
    for folder in ("tls", "ssh", "gpg/keys", "gpg/source", "plugins", "home"):
        (home / folder).mkdir(parents=True, exist_ok=True)
    environment = {
        "PATH": os.pathsep.join(
            dict.fromkeys([str(kustomize.parent), str(Path(git).parent), "/usr/bin", "/bin"])
        ),
        "HOME": str(home / "home"),
        "KUBECONFIG": str(kubeconfig),
        "ARGOCD_FAKE_IN_CLUSTER": "true",
        "ARGOCD_RECONCILIATION_TIMEOUT": f"{RECONCILE_SECONDS}s",
        "ARGOCD_TLS_DATA_PATH": str(home / "tls"),
        "ARGOCD_SSH_DATA_PATH": str(home / "ssh"),
        "ARGOCD_GNUPGHOME": str(home / "gpg" / "keys"),
        "ARGOCD_GPG_DATA_PATH": str(home / "gpg" / "source"),
        "ARGOCD_GPG_ENABLED": "false",
        "ARGOCD_PLUGINSOCKFILEPATH": str(home / "plugins"),
        "REDIS_PASSWORD": redis.password,
        # the controller's shard comes from its hostname's ordinal, as in its StatefulSet
        "HOSTNAME": "argocd-application-controller-0",
    }
    redis_address = f"{redis.host}:{redis.port}"
    repo_port, repo_metrics, controller_metrics = free_port(), free_port(), free_port()
    appset_metrics, appset_probe = free_port(), free_port()
    common = ["--loglevel=info", f"--redis={redis_address}"]
    kube = [f"--kubeconfig={kubeconfig}", f"--namespace={NAMESPACE}"]

    def role(name: str, argv: list[str], port: int, health: str) -> ManagedServer:
        return make(
            name,
            [str(binary), *argv],
            port,
            lambda: http_ok(health),
            f"{health} not 200",
            {**environment, "ARGOCD_BINARY_NAME": name},
        )

    repo_server = role(
        "argocd-repo-server",
        [*common, f"--port={repo_port}", f"--metrics-port={repo_metrics}", "--address=127.0.0.1"],
        repo_port,
        f"http://127.0.0.1:{repo_metrics}/healthz",
    )
    controller = role(
        "argocd-application-controller",
        [
            *common,
            *kube,
            f"--repo-server=127.0.0.1:{repo_port}",
            f"--metrics-port={controller_metrics}",
            f"--app-resync={RECONCILE_SECONDS}",
            "--app-resync-jitter=0",
            "--hydrator-enabled=false",
        ],
        controller_metrics,
        f"http://127.0.0.1:{controller_metrics}/healthz",
    )
    appset = role(
        "argocd-applicationset-controller",
        [
            "--loglevel=info",
            *kube,
            f"--argocd-repo-server=127.0.0.1:{repo_port}",
            f"--metrics-addr=127.0.0.1:{appset_metrics}",
            f"--probe-addr=127.0.0.1:{appset_probe}",
            "--enable-leader-election=false",
        ],
        appset_metrics,
        # it registers no health checks (its /healthz is a 404): serving metrics means it is up
        f"http://127.0.0.1:{appset_metrics}/metrics",
    )
    return redis, [repo_server, controller, appset]
