"""Value rules of expr-lang as Argo conditions see them: int vs float, Go float arithmetic, equality, order.

Python's bool is an int subclass and Python raises where Go returns Inf or NaN, so every rule is spelled
out here once and shared by the operators and the builtins.
"""

from __future__ import annotations

import math
from typing import Any

from votectl.analysis.errors import ExprError


def type_name(value: Any) -> str:
    """expr-lang's name for a value's type, used in every type error message."""
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def require_number(value: Any, what: str) -> int | float:
    if not is_number(value):
        raise ExprError(f"invalid argument for {what} (type {type_name(value)})")
    return value


def require_list(value: Any, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise ExprError(f"invalid argument for {what} (type {type_name(value)}): expected an array")
    return value


def require_bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise ExprError(f"{what} must be a bool, got {type_name(value)}")
    return value


def equal(left: Any, right: Any) -> bool:
    """expr's `==`: numbers compare by value across int/float (NaN never equal), other types must match."""
    if is_number(left) and is_number(right):
        return left == right
    if isinstance(left, list) and isinstance(right, list):
        return len(left) == len(right) and all(equal(a, b) for a, b in zip(left, right, strict=True))
    if type_name(left) != type_name(right):
        return False
    return bool(left == right)


def compare(op: str, left: Any, right: Any) -> bool:
    """expr's comparisons: `==`/`!=` never fail; ordering needs two numbers or two strings."""
    if op == "==":
        return equal(left, right)
    if op == "!=":
        return not equal(left, right)
    numbers = is_number(left) and is_number(right)
    if not (numbers or (isinstance(left, str) and isinstance(right, str))):
        raise ExprError(f"invalid operation: {type_name(left)} {op} {type_name(right)}")
    if op == "<":
        return bool(left < right)
    if op == ">":
        return bool(left > right)
    if op == "<=":
        return bool(left <= right)
    return bool(left >= right)


def go_divide(left: float, right: float) -> float:
    """Go float division: x/0 is +-Inf and 0/0 is NaN instead of an exception."""
    if right == 0:
        if left == 0 or math.isnan(left):
            return math.nan
        return math.copysign(math.inf, left) * math.copysign(1.0, right)
    return left / right


def go_pow(base: float, exponent: float) -> float:
    """math.Pow: overflow gives Inf, a zero base with a negative exponent gives Inf, domain errors NaN."""
    try:
        return math.pow(base, exponent)
    except OverflowError:
        return math.inf
    except (ValueError, ZeroDivisionError):
        if base == 0 and exponent < 0:
            return math.inf
        return math.nan


def arithmetic(op: str, left: Any, right: Any) -> Any:
    """Binary arithmetic with expr-lang's typing: int op int stays int, except `/` and `**` (float)."""
    if op == "+" and isinstance(left, str) and isinstance(right, str):
        return left + right
    if not (is_number(left) and is_number(right)):
        raise ExprError(f"invalid operation: {type_name(left)} {op} {type_name(right)}")
    both_int = isinstance(left, int) and isinstance(right, int)
    if op == "+":
        return left + right
    if op == "-":
        return left - right
    if op == "*":
        return left * right
    if op == "/":
        return go_divide(float(left), float(right))
    if op == "%":
        if not both_int:
            raise ExprError(f"invalid operation: {type_name(left)} % {type_name(right)}")
        if right == 0:
            raise ExprError("integer divide by zero")
        remainder = abs(left) % abs(right)  # Go truncates: the sign follows the dividend
        return -remainder if left < 0 else remainder
    return go_pow(float(left), float(right))
