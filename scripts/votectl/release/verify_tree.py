"""Runs the verify gate on an edited tree, as a child process: promote and rollback commit only what the
same `votectl verify` developers and CI run accepts (the gate itself is votectl.verify.gate)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from votectl.errors import VotectlError


@dataclass(frozen=True)
class GateResult:
    command: str
    summary: str  # the last line verify printed, quoted in the PR body


def run(tree: Path, env: str) -> GateResult:
    """Run verify as a child process in the edited tree; refuse when it finds anything.

    verify checks the checkout it runs in (votectl.repo); PYTHONPATH also makes the child run the tree's
    own votectl, so a change to the gate itself is judged by the changed gate.
    """
    argv = [sys.executable, "-m", "votectl", "verify", "--env", env]
    command = f"votectl verify --env {env}"
    environ = dict(os.environ)
    if (tree / "scripts" / "votectl").is_dir():
        environ["PYTHONPATH"] = os.pathsep.join(
            filter(None, [str(tree / "scripts"), environ.get("PYTHONPATH")])
        )
    proc = subprocess.run(argv, cwd=tree, env=environ, capture_output=True, text=True, check=False)
    lines = [line.strip() for line in (proc.stdout + proc.stderr).splitlines() if line.strip()]
    summary = lines[-1] if lines else f"exit {proc.returncode}"
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout + proc.stderr)
        raise VotectlError(f"`{command}` failed on the edited tree, nothing was committed: {summary}")
    return GateResult(command=command, summary=summary)
