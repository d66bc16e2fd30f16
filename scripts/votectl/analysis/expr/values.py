"""Value rules of expr-lang as Argo conditions see them: int vs float, Go float arithmetic, equality, order.

Python's bool is an int subclass, Python ints never overflow (Go's int is 64 bits and wraps), Python
compares int with float exactly (Go converts the int to float64 first) and Python raises where Go returns
Inf or NaN, so every rule is spelled out here once and shared by the operators and the builtins. Strings
become numbers with strconv's grammar (no spaces; `_` only between digits, and never for ints).
"""

from __future__ import annotations

import math
import string
from typing import Any

from votectl.analysis.errors import ExprError

INT_MIN, INT_MAX = -(2**63), 2**63 - 1


class Float64s(list):
    """A []float64: the vector Prometheus hands over, or a slice of it. `origin` is (array, offset):
    two slices with the same origin and length share their first element, which reflect.DeepEqual
    takes as equal without looking (so `result == result` holds even with a NaN in it)."""

    def __init__(self, values: Any = (), origin: tuple[int, int] | None = None) -> None:
        super().__init__(values)
        self.origin = origin if origin is not None else (id(self), 0)


def wrap_int(value: int) -> int:
    """Go's int arithmetic: two's complement, 64 bits."""
    return (value - INT_MIN) % 2**64 + INT_MIN


def go_bytes(text: str) -> bytes:
    """A Go string is its UTF-8 bytes (len and slices count bytes); surrogateescape keeps the bytes of
    a slice that cut a character in two."""
    return text.encode("utf-8", "surrogateescape")


def go_string(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


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


def _as_go_floats(left: Any, right: Any) -> tuple[Any, Any]:
    """A number against an int: Go compares float64(int), not the exact values."""
    if isinstance(left, float) and is_number(right):
        return left, float(right)
    if isinstance(right, float) and is_number(left):
        return float(left), right
    return left, right


def equal(left: Any, right: Any) -> bool:
    """expr's runtime.Equal: numbers by value across int/float (NaN never equal), strings by value,
    anything else (arrays, bool, nil) by reflect.DeepEqual."""
    if is_number(left) and is_number(right):
        left, right = _as_go_floats(left, right)
        return bool(left == right)
    return _deep_equal(left, right)


def _go_type(value: Any) -> str:
    return "[]float64" if isinstance(value, Float64s) else type_name(value)


def _deep_equal(left: Any, right: Any) -> bool:
    """reflect.DeepEqual: identical Go types ([]float64 is not []interface{}, 1 is not 1.0), floats by
    ==, slices element by element unless both start at the same element."""
    if _go_type(left) != _go_type(right):
        return False
    if isinstance(left, list):
        if len(left) != len(right):
            return False
        if isinstance(left, Float64s) and left.origin == right.origin:
            return True
        return all(_deep_equal(a, b) for a, b in zip(left, right, strict=True))
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
    left, right = _as_go_floats(left, right)
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
    if op in ("+", "-", "*"):
        left, right = _as_go_floats(left, right)
        value = left + right if op == "+" else left - right if op == "-" else left * right
        return wrap_int(value) if both_int else value
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


def parse_go_int(text: str) -> int:
    """strconv.ParseInt(text, 10, 64): an optional sign and ASCII digits, nothing else, in range."""
    digits = text[1:] if text[:1] in ("+", "-") else text
    if not digits or not all("0" <= c <= "9" for c in digits):
        raise ValueError(f"strconv.ParseInt: parsing {text!r}: invalid syntax")
    value = int(text, 10)
    if not INT_MIN <= value <= INT_MAX:
        raise ValueError(f"strconv.ParseInt: parsing {text!r}: value out of range")
    return value


def parse_go_float(text: str) -> float:
    """strconv.ParseFloat(text, 64): decimal or hex (with a p exponent) floats, inf/infinity with an
    optional sign, nan without one; a finite value too large for float64 is an error, not +Inf."""
    body = text[1:] if text[:1] in ("+", "-") else text
    if body.lower() in ("inf", "infinity") or text.lower() == "nan":
        return float(text)
    if not _is_go_float(text):
        raise ValueError(f"strconv.ParseFloat: parsing {text!r}: invalid syntax")
    clean = text.replace("_", "")
    try:
        value = float.fromhex(clean) if "x" in clean.lower() else float(clean)
    except OverflowError:
        value = math.inf
    if math.isinf(value):
        raise ValueError(f"strconv.ParseFloat: parsing {text!r}: value out of range")
    return value


def _is_go_float(text: str) -> bool:
    """strconv's readFloat grammar, which must consume all of `text`."""
    i = 1 if text[:1] in ("+", "-") else 0
    hexadecimal = len(text) > i + 2 and text[i : i + 2].lower() == "0x"
    i += 2 if hexadecimal else 0
    digits = string.hexdigits if hexadecimal else string.digits
    seen_dot = seen_digit = False
    while i < len(text) and (text[i] in digits or text[i] == "_" or (text[i] == "." and not seen_dot)):
        seen_dot = seen_dot or text[i] == "."
        seen_digit = seen_digit or text[i] in digits
        i += 1
    if not seen_digit:
        return False
    if i < len(text) and text[i].lower() == ("p" if hexadecimal else "e"):
        i += 2 if text[i + 1 : i + 2] in ("+", "-") else 1
        if text[i : i + 1] not in tuple(string.digits):
            return False
        while i < len(text) and (text[i] in string.digits or text[i] == "_"):
            i += 1
    elif hexadecimal:
        return False
    return i == len(text) and ("_" not in text or _underscores_ok(text))


def _underscores_ok(text: str) -> bool:
    """strconv's underscoreOK: each `_` between two digits (a 0x prefix counts as a digit)."""
    body = text[1:] if text[:1] in ("+", "-") else text
    hexadecimal = body[:2].lower() == "0x"
    saw, rest = ("0", body[2:]) if body[:2].lower() in ("0x", "0b", "0o") else ("^", body)
    for c in rest:
        if c.isdigit() or (hexadecimal and c.lower() in "abcdef"):
            saw = "0"
        elif c == "_":
            if saw != "0":
                return False
            saw = "_"
        elif saw == "_":
            return False
        else:
            saw = "!"
    return saw != "_"
