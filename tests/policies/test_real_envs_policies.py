"""The real rendered envs pass every policy, and each exemption they carry is specific and still needed."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from votectl.policy import evaluate
from votectl.render import render_dirs, render_env
from votectl.repo import Repo

ENVS = Repo.current().env_names

ROOT = Path(__file__).resolve().parents[2]

PREFIX = "policy.votingplatform.io/"


@pytest.fixture(scope="module", params=ENVS)
def rendered(request) -> tuple[str, list[dict]]:
    return request.param, render_env(request.param)


def test_env_passes_every_policy(rendered):
    env, objects = rendered
    assert evaluate(objects, env).findings == []


def test_each_exemption_is_needed(rendered):
    """Without its annotations, an exempted object violates exactly the policies the exemption names."""
    env, objects = rendered
    for exemption in evaluate(objects, env).exemptions:
        stripped = copy.deepcopy(objects)
        for obj in stripped:
            if (obj["kind"], f"{obj['metadata'].get('namespace', '')}/{obj['metadata']['name']}") == (
                exemption.kind,
                exemption.name,
            ):
                annotations = obj["metadata"]["annotations"]
                for key in ("exempt", "exempt-reason", "exempt-until"):
                    annotations.pop(PREFIX + key)
        fired = {
            finding.rule
            for finding in evaluate(stripped, env).findings
            if (finding.kind, finding.name) == (exemption.kind, exemption.name)
        }
        assert fired == set(exemption.policies), exemption


@pytest.mark.parametrize("directory", ["gitops/argocd", "pipelines/tekton"])
def test_delivery_manifests_pass_every_policy(directory):
    """Argo CD and Tekton resources are not an env; prod rules (the strictest) apply to them."""
    [objects] = render_dirs([ROOT / directory])
    assert evaluate(objects, "prod", source=directory).findings == []
