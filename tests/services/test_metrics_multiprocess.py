"""Metrics of forked processes (gunicorn workers) land in files of their own and are summed on /metrics.

votingcommon.metrics reads the process id once and again after each fork instead of on every increment;
a child writing into its parent's file would make the merged counters wrong.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

_SCRIPT = """
import os, sys
from votingcommon import metrics

metrics.PROCESSED.inc()  # the parent, before forking
children = []
for _ in range(2):
    pid = os.fork()
    if pid == 0:
        metrics.PROCESSED.inc(10)
        os._exit(0)
    children.append(pid)
for pid in children:
    os.waitpid(pid, 0)
print(" ".join(str(p) for p in [os.getpid(), *children]))
sys.stdout.write(metrics.render()[0].decode())
"""


def test_forked_workers_count_in_their_own_files(tmp_path: Path) -> None:
    env = {"PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT], env=env, capture_output=True, text=True, check=True, timeout=60
    )
    pids, _, exposition = result.stdout.partition("\n")
    assert sorted(path.name for path in tmp_path.glob("counter_*.db")) == sorted(
        f"counter_{pid}.db" for pid in pids.split()
    )
    assert "votes_processed_total 21.0" in exposition.splitlines()
