"""The compile-time type check expr-lang runs before evaluating (checker/checker.go), for our subset.

Argo compiles every condition with the type of `result` known (float64 for a scalar, []float64 for a
vector or matrix), so `len(result) == 0 || result < 1` is an Error even when `||` would never reach the
bad half. Types here are deliberately coarse: whenever expr-lang would see `interface{}` or we are not
sure, the type is ANY and nothing is reported, so this check can only add Errors expr-lang also gives.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from votectl.analysis.errors import ExprError
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
)


@dataclass(frozen=True)
class Type:
    kind: str  # int, float, bool, string, nil, array, any
    elem: Type | None = None

    def __str__(self) -> str:
        go_names = {"int": "int", "float": "float64", "bool": "bool", "string": "string", "nil": "<nil>"}
        if self.kind == "array":
            return f"[]{self.elem if self.elem and self.elem.kind != 'any' else 'interface {}'}"
        return go_names.get(self.kind, "interface {}")


INT, FLOAT, BOOL, STRING, NIL, ANY = (Type(k) for k in ("int", "float", "bool", "string", "nil", "any"))
NUMBERS = ("int", "float")
_PREDICATES = ("all", "any", "none", "one", "filter", "map", "count")  # take a closure
_ARRAY_FUNCTIONS = ("sum", "first", "last")  # their argument must be an array (or unknown)
_NUMBER_FUNCTIONS = {"abs": None, "ceil": FLOAT, "floor": FLOAT, "round": FLOAT}  # None: the argument's type
_FLOAT_ARGUMENT = ("isNaN", "isInf")  # Argo passes math.IsNaN-like funcs taking a float64
_ONE_ARRAY = {"mean": "avg", "median": "median"}  # one array argument; the word of their error
_NUMBERS_ONLY = ("max", "min")  # numbers, checked until the first argument of unknown type


class Checked(NamedTuple):
    type: Type
    floated: frozenset[int]  # id()s of the isNaN/isInf calls whose int argument is made a float


def result_type(result: object) -> Type:
    """The static type Argo's env gives `result`."""
    if isinstance(result, list):
        return Type("array", FLOAT)
    if isinstance(result, float):
        return FLOAT
    return ANY


def check(node: Node, result: Type) -> Checked:
    """The expression's static type; raises ExprError where expr-lang's compiler would refuse it."""
    checker = _Checker(result)
    static = checker.visit(node, None)
    return Checked(static, frozenset(checker.floated))


def _mismatch(op: str, left: Type, right: Type) -> ExprError:
    return ExprError(f"invalid operation: {op} (mismatched types {left} and {right})")


def _either_any(left: Type, right: Type, *kinds: str) -> bool:
    """expr's `or(l, r, ...)`: fine when one side is unknown and the other unknown or of these kinds."""
    if left.kind == "any" and right.kind == "any":
        return True
    return (left.kind == "any" and right.kind in kinds) or (right.kind == "any" and left.kind in kinds)


def _comparable(left: Type, right: Type) -> bool:
    kinds = {left.kind, right.kind}
    return left.kind == right.kind or kinds <= set(NUMBERS) or "nil" in kinds or "any" in kinds


@dataclass
class _Checker:
    result: Type
    floated: set[int] = field(default_factory=set)

    def visit(self, node: Node, element: Type | None) -> Type:
        if isinstance(node, Literal):
            return _literal_type(node.value)
        if isinstance(node, Name):
            return self.result if node.name == "result" else ANY
        if isinstance(node, Pointer):
            if element is None:
                raise ExprError("cannot use pointer accessor outside closure")
            return element
        if isinstance(node, Array):
            for item in node.items:
                self.visit(item, element)
            return Type("array", ANY)
        if isinstance(node, Closure):
            return self.visit(node.body, element)
        if isinstance(node, Unary):
            return self._unary(node, element)
        if isinstance(node, Binary):
            return self._binary(node, element)
        if isinstance(node, Ternary):
            return self._ternary(node, element)
        if isinstance(node, Index | Slice):
            return self._access(node, element)
        return self._call(node, element)

    def _unary(self, node: Unary, element: Type | None) -> Type:
        operand = self.visit(node.operand, element)
        if node.op == "!" and operand.kind in ("bool", "any"):
            return BOOL
        if node.op in "+-" and operand.kind in (*NUMBERS, "any"):
            return operand
        raise ExprError(f"invalid operation: {node.op} (mismatched type {operand})")

    def _binary(self, node: Binary, element: Type | None) -> Type:
        left, right = self.visit(node.left, element), self.visit(node.right, element)
        op = node.op
        if op == "??":
            return left if left == right else ANY
        if op in ("==", "!="):
            if _comparable(left, right):
                return BOOL
        elif op in ("&&", "||"):
            if (left.kind == right.kind == "bool") or _either_any(left, right, "bool"):
                return BOOL
        elif op in ("<", ">", "<=", ">="):
            numbers = left.kind in NUMBERS and right.kind in NUMBERS
            if numbers or left.kind == right.kind == "string" or _either_any(left, right, *NUMBERS, "string"):
                return BOOL
        elif op == "in":
            return self._in(left, right)
        else:
            return _arithmetic(op, left, right)
        raise _mismatch(op, left, right)

    @staticmethod
    def _in(left: Type, right: Type) -> Type:
        if right.kind == "array" and (left.kind == "nil" or _comparable(left, right.elem or ANY)):
            return BOOL
        if right.kind == "any" or (left.kind == "any" and right.kind in ("string", "array")):
            return BOOL
        if right.kind == "array":
            raise ExprError(f"cannot use {left} as type {right.elem} in array")
        raise _mismatch("in", left, right)

    def _ternary(self, node: Ternary, element: Type | None) -> Type:
        cond = self.visit(node.cond, element)
        if cond.kind not in ("bool", "any"):
            raise ExprError(f"non-bool expression (type {cond}) used as condition")
        then, otherwise = self.visit(node.then, element), self.visit(node.otherwise, element)
        return then if then == otherwise else ANY

    def _access(self, node: Index | Slice, element: Type | None) -> Type:
        target = self.visit(node.target, element)
        bounds = [node.index] if isinstance(node, Index) else [b for b in (node.start, node.stop) if b]
        for bound in bounds:
            kind = self.visit(bound, element).kind
            if kind not in ("int", "any") and target.kind == "array":
                raise ExprError(f"array elements can only be selected using an integer (got {kind})")
        if target.kind == "string" and isinstance(node, Index):
            raise ExprError("type string[int] is undefined")
        if target.kind in ("any", "string"):
            return STRING if target.kind == "string" else ANY
        if target.kind != "array":
            raise ExprError(f"type {target} does not support indexing")
        return target if isinstance(node, Slice) else target.elem or ANY

    def _call(self, node: Call, element: Type | None) -> Type:
        """A builtin call, checked by its name; builtins this subset does not type give ANY."""
        args = list(node.args)
        if node.name in _PREDICATES and len(args) == 2:
            return self._predicate(node.name, args[0], args[1], element)
        types = [self.visit(arg, element) for arg in args]
        if node.name in _FLOAT_ARGUMENT:
            return self._float_argument(node, types)
        builtin = _BUILTINS.get(node.name)
        return builtin(node.name, types) if builtin else {"int": INT, "float": FLOAT}.get(node.name, ANY)

    def _float_argument(self, node: Call, types: list[Type]) -> Type:
        """isNaN/isInf: an int argument is allowed, and noted so evaluation passes it as a float."""
        if not types:
            return ANY
        if types[0].kind not in ("float", "int", "any"):
            raise ExprError(f"cannot use {types[0]} as argument (type float64) to call {node.name}")
        if types[0].kind == "int":  # allowed: its int literals become floats (evaluation._floatify)
            self.floated.add(id(node))
        return BOOL

    def _predicate(self, name: str, collection: Node, body: Node, element: Type | None) -> Type:
        items = self.visit(collection, element)
        if items.kind not in ("array", "any"):
            raise ExprError(f"builtin {name} takes only array (got {items})")
        out = self.visit(body, items.elem if items.kind == "array" else ANY)
        if name == "map":
            return Type("array", out)
        if out.kind not in ("bool", "any"):
            raise ExprError(f"predicate should return boolean (got {out})")
        return {"filter": items, "count": INT}.get(name, BOOL)


def _literal_type(value: object) -> Type:
    if value is None:
        return NIL
    if isinstance(value, bool):
        return BOOL
    if isinstance(value, int):
        return INT
    if isinstance(value, float):
        return FLOAT
    return STRING


def _arithmetic(op: str, left: Type, right: Type) -> Type:
    both_numbers = left.kind in NUMBERS and right.kind in NUMBERS
    if op == "%":
        if left.kind == right.kind == "int":
            return INT
        if _either_any(left, right, "int"):
            return ANY
    elif op in ("/", "**", "^"):
        if both_numbers or _either_any(left, right, *NUMBERS):
            return FLOAT
    elif both_numbers:
        return INT if left.kind == right.kind == "int" else FLOAT
    elif op == "+" and left.kind == right.kind == "string":
        return STRING
    elif _either_any(left, right, *NUMBERS, *(("string",) if op == "+" else ())):
        return ANY
    raise _mismatch(op, left, right)


def _len(name: str, types: list[Type]) -> Type:
    """len takes an array or a string (or an argument of unknown type)."""
    if types and types[0].kind not in ("array", "string", "any"):
        raise ExprError(f"invalid argument for len (type {types[0]})")
    return INT


def _array_function(name: str, types: list[Type]) -> Type:
    """sum, first, last take an array; first and last give its element's type, sum an unknown one."""
    if not types:
        return ANY
    argument = types[0]
    if argument.kind not in ("array", "any"):
        verb = "sum" if name == "sum" else f"get {name} element from"
        raise ExprError(f"cannot {verb} {argument}")
    if name == "sum" or argument.kind == "any":
        return ANY
    return argument.elem or ANY


def _number_function(name: str, types: list[Type]) -> Type:
    """abs keeps its argument's type; ceil, floor and round give a float."""
    if not types:
        return ANY
    if types[0].kind not in (*NUMBERS, "any"):
        raise ExprError(f"invalid argument for {name} (type {types[0]})")
    return _NUMBER_FUNCTIONS[name] or types[0]


def _one_array(name: str, types: list[Type]) -> Type:
    """mean, median: exactly one array, whatever its elements, gives a float."""
    if len(types) != 1:
        raise ExprError(f"invalid number of arguments (expected 1, got {len(types)})")
    if types[0].kind not in ("array", "any"):
        raise ExprError(f"cannot {_ONE_ARRAY[name]} {types[0]}")
    return FLOAT


def _numbers_only(name: str, types: list[Type]) -> Type:
    """max, min take numbers; past an argument of unknown type nothing more can be said."""
    if not types:
        raise ExprError(f"not enough arguments to call {name}")
    for argument in types:
        if argument.kind == "any":
            break
        if argument.kind not in NUMBERS:
            raise ExprError(f"invalid argument for {name} (type {argument})")
    return ANY


# The builtins whose arguments are checked, by name; each gets the name and its arguments' types.
_BUILTINS: dict[str, Callable[[str, list[Type]], Type]] = {
    "len": _len,
    **dict.fromkeys(_ARRAY_FUNCTIONS, _array_function),
    **dict.fromkeys(_NUMBER_FUNCTIONS, _number_function),
    **dict.fromkeys(_ONE_ARRAY, _one_array),
    **dict.fromkeys(_NUMBERS_ONLY, _numbers_only),
}
