"""Lookups over rendered manifests shared by the gitops tests."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

ARG_PLACEHOLDER = re.compile(r"\{\{\s*args\.([\w-]+)\s*\}\}")


def find(objects: list[dict], kind: str, name: str) -> dict:
    matches = [obj for obj in objects if obj["kind"] == kind and obj["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def of_kind(objects: list[dict], kind: str) -> list[dict]:
    return [obj for obj in objects if obj["kind"] == kind]


def pod_containers(obj: dict) -> list[dict]:
    """Containers of a workload's pod template, or of the Job an AnalysisTemplate's job metric runs."""
    if obj["kind"] == "AnalysisTemplate":
        return [
            container
            for metric in obj["spec"]["metrics"]
            if "job" in metric["provider"]
            for container in metric["provider"]["job"]["spec"]["template"]["spec"]["containers"]
        ]
    return obj["spec"]["template"]["spec"]["containers"]


def analysis_blocks(rollout: dict) -> Iterator[tuple[str, dict]]:
    """(kind, block) for every analysis a Rollout starts: background, step, pre- and post-promotion."""
    strategy = rollout["spec"]["strategy"]
    canary = strategy.get("canary", {})
    if "analysis" in canary:
        yield "background", canary["analysis"]
    for step in canary.get("steps", []):
        if "analysis" in step:
            yield "step", step["analysis"]
    for field in ("prePromotionAnalysis", "postPromotionAnalysis"):
        if field in strategy.get("blueGreen", {}):
            yield "blue-green", strategy["blueGreen"][field]


def resolve_metrics(template: dict, supplied: dict[str, str]) -> list[dict]:
    """The template's metrics with every `{{args.X}}` replaced as the controller would.

    A Rollout's arg overrides the template default; an arg left without a value, or a placeholder naming
    no arg, is an error, as it is for Argo Rollouts.
    """
    values = {arg["name"]: arg.get("value") for arg in template["spec"].get("args", [])}
    values.update(supplied)
    missing = sorted(name for name, value in values.items() if value is None)
    assert not missing, f"{template['metadata']['name']}: args {missing} not resolved"

    def substitute(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"{template['metadata']['name']}: {{{{args.{name}}}}} names no arg"
        return json.dumps(values[name])[1:-1]

    return json.loads(ARG_PLACEHOLDER.sub(substitute, json.dumps(template["spec"]["metrics"])))
