"""Every row of the condition table through the controller's own evaluator, and through votectl's.

rollouts-evaluate (engines/argo-rollouts/cmd/rollouts-evaluate) calls argo-rollouts v1.9.1's
utils/evaluate.EvaluateResult, with `result` typed as the Prometheus provider types it (float64 for a
scalar, []float64 for a vector). One process evaluates the whole table. For each row the Go phase,
votectl's phase and the table's phase must be the same, except for the rows in INTENDED.
"""

from __future__ import annotations

import json
import subprocess
import time
from typing import Any

import pytest
from condition_cases import CASES
from votectl.analysis.conditions import evaluate_result
from votectl.analysis.errors import ExprError
from votectl.engines.build import path

# Rows where votectl deliberately differs from the controller: id -> (the controller's phase, why).
# The table keeps votectl's phase for these rows; the Go phase must still be the one written here.
INTENDED: dict[str, tuple[str, str]] = {
    "matches is unsupported": (
        "Successful",
        "votectl implements the part of expr-lang that applies to numeric results and refuses the rest "
        "(string operators, ranges, pipes, member access, string and date builtins) as an Error rather "
        "than guess at it; `result matches ...` is a type error in Go as well",
    ),
    "int() of NaN is refused: Go's value depends on the CPU": (
        "Successful",
        "Go's float-to-int conversion of NaN, Inf or a value beyond int64 is implementation-dependent "
        "(amd64 gives -2**63, arm64 0 or the nearest bound), so votectl reports an Error instead of "
        "adopting one CPU's answer",
    ),
}


def _encode(result: Any) -> dict[str, Any]:
    """Floats as strconv text (repr round-trips exactly, and carries nan/inf, which JSON cannot)."""
    if isinstance(result, float):
        return {"scalar": repr(result)}
    if isinstance(result, list) and all(isinstance(value, float) for value in result):
        return {"vector": [repr(value) for value in result]}
    raise TypeError(f"a Prometheus result is a float or a list of floats, not {result!r}")


@pytest.fixture(scope="module")
def argo_phases() -> dict[str, dict[str, str]]:
    """id -> {"phase", "error"} from one run of rollouts-evaluate over the whole table."""
    ids = [case[0] for case in CASES]
    assert len(set(ids)) == len(ids), "row ids must be unique"
    lines = "".join(
        json.dumps({"id": id_, "success": success, "failure": failure, "result": _encode(result)}) + "\n"
        for id_, success, failure, result, _ in CASES
    )
    started = time.monotonic()
    run = subprocess.run(
        [str(path("rollouts-evaluate"))], input=lines, capture_output=True, text=True, timeout=60, check=False
    )
    elapsed = time.monotonic() - started
    assert run.returncode == 0, run.stderr
    answers = [json.loads(line) for line in run.stdout.splitlines()]
    assert [answer["id"] for answer in answers] == ids
    print(f"rollouts-evaluate: {len(ids)} rows in {elapsed * 1000:.0f} ms")
    return {answer["id"]: answer for answer in answers}


def _ours(success: str, failure: str, result: Any) -> tuple[str, str]:
    try:
        return evaluate_result(result, success, failure), ""
    except ExprError as err:
        return "Error", str(err)


@pytest.mark.parametrize(("id_", "success", "failure", "result", "phase"), CASES, ids=[c[0] for c in CASES])
def test_same_phase_as_the_controller(
    argo_phases: dict[str, dict[str, str]], id_: str, success: str, failure: str, result: Any, phase: str
) -> None:
    go = argo_phases[id_]
    ours, our_error = _ours(success, failure, result)
    expected_go = INTENDED[id_][0] if id_ in INTENDED else phase
    go_error = go.get("error", "")
    detail = (
        f"success={success!r} failure={failure!r} result={result!r}: table {phase}, "
        f"votectl {ours} {our_error!r}, argo-rollouts {go['phase']} {go_error!r}"
    )
    assert ours == phase, detail
    assert go["phase"] == expected_go, detail


def test_intended_differences_are_rows_that_differ() -> None:
    table = {case[0]: case[4] for case in CASES}
    for id_, (go_phase, reason) in INTENDED.items():
        assert id_ in table, f"INTENDED names no row: {id_!r}"
        assert go_phase != table[id_] and reason, f"{id_!r} is not a difference"
