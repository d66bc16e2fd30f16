"""The value builtins of expr-lang plus the helpers Argo Rollouts adds to the environment.

Each follows expr-lang's builtin/lib.go behaviour on the inputs Prometheus can produce (floats, lists of
floats, nil): e.g. `min([])` and `first([])` are nil, `mean([])` and `sum([])` are 0, `round` rounds half
away from zero, `floor`/`ceil`/`round` always return a float. Predicate builtins (all, any, filter...)
need the unevaluated predicate and live in the evaluator.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable
from typing import Any

from votectl.analysis.errors import ExprError
from votectl.analysis.expr_values import arithmetic, is_number, require_list, require_number, type_name


def _arity(name: str, args: tuple[Any, ...], count: int) -> None:
    if len(args) != count:
        raise ExprError(f"{name} expects {count} argument(s), got {len(args)}")


def _numbers(name: str, args: tuple[Any, ...]) -> list[int | float]:
    """Flatten numbers and arrays of numbers, as mean/median/min/max accept both."""
    values: list[int | float] = []
    for arg in args:
        if isinstance(arg, list):
            values.extend(_numbers(name, tuple(arg)))
        else:
            values.append(require_number(arg, name))
    return values


def _len(*args: Any) -> int:
    _arity("len", args, 1)
    if not isinstance(args[0], list | str):
        raise ExprError(f"invalid argument for len (type {type_name(args[0])})")
    return len(args[0])


def _abs(*args: Any) -> int | float:
    _arity("abs", args, 1)
    return abs(require_number(args[0], "abs"))


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
            return int(value, 10)
        except ValueError:
            raise ExprError(f"invalid operation: int({value})") from None
    number = require_number(value, "int")
    if isinstance(number, float) and not math.isfinite(number):
        raise ExprError(f"cannot convert {number} to int")
    return int(number)


def _float(*args: Any) -> float:
    _arity("float", args, 1)
    value = args[0]
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise ExprError(f"invalid operation: float({value})") from None
    return float(require_number(value, "float"))


def _sum(*args: Any) -> int | float:
    _arity("sum", args, 1)
    total: int | float = 0
    for item in require_list(args[0], "sum"):
        total = arithmetic("+", total, require_number(item, "sum"))
    return total


def _mean(*args: Any) -> float:
    values = _numbers("mean", args)
    return math.fsum(values) / len(values) if values else 0.0


def _median(*args: Any) -> float:
    values = _numbers("median", args)
    return float(statistics.median(values)) if values else 0.0


def _extreme(name: str, better: Callable[[Any, Any], bool]) -> Callable[..., Any]:
    def apply(*args: Any) -> Any:
        if len(args) == 1 and not isinstance(args[0], list) and not is_number(args[0]):
            return args[0]
        best: Any = None
        for value in _numbers(name, args):
            if best is None or better(value, best):
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
    """isNaN/isInf take a float64 (an int literal is converted when compiled, as expr-lang does)."""

    def apply(*args: Any) -> bool:
        _arity(name, args, 1)
        if not is_number(args[0]):
            raise ExprError(f"cannot use {type_name(args[0])} as argument (type float64) to call {name}")
        return test(float(args[0]))

    return apply


def _as_int(*args: Any) -> int:
    """Argo's asInt: parses strings (base 10) and truncates numbers."""
    _arity("asInt", args, 1)
    return _int(args[0])


def _as_float(*args: Any) -> float:
    _arity("asFloat", args, 1)
    return _float(args[0])


def _is_nil(*args: Any) -> bool:
    _arity("isNil", args, 1)
    return args[0] is None


def _default(*args: Any) -> Any:
    _arity("default", args, 2)
    return args[1] if args[0] is None else args[0]


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
    "min": _extreme("min", lambda value, best: value < best),
    "max": _extreme("max", lambda value, best: value > best),
    "first": _end("first", 0),
    "last": _end("last", -1),
    "isNaN": _float_test("isNaN", math.isnan),
    "isInf": _float_test("isInf", math.isinf),
    "asInt": _as_int,
    "asFloat": _as_float,
    "isNil": _is_nil,
    "default": _default,
}
