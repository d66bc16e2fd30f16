"""Evaluate a parsed condition against `result`, with expr-lang semantics and no Python eval.

Like expr-lang, a condition is first type-checked as a whole (checker), then evaluated: `&&`, `||`,
`?:` and `??` short-circuit (so `len(result) > 0 && result[0] < 0.05` is safe on `[]`), predicates
(`all(result, # < 0.05)` or `all(result, { # < 0.05 })`) bind `#` to each element, and run-time type
errors (nil compared with a number, an index out of range) are raised where they happen. A vector
`result` is bound as a Float64s, Go's []float64, which `==` tells apart from an array literal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from votectl.analysis.errors import ExprError
from votectl.analysis.expr.checker import check, result_type
from votectl.analysis.expr.functions import FUNCTIONS, RESULT_FUNCTIONS
from votectl.analysis.expr.parser import (
    Array,
    Binary,
    Call,
    Closure,
    Index,
    Literal,
    Name,
    Node,
    Pointer,
    Slice,
    Ternary,
    Unary,
    parse,
)
from votectl.analysis.expr.values import (
    Float64s,
    arithmetic,
    compare,
    equal,
    go_bytes,
    go_string,
    is_number,
    require_bool,
    require_list,
    type_name,
    wrap_int,
)

_NO_ELEMENT = object()
PREDICATES = ("all", "any", "none", "one", "filter", "map", "count")


def evaluate(source: str, result: Any) -> Any:
    """Evaluate `source` with `result` bound; raise ExprError for anything invalid or unsupported."""
    node = parse(source)
    checked = check(node, result_type(result))
    return _Evaluator(_bind(result), checked.floated).eval(node)


def evaluate_bool(source: str, result: Any) -> bool:
    """Evaluate a condition that must yield a bool (Argo checks the value is a bool after running it)."""
    node = parse(source)
    checked = check(node, result_type(result))
    if checked.type.kind not in ("bool", "any"):
        raise ExprError(f"expected bool, but got {checked.type}")
    value = _Evaluator(_bind(result), checked.floated).eval(node)
    if not isinstance(value, bool):
        raise ExprError(f"expected bool, but got {type_name(value)}")
    return value


def _bind(result: Any) -> dict[str, Any]:
    return {"result": Float64s(result) if isinstance(result, list) else result}


def _floatify(node: Node) -> Node:
    """The checker's rewrite of an int argument to a float64 parameter: int literals become floats
    through unary operators and + - * (so `isNaN(1 + 2)` is fine and `isNaN(len(result))` is not)."""
    if isinstance(node, Literal) and type(node.value) is int:
        return Literal(float(node.value))
    if isinstance(node, Unary):
        return Unary(node.op, _floatify(node.operand))
    if isinstance(node, Binary) and node.op in ("+", "-", "*"):
        return Binary(node.op, _floatify(node.left), _floatify(node.right))
    return node


class _Evaluator:
    def __init__(self, variables: dict[str, Any], floated: frozenset[int] = frozenset()) -> None:
        self.variables = variables
        self.floated = floated  # calls whose int argument the checker made float (see _floatify)

    def eval(self, node: Node, element: Any = _NO_ELEMENT) -> Any:
        handler: Callable[[Any, Any], Any] = getattr(self, f"_{type(node).__name__.lower()}")
        return handler(node, element)

    def _literal(self, node: Literal, element: Any) -> Any:
        return node.value

    def _name(self, node: Name, element: Any) -> Any:
        if node.name in self.variables:
            return self.variables[node.name]
        if node.name in FUNCTIONS or node.name in RESULT_FUNCTIONS or node.name in PREDICATES:
            raise ExprError(f"function {node.name} must be called")
        raise ExprError(f"unknown name {node.name}")

    def _pointer(self, node: Pointer, element: Any) -> Any:
        if element is _NO_ELEMENT:
            raise ExprError("# is only valid inside a predicate such as all(result, # < 1)")
        return element

    def _closure(self, node: Closure, element: Any) -> Any:
        raise ExprError("unsupported: a closure { ... } is only valid as a predicate argument")

    def _array(self, node: Array, element: Any) -> list[Any]:
        return [self.eval(item, element) for item in node.items]

    def _unary(self, node: Unary, element: Any) -> Any:
        value = self.eval(node.operand, element)
        if node.op == "!":
            return not require_bool(value, "operand of !")
        if not is_number(value):
            raise ExprError(f"invalid operation: {node.op}{type_name(value)}")
        if node.op == "+":
            return value
        return wrap_int(-value) if isinstance(value, int) else -value

    def _ternary(self, node: Ternary, element: Any) -> Any:
        cond = require_bool(self.eval(node.cond, element), "condition of ?:")
        return self.eval(node.then if cond else node.otherwise, element)

    def _binary(self, node: Binary, element: Any) -> Any:
        left = self.eval(node.left, element)
        if node.op in ("&&", "||"):
            if require_bool(left, f"operand of {node.op}") == (node.op == "||"):
                return left
            return require_bool(self.eval(node.right, element), f"operand of {node.op}")
        if node.op == "??":
            return self.eval(node.right, element) if left is None else left
        right = self.eval(node.right, element)
        if node.op == "in":
            return _contains(right, left)
        if node.op in ("==", "!=", "<", ">", "<=", ">="):
            return compare(node.op, left, right)
        return arithmetic(node.op, left, right)

    def _index(self, node: Index, element: Any) -> Any:
        target = self.eval(node.target, element)
        index = self.eval(node.index, element)
        if not isinstance(target, list):  # a string is not indexable in expr-lang (slicing it is)
            raise ExprError(f"cannot fetch {index} from {type_name(target)}")
        if not isinstance(index, int) or isinstance(index, bool):
            raise ExprError(f"array index must be an int, got {type_name(index)}")
        position = index + len(target) if index < 0 else index
        if not 0 <= position < len(target):
            raise ExprError(f"index out of range: {index} (array length is {len(target)})")
        return target[position]

    def _slice(self, node: Slice, element: Any) -> Any:
        target = self.eval(node.target, element)
        if not isinstance(target, list | str):
            raise ExprError(f"cannot slice {type_name(target)}")
        items = go_bytes(target) if isinstance(target, str) else target  # Go slices a string's bytes
        start = 0 if node.start is None else self._slice_bound(node.start, element, len(items))
        stop = len(items) if node.stop is None else self._slice_bound(node.stop, element, len(items))
        start = min(start, stop)  # runtime.Slice: [2:1] is empty, not an error
        if isinstance(target, str):
            return go_string(items[start:stop])
        if isinstance(target, Float64s):  # a slice of a []float64 is one, sharing its elements
            return Float64s(target[start:stop], (target.origin[0], target.origin[1] + start))
        return target[start:stop]

    def _slice_bound(self, node: Node, element: Any, length: int) -> int:
        bound = self.eval(node, element)
        if not isinstance(bound, int) or isinstance(bound, bool):
            raise ExprError(f"slice index must be an int, got {type_name(bound)}")
        return min(max(bound + length if bound < 0 else bound, 0), length)

    def _call(self, node: Call, element: Any) -> Any:
        if node.name in PREDICATES:
            return self._predicate(node, element)
        if node.name not in FUNCTIONS and node.name not in RESULT_FUNCTIONS:
            raise ExprError(f"unsupported function {node.name}()")
        args = [_floatify(arg) for arg in node.args] if id(node) in self.floated else node.args
        values = [self.eval(arg, element) for arg in args]
        if node.name in RESULT_FUNCTIONS:
            return RESULT_FUNCTIONS[node.name](self.variables["result"], *values)
        return FUNCTIONS[node.name](*values)

    def _predicate(self, node: Call, element: Any) -> Any:
        if len(node.args) != 2:
            raise ExprError(f"{node.name} expects 2 arguments (array, predicate), got {len(node.args)}")
        items = require_list(self.eval(node.args[0], element), node.name)
        body = node.args[1].body if isinstance(node.args[1], Closure) else node.args[1]
        if node.name == "map":
            return [self.eval(body, item) for item in items]
        if node.name == "filter":
            return [item for item in items if self._test(node.name, body, item)]
        if node.name == "all":
            return all(self._test(node.name, body, item) for item in items)
        if node.name == "any":
            return any(self._test(node.name, body, item) for item in items)
        if node.name == "none":
            return not any(self._test(node.name, body, item) for item in items)
        matches = sum(1 for item in items if self._test(node.name, body, item))
        return matches == 1 if node.name == "one" else matches

    def _test(self, name: str, body: Node, item: Any) -> bool:
        return require_bool(self.eval(body, item), f"predicate of {name}")


def _contains(container: Any, value: Any) -> bool:
    if isinstance(container, list):
        return any(equal(value, item) for item in container)
    if isinstance(container, str) and isinstance(value, str):
        return value in container
    raise ExprError(f"invalid operation: {type_name(value)} in {type_name(container)}")
