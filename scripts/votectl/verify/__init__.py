"""The verify gate: schema validation, cross-checks between objects, OPA policies, and their reports."""
