"""From a Rollout's analysis reference to the AnalysisRun the controller would create, on rehearsal time.

As the controller does: the referenced templates are merged into one run (metrics concatenated, args
flattened; two templates giving one arg different defaults is an error), the Rollout's args override
the templates' (args a template does not declare are ignored, as MergeArgs does), and
`podTemplateHashValue: Latest|Stable` becomes the canary's or the stable instance's hash label.

Rehearsal overrides, all driven by --speed (docs/progressive-delivery.md, "Rehearsals"):
- every metric's `interval` and `initialDelay` are divided by the speed;
- an arg used as a PromQL range (`[{{args.window}}]`) is divided too, but never below four scrape
  intervals, or rate() would see fewer than two samples and answer "no data";
- `job` metrics are not run: the rehearsal's own synthetic traffic plays their part.
The result is a fully resolved template (no args left), so `votectl analyze FILE --replay` re-judges
exactly what the rehearsal judged.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from votectl.analysis.args import resolve_args, substitute
from votectl.analysis.errors import SpecError
from votectl.analysis.goformat import parse_duration
from votectl.errors import VotectlError
from votectl.rehearsal.strategy import AnalysisRef, Rollout

_RANGE_ARG = re.compile(r"\[\s*\{\{\s*args\.([^{}\s]+)\s*\}\}\s*\]")
MIN_SCRAPES_PER_WINDOW = 4
PLAYED_BY_REHEARSAL = ("job",)


@dataclass(frozen=True)
class Hashes:
    """The `rollouts_pod_template_hash` label values Prometheus attaches to each instance's series."""

    stable: str
    latest: str


@dataclass(frozen=True)
class Timing:
    speed: float
    scrape_interval: float  # seconds

    def scaled(self, seconds: float) -> float:
        return seconds / self.speed

    def window(self, seconds: float) -> float:
        return max(self.scaled(seconds), MIN_SCRAPES_PER_WINDOW * self.scrape_interval)


@dataclass
class BoundAnalysis:
    """What the engine runs: a resolved template and no args, or (when resolution fails) the merged
    template and the args, so the engine reports the controller's Error for them."""

    name: str
    template: dict[str, Any]
    args: dict[str, str] = field(default_factory=dict)
    played_by_rehearsal: list[str] = field(default_factory=list)


def bind_analysis(ref: AnalysisRef, rollout: Rollout, hashes: Hashes, timing: Timing) -> BoundAnalysis:
    spec = _merged_spec(ref, rollout)
    declared = [str(arg.get("name", "")) for arg in spec["args"]]
    values = {name: value for name, value in _rollout_args(ref, rollout, hashes).items() if name in declared}
    try:
        resolved = resolve_args(spec["args"], values)
        metrics = substitute(spec["metrics"], _scaled_ranges(spec["metrics"], resolved, timing))
        scaled = [_scaled_metric(metric, timing) for metric in metrics]
    except SpecError:
        template = {"kind": "AnalysisTemplate", "metadata": {"name": ref.names}, "spec": spec}
        return BoundAnalysis(ref.names, template, values)
    kept = [m for m in scaled if not any(p in (m.get("provider") or {}) for p in PLAYED_BY_REHEARSAL)]
    played = [str(m.get("name")) for m in scaled if m not in kept]
    template = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "AnalysisTemplate",
        "metadata": {"name": ref.names},
        "spec": {"metrics": kept, "dryRun": spec["dryRun"]},
    }
    return BoundAnalysis(ref.names, template, {}, played)


def _merged_spec(ref: AnalysisRef, rollout: Rollout) -> dict[str, Any]:
    """flattenTemplates: one spec out of several templates."""
    args: dict[str, dict[str, Any]] = {}
    metrics: list[dict[str, Any]] = []
    dry_run: list[dict[str, Any]] = list(ref.dry_run)
    for name, cluster_scope in ref.templates:
        spec = _template(rollout, name, cluster_scope).get("spec") or {}
        for arg in spec.get("args") or []:
            name = str(arg.get("name"))
            known = args.setdefault(name, arg)
            if known.get("value") is None:
                args[name] = arg  # a declaration with a default completes one without
            elif arg.get("value") is not None and arg["value"] != known["value"]:
                raise VotectlError(f"analysis {ref.names}: two templates give arg {name} different values")
        for metric in spec.get("metrics") or []:
            if any(m.get("name") == metric.get("name") for m in metrics):
                raise VotectlError(f"analysis {ref.names}: two metrics are named {metric.get('name')!r}")
            metrics.append(metric)
        dry_run += spec.get("dryRun") or []
    return {"args": list(args.values()), "metrics": metrics, "dryRun": dry_run}


def _template(rollout: Rollout, name: str, cluster_scope: bool) -> dict[str, Any]:
    kind = "ClusterAnalysisTemplate" if cluster_scope else "AnalysisTemplate"
    for obj in rollout.objects:
        if obj.get("kind") == kind and (obj.get("metadata") or {}).get("name") == name:
            return obj
    raise VotectlError(
        f"Rollout {rollout.name} uses {kind} {name!r}, which the rendered env does not contain"
    )


def _rollout_args(ref: AnalysisRef, rollout: Rollout, hashes: Hashes) -> dict[str, str]:
    values: dict[str, str] = {}
    for arg in ref.args:
        name = str(arg.get("name", ""))
        if arg.get("value") is not None:
            values[name] = str(arg["value"])
            continue
        source = arg.get("valueFrom") or {}
        which = source.get("podTemplateHashValue")
        if which in ("Latest", "Stable"):
            values[name] = hashes.latest if which == "Latest" else hashes.stable
        elif (source.get("fieldRef") or {}).get("fieldPath") == "metadata.name":
            values[name] = rollout.name
        else:
            raise VotectlError(
                f"Rollout {rollout.name}: arg {name} takes its value from {source!r}, "
                "which only the cluster can resolve"
            )
    return values


def _scaled_ranges(metrics: list[dict[str, Any]], values: dict[str, str], timing: Timing) -> dict[str, str]:
    queries = " ".join(
        str(((m.get("provider") or {}).get("prometheus") or {}).get("query", "")) for m in metrics
    )
    scaled = dict(values)
    for name in set(_RANGE_ARG.findall(queries)) & set(values):
        scaled[name] = _go_duration(timing.window(parse_duration(values[name], f"args.{name}")))
    return scaled


def _scaled_metric(metric: dict[str, Any], timing: Timing) -> dict[str, Any]:
    scaled = dict(metric)
    for key in ("interval", "initialDelay"):
        if metric.get(key) not in (None, ""):
            scaled[key] = _go_duration(timing.scaled(parse_duration(str(metric[key]), key)))
    return scaled


def _go_duration(seconds: float) -> str:
    """Whole milliseconds: a unit both Go durations and PromQL ranges accept."""
    return f"{max(1, round(seconds * 1000))}ms"
