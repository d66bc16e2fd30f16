"""Resolved metric specs and the controller's validation rules (utils/analysis/helpers.go ValidateMetric).

Defaults: failureLimit 0, inconclusiveLimit 0, consecutiveErrorLimit 4, consecutiveSuccessLimit 0 (off).
The effective count is `count`, or 1 when neither count nor interval is set, or unbounded (None) when
only an interval is set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from votectl.analysis.errors import SpecError
from votectl.analysis.goformat import parse_duration

DEFAULT_CONSECUTIVE_ERROR_LIMIT = 4
SUPPORTED_PROVIDERS = ("prometheus",)
KNOWN_PROVIDERS = (
    "prometheus",
    "datadog",
    "wavefront",
    "newRelic",
    "job",
    "kayenta",
    "web",
    "cloudWatch",
    "graphite",
    "influxdb",
    "skywalking",
    "plugin",
)


@dataclass(frozen=True)
class MetricSpec:
    """One metric after argument substitution, with durations in seconds and limits as ints."""

    name: str
    provider: dict[str, Any]
    success_condition: str = ""
    failure_condition: str = ""
    interval: float | None = None
    initial_delay: float | None = None
    count: int = 0
    failure_limit: int = 0
    inconclusive_limit: int = 0
    consecutive_error_limit: int = DEFAULT_CONSECUTIVE_ERROR_LIMIT
    consecutive_success_limit: int = 0
    dry_run: bool = False

    @property
    def effective_count(self) -> int | None:
        if self.count == 0:
            return 1 if self.interval is None else None
        return self.count

    @property
    def prometheus(self) -> dict[str, Any]:
        return dict(self.provider.get("prometheus") or {})


def object_list(value: Any, what: str) -> list[dict[str, Any]]:
    """A YAML list of mappings (args, metrics, dryRun); anything else is a spec error, not a traceback."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise SpecError(f"{what} must be a list of objects")
    return value


def _int_field(metric: dict[str, Any], field: str, default: int) -> int:
    """An int-or-string field: `count: "{{args.count}}"` arrives here as the string "5"."""
    value = metric.get(field)
    if value is None:
        return default
    if isinstance(value, bool):
        raise SpecError(f"{field} must be an integer, got {value!r}")
    try:
        return int(str(value).strip())
    except ValueError:
        raise SpecError(f"{field} must be an integer, got {value!r}") from None


def _duration_field(metric: dict[str, Any], field: str, label: str) -> float | None:
    value = metric.get(field)
    return None if value in (None, "") else parse_duration(str(value), label)


def _metric_spec(metric: dict[str, Any]) -> MetricSpec:
    provider = metric.get("provider") or {}
    if not isinstance(provider, dict) or not all(isinstance(v, dict | None) for v in provider.values()):
        raise SpecError("provider must be an object holding one provider object")
    return MetricSpec(
        name=str(metric.get("name", "")),
        provider=provider,
        success_condition=str(metric.get("successCondition") or ""),
        failure_condition=str(metric.get("failureCondition") or ""),
        interval=_duration_field(metric, "interval", "interval"),
        initial_delay=_duration_field(metric, "initialDelay", "startDelay"),
        count=_int_field(metric, "count", 0),
        failure_limit=_int_field(metric, "failureLimit", 0),
        inconclusive_limit=_int_field(metric, "inconclusiveLimit", 0),
        consecutive_error_limit=_int_field(metric, "consecutiveErrorLimit", DEFAULT_CONSECUTIVE_ERROR_LIMIT),
        consecutive_success_limit=_int_field(metric, "consecutiveSuccessLimit", 0),
    )


def _validate_metric(spec: MetricSpec) -> None:
    if spec.count > 0:
        if spec.count < spec.failure_limit + spec.consecutive_success_limit:
            needed = (
                "failureLimit + consecutiveSuccessLimit" if spec.consecutive_success_limit else "failureLimit"
            )
            raise SpecError(f"count must be >= {needed}")
        if spec.count < spec.inconclusive_limit:
            raise SpecError("count must be >= inconclusiveLimit")
    if spec.count > 1 and spec.interval is None:
        raise SpecError("interval must be specified when count > 1")
    if spec.failure_limit < 0 and not (spec.failure_limit == -1 and spec.consecutive_success_limit > 0):
        raise SpecError("failureLimit must be >= 0 (-1 is allowed only with consecutiveSuccessLimit > 0)")
    if spec.inconclusive_limit < 0:
        raise SpecError("inconclusiveLimit must be >= 0")
    if spec.consecutive_error_limit < 0:
        raise SpecError("consecutiveErrorLimit must be >= 0")
    if spec.consecutive_success_limit < 0:
        raise SpecError("consecutiveSuccessLimit must be >= 0")
    providers = [name for name, value in spec.provider.items() if value is not None]
    if not providers:
        raise SpecError("no provider specified")
    if len(providers) > 1:
        raise SpecError("multiple providers specified")
    if providers[0] not in SUPPORTED_PROVIDERS:
        kind = "provider" if providers[0] in KNOWN_PROVIDERS else "unknown provider"
        raise SpecError(
            f"unsupported {kind} {providers[0]!r}: votectl analyze evaluates prometheus metrics only"
        )


def _dry_run_names(rules: list[dict[str, Any]], names: list[str]) -> set[str]:
    """Metric names matched by the dryRun rules: unanchored Go regexes, each of which must match something."""
    matched: set[str] = set()
    for index, rule in enumerate(rules):
        pattern = str(rule.get("metricName", ""))
        try:
            regex = re.compile(pattern)
        except re.error as err:
            raise SpecError(f"dryRun[{index}]: invalid metricName regex {pattern!r}: {err}") from None
        hits = {name for name in names if regex.search(name)}
        if not hits:
            raise SpecError(f"dryRun[{index}]: Rule didn't match any metric name(s)")
        matched |= hits
    return matched


def build_metrics(metrics: list[dict[str, Any]], dry_run_rules: list[dict[str, Any]]) -> list[MetricSpec]:
    """Validate resolved metrics like ValidateMetrics, then flag the dry-run ones."""
    if not metrics:
        raise SpecError("no metrics specified")
    seen: set[str] = set()
    names = [str(metric.get("name", "")) for metric in metrics]
    specs: list[MetricSpec] = []
    for index, metric in enumerate(metrics):
        try:
            if names[index] in seen:
                raise SpecError(f"duplicate name '{names[index]}'")
            seen.add(names[index])
            spec = _metric_spec(metric)
            _validate_metric(spec)
        except SpecError as err:
            raise SpecError(f"metrics[{index}]: {err}") from None
        specs.append(spec)
    dry = _dry_run_names(dry_run_rules, names)
    return [replace(spec, dry_run=spec.name in dry) for spec in specs]


def require_finite(specs: list[MetricSpec]) -> None:
    """Step and blue-green analyses must end by themselves: an interval without a count is refused there."""
    for spec in specs:
        if spec.effective_count is None:
            raise SpecError(
                f"metric {spec.name!r} runs indefinitely (interval without count): "
                "only a background analysis may do that"
            )
