"""The engine around the corpus: exemptions reported, input shapes conftest and opa produce, bad input."""

from __future__ import annotations

import json

import pytest
from policy_corpus import load_bundle
from votectl.errors import VotectlError
from votectl.policy import Exemption, evaluate
from votectl.policy.engine import gate_engine, load_policies, policy_data

PREFIX = "policy.votingplatform.io/"
IDS, REASON, UNTIL = f"{PREFIX}exempt", f"{PREFIX}exempt-reason", f"{PREFIX}exempt-until"


def _app_with_writable_root(annotations: dict[str, str]) -> list[dict]:
    objects = load_bundle("app")
    web = next(obj for obj in objects if obj["kind"] == "Deployment")
    web["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFilesystem"] = False
    web["metadata"]["annotations"] = annotations
    return objects


def test_valid_exemption_is_listed_and_suppresses_only_its_object():
    objects = _app_with_writable_root(
        {
            f"{PREFIX}exempt": "SEC-002",
            f"{PREFIX}exempt-reason": "cache in /app; #42",
            f"{PREFIX}exempt-until": "2099-12-31",
        }
    )
    result = evaluate(objects, "prod")
    assert result.findings == []
    assert result.exemptions == [
        Exemption("Deployment", "voting-prod/web", ("SEC-002",), "cache in /app; #42", "2099-12-31")
    ]


@pytest.mark.parametrize(
    ("annotations", "rule"),
    [
        ({IDS: "SEC-002", UNTIL: "2099-12-31"}, "EXC-001"),
        (
            {
                f"{PREFIX}exempt": "SEC-002",
                f"{PREFIX}exempt-reason": "old",
                f"{PREFIX}exempt-until": "2020-01-31",
            },
            "EXC-002",
        ),
        ({IDS: "SEC-002", REASON: "no date"}, "EXC-003"),
    ],
    ids=["missing-reason", "expired", "missing-expiry"],
)
def test_invalid_exemption_is_not_in_force_and_is_flagged(annotations, rule):
    result = evaluate(_app_with_writable_root(annotations), "prod")
    assert result.exemptions == []
    flagged = {(finding.rule, finding.kind, finding.name) for finding in result.findings}
    assert flagged == {(rule, "Deployment", "voting-prod/web"), ("SEC-002", "Deployment", "voting-prod/web")}


def test_finding_names_object_field_and_fix():
    result = evaluate(_app_with_writable_root({}), "staging", source="files")
    [finding] = result.findings
    assert (finding.env, finding.kind, finding.name, finding.rule) == (
        "files",
        "Deployment",
        "voting-prod/web",
        "SEC-002",
    )
    assert "spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem" in finding.message
    assert finding.severity == "error"


def test_unknown_env_is_a_user_error():
    with pytest.raises(VotectlError, match="unknown env 'qa'"):
        evaluate([], "qa")


def _deny_ids(term: object, env: str | None = "prod") -> list[str]:
    interpreter = load_policies(policy_data(env) if env else None)
    interpreter.set_input_term(json.dumps(term))
    output = interpreter.query("[d.policy | some d in data.main.deny]")
    assert output.ok()
    return sorted(output.results[0].expressions[0])


def _app_without_network_policy() -> list[dict]:
    """The app bundle minus its NetworkPolicy: one cross-resource finding (NET-003) per input shape."""
    return [obj for obj in load_bundle("app") if obj["kind"] != "NetworkPolicy"]


@pytest.mark.parametrize(
    "shape",
    ["conftest-combine-multidoc", "conftest-combine-per-file", "plain-list", "kind-list"],
)
def test_every_input_shape_sees_the_same_objects(shape):
    objects = _app_without_network_policy()
    term = {
        "conftest-combine-multidoc": [{"path": "-", "contents": objects}],
        "conftest-combine-per-file": [
            {"path": f"{i}.yaml", "contents": obj} for i, obj in enumerate(objects)
        ],
        "plain-list": objects,
        "kind-list": {"apiVersion": "v1", "kind": "List", "items": objects},
    }[shape]
    assert _deny_ids(term) == ["NET-003"]


def test_without_env_data_the_strictest_rules_apply():
    """conftest or opa run without --data must not be more lenient than the gate: dev rules need dev data."""
    dev = load_bundle("app")
    for obj in dev:
        obj["metadata"]["namespace"] = "voting-dev"
    dev[2]["spec"]["template"]["spec"]["containers"][0]["image"] = "ghcr.io/votingplatform/vote:1.4.2"
    assert _deny_ids(dev, env="dev") == []
    assert _deny_ids(dev, env=None) == ["IMG-002"]


def test_broken_policy_file_is_one_clear_error(tmp_path, monkeypatch):
    (tmp_path / "broken.rego").write_text(
        "package broken\n\nimport rego.v1\n\nx := [a | some a, b in input]\n"
    )
    monkeypatch.setenv("VOTECTL_POLICY_DIR", str(tmp_path))
    with pytest.raises(VotectlError, match=r"do not parse: broken\.rego: "):
        load_policies(None)


def test_empty_policy_dir_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("VOTECTL_POLICY_DIR", str(tmp_path))
    with pytest.raises(VotectlError, match="no Rego policies found"):
        load_policies(None)


def test_a_single_object_is_an_input_too():
    """`opa eval -i one.json`: the input is the object itself."""
    account = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "app"}}
    assert _deny_ids(account) == ["META-002", "SEC-011"]


@pytest.mark.parametrize("bundle", ["app", "rollouts"])
@pytest.mark.parametrize("env", ["dev", "prod"])
def test_the_opa_binary_and_regopy_give_the_same_result(bundle: str, env: str):
    """The gate takes the OPA binary when it is built (gate_engine), the corpus tests regopy: one result."""
    objects = _app_with_writable_root({IDS: "SEC-002", REASON: "cache in /app; #42", UNTIL: "2099-12-31"})
    objects += [*load_bundle(bundle), {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "stray"}}]
    by_opa, by_regopy = evaluate(objects, env, engine="opa"), evaluate(objects, env, engine="regopy")
    assert by_opa == by_regopy
    assert by_opa.findings and by_opa.exemptions


def test_the_gate_takes_opa_once_built_unless_told_otherwise(monkeypatch):
    assert gate_engine() == "opa"  # make test builds the engines first
    monkeypatch.setenv("VOTECTL_POLICY_ENGINE", "regopy")
    assert gate_engine() == "regopy"
    monkeypatch.setenv("VOTECTL_POLICY_ENGINE", "rego")
    with pytest.raises(VotectlError, match=r"VOTECTL_POLICY_ENGINE=rego: expected one of opa, regopy"):
        gate_engine()


def test_a_broken_library_is_one_clear_error_under_opa(tmp_path, monkeypatch):
    (tmp_path / "broken.rego").write_text("package broken\n\nimport rego.v1\n\nx := [a | a in\n")
    monkeypatch.setenv("VOTECTL_POLICY_DIR", str(tmp_path))
    with pytest.raises(VotectlError, match=r"failed to evaluate: .*broken\.rego:\d+: "):
        evaluate([], "dev", engine="opa")


def test_a_library_without_the_gate_query_is_refused_under_opa(tmp_path, monkeypatch):
    (tmp_path / "other.rego").write_text("package other\n\nimport rego.v1\n\nx := 1\n")
    monkeypatch.setenv("VOTECTL_POLICY_DIR", str(tmp_path))
    with pytest.raises(VotectlError, match=r"failed to evaluate: the query is undefined"):
        evaluate([], "dev", engine="opa")
