"""The GitOps loop (`make e2e`) timed: its wall time, and from the summary it writes, how long a merged
promotion takes to be Healthy in staging through real Argo CD and the real Rollouts controller (time
compressed 6x by the loop's override), the rollback's merge to Healthy, and the bootstrap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

from votectl.repo import Repo

from bench.harness import write_result


def main() -> dict:
    root = Repo.current().root
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/loop", "-q", "-p", "no:cacheprovider"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    wall = round(time.perf_counter() - started, 1)
    if result.returncode != 0:
        raise RuntimeError(f"the loop failed: {result.stdout.strip().splitlines()[-1:]}")
    steps = {
        step["step"]: step
        for step in json.loads((root / "test-artifacts/e2e/summary.json").read_text())["steps"]
    }
    healthy = steps["staging: vote canary Healthy"]
    return write_result(
        "gitops_loop",
        {
            "command": "python -m bench gitops_loop",
            "e2e_wall_s": wall,
            "bootstrap_to_synced_healthy_s": steps["bootstrap Synced/Healthy"]["seconds"],
            "staging_merge_to_healthy_s": healthy["merge_to_healthy_seconds"],
            "staging_merge_to_promoted_s": healthy["merge_to_promoted_seconds"],
            "rollback_merge_to_healthy_s": steps["staging: rollback Healthy"]["merge_to_healthy_seconds"],
            "self_heal_s": steps["staging: drift reverted by selfHeal"]["seconds"],
            "prune_s": steps["staging: removed file pruned"]["seconds"],
            "speed": healthy["speed"],
            "cpus": os.cpu_count(),
        },
    )
