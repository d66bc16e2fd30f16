"""`kubectl-argo-rollouts lint` (v1.9.1, built from the pinned module) over every Rollout of every env.

lint validates the Rollout itself (steps, weights, strategy fields, strictly: an unknown field fails) and
then checks it against the Services and Ingresses found in the same file: a canary/stable or
active/preview Service whose selector does not match the pod template, an Ingress of its traffic
routing. So each Rollout is linted in a file of its own together with all of its env's other objects.
One Rollout per file: with several, lint stops associating Ingresses at the first Rollout without
traffic routing (setIngressManagedAnnotation returns early), which would skip checks depending on order.
"""

from __future__ import annotations

import copy
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from votectl.engines.build import path
from votectl.render import render_env
from votectl.repo import Repo

ENVS = Repo.current().env_names


def lint(objects: list[dict[str, Any]], file: Path) -> subprocess.CompletedProcess[str]:
    file.write_text(yaml.safe_dump_all(objects, sort_keys=False))
    return subprocess.run(
        [str(path("kubectl-argo-rollouts")), "lint", "-f", str(file)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def with_env(rollout: dict[str, Any], objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The Rollout first, then every object of its env that is not a Rollout."""
    return [rollout, *(obj for obj in objects if obj["kind"] != "Rollout")]


@pytest.mark.parametrize("env", ENVS)
def test_every_rollout_passes_lint(env: str, tmp_path: Path) -> None:
    objects = render_env(env)
    rollouts = [obj for obj in objects if obj["kind"] == "Rollout"]
    assert rollouts, f"{env} renders no Rollout"
    failures = []
    for rollout in rollouts:
        name = rollout["metadata"]["name"]
        run = lint(with_env(rollout, objects), tmp_path / f"{name}.yaml")
        if run.returncode != 0:
            failures.append(f"{env}/{name}: exit {run.returncode}\n{run.stdout}{run.stderr}")
    assert not failures, "\n".join(failures)


@pytest.fixture(scope="module")
def canary() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """A rendered Rollout with canary traffic routing (vote), and its env's objects."""
    objects = render_env(ENVS[0])
    for obj in objects:
        if obj["kind"] != "Rollout":
            continue
        strategy = obj["spec"]["strategy"].get("canary", {})
        if strategy.get("trafficRouting") and strategy.get("steps"):
            return obj, objects
    raise AssertionError(f"{ENVS[0]} renders no canary Rollout with traffic routing")


def _broken_weight(rollout: dict[str, Any]) -> None:
    rollout["spec"]["strategy"]["canary"]["steps"][0] = {"setWeight": 150}


def _routing_without_canary_service(rollout: dict[str, Any]) -> None:
    del rollout["spec"]["strategy"]["canary"]["canaryService"]


@pytest.mark.parametrize(
    ("breakage", "message"),
    [
        (_broken_weight, "SetWeight needs to be between 0 and 100"),
        (_routing_without_canary_service, "Canary service and Stable service must to be set"),
    ],
    ids=["setWeight 150", "trafficRouting without canaryService"],
)
def test_a_broken_strategy_fails_lint(
    canary: tuple[dict[str, Any], list[dict[str, Any]]], breakage: Any, message: str, tmp_path: Path
) -> None:
    rollout, objects = canary
    broken = copy.deepcopy(rollout)
    breakage(broken)
    run = lint(with_env(broken, objects), tmp_path / "broken.yaml")
    assert run.returncode != 0, run.stdout + run.stderr
    assert message in run.stdout + run.stderr


def test_the_env_objects_in_the_file_are_checked(
    canary: tuple[dict[str, Any], list[dict[str, Any]]], tmp_path: Path
) -> None:
    """A canary Service selecting other pods fails lint only when the Service is in the file, which is
    why every Rollout is linted together with its env."""
    rollout, objects = canary
    service = rollout["spec"]["strategy"]["canary"]["canaryService"]
    others = copy.deepcopy([obj for obj in objects if obj["kind"] != "Rollout"])
    [target] = [obj for obj in others if obj["kind"] == "Service" and obj["metadata"]["name"] == service]
    target["spec"]["selector"] = {key: f"not-{value}" for key, value in target["spec"]["selector"].items()}
    run = lint([rollout, *others], tmp_path / "selector.yaml")
    assert run.returncode != 0 and f'Service "{service}" has unmatch label' in run.stdout, run.stdout
    alone = lint([rollout], tmp_path / "alone.yaml")
    assert alone.returncode == 0, alone.stdout + alone.stderr
