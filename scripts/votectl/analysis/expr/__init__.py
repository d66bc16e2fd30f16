"""The expr-lang subset of Argo Rollouts conditions, evaluated with expr-lang's own rules and no Python eval.

Callers need only `evaluate`/`evaluate_bool` (and `parse`, whose cache the benchmark clears); the
modules are the stages expr-lang has: parser (source to AST), checker (the compile-time type check),
evaluation (the run-time walk), functions (the builtins and Argo's helpers) and values (Go's value rules).
"""

from votectl.analysis.expr.evaluation import evaluate, evaluate_bool
from votectl.analysis.expr.parser import parse

__all__ = ["evaluate", "evaluate_bool", "parse"]
