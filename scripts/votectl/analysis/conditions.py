"""A measurement's verdict from successCondition/failureCondition, as utils/evaluate/evaluate.go decides it.

No condition at all is Successful (the docs say Inconclusive; the code and its tests say Successful).
With one condition the other is its negation; with both, failure wins, and neither true is Inconclusive.
"""

from __future__ import annotations

from typing import Any

from votectl.analysis.expr import evaluate_bool
from votectl.analysis.phases import FAILED, INCONCLUSIVE, SUCCESSFUL


def evaluate_result(result: Any, success_condition: str, failure_condition: str) -> str:
    """The measurement phase; raises ExprError (-> measurement Error) when a condition cannot be evaluated."""
    success = evaluate_bool(success_condition, result) if success_condition else False
    failure = evaluate_bool(failure_condition, result) if failure_condition else False
    if not success_condition and not failure_condition:
        return SUCCESSFUL
    if success_condition and not failure_condition:
        failure = not success
    elif failure_condition and not success_condition:
        success = not failure
    if failure:
        return FAILED
    return SUCCESSFUL if success else INCONCLUSIVE
