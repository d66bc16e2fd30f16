"""The offline gate against the real kube-apiserver: whatever the server rejects, the offline gate rejects.

Every mutant of mutants.yaml and every fixture overlay goes to both. A case only the server catches must
be listed in SERVER_ONLY with the reason, the same table docs/verify.md shows; a listed case the offline
gate starts catching fails too, so the table stays true.
"""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path

import jsonpatch
import pytest
import yaml
from votectl.cluster.client import KubeClient
from votectl.findings import Finding
from votectl.render import render_env
from votectl.repo import Repo
from votectl.verify.gate import check_objects
from votectl.verify.schemas import SchemaStore
from votectl.verify.server import server_findings

MUTANTS = yaml.safe_load((Path(__file__).with_name("mutants.yaml")).read_text(encoding="utf-8"))
# mutant or overlay -> why only the API server catches it (docs/verify.md, "What only the server catches")
SERVER_ONLY: dict[str, str] = {
    "cnpg-image-name-and-catalog": "a CRD validation rule in CEL (x-kubernetes-validations); the offline "
    "gate does not evaluate CEL",
}
PASSING_OVERLAYS = {"base", "exempted-tag"}  # fixtures meant to pass the gate


def errors(findings: list[Finding]) -> list[str]:
    return [f"{f.kind}/{f.name} [{f.rule}] {f.message}" for f in findings if f.severity == "error"]


@pytest.fixture(scope="module")
def prod() -> list[dict]:
    return render_env("prod")


def _on_server(kube: KubeClient, env: str, objects: list[dict], namespace: str) -> list[Finding]:
    """The server's verdict in a namespace of the test's own, labelled like the env's."""
    target = dataclasses.replace(Repo.current().env(env), namespace=namespace)
    moved = copy.deepcopy(objects)
    for obj in moved:
        if (obj.get("metadata") or {}).get("namespace"):
            obj["metadata"]["namespace"] = namespace
    return server_findings(kube, target, moved, throwaway=True)


def _mutated(prod: list[dict], mutant: dict) -> tuple[list[dict], dict]:
    kind, name = mutant["target"].split("/")
    objects = copy.deepcopy(prod)
    [index] = [i for i, obj in enumerate(objects) if (obj["kind"], obj["metadata"]["name"]) == (kind, name)]
    objects[index] = jsonpatch.apply_patch(objects[index], mutant["patch"])
    return objects, objects[index]


def _judge(case: str, server: list[str], offline: list[str]) -> None:
    assert server or offline, f"{case}: neither gate rejects it, so the case tests nothing"
    if case in SERVER_ONLY:
        assert server and not offline, f"{case} is listed as server-only but offline says {offline}"
    elif server:
        assert offline, f"{case}: the API server rejects it ({server}) but the offline gate passes it"


@pytest.mark.parametrize("mutant", MUTANTS, ids=[m["id"] for m in MUTANTS])
def test_mutant_rejected_by_server_is_rejected_offline(
    mutant: dict, prod: list[dict], store: SchemaStore, kube: KubeClient
) -> None:
    objects, changed = _mutated(prod, mutant)
    offline = errors(check_objects("prod", objects, store, "prod").findings)
    server = errors(_on_server(kube, "prod", [changed], "verify-mutants"))
    _judge(mutant["id"], server, offline)


def test_the_unmutated_env_passes_both(prod: list[dict], store: SchemaStore, kube: KubeClient) -> None:
    assert errors(check_objects("prod", prod, store, "prod").findings) == []
    assert errors(_on_server(kube, "prod", prod, "verify-mutants-clean")) == []


def test_every_mutant_hits_one_object_and_is_unique() -> None:
    ids = [mutant["id"] for mutant in MUTANTS]
    assert len(ids) == len(set(ids)) >= 50
    assert set(SERVER_ONLY) <= set(ids) | {
        "overlay:" + path.name for path in Path(__file__).parent.joinpath("fixtures").iterdir()
    }


def test_fixture_overlays_rejected_by_server_are_rejected_offline(
    rendered_fixtures: dict[str, list[dict]], store: SchemaStore, kube: KubeClient
) -> None:
    for overlay, objects in sorted(rendered_fixtures.items()):
        offline = errors(check_objects("prod", objects, store, "prod").findings)
        server = errors(_on_server(kube, "prod", objects, f"verify-fixture-{overlay}"))
        if overlay in PASSING_OVERLAYS:
            assert server == [], server
            continue
        _judge(f"overlay:{overlay}", server, offline)
