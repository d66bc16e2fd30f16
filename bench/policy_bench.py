"""The OPA policy pass: all rendered envs, and synthetic envs of 250 to 1,000 objects, in objects/s.

Target (issue 5): the real envs in under 1 second together; cost growing linearly with objects. The
synthetic envs copy the rendered prod env into more namespaces (voting-prod-00, -01, ...), so every copy
carries the same cross-resource work (selectors, budgets, analysis references) as the real one. Times are
medians of ROUNDS in-process `votectl.policy.evaluate` calls after one warm-up (which compiles the
library once, as a verify run does). Wall time and this process's CPU time are both kept: on a shared
machine the CPU time is what a quiet machine's wall time would be (the pass is single-threaded).
"""

from __future__ import annotations

import copy
import os
import statistics
import time

from votectl.policy import evaluate
from votectl.render import render_envs
from votectl.repo import Repo

from bench.harness import write_result

ENVS = Repo.current().env_names

ROUNDS = int(os.environ.get("POLICY_BENCH_ROUNDS", "5"))
SIZES = (250, 500, 1000)
TARGET_REAL_ENVS_S = 1.0


def _median_seconds(run) -> dict[str, float]:
    """Median wall and CPU seconds of `run()`."""
    run()  # warm-up: compiles the policies for this env
    wall, cpu = [], []
    for _ in range(ROUNDS):
        started, started_cpu = time.perf_counter(), time.process_time()
        run()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return {"wall_s": round(statistics.median(wall), 4), "cpu_s": round(statistics.median(cpu), 4)}


def synthetic_env(template: list[dict], size: int) -> list[dict]:
    """`size` objects: copies of the namespaced objects of `template`, one namespace per copy."""
    namespaced = [obj for obj in template if obj.get("metadata", {}).get("namespace")]
    objects: list[dict] = []
    copy_number = 0
    while len(objects) < size:
        for obj in namespaced[: size - len(objects)]:
            clone = copy.deepcopy(obj)
            clone["metadata"]["namespace"] = f"{obj['metadata']['namespace']}-{copy_number:02d}"
            objects.append(clone)
        copy_number += 1
    return objects


def main() -> dict:
    rendered = render_envs(ENVS)
    for env, objects in rendered.items():
        findings = evaluate(objects, env).findings
        if findings:
            raise RuntimeError(f"{env} is not clean ({len(findings)} findings): benchmark a passing env")
    per_env = {env: _median_seconds(lambda env=env: evaluate(rendered[env], env)) for env in ENVS}
    real_objects = sum(len(objects) for objects in rendered.values())
    real = {clock: round(sum(times[clock] for times in per_env.values()), 4) for clock in ("wall_s", "cpu_s")}
    synthetic = {}
    for size in SIZES:
        objects = synthetic_env(rendered["prod"], size)
        times = _median_seconds(lambda objects=objects: evaluate(objects, "prod"))
        synthetic[str(size)] = {**times, "objects_per_cpu_s": round(size / times["cpu_s"])}
    first, last = synthetic[str(SIZES[0])], synthetic[str(SIZES[-1])]
    return write_result(
        "policy_bench",
        {
            "command": ".venv/bin/python -m bench policy_bench",
            "rounds": ROUNDS,
            "real_envs": {
                "objects": real_objects,
                "per_env": per_env,
                "total": real,
                "objects_per_cpu_s": round(real_objects / real["cpu_s"]),
                "target_s": TARGET_REAL_ENVS_S,
                "meets_target_cpu": real["cpu_s"] < TARGET_REAL_ENVS_S,
                "meets_target_wall": real["wall_s"] < TARGET_REAL_ENVS_S,
            },
            "synthetic_prod": synthetic,
            # linear growth: the CPU time ratio should stay close to the object ratio
            "object_ratio": SIZES[-1] / SIZES[0],
            "cpu_time_ratio": round(last["cpu_s"] / first["cpu_s"], 2),
        },
    )


if __name__ == "__main__":
    main()
