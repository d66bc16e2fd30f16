"""Runs the Rego library in policies/opa with regopy: compiled once per env, then one query per env.

The input is the `conftest test --combine` shape (a list of {path, contents}), so the in-process gate
and conftest/opa in CI evaluate the very same policy files the same way.
"""

from __future__ import annotations

import functools
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path

import regopy

from votectl.errors import VotectlError
from votectl.findings import Finding
from votectl.render import ENVS

_REPO = Path(__file__).resolve().parents[3]
POLICY_DIR = Path(os.environ.get("VOTECTL_POLICY_DIR", _REPO / "policies" / "opa"))
# One query for everything the report needs: regopy's cost is per query, not per rule.
_QUERY = "[data.main.deny, data.main.exemptions_in_force]"
# An interpreter holds one input at a time: callers in threads (verify checks envs in parallel) take turns
# per env, while different envs run concurrently (regopy releases the GIL).
_LOCKS = {env: threading.Lock() for env in ENVS}


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
    exceptions: list[Exemption]


def evaluate(objects: list[dict], env: str, source: str | None = None) -> PolicyResult:
    """Evaluate every policy over `objects` with `env`'s rules; `source` labels findings (default: env)."""
    term = regopy.Input([{"path": source or env, "contents": objects}])
    with _LOCKS[_checked_env(env)]:
        interpreter, bundle = _compiled(env)
        interpreter.set_input(term)
        try:
            output = interpreter.query_bundle(bundle)
        except (regopy.RegoError, ValueError) as err:  # ValueError: regopy emitted JSON it cannot parse
            raise VotectlError(f"the OPA policies failed to evaluate: {_describe(err)}") from err
        # A failed output must not be printed or parsed (regopy may crash); report it without its text.
        if not output.ok() or not output.results:
            raise VotectlError(f"the OPA policies in {POLICY_DIR} failed to evaluate")
        denies, in_force = output.results[0].expressions[0]
    findings = sorted(_finding(source or env, deny) for deny in denies)
    return PolicyResult(findings=findings, exceptions=sorted(_exemption(item) for item in in_force))


def _checked_env(env: str) -> str:
    if env not in ENVS:
        raise VotectlError(f"unknown env {env!r}: choose one of {', '.join(ENVS)}")
    return env


@functools.cache
def _compiled(env: str) -> tuple[regopy.Interpreter, regopy.Bundle]:
    """One interpreter per env (the env is data, and regopy data cannot be replaced once added), with the
    query compiled into a bundle: a plain query would recompile every module each time."""
    interpreter = load_policies(env)
    try:
        bundle = interpreter.build(_QUERY)
    except regopy.RegoError as err:
        raise VotectlError(f"the OPA policies in {POLICY_DIR} do not compile: {_describe(err)}") from err
    return interpreter, bundle


def load_policies(env: str | None) -> regopy.Interpreter:
    """A fresh interpreter with the whole library for direct queries (tests, tools); `env` goes into data,
    None leaves the policies to infer it as conftest does without --data."""
    files = sorted(path for path in POLICY_DIR.rglob("*.rego") if not path.name.endswith("_test.rego"))
    if not files:
        raise VotectlError(f"no Rego policies found in {POLICY_DIR}")
    interpreter = regopy.Interpreter()
    try:
        for path in files:
            interpreter.add_module(str(path.relative_to(POLICY_DIR)), path.read_text(encoding="utf-8"))
    except regopy.RegoError as err:
        raise VotectlError(f"the OPA policies in {POLICY_DIR} do not parse: {_describe(err)}") from err
    if env is not None:
        interpreter.add_data({"votingplatform_env": env})
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
    output = load_policies("prod").query("data.votingplatform.catalog.policies")
    if not output.ok() or not output.results:
        raise VotectlError(f"the policy catalogue in {POLICY_DIR} failed to load")
    return output.results[0].expressions[0]
