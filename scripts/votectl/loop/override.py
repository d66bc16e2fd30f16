"""The local override of `gitops/argocd`: the committed AppProject and ApplicationSet, pointed at a local git
remote and at the local Prometheus, on compressed time. Nothing committed changes.

It is a kustomization written next to the loop's state that takes `gitops/argocd` as its resource and
patches, JSON6902, only what must differ on one machine:
- the repoURL of the generator, of the Application template and of the AppProject's sourceRepos;
- the AppProject's sync windows go: the loop runs at any hour, and prod's window (weekdays 08-17 UTC)
  would otherwise hold prod OutOfSync for most of the day;
- a `templatePatch` gives each env's Application kustomize patches (Argo CD adds them to the env's
  kustomization before it renders): every Prometheus address becomes the local one, and pauses, analysis
  intervals, initial delays and PromQL windows take 1/speed of their time, exactly as `votectl rehearse
  --speed` retimes them (rehearsal/manifests.py). The patches are computed from the rendered envs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import jsonpatch
import yaml

from votectl.errors import VotectlError
from votectl.rehearsal.binding import Timing
from votectl.rehearsal.manifests import retime
from votectl.render import render_envs
from votectl.repo import Repo

RETIMED_KINDS = ("Rollout", "AnalysisTemplate", "ClusterAnalysisTemplate")


def env_patches(repo: Repo, prometheus_url: str, timing: Timing) -> dict[str, list[dict[str, Any]]]:
    """env -> Argo CD kustomize patches (one per changed object) that retime it and point it at Prometheus."""
    patches: dict[str, list[dict[str, Any]]] = {}
    for env, objects in render_envs(repo.env_names).items():
        originals = [obj for obj in objects if obj.get("kind") in RETIMED_KINDS]
        changed = json.loads(json.dumps(originals))
        retime(changed, prometheus_url, timing)
        patches[env] = [
            {
                "target": {
                    "group": "argoproj.io",
                    "kind": before["kind"],
                    "name": before["metadata"]["name"],
                },
                "patch": json.dumps(ops.patch),
            }
            for before, after in zip(originals, changed, strict=True)
            if (ops := jsonpatch.make_patch(before, after)).patch
        ]
    return patches


def template_patch(patches: dict[str, list[dict[str, Any]]]) -> str:
    """The ApplicationSet templatePatch (a Go template) that gives each env its own kustomize patches."""
    parts = []
    for env, env_patches in sorted(patches.items()):
        body = json.dumps({"spec": {"source": {"kustomize": {"patches": env_patches}}}})
        if "{{" in body:
            raise VotectlError(f"the {env} patches contain '{{{{', which the ApplicationSet would template")
        parts.append(f'{{{{- if eq .path.basename "{env}" }}}}\n{body}\n{{{{- end }}}}')
    return "\n".join(parts) + "\n"


def write_override(
    target: Path, repo: Repo, remote_url: str, patches: dict[str, list[dict[str, Any]]]
) -> Path:
    """The override kustomization in `target` (a directory); `kubectl apply -k target` bootstraps the loop."""
    target.mkdir(parents=True, exist_ok=True)
    appset = [
        {"op": "replace", "path": "/spec/generators/0/git/repoURL", "value": remote_url},
        {"op": "replace", "path": "/spec/template/spec/source/repoURL", "value": remote_url},
        {"op": "add", "path": "/spec/templatePatch", "value": template_patch(patches)},
    ]
    project = [
        {"op": "replace", "path": "/spec/sourceRepos", "value": [remote_url]},
        {"op": "remove", "path": "/spec/syncWindows"},
    ]
    kustomization = {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        # kustomize takes a directory resource by a relative path only
        "resources": [os.path.relpath(repo.root / "gitops" / "argocd", target)],
        "patches": [
            {"target": {"kind": "ApplicationSet", "name": "voting-platform"}, "patch": json.dumps(appset)},
            {"target": {"kind": "AppProject", "name": "voting-platform"}, "patch": json.dumps(project)},
        ],
    }
    header = "# The local GitOps loop's override of gitops/argocd (votectl.loop.override); generated.\n"
    (target / "kustomization.yaml").write_text(header + yaml.safe_dump(kustomization, sort_keys=False))
    return target
