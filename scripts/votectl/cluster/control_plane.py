"""A Kubernetes control plane of real upstream processes on loopback, with kwok's fake nodes for kubelets.

etcd, kube-apiserver (TLS, RBAC, the default admission plugins, PodSecurity among them),
kube-controller-manager and kube-scheduler are the real programs, built from the pinned modules; kwok plays
the kubelets (pods are scheduled, become Running and Ready, but no container runs). A small provisioner
binds PersistentVolumeClaims of the default StorageClass, as a cluster's CSI driver would. The platform's
CRDs come from the pinned operator modules. Optionally the real Argo Rollouts controller runs against it,
and real Argo CD (cluster/argocd.py), with a stand-in for the status of operators that cannot run here
(cluster/operators.py).
"""

from __future__ import annotations

import shutil
import threading
import time
import warnings
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path

import requests
import urllib3
import yaml

from votectl.cluster.client import KubeClient
from votectl.cluster.pki import Pki, make_pki
from votectl.engines.build import module_dir, path
from votectl.engines.catalog import engine
from votectl.errors import VotectlError
from votectl.localstack.ports import free_port, wait_until
from votectl.localstack.server import Command, ManagedServer, start_together, stop_together
from votectl.repo import Repo

ADMIN = "admin"
NODE_ANNOTATION = "kwok.x-k8s.io/node"
STORAGE_CLASS = "standard"
PROVISIONER = "votectl.local/fake-provisioner"
ROLLOUTS_NAMESPACE = "argo-rollouts"
# kwok's stages: nodes become Ready and keep their lease; pods are created, started, made Ready, completed
# (Jobs) and deleted like a kubelet would.
KWOK_STAGES = (
    "kustomize/stage/node/fast/node-initialize.yaml",
    "kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "kustomize/stage/pod/general/pod-create.yaml",
    "kustomize/stage/pod/general/pod-init-container-running.yaml",
    "kustomize/stage/pod/general/pod-init-container-completed.yaml",
    "kustomize/stage/pod/general/pod-ready.yaml",
    "kustomize/stage/pod/general/pod-complete.yaml",
    "kustomize/stage/pod/general/pod-delete.yaml",
)
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class ClusterOptions:
    nodes: int = 3
    with_rollouts: bool = False
    with_argocd: bool = False
    # False: only etcd and kube-apiserver with the CRDs, enough for dry runs (`verify --server`)
    workloads: bool = True
    # Only the CRDs of these (group, kind)s; None: all of them. Each CRD costs the API server ~0.5 s of CPU.
    crd_kinds: frozenset[tuple[str, str]] | None = None


class Component(ManagedServer):
    """One control-plane program: all that sets one apart is its argv, environment and health check.

    `port` is the one it serves on (checked free before it starts), None for kwok, which serves none;
    without a `health` check it counts as ready once running (the cluster then waits for kwok's nodes).
    """

    start_timeout = 60.0
    ready_interval = 0.2

    def __init__(
        self,
        name: str,
        state_dir: Path,
        argv: list[str],
        port: int | None,
        health: Callable[[], bool] | None = None,
        not_ready: str | None = None,
        env: dict[str, str] | None = None,
    ) -> None:
        super().__init__(name, state_dir / "logs" / f"{name}.log", port)
        self._command = Command(argv, env=env, cwd=state_dir)
        self._health = health
        self.not_ready = not_ready or self.not_ready

    def command(self) -> Command:
        return self._command

    def ready(self) -> bool:
        return self._health is None or self._health()


class LocalCluster:
    """`with LocalCluster(dir) as cluster:` a ready control plane; everything stops on exit, in order."""

    def __init__(
        self, state_dir: Path, options: ClusterOptions | None = None, repo: Repo | None = None
    ) -> None:
        self.state_dir = state_dir
        self.options = options or ClusterOptions()
        self.repo = repo or Repo.current()
        self.kubeconfig = state_dir / "kubeconfig"
        self.processes: dict[str, ManagedServer] = {}
        self.client: KubeClient | None = None
        self._stop = threading.Event()
        self._stand_ins: threading.Thread | None = None

    def __enter__(self) -> LocalCluster:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def engines(self) -> list[str]:
        if not self.options.workloads:
            return ["etcd", "kube-apiserver"]
        from votectl.cluster import argocd

        return [
            *COMPONENTS,
            *(["rollouts-controller"] if self.options.with_rollouts else []),
            *(argocd.ENGINES if self.options.with_argocd else []),
        ]

    def start(self, progress: Progress | None = None) -> None:
        say = progress or (lambda _message: None)
        binaries = {name: path(name, self.repo) for name in self.engines()}  # refuse early when unbuilt
        if self.state_dir.exists():
            shutil.rmtree(self.state_dir)
        self.state_dir.mkdir(parents=True)
        pki = make_pki(self.state_dir / "pki", {ADMIN: "system:masters"})
        ports = {name: free_port() for name in ("etcd", "etcd-peer", "apiserver", "kcm", "scheduler")}
        say("starting etcd")
        self._start_etcd(binaries["etcd"], ports)
        say("starting kube-apiserver")
        self._start_apiserver(binaries["kube-apiserver"], pki, ports)
        self.client = KubeClient(self.kubeconfig)
        if self.options.workloads:
            say("starting kube-controller-manager, kube-scheduler and kwok")
            self._start_controllers(binaries, pki, ports)
        say("installing the platform's CRDs")
        self._install_crds()
        if not self.options.workloads:
            return
        self._create_nodes()
        self._create_storage_class()
        self._stand_ins = threading.Thread(
            target=self._stand_in_controllers, name="stand-in-controllers", daemon=True
        )
        self._stand_ins.start()
        self._wait_nodes_ready()
        if self.options.with_rollouts:
            say("starting the Argo Rollouts controller")
            self._start_rollouts(binaries["rollouts-controller"])
        if self.options.with_argocd:
            say("starting Argo CD (repo-server, application controller, ApplicationSet controller)")
            self._start_argocd()

    def stop(self) -> None:
        """Controllers, then the API server, then etcd: nothing is left running, even after a failed start."""
        self._stop.set()
        if self._stand_ins is not None:
            self._stand_ins.join(timeout=5)
        # etcd (started first) stops last: an API server stopping gracefully still writes to it (its lease),
        # and with etcd gone it retries until it is killed, 10 s later. The others stop together.
        components = list(self.processes.values())  # in start order: etcd first
        stop_together(reversed(components[1:]))
        stop_together(components[:1])
        self.processes.clear()
        if self.client is not None:
            self.client.close()
            self.client = None

    @property
    def pids(self) -> dict[str, int]:
        return {name: process.pid for name, process in self.processes.items() if process.pid}

    def _start(self, *components: ManagedServer, timeout: float | None = None) -> None:
        """Side by side; each is known before it starts, so `stop()` stops it even after a failed start."""
        for component in components:
            self.processes[component.name] = component
        start_together(components, timeout)

    def _start_etcd(self, binary: Path, ports: dict[str, int]) -> None:
        client_url = f"http://127.0.0.1:{ports['etcd']}"
        peer_url = f"http://127.0.0.1:{ports['etcd-peer']}"
        etcd = Component(
            "etcd",
            self.state_dir,
            [
                str(binary),
                f"--data-dir={self.state_dir / 'etcd'}",
                f"--listen-client-urls={client_url}",
                f"--advertise-client-urls={client_url}",
                f"--listen-peer-urls={peer_url}",
                f"--initial-advertise-peer-urls={peer_url}",
                f"--initial-cluster=default={peer_url}",
                # a throwaway cluster: losing it in a power cut costs nothing, fsyncs cost seconds
                "--unsafe-no-fsync",
                "--log-level=warn",
            ],
            port=ports["etcd"],
            health=lambda: _http_ok(f"{client_url}/health"),
            not_ready="/health not 200",
        )
        self._start(etcd, timeout=30)

    def _start_apiserver(self, binary: Path, pki: Pki, ports: dict[str, int]) -> None:
        server = f"https://127.0.0.1:{ports['apiserver']}"
        admin = pki.clients[ADMIN]

        def ready() -> bool:
            try:
                response = requests.get(
                    f"{server}/readyz",
                    cert=(str(admin.cert), str(admin.key)),
                    verify=str(pki.ca.cert),
                    timeout=2,
                )
            except requests.RequestException:
                return False
            return response.status_code == 200

        apiserver = Component(
            "kube-apiserver",
            self.state_dir,
            [
                str(binary),
                f"--etcd-servers=http://127.0.0.1:{ports['etcd']}",
                f"--secure-port={ports['apiserver']}",
                "--bind-address=127.0.0.1",
                "--advertise-address=127.0.0.1",
                # loopback cannot be the `kubernetes` Service's endpoint; nothing here dials the API by it
                "--endpoint-reconciler-type=none",
                f"--tls-cert-file={pki.serving.cert}",
                f"--tls-private-key-file={pki.serving.key}",
                f"--client-ca-file={pki.ca.cert}",
                "--authorization-mode=RBAC",
                "--service-cluster-ip-range=10.96.0.0/16",
                f"--service-account-issuer={server}",
                f"--service-account-key-file={pki.service_account_pub}",
                f"--service-account-signing-key-file={pki.service_account_key}",
                f"--cert-dir={self.state_dir / 'apiserver-certs'}",
                "--profiling=false",
            ],
            port=ports["apiserver"],
            health=ready,
            not_ready="/readyz not 200",
        )
        _write_kubeconfig(self.kubeconfig, server, pki, ADMIN)
        self._start(apiserver)

    def _start_controllers(self, binaries: dict[str, Path], pki: Pki, ports: dict[str, int]) -> None:
        common = [f"--kubeconfig={self.kubeconfig}", "--leader-elect=false", "--bind-address=127.0.0.1"]
        kcm = Component(
            "kube-controller-manager",
            self.state_dir,
            [
                str(binaries["kube-controller-manager"]),
                *common,
                f"--secure-port={ports['kcm']}",
                f"--service-account-private-key-file={pki.service_account_key}",
                f"--root-ca-file={pki.ca.cert}",
                f"--cert-dir={self.state_dir / 'kcm-certs'}",
                "--cluster-name=votectl-local",
            ],
            port=ports["kcm"],
            health=lambda: _http_ok(f"https://127.0.0.1:{ports['kcm']}/healthz", verify=False),
            not_ready="/healthz not 200",
        )
        scheduler = Component(
            "kube-scheduler",
            self.state_dir,
            [
                str(binaries["kube-scheduler"]),
                *common,
                f"--secure-port={ports['scheduler']}",
                f"--cert-dir={self.state_dir / 'scheduler-certs'}",
            ],
            port=ports["scheduler"],
            health=lambda: _http_ok(f"https://127.0.0.1:{ports['scheduler']}/healthz", verify=False),
            not_ready="/healthz not 200",
        )
        stages = module_dir(engine("kwok", self.repo))
        kwok = Component(
            "kwok",
            self.state_dir,
            [
                str(binaries["kwok"]),
                f"--kubeconfig={self.kubeconfig}",
                "--manage-all-nodes=false",
                f"--manage-nodes-with-annotation-selector={NODE_ANNOTATION}=fake",
                "--node-lease-duration-seconds=40",
                "--cidr=10.244.0.0/16",
                *(f"--config={stages / stage}" for stage in KWOK_STAGES),
            ],
            port=None,
        )
        self._start(kcm, scheduler, kwok)

    def _install_crds(self) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from votectl.engines.crds import crds

        client = self._client()
        wanted = self.options.crd_kinds
        documents = [crd for crd in crds(self.repo) if wanted is None or (crd.group, crd.kind) in wanted]
        # concurrently: the API server takes ~0.3 s per large CRD, mostly waiting on its own OpenAPI work
        with ThreadPoolExecutor(max_workers=8) as pool:
            answers = list(pool.map(lambda crd: client.apply(crd.document, dry_run=False), documents))
        for crd, answer in zip(documents, answers, strict=True):
            if not answer.ok:
                raise VotectlError(f"installing CRD {crd.name} ({crd.source}) failed: {answer.message}")
        names = [crd.name for crd in documents]
        if not wait_until(lambda: all(self._established(name) for name in names), 60, 0.2):
            waiting = [name for name in names if not self._established(name)]
            raise VotectlError(f"CRDs not established within 60 s: {', '.join(waiting)}")

    def _established(self, name: str) -> bool:
        answer = self._client().get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
        conditions = (answer.body.get("status") or {}).get("conditions") or []
        return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)

    def _create_nodes(self) -> None:
        for index in range(self.options.nodes):
            name = f"kwok-node-{index}"
            node = {
                "apiVersion": "v1",
                "kind": "Node",
                "metadata": {
                    "name": name,
                    "annotations": {NODE_ANNOTATION: "fake", "node.alpha.kubernetes.io/ttl": "0"},
                    "labels": {
                        "kubernetes.io/hostname": name,
                        "kubernetes.io/os": "linux",
                        "kubernetes.io/arch": "amd64",
                        "topology.kubernetes.io/zone": f"zone-{index % 3}",
                        "type": "kwok",
                    },
                },
                "spec": {},
                "status": {
                    "allocatable": {"cpu": "16", "memory": "64Gi", "pods": "110"},
                    "capacity": {"cpu": "16", "memory": "64Gi", "pods": "110"},
                },
            }
            answer = self._client().ensure("/api/v1/nodes", node)
            if not answer.ok:
                raise VotectlError(f"creating node {name} failed: {answer.message}")

    def _wait_nodes_ready(self) -> None:
        def ready() -> bool:
            nodes = self._client().get("/api/v1/nodes").body.get("items") or []
            return len(nodes) >= self.options.nodes and all(_condition(node, "Ready") for node in nodes)

        if not wait_until(ready, 60, 0.2):
            raise self.processes["kwok"].exit_error("nodes Ready within 60 s")

    def _create_storage_class(self) -> None:
        storage_class = {
            "apiVersion": "storage.k8s.io/v1",
            "kind": "StorageClass",
            "metadata": {
                "name": STORAGE_CLASS,
                "annotations": {"storageclass.kubernetes.io/is-default-class": "true"},
            },
            "provisioner": PROVISIONER,
            "reclaimPolicy": "Delete",
            "volumeBindingMode": "Immediate",
        }
        answer = self._client().ensure("/apis/storage.k8s.io/v1/storageclasses", storage_class)
        if not answer.ok:
            raise VotectlError(f"creating StorageClass {STORAGE_CLASS} failed: {answer.message}")

    def _stand_in_controllers(self) -> None:
        """What a real cluster's other controllers would do: give every pending claim of our StorageClass a
        matching volume, as a CSI provisioner would (claims of any other class stay Pending, as they would
        in a cluster without that class); with Argo CD, the operators' status (cluster/operators.py)."""
        from votectl.cluster.operators import report_status

        while not self._stop.wait(0.5):
            with suppress(VotectlError, requests.RequestException):
                if self.options.with_argocd:
                    report_status(self._client())
                claims = self._client().get("/api/v1/persistentvolumeclaims").body.get("items") or []
                for claim in claims:
                    spec = claim.get("spec") or {}
                    pending = (claim.get("status") or {}).get("phase") == "Pending" and not spec.get(
                        "volumeName"
                    )
                    if pending and spec.get("storageClassName") == STORAGE_CLASS:
                        self._client().ensure("/api/v1/persistentvolumes", _volume_for(claim))

    def _start_rollouts(self, binary: Path) -> None:
        client = self._client()
        client.ensure(
            "/api/v1/namespaces",
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ROLLOUTS_NAMESPACE}},
        )
        health, metrics = free_port(), free_port()
        rollouts = Component(
            "rollouts-controller",
            self.state_dir,
            [
                str(binary),
                f"--kubeconfig={self.kubeconfig}",
                "--leader-elect=false",
                f"--healthzPort={health}",
                f"--metricsPort={metrics}",
                "--loglevel=info",
            ],
            port=health,
            health=lambda: _http_ok(f"http://127.0.0.1:{health}/healthz"),
            not_ready="/healthz not 200",
            env={"POD_NAMESPACE": ROLLOUTS_NAMESPACE, "PATH": "/usr/bin:/bin"},
        )
        self._start(rollouts)

    def _start_argocd(self) -> None:
        from votectl.cluster import argocd

        argocd.install_config(self._client())

        def make(
            name: str, argv: list[str], port: int, health: Callable[[], bool], not_ready: str, env: dict
        ):
            return Component(name, self.state_dir, argv, port, health, not_ready, env)

        redis, roles = argocd.components(self.state_dir, self.kubeconfig, make, _http_ok)
        self._start(redis)
        self._start(*roles)

    def _client(self) -> KubeClient:
        if self.client is None:
            raise VotectlError("the local cluster is not running")
        return self.client


def _volume_for(claim: dict) -> dict:
    metadata, spec = claim["metadata"], claim.get("spec") or {}
    size = ((spec.get("resources") or {}).get("requests") or {}).get("storage", "1Gi")
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {
            "name": f"pvc-{metadata['uid']}",
            "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER},
        },
        "spec": {
            "capacity": {"storage": size},
            "accessModes": spec.get("accessModes") or ["ReadWriteOnce"],
            "storageClassName": STORAGE_CLASS,
            "persistentVolumeReclaimPolicy": "Delete",
            "volumeMode": spec.get("volumeMode") or "Filesystem",
            # never mounted: kwok runs no containers; the path only makes the object valid
            "hostPath": {"path": f"/var/lib/votectl-fake/{metadata['uid']}"},
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": metadata["namespace"],
                "name": metadata["name"],
                "uid": metadata["uid"],
            },
        },
    }


def _condition(obj: dict, kind: str) -> bool:
    conditions = (obj.get("status") or {}).get("conditions") or []
    return any(c.get("type") == kind and c.get("status") == "True" for c in conditions)


def _http_ok(url: str, verify: bool = True) -> bool:
    """A component's health endpoint; the controllers serve theirs with a self-signed certificate."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
            return requests.get(url, timeout=2, verify=verify).status_code == 200
    except requests.RequestException:
        return False


def _write_kubeconfig(target: Path, server: str, pki: Pki, user: str) -> None:
    credentials = pki.clients[user]
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "votectl-local",
                "cluster": {"server": server, "certificate-authority": str(pki.ca.cert)},
            }
        ],
        "users": [
            {
                "name": user,
                "user": {"client-certificate": str(credentials.cert), "client-key": str(credentials.key)},
            }
        ],
        "contexts": [{"name": "votectl-local", "context": {"cluster": "votectl-local", "user": user}}],
        "current-context": "votectl-local",
    }
    target.touch(mode=0o600)
    target.write_text(yaml.safe_dump(config, sort_keys=False))


def wait_for(check: Callable[[], bool], timeout: float, what: str, interval: float = 0.5) -> None:
    """Poll until `check` holds, else one clear error naming what did not happen."""
    if not wait_until(check, timeout, interval):
        raise VotectlError(f"timed out after {timeout:g} s waiting for {what}")


def elapsed(since: float) -> str:
    return f"{time.monotonic() - since:.1f} s"
