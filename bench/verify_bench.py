"""The verify gate beside bare rendering: `votectl verify` (all envs) vs `kubectl kustomize` of each env.

Targets: the offline gate under 2.5x the bare render; `verify --server` under 3x against a running
control plane (`--kubeconfig` of a local cluster, as CI or a developer with `votectl cluster up` has).
All run as the processes a user would start, interleaved so they see the same machine load (medians of
ROUNDS rounds). `verify --server` with its own throwaway control plane is timed too (its start-up is
the API server installing the CRDs, not a ratio of rendering). The fixed start-up costs and an
in-process breakdown say where the offline gate's time goes.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from votectl.render import kubectl, render_envs
from votectl.repo import Repo
from votectl.verify.schemas import SchemaStore, crd_schema_dir

from bench.harness import write_result

if TYPE_CHECKING:
    from votectl.cluster.control_plane import ClusterOptions

ENVS = Repo.current().env_names
ENVS_DIR = Repo.current().envs_dir

ROUNDS = int(os.environ.get("VERIFY_BENCH_ROUNDS", "7"))
TARGET_RATIO = 2.5
TARGET_SERVER_RATIO = 3.0


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed(command: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall and CPU seconds of one process; CPU time barely depends on what else the machine runs."""
    cpu, started = _children_cpu(), time.perf_counter()
    result = subprocess.run(command, capture_output=True, env=env, check=False)
    return time.perf_counter() - started, _children_cpu() - cpu, result.returncode


def _run(command: list[str], env: dict[str, str], ok_codes: tuple[int, ...]) -> tuple[float, float]:
    wall, cpu, code = _timed(command, env)
    if code not in ok_codes:
        raise RuntimeError(f"{' '.join(command)} exited {code}")
    return wall, cpu


def _round(
    render_commands: list[list[str]],
    verify_command: list[str],
    server_command: list[str],
    env: dict[str, str],
) -> dict:
    """One bare render of every env (one after another), one verify, one verify --server: same load."""
    renders = [_run(command, env, (0,)) for command in render_commands]
    verify_wall, verify_cpu = _run(verify_command, env, (0, 1))  # 1 = findings: still a full gate run
    server_wall, _ = _run(server_command, env, (0, 1))
    return {
        "render_wall": sum(wall for wall, _ in renders),
        "render_cpu": sum(cpu for _, cpu in renders),
        "verify_wall": verify_wall,
        "verify_cpu": verify_cpu,
        "server_wall": server_wall,
    }


def _startup(env: dict[str, str]) -> dict[str, float]:
    """Fixed costs in every votectl run: the interpreter, and the CLI importing every command module."""
    commands = {
        "python_start_s": [sys.executable, "-c", "pass"],
        "votectl_cli_start_s": [sys.executable, "-c", "import votectl.cli as c; c.build_parser()"],
    }
    return {
        name: round(statistics.median(_run(command, env, (0,))[0] for _ in range(ROUNDS)), 4)
        for name, command in commands.items()
    }


def _breakdown(schema_dir: Path) -> dict[str, float]:
    """One in-process run split into its stages, policies one env after another (the gate runs them in
    threads); cold caches: the first use of each schema compiles it."""
    from votectl.policy import evaluate
    from votectl.verify.crossref import cross_check

    stages: dict[str, float] = {}
    started = time.perf_counter()
    rendered = render_envs(ENVS)
    stages["render_parallel_s"] = time.perf_counter() - started
    store = SchemaStore(schema_dir)
    started = time.perf_counter()
    for objects in rendered.values():
        for obj in objects:
            store.errors(obj)
    stages["schema_s"] = time.perf_counter() - started
    started = time.perf_counter()
    for objects in rendered.values():
        list(cross_check(objects))
    stages["crossref_s"] = time.perf_counter() - started
    started = time.perf_counter()
    for env, objects in rendered.items():
        evaluate(objects, env)
    stages["policies_s"] = time.perf_counter() - started
    stages["objects"] = sum(len(objects) for objects in rendered.values())
    return {key: round(value, 4) for key, value in stages.items()}


def _rounds_against(
    options: ClusterOptions, render_commands: list[list[str]], verify_command: list[str], env: dict[str, str]
) -> list[dict]:
    """ROUNDS rounds with `verify --server --kubeconfig` against a control plane started for them: a
    whole one (its controllers and kwok share the two cores, as they would not with a remote cluster),
    or the API server and etcd alone (what a remote cluster leaves on this machine: its API server's
    share of the work). Namespaces are made as Argo CD makes them, with their default service account."""
    import tempfile

    from votectl.cluster.client import KubeClient
    from votectl.cluster.control_plane import LocalCluster
    from votectl.cluster.workloads import create_namespace

    with (
        tempfile.TemporaryDirectory(prefix="verify-bench-") as scratch,
        LocalCluster(Path(scratch) / "cluster", options) as cluster,
    ):
        with KubeClient(cluster.kubeconfig) as client:
            for name in ENVS:
                namespace = create_namespace(client, Repo.current().env(name))
                account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "default"}}
                client.ensure(f"/api/v1/namespaces/{namespace}/serviceaccounts", account)
        server_command = [*verify_command, "--server", "--kubeconfig", str(cluster.kubeconfig)]
        _round(render_commands, verify_command, server_command, env)  # warm caches and .pyc files
        return [_round(render_commands, verify_command, server_command, env) for _ in range(ROUNDS)]


def _throwaway_server(env: dict[str, str]) -> float:
    """`verify --server` as CI runs it: its own etcd and kube-apiserver, started and removed."""
    command = [sys.executable, "-m", "votectl", "verify", "--server", "--format", "json"]
    return round(statistics.median(_run(command, env, (0, 1))[0] for _ in range(3)), 2)


def main() -> dict:

    from votectl.cluster.control_plane import ClusterOptions

    schema_dir = crd_schema_dir(None)
    env = {**os.environ, "CRD_SCHEMA_DIR": str(schema_dir)}
    render_commands = [[str(kubectl()), "kustomize", str(ENVS_DIR / name)] for name in ENVS]
    verify_command = [sys.executable, "-m", "votectl", "verify", "--format", "json"]
    rounds = _rounds_against(ClusterOptions(), render_commands, verify_command, env)
    api_only = _rounds_against(ClusterOptions(workloads=False), render_commands, verify_command, env)
    throwaway = _throwaway_server(env)

    def median(key: str) -> float:
        return round(statistics.median(measured[key] for measured in rounds), 4)

    ratio = statistics.median(measured["verify_wall"] / measured["render_wall"] for measured in rounds)
    server_ratio = statistics.median(measured["server_wall"] / measured["render_wall"] for measured in rounds)
    api_ratio = statistics.median(measured["server_wall"] / measured["render_wall"] for measured in api_only)
    api_wall = statistics.median(measured["server_wall"] for measured in api_only)
    cpu_ratio = statistics.median(measured["verify_cpu"] / measured["render_cpu"] for measured in rounds)
    result = {
        "command": "python -m bench verify_bench",
        "rounds": ROUNDS,
        "envs": list(ENVS),
        "bare_render_sequential_wall_s": median("render_wall"),
        "verify_wall_s": median("verify_wall"),
        "ratio_wall": round(ratio, 2),
        "target_ratio": TARGET_RATIO,
        "met": ratio <= TARGET_RATIO,
        "server_against_running_cluster_wall_s": median("server_wall"),
        "server_ratio_wall": round(server_ratio, 2),
        "server_target_ratio": TARGET_SERVER_RATIO,
        "server_met": server_ratio <= TARGET_SERVER_RATIO,
        "server_against_api_server_only_wall_s": round(api_wall, 3),
        "server_against_api_server_only_ratio_wall": round(api_ratio, 2),
        "server_with_throwaway_control_plane_wall_s": throwaway,
        "bare_render_cpu_s": median("render_cpu"),
        "verify_cpu_s": median("verify_cpu"),
        "ratio_cpu": round(cpu_ratio, 2),
        "startup": _startup(env),
        "breakdown_in_process": _breakdown(schema_dir),
    }
    return write_result("verify_bench", result)


if __name__ == "__main__":
    main()
