"""How long a rehearsal of the staging vote strategy takes, and how fast it catches a 10 % error canary.

1. `votectl rehearse vote --speed 4` through the CLI, wall clock from the command's start to its exit
   (render, start-up of every process, the whole strategy, report, shutdown). Target: <= 3 minutes.
2. The same strategy and speed with `VOTE_FAULT_RATE=0.1` on the canary, REPEATS times in process: which
   analysis aborted the rollout, after how many error-ratio measurements (and how many of them had data:
   a fresh canary's first one may find no series yet), and how long after the 10 % weight was set.
   Target: detected within 2 measurements.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from votectl.rehearsal.driver import RehearsalOptions, rehearse
from votectl.rehearsal.executor import ABORTED, RehearsalResult, outcome_of

from bench.harness import write_result

SPEED = 4.0
RATE = 100.0
REPEATS = 3
TARGET_SECONDS = 180


def _full_strategy() -> dict:
    with tempfile.TemporaryDirectory(prefix="rehearse-bench-") as tmp:
        command = ["votectl", "rehearse", "vote", "--speed", f"{SPEED:g}", "--rate", f"{RATE:g}"]
        started = time.monotonic()
        completed = subprocess.run(
            [sys.executable, "-m", "votectl", *command[1:], "--report", tmp],
            capture_output=True,
            text=True,
            timeout=TARGET_SECONDS * 3,
            check=False,
        )
        seconds = time.monotonic() - started
    return {
        "command": " ".join(command),
        "exit_code": completed.returncode,
        "outcome_line": completed.stdout.strip(),
        "wall_seconds": round(seconds, 1),
        "target_seconds": TARGET_SECONDS,
    }


def _detection(result: RehearsalResult) -> dict:
    deciding = next(record for record in result.analyses if outcome_of(record.runner.phase) == ABORTED)
    measurements = deciding.runner.results["error-ratio"].measurements
    weight_set_at = next(at for at, weight in result.timeline.weights if weight > 0)
    return {
        "outcome": result.outcome,
        "aborted_by": deciding.label,
        "error_ratio_measurements": len(measurements),
        "measurements_with_data": sum(1 for m in measurements if m.value not in (None, "[]")),
        "values": [m.value for m in measurements],
        "seconds_from_weight_10_to_abort": round(measurements[-1].finished_at - weight_set_at, 1),
    }


def _faulty_runs() -> list[dict]:
    runs = []
    for _ in range(REPEATS):
        with tempfile.TemporaryDirectory(prefix="rehearse-bench-") as tmp:
            options = RehearsalOptions(
                "vote", speed=SPEED, rate=RATE, canary_env={"VOTE_FAULT_RATE": "0.1"}, report_dir=Path(tmp)
            )
            result = rehearse(options)
        runs.append(_detection(result) if result.outcome == ABORTED else {"outcome": result.outcome})
    return runs


def main() -> dict:
    full = _full_strategy()
    print(json.dumps(full), flush=True)
    faulty = _faulty_runs()
    return write_result(
        "rehearse_bench",
        {
            "command": "python -m bench rehearse_bench",
            "speed": SPEED,
            "rate_per_second": RATE,
            "full_staging_strategy": full,
            "ten_percent_error_canary": faulty,
        },
    )


if __name__ == "__main__":
    main()
