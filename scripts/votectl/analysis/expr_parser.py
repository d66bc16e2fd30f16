"""Parse the expr-lang subset that Argo Rollouts conditions use into a small AST, with a real grammar.

Operator precedence follows expr-lang's parser (low to high): `?:`, `||`/`or`, `&&`/`and`, comparisons and
`in`, `+ -`, unary `!`/`not`, `* / %`, unary `- +`, `**`/`^` (right-associative), `??`, postfix indexing
and calls. Anything the grammar does not know (member access, `matches`, ranges, pipes, `let`, maps...)
is refused as unsupported rather than guessed at.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from votectl.analysis.errors import ExprError

GRAMMAR = r"""
?start: expr

?expr: or_expr
     | or_expr "?" expr ":" expr        -> ternary

?or_expr: and_expr
        | or_expr (OR_SYM | OR_WORD) and_expr     -> logic
?and_expr: comparison
         | and_expr (AND_SYM | AND_WORD) comparison  -> logic
?comparison: additive
           | comparison CMP additive    -> binary
           | comparison IN additive     -> binary
           | comparison NOT_WORD IN additive -> not_in
?additive: not_level
         | additive ADD not_level       -> binary
?not_level: multiplicative
          | (NOT_SYM | NOT_WORD) not_level  -> unary
?multiplicative: sign_level
               | multiplicative MUL sign_level  -> binary
?sign_level: power
           | ADD sign_level             -> unary
?power: coalesce
      | coalesce POW power              -> binary
?coalesce: postfix
         | coalesce "??" postfix        -> coalesce
?postfix: atom
        | postfix "[" expr "]"                  -> index
        | postfix "[" [expr] SLICE [expr] "]"   -> slice
?atom: NUMBER                           -> number
     | STRING                           -> string
     | "true"                           -> true
     | "false"                          -> false
     | "nil"                            -> nil
     | "#"                              -> pointer
     | NAME                             -> name
     | NAME "(" [expr ("," expr)* ","?] ")"  -> call
     | "[" [expr ("," expr)* ","?] "]"  -> array
     | "{" expr "}"                     -> closure
     | "(" expr ")"

OR_SYM: "||"
OR_WORD: "or"
AND_SYM: "&&"
AND_WORD: "and"
NOT_SYM: "!"
NOT_WORD: "not"
IN: "in"
CMP: "==" | "!=" | "<=" | ">=" | "<" | ">"
ADD: "+" | "-"
MUL: "*" | "/" | "%"
POW: "**" | "^"
SLICE: ":"
NAME: /[A-Za-z_$][A-Za-z0-9_$]*/
NUMBER: /0[xX][0-9a-fA-F_]+/ | /(\d[\d_]*)?\.?\d[\d_]*([eE][+-]?\d+)?/
STRING: /"(\\.|[^"\\])*"/ | /'(\\.|[^'\\])*'/

%ignore /\s+/
"""


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class Name:
    name: str


@dataclass(frozen=True)
class Pointer:
    """`#`: the current element inside a predicate."""


@dataclass(frozen=True)
class Unary:
    op: str
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class Ternary:
    cond: Node
    then: Node
    otherwise: Node


@dataclass(frozen=True)
class Index:
    target: Node
    index: Node


@dataclass(frozen=True)
class Slice:
    target: Node
    start: Node | None
    stop: Node | None


@dataclass(frozen=True)
class Call:
    name: str
    args: tuple[Node, ...]


@dataclass(frozen=True)
class Array:
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Closure:
    body: Node


Node = Literal | Name | Pointer | Unary | Binary | Ternary | Index | Slice | Call | Array | Closure

_WORD_OPS = {"or": "||", "and": "&&", "not": "!"}


@v_args(inline=True)
class _ToAst(Transformer):
    def number(self, token: Token) -> Literal:
        text = str(token).replace("_", "")
        if text.lower().startswith("0x"):
            return Literal(int(text, 16))
        if any(c in text for c in ".eE"):
            return Literal(float(text))
        return Literal(int(text))

    def string(self, token: Token) -> Literal:
        return Literal(codecs.decode(str(token)[1:-1], "unicode_escape"))

    def true(self) -> Literal:
        return Literal(True)

    def false(self) -> Literal:
        return Literal(False)

    def nil(self) -> Literal:
        return Literal(None)

    def pointer(self) -> Pointer:
        return Pointer()

    def name(self, token: Token) -> Name:
        return Name(str(token))

    def call(self, name: Token, *args: Node | None) -> Call:
        return Call(str(name), tuple(a for a in args if a is not None))

    def array(self, *items: Node | None) -> Array:
        return Array(tuple(i for i in items if i is not None))

    def closure(self, body: Node) -> Closure:
        return Closure(body)

    def ternary(self, cond: Node, then: Node, otherwise: Node) -> Ternary:
        return Ternary(cond, then, otherwise)

    def logic(self, left: Node, op: Token, right: Node) -> Binary:
        return Binary(_WORD_OPS.get(str(op), str(op)), left, right)

    def binary(self, left: Node, op: Token, right: Node) -> Binary:
        return Binary(str(op), left, right)

    def not_in(self, left: Node, _not: Token, _in: Token, right: Node) -> Unary:
        return Unary("!", Binary("in", left, right))

    def unary(self, op: Token, operand: Node) -> Unary:
        return Unary(_WORD_OPS.get(str(op), str(op)), operand)

    def coalesce(self, left: Node, right: Node) -> Binary:
        return Binary("??", left, right)

    def index(self, target: Node, index: Node) -> Index:
        return Index(target, index)

    def slice(self, target: Node, start: Node | None, _colon: Token, stop: Node | None) -> Slice:
        return Slice(target, start, stop)


@lru_cache(maxsize=1)
def _parser() -> Lark:
    return Lark(GRAMMAR, parser="lalr", maybe_placeholders=True)


@lru_cache(maxsize=512)
def parse(source: str) -> Node:
    """Parse a condition; raise ExprError naming the position of anything outside the subset."""
    if not source.strip():
        raise ExprError("empty expression")
    try:
        tree = _parser().parse(source)
        return _ToAst().transform(tree)
    except UnexpectedCharacters as err:
        raise ExprError(
            f"unsupported syntax at column {err.column}: {source[err.pos_in_stream :]!r}"
        ) from None
    except UnexpectedToken as err:
        where = "end of expression" if err.token.type == "$END" else f"{str(err.token)!r}"
        raise ExprError(f"unsupported or invalid syntax at column {err.column}: unexpected {where}") from None
    except (UnexpectedInput, VisitError, LarkError) as err:
        raise ExprError(f"unsupported or invalid syntax: {err}") from None
