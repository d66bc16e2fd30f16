"""`votectl engines`: pinned builds that are reused, clear refusals, and CRD schemas that match the pins."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from votectl.engines.build import build, cache_dir, states
from votectl.engines.catalog import engines
from votectl.engines.crds import crds, render_schemas, to_json_schema

ROOT = Path(__file__).resolve().parents[2]
# What the gate, the control plane and the rehearsals need (issues 12 and 13).
REQUIRED = {
    "argocd",
    "kustomize",
    "opa",
    "conftest",
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kwok",
    "rollouts-controller",
    "kubectl-argo-rollouts",
}


def votectl(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "votectl", *argv],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )


def test_every_required_engine_is_pinned_and_built() -> None:
    known = engines()
    assert set(known) >= REQUIRED
    for state in states(sorted(REQUIRED), version=_go_version()):
        assert state.fresh, f"{state.engine.name} is not built from its current pins"
    assert known["kube-apiserver"].version == "v1.37.2"
    assert known["rollouts-controller"].version == known["kubectl-argo-rollouts"].version == "v1.9.1"
    # the Argo CD CRDs the cluster gets are the ones of the Argo CD that runs against it
    from votectl.engines.catalog import crd_sources

    pinned = {source.module: source.version for source in crd_sources()}
    assert known["argocd"].version == pinned["github.com/argoproj/argo-cd/v3"] == "v3.2.11"


def _go_version() -> str:
    return subprocess.run(
        ["go", "env", "GOVERSION"], capture_output=True, text=True, check=True
    ).stdout.strip()


def test_binaries_report_the_pinned_versions() -> None:
    def run(name: str, *argv: str) -> str:
        result = subprocess.run(
            [str(cache_dir() / "bin" / name), *argv], capture_output=True, text=True, check=False
        )
        return result.stdout + result.stderr

    assert "Kubernetes v1.37.2" in run("kube-apiserver", "--version")
    assert "Version: 1.22.4" in run("opa", "version")
    assert "Conftest: v0.71.1" in run("conftest", "--version") and "OPA: 1.22.4" in run(
        "conftest", "--version"
    )
    assert "v1.9.1" in run("kubectl-argo-rollouts", "version")
    assert run("argocd", "version", "--client", "--short").startswith("argocd: v3.2.11")
    assert run("kustomize", "version").strip() == "v5.8.1"


def test_a_second_build_reuses_every_binary() -> None:
    before = {state.engine.name: state.binary.stat().st_mtime_ns for state in states(version=_go_version())}
    result = votectl("engines", "build")
    assert result.returncode == 0, result.stderr
    assert "building" not in result.stderr and "ready in" in result.stderr
    after = {state.engine.name: state.binary.stat().st_mtime_ns for state in states(version=_go_version())}
    assert after == before


def test_a_changed_pin_makes_the_engine_stale(tmp_path: Path) -> None:
    """The stamp covers go.sum: an edited pin is refused until rebuilt, in a cache of the test's own."""
    built = build(["opa"], progress=None)[0]
    cache = tmp_path / "cache"
    (cache / "bin").mkdir(parents=True)
    (cache / "bin" / "opa").write_bytes(built.binary.read_bytes())
    (cache / "bin" / "opa.stamp").write_text("a stamp of other pins")
    result = votectl("engines", "path", "opa", env={"VOTECTL_ENGINES": str(cache)})
    assert (result.returncode, result.stdout) == (2, "")
    assert (
        result.stderr
        == "votectl: error: engine opa is older than its pins: run `votectl engines build opa`\n"
    )


def test_engines_move_with_votectl_engines(tmp_path: Path) -> None:
    result = votectl("engines", "build", "kubectl-argo-rollouts", env={"VOTECTL_ENGINES": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "built kubectl-argo-rollouts" in result.stderr
    where = votectl("engines", "path", "kubectl-argo-rollouts", env={"VOTECTL_ENGINES": str(tmp_path)})
    assert where.stdout.strip() == str(tmp_path / "bin" / "kubectl-argo-rollouts")
    assert not list(tmp_path.glob("bin/.*partial"))


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (
            ["engines", "build"],
            {"PATH": "/usr/bin/nonexistent"},
            "the engines are built from Go modules and `go` is not on PATH: install Go 1.26 or newer",
        ),
        (["engines", "build", "kubelet"], {}, "unknown engine kubelet: choose from "),
        (["engines", "path", "kubelet"], {}, "unknown engine kubelet: choose from "),
    ],
)
def test_mistakes_are_one_line(argv: list[str], env: dict[str, str], message: str) -> None:
    result = votectl(*argv, env=env)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith(f"votectl: error: {message}") and result.stderr.count("\n") == 1


def test_list_shows_every_engine_and_its_state() -> None:
    result = votectl("engines", "list")
    assert result.returncode == 0
    for name in REQUIRED:
        assert name in result.stdout
    assert "v1.37.2" in result.stdout and "not built" not in result.stdout


def test_committed_crd_schemas_are_what_the_pinned_crds_give() -> None:
    """The offline gate's schemas are generated, never edited: regenerate and compare byte for byte."""
    rendered = render_schemas()
    committed = ROOT / "engines" / "crd-schemas"
    on_disk = {
        path.relative_to(committed).as_posix(): path.read_bytes()
        for path in committed.rglob("*")
        if path.is_file()
    }
    assert set(on_disk) == set(rendered)
    assert [name for name in rendered if rendered[name] != on_disk[name]] == []
    result = votectl("engines", "crd-schemas", "--check")
    assert result.returncode == 0, result.stderr


def test_a_stale_schema_is_reported(tmp_path: Path) -> None:
    target = tmp_path / "schemas"
    assert votectl("engines", "crd-schemas", "--out", str(target)).returncode == 0
    (target / "keda.sh" / "scaledobject_v1alpha1.json").write_text("{}\n")
    result = votectl("engines", "crd-schemas", "--out", str(target), "--check")
    assert result.returncode == 1
    assert "keda.sh/scaledobject_v1alpha1.json" in result.stderr


def test_every_kind_the_platform_uses_has_a_crd_from_a_pinned_module() -> None:
    from votectl.render import render_dirs, render_envs
    from votectl.repo import Repo

    rendered = render_envs(Repo.current().env_names)
    objects = [obj for objs in rendered.values() for obj in objs]
    objects += [
        obj
        for objs in render_dirs([ROOT / "gitops" / "argocd", ROOT / "pipelines" / "tekton"])
        for obj in objs
    ]
    custom = {
        (obj["apiVersion"].rpartition("/")[0], obj["kind"])
        for obj in objects
        if "." in obj["apiVersion"].split("/")[0] and not obj["apiVersion"].split("/")[0].endswith(".k8s.io")
    }
    provided = {(crd.group, crd.kind) for crd in crds()}
    assert custom - provided == set()
    index = json.loads((ROOT / "engines" / "crd-schemas" / "index.json").read_text())
    assert all("@v" in source for source in index.values())


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (
            {"type": "object", "properties": {"a": {"type": "string", "description": "x"}}},
            {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False},
        ),
        (
            {"type": "object", "x-kubernetes-preserve-unknown-fields": True},
            {"type": "object"},
        ),
        ({"type": "object"}, {"type": "object", "additionalProperties": False}),
        (
            {"x-kubernetes-int-or-string": True},
            {"anyOf": [{"type": "integer"}, {"type": "string"}]},
        ),
        ({"type": "string", "nullable": True}, {"type": ["string", "null"]}),
        (
            {"type": "object", "additionalProperties": {"type": "string"}},
            {"type": "object", "additionalProperties": {"type": "string"}},
        ),
    ],
    ids=["closed-object", "preserve-unknown", "no-properties-means-none", "int-or-string", "nullable", "map"],
)
def test_crd_schema_conversion_follows_the_api_server(node: dict, expected: dict) -> None:
    assert to_json_schema(node) == expected


def test_embedded_resources_keep_their_object_fields() -> None:
    converted = to_json_schema(
        {
            "type": "object",
            "x-kubernetes-embedded-resource": True,
            "properties": {"spec": {"type": "object", "x-kubernetes-preserve-unknown-fields": True}},
        }
    )
    assert set(converted["properties"]) == {"apiVersion", "kind", "metadata", "spec"}
    assert converted["additionalProperties"] is False


def test_the_kind_e2e_workflow_installs_the_pinned_operator_versions() -> None:
    """The kind cluster of e2e.yml and the local control plane run the same Argo Rollouts and CNPG."""
    import yaml
    from votectl.engines.catalog import crd_sources

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "e2e.yml").read_text())
    pinned = {source.module: source.version for source in crd_sources()}
    assert workflow["env"]["ARGO_ROLLOUTS_VERSION"] == engines()["rollouts-controller"].version
    assert workflow["env"]["ARGO_ROLLOUTS_VERSION"] == pinned["github.com/argoproj/argo-rollouts"]
    assert f"v{workflow['env']['CNPG_VERSION']}" == pinned["github.com/cloudnative-pg/cloudnative-pg"]
