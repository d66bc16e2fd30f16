"""Parse the expr-lang subset that Argo Rollouts conditions use into a small AST, with a real grammar.

Operator precedence follows expr-lang's parser (low to high): `?:`, `||`/`or`, `&&`/`and`, comparisons and
`in`, `+ -`, unary `!`/`not`, `* / %`, unary `- +`, `**`/`^` (right-associative), `??`, postfix indexing
and calls; like expr-lang it refuses `a ?? b < c` (no other operator may follow an unparenthesised `??`),
indexing a literal and number literals outside int64/float64. Anything the grammar does not know (member
access, `matches`, ranges, pipes, `let`, maps...) is refused as unsupported rather than guessed at.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError, UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from votectl.analysis.errors import ExprError
from votectl.analysis.expr.values import INT_MAX, parse_go_float, parse_go_int

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
      | coalesce POW power_operand      -> binary
?coalesce: postfix
         | coalesce "??" coalesce_operand  -> coalesce
// expr-lang parses a unary operator wherever an operand starts, so `2 ** -1` and `x ?? -1` are valid
?power_operand: power | prefixed
?coalesce_operand: postfix | prefixed
?prefixed: ADD sign_level                 -> unary
         | (NOT_SYM | NOT_WORD) not_level -> unary
// literals take no postfix: 'abc'[0] is a syntax error in expr-lang
?postfix: literal
        | indexable
?indexable: atom
          | indexable "[" expr "]"                  -> index
          | indexable "[" [expr] SLICE [expr] "]"   -> slice
?literal: NUMBER                        -> number
        | STRING                        -> string
        | "true"                        -> true
        | "false"                       -> false
        | "nil"                         -> nil
?atom: "#"                              -> pointer
     | NAME                             -> name
     | NAME "(" [expr ("," expr)* ","?] ")"  -> call
     | "[" [expr ("," expr)* ","?] "]"  -> array
     | "{" expr "}"                     -> closure
     | "(" expr ")"                     -> paren

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
// as expr-lang's lexer scans them: `1.` is a number, `1..2` is not (a range); validated when converted
NUMBER: /0[xX][0-9a-fA-F_]+/
      | /[0-9][0-9_]*(\.(?!\.)[0-9_]*)?([eE][+-]?[0-9_]*)?/
      | /\.[0-9][0-9_]*([eE][+-]?[0-9_]*)?/
STRING: /"(\\.|[^"\\\n])*"/ | /'(\\.|[^'\\\n])*'/
COMMENT: /\/\/[^\n]*/ | /\/\*(.|\n)*?\*\//

%ignore /\s+/
%ignore COMMENT
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


_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}
_ESCAPE = re.compile(
    r"\\(?:([abfnrtv\\'\"])|x([0-9a-fA-F]{2})|u([0-9a-fA-F]{4})|U([0-9a-fA-F]{8})|([0-3][0-7]{2})|(.?))"
)


def _unescape(body: str, quote: str) -> str:
    """expr-lang's lexer and unescape (like strconv's): \\a b f n r t v, a backslash, the string's own
    quote, hex (x, u, U) and three-digit octal escapes giving that code point; nothing else."""

    def one(match: re.Match[str]) -> str:
        simple, *codes, bad = match.groups()
        if bad is not None or (simple in ("'", '"') and simple != quote):
            raise ExprError(f"invalid char escape {match.group(0)!r}")
        if simple:
            return _ESCAPES.get(simple, simple)
        code = next(int(c, 8 if i == 3 else 16) for i, c in enumerate(codes) if c)
        if code > 0x10FFFF:
            raise ExprError("unable to unescape string")
        return "\ufffd" if 0xD800 <= code <= 0xDFFF else chr(code)  # Go encodes a surrogate as U+FFFD

    return _ESCAPE.sub(one, body.replace("\r\n", "\n").replace("\r", "\n"))


@v_args(inline=True)
class _ToAst(Transformer):
    def __init__(self) -> None:
        super().__init__()
        self.bare_coalesce: set[int] = set()  # id()s of `a ?? b` nodes not wrapped in parentheses

    def number(self, token: Token) -> Literal:
        """As expr-lang's parser reads a literal: `_` dropped, then hex (a lowercase x), float, or int."""
        text = str(token).replace("_", "")
        try:
            if "x" in text:
                value = int(text[2:], 16)
                if value > INT_MAX:
                    raise ValueError("value out of range")
                return Literal(value)
            if any(c in text for c in ".eE"):
                return Literal(parse_go_float(text))
            return Literal(parse_go_int(text))
        except ValueError as err:
            raise ExprError(f"invalid number literal {token}: {err}") from None

    def string(self, token: Token) -> Literal:
        return Literal(_unescape(str(token)[1:-1], str(token)[0]))

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

    def _operand(self, left: Node, op: str) -> Node:
        """expr-lang refuses any other operator after an unparenthesised `a ?? b`."""
        if id(left) in self.bare_coalesce:
            raise ExprError(
                f"Operator ({op}) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses."
            )
        return left

    def paren(self, node: Node) -> Node:
        self.bare_coalesce.discard(id(node))
        return node

    def logic(self, left: Node, op: Token, right: Node) -> Binary:
        return Binary(_WORD_OPS.get(str(op), str(op)), self._operand(left, str(op)), right)

    def binary(self, left: Node, op: Token, right: Node) -> Binary:
        return Binary(str(op), self._operand(left, str(op)), right)

    def not_in(self, left: Node, _not: Token, _in: Token, right: Node) -> Unary:
        return Unary("!", Binary("in", self._operand(left, "in"), right))

    def unary(self, op: Token, operand: Node) -> Unary:
        return Unary(_WORD_OPS.get(str(op), str(op)), operand)

    def coalesce(self, left: Node, right: Node) -> Binary:
        node = Binary("??", left, right)
        self.bare_coalesce.add(id(node))
        return node

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
    except VisitError as err:
        if isinstance(err.orig_exc, ExprError):
            raise err.orig_exc from None
        raise ExprError(f"unsupported or invalid syntax: {err.orig_exc}") from None
    except (UnexpectedInput, LarkError) as err:
        raise ExprError(f"unsupported or invalid syntax: {err}") from None
