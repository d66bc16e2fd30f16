"""Runs the Rego library in policies/opa: with regopy in-process (compiled once per env, then one query per
env), or with the OPA binary `votectl engines build` made.

The input is the `conftest test --combine` shape (a list of {path, contents}) and the data is what
`policy_data` gives, so regopy, conftest and opa evaluate the very same policy files with the very same
input and data (tests/policies/test_opa_agreement.py holds them to it). The gate (`votectl verify`) takes
OPA itself when it is built: one `opa eval` per env is about twice as fast as regopy's first query in a
fresh process (docs/policies.md); regopy stays the engine without Go, and of callers that evaluate many
small documents in one process (it compiles once), such as the policy corpus tests.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import regopy

from votectl.errors import VotectlError
from votectl.findings import Finding
from votectl.repo import Repo

# One query for everything the report needs: regopy's cost is per query, not per rule.
_QUERY = "[data.main.deny, data.main.exemptions_in_force]"
# An interpreter holds one input at a time: callers in threads (verify checks envs in parallel) take turns
# per env, while different envs run concurrently (regopy releases the GIL).
_LOCKS: dict[tuple[Path, str], threading.Lock] = {}
_LOCKS_LOCK = threading.Lock()
ENGINES = ("opa", "regopy")


def policy_dir() -> Path:
    """The checkout's policies/opa, or VOTECTL_POLICY_DIR (tests point it at broken libraries)."""
    override = os.environ.get("VOTECTL_POLICY_DIR")
    return Path(override) if override else Repo.current().policy_dir


def policy_data(env: str, repo: Repo | None = None) -> dict:
    """The data document every engine gets: the rules of `env` and the production namespaces."""
    repo = repo or Repo.current()
    return {
        "votingplatform": {
            "env": repo.env(env).policy_data(),
            "production_namespaces": [e.namespace for e in repo.envs if e.production],
        }
    }


@dataclass(frozen=True, order=True)
class Exemption:
    """An exemption annotation in force: which object skips which policies, why, and until when."""

    kind: str
    name: str
    policies: tuple[str, ...]
    reason: str
    until: str


@dataclass(frozen=True)
class PolicyResult:
    """The violations not covered by an exemption, and the exemptions in force (the report lists both)."""

    findings: list[Finding]
    exemptions: list[Exemption]


def evaluate(
    objects: list[dict], env: str, source: str | None = None, engine: str = "regopy"
) -> PolicyResult:
    """Evaluate every policy over `objects` with `env`'s rules; `source` labels findings (default: env).
    `engine` is "regopy" (in process) or "opa" (the built binary; see gate_engine)."""
    documents = [{"path": source or env, "contents": objects}]
    if engine == "opa":
        denies, in_force = _opa_results(documents, env)
    else:
        denies, in_force = _regopy_results(documents, env)
    findings = sorted(_finding(source or env, deny) for deny in denies)
    return PolicyResult(findings=findings, exemptions=sorted(_exemption(item) for item in in_force))


def gate_engine() -> str:
    """The engine `votectl verify` uses: VOTECTL_POLICY_ENGINE if set, else OPA when it is built."""
    chosen = os.environ.get("VOTECTL_POLICY_ENGINE", "").strip()
    if chosen:
        if chosen not in ENGINES:
            raise VotectlError(f"VOTECTL_POLICY_ENGINE={chosen}: expected one of {', '.join(ENGINES)}")
        return chosen
    return "opa" if _opa_binary(required=False) else "regopy"


def _regopy_results(documents: list[dict], env: str) -> tuple[list[dict], list[dict]]:
    term = regopy.Input(documents)
    directory, data = policy_dir(), json.dumps(policy_data(env), sort_keys=True)
    with _LOCKS_LOCK:
        lock = _LOCKS.setdefault((directory, data), threading.Lock())
    with lock:
        interpreter, bundle = _compiled(directory, data)
        interpreter.set_input(term)
        try:
            output = interpreter.query_bundle(bundle)
        except (regopy.RegoError, ValueError) as err:  # ValueError: regopy emitted JSON it cannot parse
            raise VotectlError(f"the OPA policies failed to evaluate: {_describe(err)}") from err
        # A failed output must not be printed or parsed (regopy may crash); report it without its text.
        if not output.ok() or not output.results:
            raise VotectlError(f"the OPA policies in {directory} failed to evaluate")
        denies, in_force = output.results[0].expressions[0]
    return denies, in_force


def _opa_results(documents: list[dict], env: str) -> tuple[list[dict], list[dict]]:
    directory = policy_dir()
    files = policy_files(directory)
    if not files:
        raise VotectlError(f"no Rego policies found in {directory}")
    with tempfile.TemporaryDirectory(prefix="votectl-opa-") as scratch:
        data_file = Path(scratch) / "data.json"
        data_file.write_text(json.dumps(policy_data(env)), encoding="utf-8")
        command = [str(_opa_binary(required=True)), "eval", "--format", "json", "--stdin-input"]
        command += [argument for path in [*files, data_file] for argument in ("--data", str(path))]
        result = subprocess.run(
            [*command, _QUERY],
            input=json.dumps(documents),
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
    try:
        answer = json.loads(result.stdout)
        denies, in_force = answer["result"][0]["expressions"][0]["value"]
    except (ValueError, KeyError, IndexError, TypeError):
        detail = _opa_error(result.stdout) or result.stderr.strip().partition("\n")[0]
        if not detail:
            detail = "the query is undefined (no data.main.deny)" if result.returncode == 0 else "opa failed"
        raise VotectlError(f"the OPA policies in {directory} failed to evaluate: {detail}") from None
    return denies, in_force


def _opa_error(stdout: str) -> str:
    """The first error `opa eval --format json` reports, as `file:row: message`."""
    try:
        error = json.loads(stdout)["errors"][0]
    except (ValueError, KeyError, IndexError, TypeError):
        return ""
    location = error.get("location") or {}
    where = f"{location.get('file')}:{location.get('row')}: " if location else ""
    return f"{where}{error.get('message', '').strip()}"


@functools.cache
def _opa_binary(required: bool) -> Path | None:
    from votectl.engines.build import path

    try:
        return path("opa")
    except VotectlError:
        if required:
            raise
        return None


@functools.cache
def _compiled(directory: Path, data: str) -> tuple[regopy.Interpreter, regopy.Bundle]:
    """One interpreter per library and env data (regopy data cannot be replaced once added), with the
    query compiled into a bundle: a plain query would recompile every module each time."""
    interpreter = load_policies(json.loads(data), directory)
    try:
        bundle = interpreter.build(_QUERY)
    except regopy.RegoError as err:
        raise VotectlError(f"the OPA policies in {directory} do not compile: {_describe(err)}") from err
    return interpreter, bundle


def policy_files(directory: Path) -> list[Path]:
    """The library without its unit tests (`*_test.rego` run under `opa test` only)."""
    return sorted(path for path in directory.rglob("*.rego") if not path.name.endswith("_test.rego"))


def load_policies(data: dict | None, directory: Path | None = None) -> regopy.Interpreter:
    """A fresh interpreter with the whole library for direct queries (tests, tools); `data` as from
    `policy_data`, or None for none (the policies then apply their strictest rules)."""
    directory = directory or policy_dir()
    files = policy_files(directory)
    if not files:
        raise VotectlError(f"no Rego policies found in {directory}")
    interpreter = regopy.Interpreter()
    try:
        for path in files:
            interpreter.add_module(str(path.relative_to(directory)), path.read_text(encoding="utf-8"))
    except regopy.RegoError as err:
        raise VotectlError(f"the OPA policies in {directory} do not parse: {_describe(err)}") from err
    if data is not None:
        interpreter.add_data(data)
    return interpreter


def _describe(err: Exception) -> str:
    """'file: message' from regopy's error tree, e.g. `(error 19:lib/x.rego|..  (errormsg 18:Invalid ...)`."""
    text = str(err)
    where = re.search(r"\(error \d+:([^|\s]+)", text)
    what = re.search(r"\(errormsg \d+:([^)\n]*)", text)
    if what:
        return f"{where.group(1)}: {what.group(1)}" if where else what.group(1)
    return next((line.strip() for line in text.splitlines() if line.strip()), "unknown error")


def _qualified(item: dict) -> str:
    return f"{item['namespace']}/{item['name']}" if item["namespace"] else item["name"]


def _finding(source: str, deny: dict) -> Finding:
    return Finding(
        env=source,
        kind=deny["kind"],
        name=_qualified(deny),
        rule=deny["policy"],
        message=f"{deny['title']}: {deny['detail']}",
    )


def _exemption(item: dict) -> Exemption:
    return Exemption(
        kind=item["kind"],
        name=_qualified(item),
        policies=tuple(item["policies"]),
        reason=item["reason"],
        until=item["until"],
    )


@functools.cache
def catalog() -> dict[str, dict[str, str]]:
    """The policy catalogue (ID -> title, severity, rationale) as the Rego library defines it."""
    output = load_policies(None).query("data.votingplatform.catalog.policies")
    if not output.ok() or not output.results:
        raise VotectlError(f"the policy catalogue in {policy_dir()} failed to load")
    return output.results[0].expressions[0]
