"""The measurement-verdict case table, shared by test_analysis_conditions (votectl's evaluator) and
test_conditions_against_argo (the controller's own utils/evaluate, built as the rollouts-evaluate engine).

Each row gives the phase the controller gives that measurement ("Error" when expr-lang refuses to
compile or fails at run time). `result` is what the Prometheus provider hands over: a float for a
scalar, a list of floats for a vector (`[]` when no series matched).
"""

from __future__ import annotations

import math

NAN = math.nan
INF = math.inf
GUARDED_OK = "len(result) > 0 && result[0] <= 0.05"
GUARDED_BAD = "len(result) > 0 && result[0] > 0.05"

# (id, successCondition, failureCondition, result, phase)
CASES = [
    ("scalar passes", "result < 0.05", "", 0.01, "Successful"),
    ("scalar fails: success only -> failed = !success", "result < 0.05", "", 0.1, "Failed"),
    ("failure only, true", "", "result > 0.05", 0.1, "Failed"),
    ("failure only, false -> success = !failed", "", "result > 0.05", 0.01, "Successful"),
    ("both true: failure wins", "result > 0", "result > 0.05", 0.1, "Failed"),
    ("neither true -> Inconclusive", "result < 0.01", "result > 0.05", 0.03, "Inconclusive"),
    ("no condition at all -> Successful (not Inconclusive)", "", "", 0.5, "Successful"),
    ("vacuous all on [] passes: the trap", "all(result, # < 0.05)", "", [], "Successful"),
    ("vacuous all, closure form", "all(result, { # < 0.05 })", "", [], "Successful"),
    ("any on [] is false", "any(result, # < 0.05)", "", [], "Failed"),
    ("mean([]) is 0: the trap", "mean(result) < 0.05", "", [], "Successful"),
    ("sum([]) is 0", "sum(result) == 0", "", [], "Successful"),
    ("median([]) is 0", "median(result) == 0", "", [], "Successful"),
    ("result[0] on [] is a runtime error", "result[0] < 0.05", "", [], "Error"),
    ("first([]) is nil; nil < float is an error", "first(result) < 0.05", "", [], "Error"),
    ("min([]) is nil too", "min(result) < 0.05", "", [], "Error"),
    ("guarded condition on [] fails", GUARDED_OK, "", [], "Failed"),
    ("guarded both on [] -> Inconclusive", GUARDED_OK, GUARDED_BAD, [], "Inconclusive"),
    ("guarded both on NaN -> Inconclusive", GUARDED_OK, GUARDED_BAD, [NAN], "Inconclusive"),
    ("NaN < x is false", "result < 0.05", "", NAN, "Failed"),
    ("NaN >= x is false too", "result >= 0.05", "", NAN, "Failed"),
    ("NaN != NaN is true", "result != result", "", NAN, "Successful"),
    ("NaN == NaN is false", "result == result", "", NAN, "Failed"),
    ("isNaN on a float", "isNaN(result)", "", NAN, "Successful"),
    ("isNaN on a list is a type error", "isNaN(result)", "", [NAN], "Error"),
    ("isInf", "isInf(result)", "", INF, "Successful"),
    ("len on a scalar is a type error", "len(result) > 0", "", 0.5, "Error"),
    ("negative index", "result[-1] < 0.05", "", [0.01, 0.2], "Failed"),
    ("index out of range", "result[2] < 0.05", "", [0.01, 0.2], "Error"),
    ("int literal equals float", "result == 1", "", 1.0, "Successful"),
    ("non-bool result", "result", "", 0.5, "Error"),
    ("arithmetic result is not a bool", "result[0] + 1", "", [0.5], "Error"),
    ("float < string is a type error", "result < 'a'", "", 0.5, "Error"),
    ("member access is unsupported", "result.value < 1", "", 0.5, "Error"),
    ("matches is unsupported", "'a' matches 'a'", "", 0.5, "Error"),
    ("unknown function", "percentile(result, 99) < 1", "", [0.5], "Error"),
    ("any with a hit", "any(result, # > 0.05)", "", [0.01, 0.1], "Successful"),
    ("none", "none(result, # > 0.05)", "", [0.01, 0.02], "Successful"),
    ("one", "one(result, # > 0.05)", "", [0.1, 0.2], "Failed"),
    ("count with predicate", "count(result, # > 0.05) <= 1", "", [0.1, 0.01], "Successful"),
    ("filter then len", "len(filter(result, # > 0.05)) == 0", "", [0.1], "Failed"),
    ("map", "map(result, # * 100)[0] < 5", "", [0.01], "Successful"),
    ("max over a list", "max(result) < 0.05", "", [0.01, 0.07], "Failed"),
    (
        "min/abs/floor/ceil",
        "min(result) == 0.5 && abs(-2) == 2 && floor(1.7) == 1 && ceil(1.2) == 2",
        "",
        [0.5],
        "Successful",
    ),
    ("round half away from zero", "round(2.5) == 3 && round(-2.5) == -3", "", 0.0, "Successful"),
    (
        "default/isNil only act on nil",
        "isNil(first(result)) && default(first(result), 1) == 1",
        "",
        [],
        "Successful",
    ),
    ("?? on nil", "(first(result) ?? 1.0) < 0.05", "", [], "Failed"),
    ("ternary guard", "len(result) == 0 ? false : result[0] < 0.05", "", [], "Failed"),
    ("ternary binds loosest: its value is not a bool", "true ? 1 : 2 == 1", "", 0.0, "Error"),
    ("in", "result[0] in [0.5, 1]", "", [1.0], "Successful"),
    ("not in", "result[0] not in [0.5, 1]", "", [1.0], "Failed"),
    ("word operators", "not (result > 1) and result >= 0 or false", "", 0.5, "Successful"),
    ("asFloat/asInt", "asFloat('0.5') == result && asInt('2') == 2", "", 0.5, "Successful"),
    ("asInt of a bad string", "asInt('x') == 1", "", 0.5, "Error"),
    ("integer modulo by zero", "1 % 0 == 0", "", 0.5, "Error"),
    ("float division by zero is +Inf", "1 / 0 > 1000", "", 0.5, "Successful"),
    ("&& short-circuits", "false && result[5] > 0", "", [], "Failed"),
    ("|| short-circuits", "true || result[5] > 0", "", [], "Successful"),
    ("# outside a predicate", "# > 1", "", 0.5, "Error"),
    ("! on a number", "!result", "", 0.5, "Error"),
    ("&& on a number", "result && true", "", 0.5, "Error"),
    ("precedence: * before +", "2 + 3 * 4 == 14", "", 0.0, "Successful"),
    ("precedence: ** before unary -", "-2 ** 2 == -4", "", 0.0, "Successful"),
    ("precedence: ! before ==", "!true == false", "", 0.0, "Successful"),
    ("/ always yields a float", "7 / 2 == 3.5", "", 0.0, "Successful"),
    ("syntax error", "result <", "", 0.5, "Error"),
    ("type error in a branch never reached: still Error", "len(result) == 0 || result < 1", "", [], "Error"),
    ("isNaN of an int literal (converted at compile time)", "!isNaN(1)", "", 0.5, "Successful"),
    ("isNaN of an int expression is a type error", "isNaN(len(result))", "", [1.0], "Error"),
    ("`in` on two strings is not expr-lang", "'a' in 'abc'", "", 0.5, "Error"),
    ("== between float and string is a type error", "result == 'x'", "", 0.5, "Error"),
    ("== with nil is allowed", "first(result) == nil", "", [], "Successful"),
    ("a predicate must return a bool", "all(result, #)", "", [1.0], "Error"),
    ("?: needs a bool condition", "result ? true : false", "", 0.5, "Error"),
    ("arrays are indexed by ints", "result[0.5] > 0", "", [1.0], "Error"),
    ("a non-bool condition is refused before running", "len(result) > 0 ? result[0] : 0", "", [], "Error"),
    ("chained comparison is a type error", "0 < result < 1", "", 0.5, "Error"),
]
