"""Schema validation: strict, every error with its path, no kind without a schema, RE2 patterns."""

from __future__ import annotations

from pathlib import Path

import pytest
from votectl.verify.patterns import compile_re2
from votectl.verify.schemas import SchemaStore


def deployment(**container: object) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {
            "selector": {"matchLabels": {"app": "web"}},
            "template": {
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [{"name": "web", "image": "nginx", **container}]},
            },
        },
    }


def prometheus_rule(strategy: str) -> dict:
    group = {"name": "g", "partial_response_strategy": strategy, "rules": [{"alert": "A", "expr": "up == 0"}]}
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "alerts"},
        "spec": {"groups": [group]},
    }


def test_valid_builtin_object_has_no_errors(store: SchemaStore) -> None:
    assert store.errors(deployment()) == []


def test_every_error_of_an_object_is_reported_with_its_path(store: SchemaStore) -> None:
    errors = store.errors(deployment(imagePullPolicyy="Always", ports=[{"containerPort": "80"}]))
    assert sorted(errors) == [
        "spec.template.spec.containers[0].ports[0].containerPort: '80' is not of type 'integer'",
        "spec.template.spec.containers[0]: Additional properties are not allowed "
        "('imagePullPolicyy' was unexpected)",
    ]


def test_custom_resource_root_and_metadata_are_strict(store: SchemaStore) -> None:
    rule = prometheus_rule("warn")
    rule["metadata"]["lables"] = {}
    rule["sepc"] = {}
    assert store.errors(rule) == [
        "metadata: Additional properties are not allowed ('lables' was unexpected)",
        "(root): Additional properties are not allowed ('sepc' was unexpected)",
    ]


def test_re2_case_insensitive_pattern_is_checked_not_skipped(store: SchemaStore) -> None:
    assert store.errors(prometheus_rule("WARN")) == []
    assert store.errors(prometheus_rule("sometimes")) == [
        "spec.groups[0].partial_response_strategy: 'sometimes' does not match '^(?i)(abort|warn)?$'"
    ]


@pytest.mark.parametrize(
    ("pattern", "text", "matches"),
    [
        ("^a(?i)b|c$", "aB", True),
        ("^a(?i)b|c$", "C", True),
        ("^a(?i)b|c$", "AB", False),
        ("x(y(?i)z)w", "xyZw", True),
        ("x(y(?i)z)w", "xyzW", False),
        ("[(?i)]x", "ix", True),
        ("^end\\z", "end", True),
    ],
)
def test_re2_inline_flags_keep_their_scope(pattern: str, text: str, matches: bool) -> None:
    assert bool(compile_re2(pattern).search(text)) is matches


def test_kinds_without_schema_are_errors(store: SchemaStore) -> None:
    widget = {"apiVersion": "v1", "kind": "Widget", "metadata": {"name": "w"}}
    gadget = {"apiVersion": "example.com/v1", "kind": "Gadget", "metadata": {"name": "g"}}
    assert store.errors(widget) == ["(root): no schema for Widget v1 in Kubernetes 1.37.0"]
    assert store.errors(gadget)[0].startswith("(root): no schema for Gadget example.com/v1 in ")


def test_api_version_cannot_reach_outside_the_schema_dirs(store: SchemaStore) -> None:
    escape = {"apiVersion": "../../etc/v1", "kind": "Passwd", "metadata": {"name": "p"}}
    assert store.errors(escape)[0].startswith("(root): no schema for Passwd ../../etc/v1 in ")


def test_missing_api_version_is_an_error(store: SchemaStore) -> None:
    assert store.errors({"kind": "Service", "metadata": {"name": "s"}}) == [
        "(root): apiVersion and kind must be non-empty strings"
    ]


def test_same_kind_compiles_once(crd_schema_dir: Path) -> None:
    store = SchemaStore(crd_schema_dir)
    store.errors(prometheus_rule("warn"))
    assert store.validator("monitoring.coreos.com/v1", "PrometheusRule") is store.validator(
        "monitoring.coreos.com/v1", "PrometheusRule"
    )
