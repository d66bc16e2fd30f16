"""The objects a controller rehearsal applies: the env's own, pointed at the rehearsal and on its time.

Only what the Rollout needs goes in (its AnalysisTemplates, the Services and Ingress it routes with, the
accounts and config its pods name). Three things change, nothing else: every Prometheus address points
at the rehearsal's Prometheus; with --speed N, pauses, analysis intervals and initial delays take 1/N of
their time and PromQL ranges too (never below four scrapes, as the in-process rehearsal does); and the
canary revision differs from the stable one by the canary's env and a revision annotation.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from votectl.analysis.goformat import parse_duration
from votectl.rehearsal.binding import Timing

KEPT_KINDS = {
    "ServiceAccount",
    "ConfigMap",
    "Service",
    "Ingress",
    "AnalysisTemplate",
    "ClusterAnalysisTemplate",
}
REVISION_ANNOTATION = "rehearsal.votingplatform.io/revision"
_ARG_REF = re.compile(r"^\s*\{\{\s*args\.([^{}\s]+)\s*\}\}\s*$")
_RANGE_ARG = re.compile(r"\[\s*\{\{\s*args\.([^{}\s]+)\s*\}\}\s*\]")
_TIMED_FIELDS = ("interval", "initialDelay")


def rehearsal_objects(
    objects: list[dict[str, Any]], service: str, namespace: str, prometheus_url: str, timing: Timing
) -> list[dict[str, Any]]:
    """The env's objects for the service's rollout, moved to `namespace`; the Rollout last."""
    kept = [copy.deepcopy(obj) for obj in objects if obj.get("kind") in KEPT_KINDS]
    [rollout] = [
        copy.deepcopy(obj)
        for obj in objects
        if obj.get("kind") == "Rollout" and (obj.get("metadata") or {}).get("name") == service
    ]
    for obj in [*kept, rollout]:
        if obj.get("kind") != "ClusterAnalysisTemplate":
            obj["metadata"]["namespace"] = namespace
    retime([*kept, rollout], prometheus_url, timing)
    return [*kept, rollout]


def retime(objects: list[dict[str, Any]], prometheus_url: str, timing: Timing) -> None:
    """In place: the analysis templates and Rollouts among `objects` on `timing`, on `prometheus_url`."""
    templates = [obj for obj in objects if obj.get("kind") in ("AnalysisTemplate", "ClusterAnalysisTemplate")]
    roles = _arg_roles(templates)
    for template in templates:
        _retime_template(template, roles, prometheus_url, timing)
    for rollout in (obj for obj in objects if obj.get("kind") == "Rollout"):
        _retime_rollout(rollout, roles, prometheus_url, timing)


def canary_revision(rollout: dict[str, Any], canary_env: dict[str, str], paused: bool) -> dict[str, Any]:
    """The Rollout with a changed pod template: what starts the rollout, as a new image would.

    `paused` holds it while the rehearsal wires the canary's hash into Prometheus. A paused blue-green
    Rollout still starts its pre-promotion analysis, so the hold also leaves the analyses out; they are
    back (and the template unchanged, so the hash too) when the rollout is resumed."""
    changed = copy.deepcopy(rollout)
    if paused:
        blue_green = changed["spec"]["strategy"].get("blueGreen") or {}
        for field in ("prePromotionAnalysis", "postPromotionAnalysis"):
            blue_green.pop(field, None)
    template = changed["spec"]["template"]
    template.setdefault("metadata", {}).setdefault("annotations", {})[REVISION_ANNOTATION] = "canary"
    for container in template["spec"]["containers"][:1]:
        env = [var for var in container.get("env") or [] if var.get("name") not in canary_env]
        container["env"] = [*env, *({"name": k, "value": v} for k, v in canary_env.items())]
    changed["spec"]["paused"] = paused
    return changed


def _arg_roles(templates: list[dict[str, Any]]) -> dict[str, str]:
    """arg name -> "duration" (an interval or initial delay), "range" (a PromQL range) or "address"."""
    roles: dict[str, str] = {}
    for template in templates:
        for metric in (template.get("spec") or {}).get("metrics") or []:
            for field in _TIMED_FIELDS:
                if match := _ARG_REF.match(str(metric.get(field, ""))):
                    roles[match.group(1)] = "duration"
            prometheus = (metric.get("provider") or {}).get("prometheus") or {}
            for name in _RANGE_ARG.findall(str(prometheus.get("query", ""))):
                roles.setdefault(name, "range")
            if match := _ARG_REF.match(str(prometheus.get("address", ""))):
                roles[match.group(1)] = "address"
    return roles


def _rewritten(role: str, value: str, prometheus_url: str, timing: Timing) -> str:
    if role == "address":
        return prometheus_url
    seconds = parse_duration(value, "analysis arg")
    return _go_duration(timing.scaled(seconds) if role == "duration" else timing.window(seconds))


def _retime_args(
    args: list[dict[str, Any]], roles: dict[str, str], prometheus_url: str, timing: Timing
) -> None:
    for arg in args:
        role = roles.get(str(arg.get("name")))
        if role and arg.get("value") not in (None, ""):
            arg["value"] = _rewritten(role, str(arg["value"]), prometheus_url, timing)


def _retime_template(
    template: dict[str, Any], roles: dict[str, str], prometheus_url: str, timing: Timing
) -> None:
    spec = template.setdefault("spec", {})
    _retime_args(spec.get("args") or [], roles, prometheus_url, timing)
    for metric in spec.get("metrics") or []:
        for field in _TIMED_FIELDS:
            value = metric.get(field)
            if value not in (None, "") and not _ARG_REF.match(str(value)):
                metric[field] = _go_duration(timing.scaled(parse_duration(str(value), field)))
        prometheus = (metric.get("provider") or {}).get("prometheus")
        if prometheus is not None and not _ARG_REF.match(str(prometheus.get("address", ""))):
            prometheus["address"] = prometheus_url


def _retime_rollout(
    rollout: dict[str, Any], roles: dict[str, str], prometheus_url: str, timing: Timing
) -> None:
    strategy = rollout["spec"]["strategy"]
    canary, blue_green = strategy.get("canary") or {}, strategy.get("blueGreen") or {}
    blocks = [
        canary.get("analysis"),
        blue_green.get("prePromotionAnalysis"),
        blue_green.get("postPromotionAnalysis"),
    ]
    for step in canary.get("steps") or []:
        blocks.append(step.get("analysis"))
        pause = step.get("pause")
        if isinstance(pause, dict) and pause.get("duration") not in (None, ""):
            text = str(pause["duration"])
            seconds = float(text) if text.isdigit() else parse_duration(text, "pause duration")
            pause["duration"] = _go_duration(timing.scaled(seconds))
    for block in blocks:
        if isinstance(block, dict):
            _retime_args(block.get("args") or [], roles, prometheus_url, timing)


def _go_duration(seconds: float) -> str:
    """Whole milliseconds: a unit Go durations, Argo Rollouts pauses and PromQL ranges all accept."""
    return "0s" if seconds <= 0 else f"{max(1, round(seconds * 1000))}ms"
