"""pipelines/tekton: schemas, references between objects, pinning and script hygiene, the OPA Tekton
policies, and the two scripts that can run here (checkout against a real git repo, commit status against a
stand-in GitHub API)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import jsonschema
import kubernetes_validate
import pytest
from delivery_fixtures import DIGEST_PINNED, ROOT, by_kind, pipeline_run_templates, task_steps
from votectl.delivery.scanners import tool

TEKTON_KINDS = {"Task", "Pipeline", "PipelineRun", "TaskRun"}
TRIGGERS_KINDS = {"EventListener", "TriggerBinding", "TriggerTemplate", "Trigger"}
# Tasks that talk to the network (git, registry, trivy DB, PyPI, GitHub) must retry.
NETWORK_TASKS = {"fetch-source", "run-tests", "scan-source", "build-image", "scan-image", "sbom", "promote"}
PARAM_REF = re.compile(r"\$\(params\.([a-z0-9-]+)\)")
RESULT_REF = re.compile(r"\$\(tasks\.([a-z0-9-]+)\.results\.([A-Za-z0-9_-]+)\)")
TEKTON_VARIABLE = re.compile(r"\$\((params|tasks|context|workspaces|results|steps|step|resources)[.\[]")


def crd_schema(directory: Path, obj: dict) -> dict:
    group, version = obj["apiVersion"].split("/")
    path = directory / group / f"{obj['kind'].lower()}_{version}.json"
    assert path.exists(), f"no schema for {obj['kind']} {obj['apiVersion']} at {path}"
    return json.loads(path.read_text())


def test_renders_every_file_once(tekton_objects: list[dict]) -> None:
    listed = (ROOT / "pipelines" / "tekton" / "kustomization.yaml").read_text()
    on_disk = {
        p.relative_to(ROOT / "pipelines" / "tekton") for p in (ROOT / "pipelines" / "tekton").rglob("*.yaml")
    }
    missing = [str(p) for p in on_disk if p.name != "kustomization.yaml" and str(p) not in listed]
    assert not missing, f"files not in pipelines/tekton/kustomization.yaml: {missing}"
    assert len(tekton_objects) == len(on_disk) - 1


def test_api_versions(tekton_objects: list[dict]) -> None:
    for obj in tekton_objects:
        if obj["kind"] in TEKTON_KINDS:
            assert obj["apiVersion"] == "tekton.dev/v1", obj["metadata"]["name"]
        if obj["kind"] in TRIGGERS_KINDS:
            assert obj["apiVersion"] == "triggers.tekton.dev/v1beta1", obj["metadata"]["name"]


def test_tekton_objects_match_crd_schemas(tekton_objects: list[dict], crd_schema_dir: Path) -> None:
    checked = [obj for obj in tekton_objects if obj["kind"] in TEKTON_KINDS | TRIGGERS_KINDS]
    checked += pipeline_run_templates(tekton_objects)
    for obj in checked:
        jsonschema.validate(obj, crd_schema(crd_schema_dir, obj))
    assert {obj["kind"] for obj in checked} >= {"Task", "Pipeline", "PipelineRun", "EventListener"}


def test_builtin_kinds_match_kubernetes_schemas(tekton_objects: list[dict]) -> None:
    checked = [obj for obj in tekton_objects if obj["kind"] not in TEKTON_KINDS | TRIGGERS_KINDS]
    for obj in checked:
        kubernetes_validate.validate(obj, "1.37", strict=True)
    assert {obj["kind"] for obj in checked} >= {"ServiceAccount", "Role", "RoleBinding"}


def test_a_crd_schema_rejects_a_v1beta1_only_field(crd_schema_dir: Path) -> None:
    """The schema check has teeth: a v1beta1-style Pipeline field fails against the v1 schema."""
    pipeline = {"apiVersion": "tekton.dev/v1", "kind": "Pipeline", "metadata": {"name": "x"}}
    pipeline["spec"] = {"tasks": [{"name": "t", "taskRef": {"name": "t"}, "resources": {}}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(pipeline, crd_schema(crd_schema_dir, pipeline))


def test_step_images_are_pinned_by_digest(tekton_objects: list[dict]) -> None:
    for task, step in task_steps(tekton_objects):
        assert DIGEST_PINNED.search(step["image"]), f"{task}/{step['name']}: {step['image']}"


def test_scripts_take_values_from_env_not_substitution(tekton_objects: list[dict]) -> None:
    """Tekton pastes $(...) into a script before the shell sees it: a crafted value becomes code."""
    for task, step in task_steps(tekton_objects):
        found = TEKTON_VARIABLE.search(step.get("script", ""))
        assert not found, f"{task}/{step['name']} substitutes {found and found.group(0)} into its script"


def test_pipeline_wiring(tekton_objects: list[dict]) -> None:
    tasks = by_kind(tekton_objects, "Task")
    (pipeline,) = by_kind(tekton_objects, "Pipeline").values()
    declared = {p["name"] for p in pipeline["spec"]["params"]}
    workspaces = {w["name"] for w in pipeline["spec"]["workspaces"]}
    entries = pipeline["spec"]["tasks"] + pipeline["spec"]["finally"]
    produced = {
        entry["name"]: tasks[entry["taskRef"]["name"]].get("spec", {}).get("results", []) for entry in entries
    }
    for entry in entries:
        spec = tasks[entry["taskRef"]["name"]]["spec"]
        given = {p["name"] for p in entry.get("params", [])}
        task_params = {p["name"]: p for p in spec.get("params", [])}
        assert given <= set(task_params), f"{entry['name']}: unknown params {given - set(task_params)}"
        required = {name for name, p in task_params.items() if "default" not in p}
        assert required <= given, f"{entry['name']}: missing params {required - given}"
        bound = {w["name"]: w["workspace"] for w in entry.get("workspaces", [])}
        assert {w["name"] for w in spec.get("workspaces", []) if not w.get("optional")} == set(bound), entry[
            "name"
        ]
        assert set(bound.values()) <= workspaces, entry["name"]
        text = json.dumps(entry)
        assert set(PARAM_REF.findall(text)) <= declared, entry["name"]
        for source, result in RESULT_REF.findall(text):
            assert result in {r["name"] for r in produced[source]}, f"{entry['name']}: {source}.{result}"
        assert "timeout" in entry, f"{entry['name']} has no timeout"
        if entry["name"] in NETWORK_TASKS:
            assert entry.get("retries", 0) >= 1, f"{entry['name']} talks to the network without retries"
    assert [entry["taskRef"]["name"] for entry in pipeline["spec"]["finally"]] == ["commit-status"]


def test_build_results_are_what_chains_reads(tekton_objects: list[dict]) -> None:
    results = {r["name"] for r in by_kind(tekton_objects, "Task")["build-image"]["spec"]["results"]}
    assert {"IMAGE_URL", "IMAGE_DIGEST"} <= results


def test_triggers_wiring(tekton_objects: list[dict]) -> None:
    (listener,) = by_kind(tekton_objects, "EventListener").values()
    bindings = by_kind(tekton_objects, "TriggerBinding")
    templates = by_kind(tekton_objects, "TriggerTemplate")
    for trigger in listener["spec"]["triggers"]:
        github = trigger["interceptors"][0]
        assert github["ref"]["name"] == "github", trigger["name"]
        params = {p["name"]: p["value"] for p in github["params"]}
        assert params["secretRef"]["secretName"] and params["secretRef"]["secretKey"], trigger["name"]
        assert set(params["eventTypes"]) <= {"push", "pull_request"}, trigger["name"]
        assert trigger["interceptors"][1]["ref"]["name"] == "cel", trigger["name"]
        template = templates[trigger["template"]["ref"]]
        supplied = set()
        for binding in trigger["bindings"]:
            if "ref" in binding:
                supplied |= {p["name"] for p in bindings[binding["ref"]]["spec"]["params"]}
            else:
                supplied.add(binding["name"])
        assert {p["name"] for p in template["spec"]["params"]} == supplied, trigger["name"]
    push_services = {b["value"] for t in listener["spec"]["triggers"] for b in t["bindings"] if "value" in b}
    assert push_services >= {"vote", "result", "worker"}


def test_pipeline_run_template_matches_pipeline(tekton_objects: list[dict]) -> None:
    (pipeline,) = by_kind(tekton_objects, "Pipeline").values()
    (trigger_template,) = by_kind(tekton_objects, "TriggerTemplate").values()
    tt_params = {p["name"] for p in trigger_template["spec"]["params"]}
    for run in pipeline_run_templates(tekton_objects):
        assert run["spec"]["pipelineRef"]["name"] == pipeline["metadata"]["name"]
        required = {p["name"] for p in pipeline["spec"]["params"] if "default" not in p}
        assert required <= {p["name"] for p in run["spec"]["params"]}
        assert {w["name"] for w in run["spec"]["workspaces"]} == {
            w["name"] for w in pipeline["spec"]["workspaces"]
        }
        assert set(re.findall(r"\$\(tt\.params\.([a-z0-9-]+)\)", json.dumps(run))) <= tt_params
        timeouts = {key: parse_duration(value) for key, value in run["spec"]["timeouts"].items()}
        assert timeouts["pipeline"] >= timeouts["tasks"] + timeouts["finally"]


def parse_duration(text: str) -> int:
    units = {"h": 3600, "m": 60, "s": 1}
    return sum(int(n) * units[u] for n, u in re.findall(r"(\d+)([hms])", text))


def test_opa_tekton_policies_pass(tekton_objects: list[dict]) -> None:
    from votectl.policy import evaluate

    checked = tekton_objects + pipeline_run_templates(tekton_objects)
    findings = evaluate(checked, "dev", source="pipelines/tekton").findings
    assert not findings, "\n".join(map(str, findings))


def test_opa_tekton_policies_see_our_objects(tekton_objects: list[dict]) -> None:
    """The policy check has teeth on these very objects: unpinned image, params in a script, no webhook
    secret and no run timeout are each reported."""
    from votectl.policy import evaluate

    broken = json.loads(json.dumps(tekton_objects))
    task = by_kind(broken, "Task")["promote"]
    task["spec"]["steps"][0]["image"] = "python:3.11-slim"
    task["spec"]["steps"][0]["script"] += 'echo "$(params.service)"\n'
    (listener,) = by_kind(broken, "EventListener").values()
    listener["spec"]["triggers"][0]["interceptors"][0]["params"].pop(0)
    (run,) = pipeline_run_templates(broken)
    del run["spec"]["timeouts"]
    findings = evaluate([*broken, run], "dev", source="pipelines/tekton").findings
    assert {"TKN-002", "TKN-003", "TKN-004", "TKN-005"} <= {finding.rule for finding in findings}


def test_shell_scripts_pass_shellcheck(tekton_objects: list[dict], tmp_path: Path) -> None:
    scripts = []
    for task, step in task_steps(tekton_objects):
        if step.get("script", "").startswith("#!/bin/sh"):
            path = tmp_path / f"{task}-{step['name']}.sh"
            path.write_text(step["script"])
            scripts.append(str(path))
    assert len(scripts) >= 8
    result = subprocess.run([tool("shellcheck"), *scripts], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout


def step_script(objects: list[dict], task: str, step: str) -> str:
    (found,) = [s["script"] for name, s in task_steps(objects) if name == task and s["name"] == step]
    return found


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def test_fetch_source_checks_out_the_requested_commit(tekton_objects: list[dict], tmp_path: Path) -> None:
    origin = tmp_path / "origin"
    origin.mkdir()
    git("init", "--quiet", "--initial-branch=main", cwd=origin)
    (origin / "file.txt").write_text("first\n")
    git("add", ".", cwd=origin)
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-m", "one", cwd=origin)
    wanted = git("rev-parse", "HEAD", cwd=origin)
    (origin / "file.txt").write_text("second\n")
    git("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "--quiet", "-am", "two", cwd=origin)
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "left-by-a-failed-attempt").write_text("stale")
    result_file = tmp_path / "commit"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "REPO_URL": f"file://{origin}",
        "REVISION": wanted,
        "COMMIT_RESULT": str(result_file),
    }
    script = step_script(tekton_objects, "fetch-source", "fetch")
    subprocess.run(["sh", "-c", script], cwd=workspace, env=env, check=True, capture_output=True, timeout=60)
    assert result_file.read_text() == wanted
    assert (workspace / "file.txt").read_text() == "first\n"
    assert not (workspace / "left-by-a-failed-attempt").exists()


class GitHubStandIn(BaseHTTPRequestHandler):
    """Answers like GitHub's commit status endpoint and records what it was sent."""

    requests: ClassVar[list[dict]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append({"path": self.path, "auth": self.headers["Authorization"], "body": body})
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(json.dumps({"state": body["state"]}).encode())

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def github_api() -> Iterator[str]:
    GitHubStandIn.requests.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), GitHubStandIn)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    ("pipeline_status", "state"),
    [("Succeeded", "success"), ("Completed", "success"), ("Failed", "failure"), ("None", "failure")],
)
def test_commit_status_posts_the_outcome(
    tekton_objects: list[dict], github_api: str, pipeline_status: str, state: str
) -> None:
    env = {
        "PATH": os.environ["PATH"],
        "REPO": "votingplatform/voting-platform",
        "SHA": "a" * 40,
        "CONTEXT": "tekton/vote",
        "PIPELINE_STATUS": pipeline_status,
        "TARGET_URL": "",
        "GITHUB_API": github_api,
        "GITHUB_TOKEN": "installation-token",
    }
    script = step_script(tekton_objects, "commit-status", "post-status")
    subprocess.run(["python3", "-c", script], env=env, check=True, capture_output=True, timeout=30)
    (request,) = GitHubStandIn.requests
    assert request["path"] == f"/repos/votingplatform/voting-platform/statuses/{'a' * 40}"
    assert request["auth"] == "Bearer installation-token"
    assert request["body"] == {"state": state, "context": "tekton/vote", "description": f"Tekton: {state}"}
