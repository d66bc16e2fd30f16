"""The EventListener's CEL filters, evaluated (cel-python) against GitHub-shaped payloads: a push to main
starts exactly the runs of the services it touches, and only opened/updated pull requests start a run."""

from __future__ import annotations

import celpy
import pytest
from delivery_fixtures import by_kind


def started_runs(tekton_objects: list[dict], event: str, body: dict) -> set[str]:
    """The `service` binding of every trigger whose interceptors let this event through."""
    (listener,) = by_kind(tekton_objects, "EventListener").values()
    environment = celpy.Environment()
    started = set()
    for trigger in listener["spec"]["triggers"]:
        github, cel = trigger["interceptors"]
        event_types = next(p["value"] for p in github["params"] if p["name"] == "eventTypes")
        if event not in event_types:
            continue
        expression = next(p["value"] for p in cel["params"] if p["name"] == "filter")
        program = environment.program(environment.compile(expression))
        if program.evaluate(celpy.json_to_cel({"body": body})):
            started |= {b["value"] for b in trigger["bindings"] if b.get("name") == "service"}
    return started


def push(ref: str = "refs/heads/main", **changes: list[str]) -> dict:
    commit = {"added": [], "modified": [], "removed": [], **changes}
    return {"ref": ref, "after": "a" * 40, "commits": [commit]}


@pytest.mark.parametrize(
    ("body", "services"),
    [
        (push(modified=["apps/vote/vote/views.py"]), {"vote"}),
        (
            push(added=["apps/worker/worker/new.py"], removed=["apps/result/result/old.py"]),
            {"worker", "result"},
        ),
        (push(modified=["apps/common/votingcommon/config.py"]), {"vote", "result", "worker"}),
        (push(modified=["docs/delivery.md", "gitops/envs/dev/images/kustomization.yaml"]), set()),
        (push(ref="refs/heads/feature", modified=["apps/vote/vote/views.py"]), set()),
        # a path that merely starts like a service directory is not one
        (push(modified=["apps/voter-notes.md"]), set()),
    ],
)
def test_push_starts_the_runs_of_the_services_it_touches(
    tekton_objects: list[dict], body: dict, services: set[str]
) -> None:
    assert started_runs(tekton_objects, "push", body) == services


@pytest.mark.parametrize(
    ("action", "services"), [("opened", {"all"}), ("synchronize", {"all"}), ("closed", set())]
)
def test_pull_requests_start_one_run_when_opened_or_updated(
    tekton_objects: list[dict], action: str, services: set[str]
) -> None:
    body = {"action": action, "pull_request": {"head": {"sha": "b" * 40}}}
    assert started_runs(tekton_objects, "pull_request", body) == services
