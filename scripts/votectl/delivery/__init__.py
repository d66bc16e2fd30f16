"""Delivery checks that CI, Tekton and compose call: the linters and scanners (`votectl lint`) and the
smoke test of a deployed stack (`votectl smoke`)."""
