"""Small accessors over rendered objects that the cross-checks share: names, pod templates, lookups."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from typing import Any

# Kinds whose pods come from `spec.template`; CronJob and Rollout are handled separately below.
_TEMPLATE_KINDS = {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"}


def dig(obj: Any, *keys: str | int) -> Any:
    """Nested lookup that yields None instead of raising on a missing or mistyped level."""
    for key in keys:
        if isinstance(key, int):
            obj = obj[key] if isinstance(obj, list) and -len(obj) <= key < len(obj) else None
        else:
            obj = obj.get(key) if isinstance(obj, dict) else None
    return obj


def mapping(value: Any) -> dict:
    """A dict field as a dict, or empty when missing or malformed (malformed is the schema check's job)."""
    return value if isinstance(value, dict) else {}


def items(value: Any) -> list[dict]:
    """The dict entries of a list field, ignoring a missing field or malformed entries (schema's job)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def name_of(obj: dict) -> str:
    return str(dig(obj, "metadata", "name") or "")


def namespace_of(obj: dict) -> str | None:
    return dig(obj, "metadata", "namespace")


def display_name(obj: dict) -> str:
    namespace = namespace_of(obj)
    return f"{namespace}/{name_of(obj)}" if namespace else name_of(obj)


def same_namespace(one: dict, other: dict) -> bool:
    """Objects without a namespace (as in `verify --files`) land in whatever namespace is applied."""
    first, second = namespace_of(one), namespace_of(other)
    return first is None or second is None or first == second


class Index:
    """All objects of one env by kind and name; an object without namespace matches any namespace."""

    def __init__(self, objects: list[dict]) -> None:
        self.objects = objects
        self._by_kind: dict[str, list[dict]] = defaultdict(list)
        for obj in objects:
            self._by_kind[str(obj.get("kind"))].append(obj)

    def of_kind(self, *kinds: str) -> Iterator[dict]:
        for kind in kinds:
            yield from self._by_kind.get(kind, ())

    def find(self, kind: str, name: str, near: dict) -> dict | None:
        candidates = self._by_kind.get(kind, ())
        return next((obj for obj in candidates if name_of(obj) == name and same_namespace(obj, near)), None)

    def pod_template(self, obj: dict) -> dict | None:
        """The pod template a workload runs; a Rollout with workloadRef borrows its Deployment's."""
        kind = str(obj.get("kind"))
        if kind in _TEMPLATE_KINDS:
            return dig(obj, "spec", "template")
        if kind == "CronJob":
            return dig(obj, "spec", "jobTemplate", "spec", "template")
        if kind == "Rollout":
            ref = dig(obj, "spec", "workloadRef", "name")
            if ref:
                target = self.find(str(dig(obj, "spec", "workloadRef", "kind") or "Deployment"), ref, obj)
                return self.pod_template(target) if target else None
            return dig(obj, "spec", "template")
        if kind == "Pod":
            return obj
        return None

    def pod_labels(self, near: dict) -> list[dict]:
        """The pod labels of every workload in the namespace of `near`."""
        return [
            mapping(dig(template, "metadata", "labels"))
            for obj in self.objects
            if same_namespace(obj, near) and isinstance(template := self.pod_template(obj), dict)
        ]

    def workloads(self) -> Iterator[tuple[dict, dict]]:
        """Every (workload, pod template) pair of the env."""
        for obj in self.objects:
            template = self.pod_template(obj)
            if isinstance(template, dict):
                yield obj, template


def selector_matches(selector: dict, labels: dict) -> bool:
    """A Kubernetes LabelSelector (matchLabels and matchExpressions) against a label set."""
    match_labels = mapping(selector.get("matchLabels"))
    if any(labels.get(key) != value for key, value in match_labels.items()):
        return False
    for expression in items(selector.get("matchExpressions")):
        key, values = expression.get("key"), expression.get("values")
        values = values if isinstance(values, list) else []
        operator = expression.get("operator")
        present = key in labels
        if (
            (operator == "In" and (not present or labels[key] not in values))
            or (operator == "NotIn" and present and labels[key] in values)
            or (operator == "Exists" and not present)
            or (operator == "DoesNotExist" and present)
        ):
            return False
    return True
