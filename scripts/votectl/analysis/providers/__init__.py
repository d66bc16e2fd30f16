"""Metric providers: where a measurement's value comes from.

The reconcile loop (analysis.reconcile) needs only `Provider`, so another backend can stand in for
Prometheus; each provider module turns its backend's answer into a `QueryResult`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from votectl.analysis.spec import MetricSpec


@dataclass(frozen=True)
class QueryResult:
    """What a provider hands to the conditions (`result`) and what the measurement stores (`value`)."""

    value: str
    result: float | list[float]


class Provider(Protocol):
    """Anything that can take one measurement of a metric at a given (possibly past) time."""

    def query(self, metric: MetricSpec, at: float) -> QueryResult: ...
