"""How long the engines take to build: cold (empty Go module and build caches, as on a fresh machine),
relinked (warm Go caches, no binaries: a fresh clone on a machine that built before), and reused (all
built: the second `votectl engines build`). The cold run downloads every module through the proxy, so
its time includes the network; it uses private caches and leaves the real ones alone.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from votectl.repo import Repo

from bench.harness import write_result


def _build(env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "votectl", "engines", "build"],
        cwd=Repo.current().root,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise RuntimeError(f"votectl engines build failed: {result.stderr.strip()}")
    return round(time.perf_counter() - started, 1)


def main() -> dict:
    scratch = Path(tempfile.mkdtemp(prefix="bench-engines-"))
    try:
        cold_env = {
            **os.environ,
            "VOTECTL_ENGINES": str(scratch / "cold-engines"),
            "GOMODCACHE": str(scratch / "gomod"),
            "GOCACHE": str(scratch / "gobuild"),
        }
        cold = _build(cold_env) if os.environ.get("ENGINES_BENCH_COLD", "1") == "1" else None
        relink = _build({**os.environ, "VOTECTL_ENGINES": str(scratch / "warm-engines")})
        reuse = _build({**os.environ, "VOTECTL_ENGINES": str(scratch / "warm-engines")})
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(scratch)], check=False)  # the module cache is read-only
        shutil.rmtree(scratch, ignore_errors=True)
    result = {
        "command": "python -m bench engines_build",
        "cold_build_all_s": cold,
        "relink_with_warm_go_caches_s": relink,
        "second_build_all_built_s": reuse,
        "cpus": os.cpu_count(),
    }
    return write_result("engines_build", result)
