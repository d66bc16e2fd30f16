"""AnalysisTemplate evaluation exactly as the Argo Rollouts controller does it, runnable on a laptop.

Packages and modules: expr (the expr-lang subset), conditions (a measurement's verdict), args and spec
(substitution and validation), providers (where measurements come from: providers.prometheus), clock
(real or virtual time), reconcile (the AnalysisRunner loop), template (finding templates in
gitops/base/analysis/).
A local Prometheus to measure against is votectl.localstack.prometheus_server.
"""
