"""One finding of the verify gate (schema check, cross-check or OPA policy), shared by every reporter."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True, order=True)
class Finding:
    env: str  # env name, or "files" for `verify --files`
    kind: str  # object kind, e.g. "Rollout"
    name: str  # object name (namespace-qualified when known: "voting-prod/vote")
    rule: str  # "schema", "crossref/analysis-template", or a policy ID such as "SEC-001"
    message: str
    severity: str = "error"  # "error" fails the gate; "warning" and "info" are reported only

    def as_dict(self) -> dict[str, str]:
        return asdict(self)
