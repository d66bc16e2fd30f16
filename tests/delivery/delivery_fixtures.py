"""Helpers for the delivery checks: the repository's YAML, and the steps of Tekton Tasks and workflows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import yaml

# The checkout under test (the suite checks its own files, wherever pytest runs from).
ROOT = Path(__file__).resolve().parents[2]

DIGEST_PINNED = re.compile(r"@sha256:[0-9a-f]{64}$")
# Each service image: the variable it reads its port from, and the port (docs/architecture.md).
SERVICES = {"vote": ("VOTE_PORT", 5000), "result": ("RESULT_PORT", 4000), "worker": ("WORKER_PORT", 9000)}


def load_yaml(relative: str) -> dict:
    return yaml.safe_load((ROOT / relative).read_text())


def by_kind(objects: list[dict], kind: str) -> dict[str, dict]:
    return {obj["metadata"]["name"]: obj for obj in objects if obj["kind"] == kind}


def task_steps(objects: list[dict]) -> list[tuple[str, dict]]:
    """(task name, step) for every step of every Task."""
    return [(name, step) for name, task in by_kind(objects, "Task").items() for step in task["spec"]["steps"]]


def run_steps(workflows: dict[str, dict]) -> list[tuple[str, str, dict]]:
    """(workflow file, job id, step) for every step of every workflow job."""
    return [
        (file, job_id, step)
        for file, workflow in workflows.items()
        for job_id, job in workflow["jobs"].items()
        for step in job.get("steps", [])
    ]


def pipeline_run_templates(objects: list[dict]) -> list[dict]:
    return [
        template
        for trigger_template in by_kind(objects, "TriggerTemplate").values()
        for template in trigger_template["spec"]["resourcetemplates"]
        if template["kind"] == "PipelineRun"
    ]


def as_path(relative: str) -> Path:
    return ROOT / relative


def dockerfile(service: str) -> str:
    return as_path(f"apps/{service}/Dockerfile").read_text()


def final_stage(text: str) -> str:
    return text[text.rindex("\nFROM ") :]


def healthcheck_command(service: str) -> list[str]:
    match = re.search(r"CMD (\[.*\])$", dockerfile(service), re.MULTILINE)
    assert match
    return json.loads(match.group(1))
