"""The OPA policy gate: `evaluate(objects, env)` runs policies/opa over one env's objects in-process."""

from votectl.policy.engine import Exemption, PolicyResult, catalog, evaluate

__all__ = ["Exemption", "PolicyResult", "catalog", "evaluate"]
