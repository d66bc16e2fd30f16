"""AnalysisTemplate evaluation exactly as the Argo Rollouts controller does it, runnable on a laptop.

Modules: expr_parser/expr_eval/expr_builtins/expr_values (the expr-lang subset), conditions (a
measurement's verdict), args and spec (substitution and validation), prometheus (the provider), clock
(real or virtual time), run (the AnalysisRunner loop), template (finding templates in rollouts/).
"""
