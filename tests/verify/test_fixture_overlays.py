"""Every deliberately broken overlay is rejected with the right rule and message; the base is clean."""

from __future__ import annotations

import pytest
from votectl.verify.gate import check_objects
from votectl.verify.schemas import SchemaStore

ROLLOUT = "Rollout voting-fixture/vote"

# overlay -> the exact findings (rule, object, message) schema and cross-checks must produce
EXPECTED = {
    "unknown-field": [
        (
            "schema",
            ROLLOUT,
            "spec.template.spec.containers[0]: Additional properties are not allowed "
            "('imagePullPolicyy' was unexpected)",
        )
    ],
    "wrong-type": [
        ("schema", ROLLOUT, "spec.replicas: 'three' is not of type 'integer'"),
        (
            "schema",
            ROLLOUT,
            "spec.template.spec.containers[0].ports[0].containerPort: '5000' is not of type 'integer'",
        ),
    ],
    "missing-analysis-template": [
        (
            "crossref/analysis-template",
            ROLLOUT,
            "strategy.canary.steps[2].analysis references AnalysisTemplate 'error-ratio-v2', not in env",
        )
    ],
    "missing-arg": [
        (
            "crossref/analysis-args",
            ROLLOUT,
            "strategy.canary.analysis: AnalysisTemplate 'error-ratio' needs arg 'canary-hash' (no default), "
            "which the Rollout does not pass",
        )
    ],
    "dangling-service": [
        (
            "crossref/service-selector",
            "Service voting-fixture/ghost",
            "selector {app.kubernetes.io/name=ghost} matches no workload's pods",
        )
    ],
    "missing-secret": [
        (
            "crossref/secret-ref",
            ROLLOUT,
            "container 'vote' env SECRET_KEY uses Secret 'vote-secrets', not in env",
        )
    ],
    "missing-configmap": [
        (
            "crossref/configmap-ref",
            ROLLOUT,
            "container 'vote' env VOTE_OPTIONS uses ConfigMap 'vote-cfg', not in env",
        )
    ],
    "ingress-bad-backend": [
        (
            "crossref/ingress-backend",
            "Ingress voting-fixture/vote",
            "rule vote.example.test/: Service 'vote' has no port 'metrics'",
        ),
        (
            "crossref/ingress-backend",
            "Ingress voting-fixture/vote",
            "rule vote.example.test/api routes to Service 'vote-api', not in env",
        ),
    ],
    "missing-rollout-service": [
        (
            "crossref/rollout-ref",
            ROLLOUT,
            "strategy.canary.canaryService names Service 'vote-canary', not in env",
        )
    ],
    "dangling-scale-target": [
        (
            "crossref/scale-target",
            "HorizontalPodAutoscaler voting-fixture/vote",
            "scaleTargetRef names Deployment 'vote', not in env",
        )
    ],
}


def structural_findings(objects: list[dict], store: SchemaStore) -> list[tuple[str, str, str]]:
    result = check_objects("fixture", objects, store, "prod", policies=False)
    return [(f.rule, f"{f.kind} {f.name}", f.message) for f in result.findings]


def test_base_fixture_is_clean(rendered_fixtures: dict[str, list[dict]], store: SchemaStore) -> None:
    assert len(rendered_fixtures["base"]) == 11
    assert structural_findings(rendered_fixtures["base"], store) == []


@pytest.mark.parametrize("overlay", sorted(EXPECTED))
def test_broken_overlay_is_rejected_with_the_right_message(
    overlay: str, rendered_fixtures: dict[str, list[dict]], store: SchemaStore
) -> None:
    assert structural_findings(rendered_fixtures[overlay], store) == sorted(EXPECTED[overlay])


def test_unknown_kind_is_rejected_not_passed(
    rendered_fixtures: dict[str, list[dict]], store: SchemaStore, crd_schema_dir: object
) -> None:
    assert structural_findings(rendered_fixtures["unknown-kind"], store) == [
        (
            "schema",
            "Widget voting-fixture/gadget",
            f"(root): no schema for Widget example.com/v1 in {crd_schema_dir} "
            "(expected <group>/<kind>_<version>.json)",
        )
    ]


def test_base_fixture_passes_the_whole_gate_in_every_env(
    rendered_fixtures: dict[str, list[dict]], store: SchemaStore
) -> None:
    for env in ("dev", "staging", "prod"):
        assert check_objects(env, rendered_fixtures["base"], store, env).findings == []


def test_tag_in_prod_is_rejected_by_the_policies(
    rendered_fixtures: dict[str, list[dict]], store: SchemaStore
) -> None:
    """Policy IDs belong to the policy library, so this checks the object, severity and message."""
    prod = check_objects("prod", rendered_fixtures["tag-in-prod"], store, "prod").findings
    assert [(f.kind, f.name, f.severity) for f in prod] == [("Rollout", "voting-fixture/vote", "error")]
    assert "ghcr.io/votingplatform/vote:1.4.2 is not pinned by digest in prod" in prod[0].message
    assert check_objects("dev", rendered_fixtures["tag-in-prod"], store, "dev").findings == []
