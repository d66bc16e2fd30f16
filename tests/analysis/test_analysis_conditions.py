"""The measurement verdict: our expr-lang evaluator plus evaluate.go's rules, case by case.

The case table is condition_cases.CASES; test_conditions_against_argo runs the same rows through the
controller's own evaluator.
"""

from __future__ import annotations

import math

import pytest
from condition_cases import CASES
from votectl.analysis.conditions import evaluate_result
from votectl.analysis.errors import ExprError
from votectl.analysis.expr import evaluate
from votectl.analysis.goformat import format_float, format_values

NAN = math.nan
INF = math.inf


@pytest.mark.parametrize(
    ("success", "failure", "result", "phase"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_measurement_phase(success: str, failure: str, result: object, phase: str) -> None:
    try:
        got = evaluate_result(result, success, failure)
    except ExprError:
        got = "Error"
    assert got == phase


def test_error_messages_say_what_is_wrong() -> None:
    cases = {
        "result.value": "unsupported syntax",
        "result matches 'x'": "unsupported or invalid syntax",
        "percentile(result)": "unsupported function percentile()",
        "len(result)": "invalid argument for len (type float64)",
        "first([]) < 1": "invalid operation: nil < int",
        "[1][3]": "index out of range: 3 (array length is 1)",
    }
    for source, message in cases.items():
        with pytest.raises(
            ExprError, match=message.replace("(", r"\(").replace(")", r"\)").replace("[", r"\[")
        ):
            evaluate(source, 0.5)


def test_values_keep_expr_types() -> None:
    assert evaluate("1 + 2", None) == 3 and isinstance(evaluate("1 + 2", None), int)
    assert isinstance(evaluate("1 + 2.0", None), float)
    assert evaluate("7 % -3", None) == 1 and evaluate("-7 % 3", None) == -1  # Go truncates
    assert evaluate("filter([1, 2, 3], # > 1)", None) == [2, 3]
    assert evaluate("result[-2:]", [1.0, 2.0, 3.0]) == [2.0, 3.0]
    assert math.isnan(evaluate("0 / 0", None))


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.01, "0.01"),
        (2.0, "2"),
        (1e-10, "0.0000000001"),
        (1e21, "1000000000000000000000"),
        (0.1 + 0.2, "0.30000000000000004"),
        (-3.5, "-3.5"),
        (NAN, "NaN"),
        (INF, "+Inf"),
        (-INF, "-Inf"),
    ],
)
def test_stored_value_is_formatted_like_go(value: float, text: str) -> None:
    assert format_float(value) == text


def test_vector_value_format() -> None:
    assert format_values([]) == "[]"
    assert format_values([0.01, 0.02, NAN]) == "[0.01,0.02,NaN]"
