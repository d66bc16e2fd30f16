"""Errors of the analysis engine; each becomes a measurement or run Error, never a traceback."""

from __future__ import annotations


class ExprError(Exception):
    """A condition that cannot be compiled or evaluated (syntax, unsupported feature, type error)."""


class ProviderError(Exception):
    """The metric provider could not produce a result (HTTP, PromQL, timeout, unsupported type)."""


class SpecError(Exception):
    """The template, its arguments or a metric is invalid; the run ends in Error with this message."""
