"""Runs the whole gate over rendered envs or given files: schema, API value checks, cross-checks, then OPA
policies."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from votectl.errors import VotectlError
from votectl.findings import Finding
from votectl.verify.objects import display_name

if TYPE_CHECKING:
    from votectl.policy import Exemption
    from votectl.verify.schemas import SchemaStore

FILES_ENV = "files"  # the env label of findings from `verify --files`


@dataclass
class EnvResult:
    env: str  # env name, or "files"
    rules: str  # whose policy rules applied (the env itself, or --env for files)
    objects: list[tuple[str, str]]  # (kind, name) of every object checked
    findings: list[Finding]
    exemptions: list[Exemption] = field(default_factory=list)


@dataclass
class Report:
    results: list[EnvResult]

    @property
    def findings(self) -> list[Finding]:
        return [finding for result in self.results for finding in result.findings]

    @property
    def exemptions(self) -> list[Exemption]:
        return [exemption for result in self.results for exemption in result.exemptions]

    @property
    def ok(self) -> bool:
        return not any(finding.severity == "error" for finding in self.findings)


def _label(obj: dict) -> tuple[str, str]:
    """(kind, namespace/name) as findings and reports name an object."""
    return str(obj.get("kind") or "?"), display_name(obj) or "(unnamed)"


def _finding(env: str, obj: dict, rule: str, message: str) -> Finding:
    return Finding(env, *_label(obj), rule, message)


def check_objects(
    env: str, objects: list[dict], store: SchemaStore, rules: str, policies: bool = True
) -> EnvResult:
    """Every check on one env's objects; `rules` picks the env whose policy thresholds apply."""
    from votectl.verify.apivalidation import api_checks
    from votectl.verify.crossref import cross_check

    schema_errors = [store.errors(obj) for obj in objects]
    findings = [
        _finding(env, obj, "schema", message)
        for obj, messages in zip(objects, schema_errors, strict=True)
        for message in messages
    ]
    findings += [_finding(env, obj, rule, message) for obj, rule, message in cross_check(objects)]
    findings += [_finding(env, obj, rule, message) for obj, rule, message in api_checks(objects)]
    exemptions: list[Exemption] = []
    invalid = sum(bool(messages) for messages in schema_errors)
    if policies and invalid:
        # Rego policies assume well-formed objects (malformed ones can break the engine), and leaving the
        # invalid ones out would make cross-object policies report their neighbours: policies wait.
        message = f"OPA policies not evaluated: {invalid} object(s) fail the schema check; fix those first"
        findings.append(Finding(env, "Env", env, "policy", message, severity="warning"))
    elif policies:
        from votectl.policy.engine import evaluate, gate_engine

        result = evaluate(objects, rules, source=env, engine=gate_engine())
        findings += result.findings
        exemptions = list(result.exemptions)
    return EnvResult(env, rules, [_label(obj) for obj in objects], sorted(set(findings)), exemptions)


def _start_up(store: SchemaStore, policies: bool) -> None:
    """The fixed cost of a run (~0.15 s of imports and schema loading), paid while kubectl renders."""
    import yaml  # noqa: F401 (imported now for its start-up cost)

    store.prepare()
    if policies:
        import votectl.policy  # noqa: F401


def verify_envs(envs: list[str], store: SchemaStore, policies: bool = True) -> Report:
    from concurrent.futures import ThreadPoolExecutor

    from votectl.render import start_envs

    with start_envs(envs) as rendering:
        _start_up(store, policies)
        rendered = dict(zip(envs, rendering.result(), strict=True))
    # regopy queries run in C without the GIL: envs checked in threads overlap their policy passes
    with ThreadPoolExecutor(max_workers=len(envs)) as pool:
        results = list(pool.map(lambda env: check_objects(env, rendered[env], store, env, policies), envs))
    for result in results:
        result.findings = sorted([*result.findings, *project_findings(result.env)])
    return Report(results)


def project_findings(env: str) -> list[Finding]:
    """Argo CD refuses to sync an Application whose namespace its AppProject does not list: a new env
    folder needs its namespace added there too."""
    from votectl.repo import ARGOCD_DIR, Repo

    repo = Repo.current()
    allowed, namespace = repo.project_destinations, repo.env(env).namespace
    if allowed is None or namespace in allowed or "*" in allowed:
        return []
    message = (
        f"the AppProject in {ARGOCD_DIR} does not allow namespace {namespace}; add it to spec.destinations"
    )
    return [Finding(env, "Env", env, "crossref/appproject-destination", message)]


def read_manifests(paths: list[str]) -> list[dict]:
    """All objects of the given files; `-` reads stdin. Kubernetes List objects are unpacked."""
    from votectl.render import parse_manifests

    objects: list[dict] = []
    for path in paths:
        if path == "-":
            text = sys.stdin.read()
        else:
            try:
                text = Path(path).read_text()
            except OSError as err:
                raise VotectlError(f"{path}: cannot read: {err.strerror or err}") from err
        source = "stdin" if path == "-" else path
        for obj in parse_manifests(text, source):
            is_list = str(obj.get("kind", "")).endswith("List") and isinstance(obj.get("items"), list)
            members = obj["items"] if is_list else [obj]
            if not all(isinstance(member, dict) for member in members):
                raise VotectlError(f"{source}: {obj.get('kind')} has items that are not objects")
            objects.extend(members)
    if not objects:
        raise VotectlError(f"no objects in {', '.join(paths)}")
    return objects


def verify_files(paths: list[str], rules: str, store: SchemaStore, policies: bool = True) -> Report:
    return Report([check_objects(FILES_ENV, read_manifests(paths), store, rules, policies)])
