"""Finding templates (by name, in files, multi-doc), argument substitution and Go durations."""

from __future__ import annotations

from pathlib import Path

import pytest
from votectl.analysis.args import resolve_args, substitute
from votectl.analysis.errors import SpecError
from votectl.analysis.goformat import parse_duration
from votectl.analysis.template import load_template, template_name
from votectl.errors import VotectlError

DOCS = """\
apiVersion: v1
kind: ConfigMap
metadata: {name: not-a-template}
---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: first}
spec: {metrics: [{name: a, provider: {prometheus: {query: "1"}}}]}
---
apiVersion: argoproj.io/v1alpha1
kind: ClusterAnalysisTemplate
metadata: {name: second}
spec: {metrics: [{name: b, provider: {prometheus: {query: "2"}}}]}
"""


@pytest.fixture
def rollouts(tmp_path: Path) -> Path:
    (tmp_path / "multi.yaml").write_text(DOCS)
    (tmp_path / "kustomization.yaml").write_text("resources: [multi.yaml]\n")
    return tmp_path


def test_by_name_finds_both_kinds(rollouts: Path) -> None:
    assert load_template("first", rollouts)["kind"] == "AnalysisTemplate"
    assert load_template("second", rollouts)["kind"] == "ClusterAnalysisTemplate"


def test_file_with_several_templates_needs_a_name(rollouts: Path) -> None:
    path = rollouts / "multi.yaml"
    with pytest.raises(VotectlError, match=r"several templates \(first, second\): pick one with FILE#NAME"):
        load_template(str(path))
    assert template_name(load_template(f"{path}#second")) == "second"


def test_unknown_name_lists_what_exists(rollouts: Path) -> None:
    with pytest.raises(VotectlError, match=r"no template named 'third' .* \(found: first, second\)"):
        load_template("third", rollouts)


def test_same_name_twice_is_ambiguous(rollouts: Path) -> None:
    (rollouts / "other.yaml").write_text(DOCS.replace('query: "1"', 'query: "3"'))
    with pytest.raises(VotectlError, match="ambiguous"):
        load_template("first", rollouts)


def test_invalid_yaml_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("kind: [unclosed\n")
    with pytest.raises(VotectlError, match="invalid YAML"):
        load_template(str(path))


def test_supplied_args_win_and_unknown_ones_are_refused() -> None:
    declared = [{"name": "a", "value": "1"}, {"name": "b", "value": "2"}]
    assert resolve_args(declared, {"b": "9"}) == {"a": "1", "b": "9"}
    with pytest.raises(SpecError, match=r"args.c is not declared by the template \(it declares: a, b\)"):
        resolve_args(declared, {"c": "1"})


def test_secret_args_must_be_supplied() -> None:
    declared = [{"name": "token", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}}]
    with pytest.raises(SpecError, match=r"args.token was not resolved: .* pass --arg token=VALUE"):
        resolve_args(declared, {})
    assert resolve_args(declared, {"token": "t"}) == {"token": "t"}


def test_substitution_is_textual_everywhere() -> None:
    metric = {
        "count": "{{args.n}}",
        "query": 'x{a="{{ args.n }}"}',
        "nested": [{"k": "{{args.n}}"}],
        "limit": 1,
    }
    assert substitute(metric, {"n": "3"}) == {
        "count": "3",
        "query": 'x{a="3"}',
        "nested": [{"k": "3"}],
        "limit": 1,
    }
    with pytest.raises(SpecError, match=r"failed to resolve \{\{ secrets.x \}\}"):
        substitute({"q": "{{ secrets.x }}"}, {})


@pytest.mark.parametrize(
    ("text", "seconds"), [("30s", 30), ("1m30s", 90), ("1.5h", 5400), ("250ms", 0.25), ("0", 0)]
)
def test_go_durations(text: str, seconds: float) -> None:
    assert parse_duration(text, "interval") == seconds


@pytest.mark.parametrize("text", ["30", "1 m", "1d", "", "m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(SpecError, match="invalid interval string: time: invalid duration"):
        parse_duration(text, "interval")
