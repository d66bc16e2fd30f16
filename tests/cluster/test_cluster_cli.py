"""`votectl cluster up/env/down`: a detached control plane that is usable, and gone without a trace."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from votectl.cluster.client import KubeClient

ROOT = Path(__file__).resolve().parents[2]


def votectl(state: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VOTECTL_CLUSTER_DIR": str(state)}
    return subprocess.run(
        [sys.executable, "-m", "votectl", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def processes_under(state: Path) -> list[str]:
    """Every process whose command line names the cluster's state directory (all of its components do)."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        with contextlib.suppress(psutil.Error):
            if any(str(state) in part for part in process.info["cmdline"] or []):
                found.append(" ".join(process.info["cmdline"][:2]))
    return found


def argocd_roles(state: Path) -> list[str]:
    """The roles the `argocd` processes of this cluster run as (the binary reads ARGOCD_BINARY_NAME; the
    repo-server's command line names no path, its KUBECONFIG does)."""
    roles = []
    for process in psutil.process_iter():
        with contextlib.suppress(psutil.Error):
            environ = process.environ()
            if str(state) in environ.get("KUBECONFIG", "") and environ.get("ARGOCD_BINARY_NAME"):
                roles.append(environ["ARGOCD_BINARY_NAME"])
    return sorted(roles)


@pytest.mark.slow
def test_up_env_down(tmp_path: Path) -> None:
    state = tmp_path / "cluster"
    up = votectl(state, "cluster", "up")
    assert up.returncode == 0, up.stderr
    kubeconfig = state / "cluster" / "kubeconfig"
    assert up.stdout == f"export KUBECONFIG={kubeconfig}\n"
    assert "local cluster ready in" in up.stderr
    assert votectl(state, "cluster", "env").stdout == up.stdout
    assert votectl(state, "cluster", "up").stdout == up.stdout  # a second up finds the running one
    with KubeClient(kubeconfig) as client:
        nodes = client.get("/api/v1/nodes").body["items"]
        assert len(nodes) == 3
        crds = client.get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions").body["items"]
        assert {"rollouts.argoproj.io", "externalsecrets.external-secrets.io"} <= {
            c["metadata"]["name"] for c in crds
        }
    running = processes_under(state)
    assert len(running) >= 6, running  # supervisor, etcd, kube-apiserver, controller-manager, scheduler, kwok
    down = votectl(state, "cluster", "down")
    assert (down.returncode, down.stderr) == (0, "local cluster stopped\n")
    assert processes_under(state) == []
    gone = votectl(state, "cluster", "env")
    assert (gone.returncode, gone.stderr) == (
        2,
        "votectl: error: no local cluster is running: start one with `votectl cluster up`\n",
    )
    assert votectl(state, "cluster", "down").stderr == "no local cluster was running\n"


@pytest.mark.slow
def test_ctrl_c_while_starting_leaves_nothing_running(tmp_path: Path) -> None:
    state = tmp_path / "cluster"
    env = {**os.environ, "VOTECTL_CLUSTER_DIR": str(state)}
    process = subprocess.Popen(
        [sys.executable, "-m", "votectl", "cluster", "up"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    log = state / "supervisor.log"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and "kube-apiserver" not in (log.read_text() if log.exists() else ""):
        time.sleep(0.1)
    assert any("kube-apiserver" in p for p in processes_under(state)) or "kube-apiserver" in log.read_text()
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=60)
    assert process.returncode == 130
    deadline = time.monotonic() + 30
    while processes_under(state) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_under(state) == []
    assert votectl(state, "cluster", "env").returncode == 2


def test_nodes_out_of_range_is_one_line(tmp_path: Path) -> None:
    result = votectl(tmp_path, "cluster", "up", "--nodes", "0")
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr == "votectl: error: --nodes must be between 1 and 50, got 0\n"


@pytest.mark.slow
def test_up_with_argocd_runs_its_three_roles_and_refuses_unknown_extras(tmp_path: Path) -> None:
    state = tmp_path / "cluster"
    bad = votectl(state, "cluster", "up", "--with", "rollouts,helm")
    assert bad.returncode == 2 and "expected some of rollouts, argocd, got 'rollouts,helm'" in bad.stderr
    plain = votectl(state, "cluster", "up")
    assert plain.returncode == 0, plain.stderr
    refused = votectl(state, "cluster", "up", "--with", "argocd")
    assert refused.returncode == 2
    assert refused.stderr == (
        "votectl: error: a local cluster without argocd, rollouts is running: `votectl cluster down` first\n"
    )
    assert votectl(state, "cluster", "down").returncode == 0
    up = votectl(state, "cluster", "up", "--with", "rollouts,argocd")
    assert up.returncode == 0, up.stderr
    try:
        assert argocd_roles(state) == [
            "argocd-application-controller",
            "argocd-applicationset-controller",
            "argocd-repo-server",
        ]
        with KubeClient(state / "cluster" / "kubeconfig") as client:
            config = client.get("/api/v1/namespaces/argocd/configmaps/argocd-cm")
            assert config.ok, config.message
    finally:
        assert votectl(state, "cluster", "down").returncode == 0
    assert processes_under(state) == []
