"""How long a rehearsal of the staging vote strategy takes, how fast it catches a 10 % error canary, and how
well `votectl analyze --replay` agrees with the real controller.

1. `votectl rehearse vote --speed 4` through the CLI, wall clock from the command's start to its exit
   (render, start-up of every process, the control plane for --controller argo, the whole strategy,
   report, shutdown), under the real controller (target: under 4 minutes) and under votectl's model
   (target: under 3 minutes).
2. The same strategy and speed with `VOTE_FAULT_RATE=0.1` on the canary, REPEATS times per controller:
   which analysis aborted the rollout, after how many error-ratio measurements. Target: 2.
3. Every AnalysisRun the controller created in these runs, replayed over the same template, args and
   window: the share whose replayed phase is the controller's (target: 100 %), and the measurements
   with the very same value.
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
TARGETS = {"argo": 240, "votectl": 180}


def _full_strategy(controller: str, report: Path) -> dict:
    command = ["votectl", "rehearse", "vote", "--speed", f"{SPEED:g}", "--rate", f"{RATE:g}"]
    command += ["--controller", controller]
    started = time.monotonic()
    completed = subprocess.run(
        [sys.executable, "-m", "votectl", *command[1:], "--report", str(report)],
        capture_output=True,
        text=True,
        timeout=TARGETS[controller] * 3,
        check=False,
    )
    seconds = time.monotonic() - started
    return {
        "command": " ".join(command),
        "exit_code": completed.returncode,
        "outcome_line": completed.stdout.strip() or completed.stderr.strip()[-300:],
        "wall_seconds": round(seconds, 1),
        "target_seconds": TARGETS[controller],
    }


def _detection_model(result: RehearsalResult) -> dict:
    deciding = next(record for record in result.analyses if outcome_of(record.runner.phase) == ABORTED)
    measurements = deciding.runner.results["error-ratio"].measurements
    return {
        "outcome": result.outcome,
        "aborted_by": deciding.label,
        "error_ratio_measurements": len(measurements),
        "values": [m.value for m in measurements],
    }


def _detection_controller(report: dict) -> dict:
    failed = [run for run in report["analysis_runs"] if run["controller"]["phase"] in ("Failed", "Error")]
    if not failed:
        return {"outcome": report["outcome"]}
    measurements = [m for m in failed[0]["controller"]["measurements"] if m["metric"] == "error-ratio"]
    return {
        "outcome": report["outcome"],
        "aborted_by": failed[0]["label"],
        "error_ratio_measurements": len(measurements),
        "values": [m.get("value") for m in measurements],
    }


def _faulty_runs(controller: str, reports: list[dict]) -> list[dict]:
    runs = []
    for _ in range(REPEATS):
        with tempfile.TemporaryDirectory(prefix="rehearse-bench-") as tmp:
            options = RehearsalOptions(
                "vote",
                speed=SPEED,
                rate=RATE,
                canary_env={"VOTE_FAULT_RATE": "0.1"},
                report_dir=Path(tmp),
                controller=controller,
            )
            result = rehearse(options)
            if controller == "argo":
                report = json.loads((Path(tmp) / "rehearsal.json").read_text())
                reports.append(report)
                runs.append(_detection_controller(report))
            else:
                runs.append(
                    _detection_model(result) if result.outcome == ABORTED else {"outcome": result.outcome}
                )
    return runs


def _agreement(reports: list[dict]) -> dict:
    runs = [run for report in reports for run in report["analysis_runs"] if run["agrees"] is not None]
    values = [run["values"] for run in runs]
    return {
        "analysis_runs": len(runs),
        "phase_agrees": sum(run["agrees"] for run in runs),
        "phase_agreement_percent": round(100 * sum(run["agrees"] for run in runs) / len(runs), 1)
        if runs
        else None,
        "measurements_compared": sum(v["compared"] for v in values),
        "measurements_equal": sum(v["equal"] for v in values),
        "first_measurement_equal": sum(v["first_equal"] for v in values),
        "max_relative_difference": max((v["max_relative_difference"] for v in values), default=0.0),
    }


def main() -> dict:
    reports: list[dict] = []
    full = {}
    for controller in ("argo", "votectl"):
        with tempfile.TemporaryDirectory(prefix="rehearse-bench-") as tmp:
            full[controller] = _full_strategy(controller, Path(tmp))
            if controller == "argo" and (Path(tmp) / "rehearsal.json").is_file():
                reports.append(json.loads((Path(tmp) / "rehearsal.json").read_text()))
        print(json.dumps(full[controller]), flush=True)
    faulty = {controller: _faulty_runs(controller, reports) for controller in ("argo", "votectl")}
    return write_result(
        "rehearse_bench",
        {
            "command": "python -m bench rehearse_bench",
            "speed": SPEED,
            "rate_per_second": RATE,
            "full_staging_strategy": full,
            "ten_percent_error_canary": faulty,
            "replay_against_controller": _agreement(reports),
        },
    )


if __name__ == "__main__":
    main()
