"""Start, find and stop the detached local cluster of `votectl cluster up/down/env`.

One cluster per checkout, under `.state/cluster/` (VOTECTL_CLUSTER_DIR moves it). `up` returns once the
cluster is ready and leaves the supervisor running; Ctrl-C while it starts stops everything it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from votectl.cluster.supervisor import FAILED, PID, READY
from votectl.errors import VotectlError
from votectl.localstack.process import last_log_line
from votectl.repo import Repo

DIR_ENV = "VOTECTL_CLUSTER_DIR"
START_TIMEOUT = 180.0


@dataclass(frozen=True)
class Running:
    kubeconfig: Path
    pids: dict[str, int]
    extras: frozenset[str]  # "rollouts", "argocd"


def run_dir() -> Path:
    override = os.environ.get(DIR_ENV)
    return Path(override).resolve() if override else Repo.current().root / ".state" / "cluster"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _supervisor_pid(directory: Path) -> int | None:
    try:
        pid = int((directory / PID).read_text().strip())
    except (OSError, ValueError):
        return None
    return pid if _alive(pid) else None


def running(directory: Path | None = None) -> Running | None:
    directory = directory or run_dir()
    if _supervisor_pid(directory) is None:
        return None
    try:
        ready = json.loads((directory / READY).read_text())
    except (OSError, ValueError):
        return None
    return Running(Path(ready["kubeconfig"]), dict(ready["pids"]), frozenset(ready.get("extras") or []))


def up(extras: set[str], nodes: int, say: Callable[[str], None]) -> Running:
    """`extras`: "rollouts" and/or "argocd" (Argo CD brings Argo Rollouts: the envs' Rollouts need it)."""
    extras = set(extras) | ({"rollouts"} if "argocd" in extras else set())
    directory = run_dir()
    current = running(directory)
    if current is not None:
        missing = extras - current.extras
        if missing:
            without = ", ".join(sorted(missing))
            raise VotectlError(f"a local cluster without {without} is running: `votectl cluster down` first")
        return current
    if _supervisor_pid(directory) is not None:
        raise VotectlError(f"a local cluster is still starting or stopping in {directory}")
    directory.mkdir(parents=True, exist_ok=True)
    for name in (READY, FAILED):
        (directory / name).unlink(missing_ok=True)
    _check_engines(extras)
    log = directory / "supervisor.log"
    argv = [sys.executable, "-m", "votectl.cluster.supervisor", str(directory), f"--nodes={nodes}"]
    argv += [f"--with-{name}" for name in sorted(extras)]
    with log.open("wb") as output:
        process = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=Repo.current().root,
            start_new_session=True,  # outlives this command; `down` stops it
        )
    (directory / PID).write_text(str(process.pid))
    try:
        return _wait_started(directory, process, log, say)
    except BaseException:
        _stop_process(process.pid)
        (directory / PID).unlink(missing_ok=True)
        raise


def _check_engines(extras: set[str]) -> None:
    """Refuse in this process, with the command that fixes it, before a detached start fails."""
    from votectl.cluster.control_plane import ClusterOptions, LocalCluster
    from votectl.engines.build import path

    options = ClusterOptions(with_rollouts="rollouts" in extras, with_argocd="argocd" in extras)
    for name in LocalCluster(run_dir() / "cluster", options).engines():
        path(name)


def _wait_started(
    directory: Path, process: subprocess.Popen, log: Path, say: Callable[[str], None]
) -> Running:
    deadline = time.monotonic() + START_TIMEOUT
    shown = ""
    while time.monotonic() < deadline:
        if (directory / FAILED).exists():
            raise VotectlError((directory / FAILED).read_text().strip())
        if process.poll() is not None:
            raise VotectlError(f"the cluster supervisor exited ({process.returncode}): {last_log_line(log)}")
        current = running(directory)
        if current is not None:
            return current
        line = last_log_line(log)
        if line != shown and not line.startswith("("):
            say(line)
            shown = line
        time.sleep(0.2)
    raise VotectlError(f"the local cluster was not ready within {START_TIMEOUT:g} s: {last_log_line(log)}")


def down() -> bool:
    """Stop the cluster; False when none was running."""
    directory = run_dir()
    pid = _supervisor_pid(directory)
    if pid is None:
        (directory / READY).unlink(missing_ok=True)
        return False
    _stop_process(pid)
    for name in (READY, PID):
        (directory / name).unlink(missing_ok=True)
    return True


def _stop_process(pid: int, timeout: float = 30.0) -> None:
    """SIGTERM lets the supervisor stop its children in order; then the whole group is killed."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and _alive(pid):
        _reap(pid)
        time.sleep(0.1)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGKILL)
        _reap(pid)


def _reap(pid: int) -> None:
    """Collect our own child's exit status so it does not linger as a zombie that looks alive."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
