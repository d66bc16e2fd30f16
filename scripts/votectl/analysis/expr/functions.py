"""The value builtins of expr-lang plus the helpers Argo Rollouts adds to the environment.

Each follows expr-lang v1.15's builtin/builtin.go and func.go on the inputs Prometheus can produce (floats,
lists of floats, nil): e.g. `first([])` is nil, `mean([])` and `sum([])` are 0, `min`/`max` take numbers
(not a list), `mean`/`median` take one list, `round` rounds half away from zero, `floor`/`ceil`/`round`
always return a float. Argo's own `isNil(x)` and `default(x, d)` ignore x and look at `result` itself.
Predicate builtins (all, any, filter...) need the unevaluated predicate and live in the evaluator.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from votectl.analysis.errors import ExprError
from votectl.analysis.expr.values import (
    INT_MIN,
    arithmetic,
    compare,
    go_bytes,
    parse_go_float,
    parse_go_int,
    require_list,
    require_number,
    type_name,
    wrap_int,
)


def _arity(name: str, args: tuple[Any, ...], count: int) -> None:
    if len(args) != count:
        raise ExprError(f"{name} expects {count} argument(s), got {len(args)}")


def _len(*args: Any) -> int:
    _arity("len", args, 1)
    if not isinstance(args[0], list | str):
        raise ExprError(f"invalid argument for len (type {type_name(args[0])})")
    return len(go_bytes(args[0])) if isinstance(args[0], str) else len(args[0])


def _abs(*args: Any) -> int | float:
    _arity("abs", args, 1)
    value = require_number(args[0], "abs")
    return wrap_int(abs(value)) if isinstance(value, int) else abs(value)


def _rounding(name: str, fn: Callable[[float], float]) -> Callable[..., float]:
    def apply(*args: Any) -> float:
        _arity(name, args, 1)
        value = float(require_number(args[0], name))
        return value if math.isnan(value) or math.isinf(value) else float(fn(value))

    return apply


def _round_half_away(value: float) -> float:
    truncated = float(math.trunc(value))
    if abs(value - truncated) >= 0.5:
        truncated += math.copysign(1.0, value)
    return truncated


def _int(*args: Any) -> int:
    _arity("int", args, 1)
    value = args[0]
    if isinstance(value, str):
        try:
            return parse_go_int(value)
        except ValueError:
            raise ExprError(f"invalid operation: int({value})") from None
    number = require_number(value, "int")
    if isinstance(number, float) and not INT_MIN <= number < -float(INT_MIN):
        # Go's int(x) of NaN, Inf or beyond int64 is implementation-dependent (amd64 and arm64 differ)
        raise ExprError(f"cannot convert {number} to int: Go's result depends on the CPU")
    return int(number)


def _float(*args: Any) -> float:
    _arity("float", args, 1)
    value = args[0]
    if isinstance(value, str):
        try:
            return parse_go_float(value)
        except ValueError:
            raise ExprError(f"invalid operation: float({value})") from None
    return float(require_number(value, "float"))


def _sum(*args: Any) -> int | float:
    _arity("sum", args, 1)
    total: int | float = 0
    for item in require_list(args[0], "sum"):
        total = arithmetic("+", total, require_number(item, "sum"))
    return total


def _list_of_numbers(name: str, args: tuple[Any, ...]) -> list[float]:
    """mean/median: exactly one array whose elements are all numbers (a nested list is an error)."""
    _arity(name, args, 1)
    items = require_list(args[0], name)
    return [float(require_number(item, name)) for item in items]


def _mean(*args: Any) -> float:
    values = _list_of_numbers("mean", args)
    total = 0.0
    for value in values:  # summed in order like Go, not math.fsum: same rounding, Inf and NaN
        total += value
    return total / len(values) if values else 0.0


def _median(*args: Any) -> float:
    # sorted like sort.Float64s: NaN before every number
    values = sorted(_list_of_numbers("median", args), key=lambda v: (0, 0.0) if math.isnan(v) else (1, v))
    if not values:
        return 0.0
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _extreme(name: str, op: str) -> Callable[..., Any]:
    """Go's Max/Min over the arguments (numbers; the type check refuses an array): keep the first,
    replace it by any later one for which `kept op later` holds; a nil kept value is always replaced."""

    def apply(*args: Any) -> Any:
        if not args:
            raise ExprError(f"not enough arguments to call {name}")
        best: Any = None
        for value in args:
            if best is None or compare(op, best, value):
                best = value
        return best

    return apply


def _end(name: str, position: int) -> Callable[..., Any]:
    def apply(*args: Any) -> Any:
        _arity(name, args, 1)
        items = require_list(args[0], name)
        return items[position] if items else None

    return apply


def _float_test(name: str, test: Callable[[float], bool]) -> Callable[..., bool]:
    """isNaN/isInf take a float64 and nothing else at run time (int literals in the argument were made
    floats when compiled, see evaluation)."""

    def apply(*args: Any) -> bool:
        _arity(name, args, 1)
        if not isinstance(args[0], float):
            raise ExprError(f"interface conversion: interface {{}} is {type_name(args[0])}, not float64")
        return test(args[0])

    return apply


def _as_int(*args: Any) -> int:
    """Argo's asInt: parses strings (base 10) and truncates numbers."""
    _arity("asInt", args, 1)
    return _int(args[0])


def _as_float(*args: Any) -> float:
    _arity("asFloat", args, 1)
    return _float(args[0])


def is_nil(result: Any, *args: Any) -> bool:
    """Argo's isNil(x): whether `result` is nil; x is not looked at (a Prometheus result never is nil,
    an empty vector is an empty, non-nil slice)."""
    _arity("isNil", args, 1)
    return result is None


def default(result: Any, *args: Any) -> Any:
    """Argo's default(x, d): d when `result` is nil, else `result` itself (not x)."""
    _arity("default", args, 2)
    return args[1] if result is None else result


FUNCTIONS: dict[str, Callable[..., Any]] = {
    "len": _len,
    "abs": _abs,
    "ceil": _rounding("ceil", math.ceil),
    "floor": _rounding("floor", math.floor),
    "round": _rounding("round", _round_half_away),
    "int": _int,
    "float": _float,
    "sum": _sum,
    "mean": _mean,
    "median": _median,
    "min": _extreme("min", ">"),
    "max": _extreme("max", "<"),
    "first": _end("first", 0),
    "last": _end("last", -1),
    "isNaN": _float_test("isNaN", math.isnan),
    "isInf": _float_test("isInf", math.isinf),
    "asInt": _as_int,
    "asFloat": _as_float,
}
# Argo's closures over the measured value: called with `result` first
RESULT_FUNCTIONS: dict[str, Callable[..., Any]] = {"isNil": is_nil, "default": default}
