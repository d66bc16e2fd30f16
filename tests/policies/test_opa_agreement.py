"""The real OPA and votectl's regopy agree on every corpus case, every bundle in every env and the real envs.

conftest and `opa` run the same Rego files as the in-process gate: an engine difference would let one gate
pass what the other refuses. (One did: OPA evaluates a call's arguments outside `not`, so
`not is_boolean(x.missing)` is undefined under OPA but true under regopy.)

OPA runs once per env, not once per document: the documents of an env go into the data file next to
`policy_data(env)`, keyed by id, and the query evaluates `data.main` with `input` bound to each in turn.
The policies read only `data.votingplatform`, so the extra data key changes nothing they see. regopy costs
about 50 ms per document, so its ~200 evaluations are spread over worker processes.
"""

from __future__ import annotations

import functools
import json
import multiprocessing
import os
import subprocess
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import policy_corpus
import pytest
from policy_corpus import Case, bundle_names, load_bundle, load_cases
from votectl.engines.build import path
from votectl.policy import Exemption, evaluate
from votectl.policy.engine import policy_data, policy_dir
from votectl.render import render_envs
from votectl.repo import Repo

ENVS = Repo.current().env_names
CASES = load_cases()

# {id: [deny, exemptions in force]} for every document under data.agreement.
QUERY = (
    "{id: result | some id, doc in data.agreement; "
    "result := [data.main.deny, data.main.exemptions_in_force] with input as doc}"
)


@dataclass(frozen=True)
class Outcome:
    """What an engine decided about one document: (policy, kind, namespace/name, message) per finding."""

    findings: frozenset[tuple[str, str, str, str]]
    exemptions: tuple[Exemption, ...]


@dataclass(frozen=True)
class Document:
    id: str
    env: str
    source: Case | str | list[dict]  # a corpus case, a bundle name, or rendered objects

    def objects(self) -> list[dict]:
        if isinstance(self.source, Case):
            return self.source.objects()
        return load_bundle(self.source) if isinstance(self.source, str) else self.source


def _bundle_id(bundle: str, env: str) -> str:
    return f"bundle {bundle} in {env}"


def _env_id(env: str) -> str:
    return f"env {env}"


def _worker_init() -> None:
    """Case.objects parses its bundle's YAML twice per case (a third of a worker's time): a worker keeps one
    parse per bundle. Sharing it is safe, as Case.objects deep-copies every object it returns (jsonpatch)."""
    policy_corpus.load_bundle = functools.cache(policy_corpus.load_bundle)


def _regopy(document: Document) -> tuple[list[dict], Outcome]:
    """The document's objects and regopy's outcome (runs in a worker process)."""
    objects = document.objects()
    result = evaluate(objects, document.env)
    findings = frozenset((f.rule, f.kind, f.name, f.message) for f in result.findings)
    return objects, Outcome(findings, tuple(result.exemptions))


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory) -> dict[str, tuple[Outcome, Outcome]]:
    """id -> (OPA's outcome, regopy's outcome) for every document."""
    documents = [Document(case.id, case.env, case) for case in CASES]
    documents += [Document(_bundle_id(b, env), env, b) for b in bundle_names() for env in ENVS]
    documents += [Document(_env_id(env), env, objects) for env, objects in render_envs(ENVS).items()]
    assert len({d.id for d in documents}) == len(documents), "corpus case ids must be unique"
    # spawn, not fork: the test process may run threads (servers of other tests)
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        min(os.cpu_count() or 1, 8), mp_context=context, initializer=_worker_init
    ) as pool:
        evaluated = dict(
            zip((d.id for d in documents), pool.map(_regopy, documents, chunksize=8), strict=True)
        )
    directory = tmp_path_factory.mktemp("opa-agreement")
    by_opa: dict[str, Outcome] = {}
    for env in ENVS:
        data = policy_data(env)
        data["agreement"] = {
            d.id: [{"path": d.id, "contents": evaluated[d.id][0]}] for d in documents if d.env == env
        }
        by_opa |= {key: _parse(*value) for key, value in _opa_eval(directory / f"{env}.json", data).items()}
    return {d.id: (by_opa[d.id], evaluated[d.id][1]) for d in documents}


def _opa_eval(data_file: Path, data: dict) -> dict:
    data_file.write_text(json.dumps(data), encoding="utf-8")
    command = [
        str(path("opa")),
        "eval",
        "--format",
        "json",
        "--data",
        str(policy_dir()),
        "--data",
        str(data_file),
    ]
    result = subprocess.run([*command, QUERY], capture_output=True, text=True, check=False, timeout=120)
    assert result.returncode == 0, f"opa eval failed:\n{result.stdout}{result.stderr}"
    return json.loads(result.stdout)["result"][0]["expressions"][0]["value"]


def _qualified(item: dict) -> str:
    return f"{item['namespace']}/{item['name']}" if item["namespace"] else item["name"]


def _parse(denies: list[dict], in_force: list[dict]) -> Outcome:
    """OPA's raw results in the shape votectl.policy.evaluate reports them."""
    findings = frozenset(
        (d["policy"], d["kind"], _qualified(d), f"{d['title']}: {d['detail']}") for d in denies
    )
    exemptions = sorted(
        Exemption(e["kind"], _qualified(e), tuple(e["policies"]), e["reason"], e["until"]) for e in in_force
    )
    return Outcome(findings, tuple(exemptions))


def _differences(opa: Outcome, regopy: Outcome) -> list[str]:
    found = [f"only OPA: {finding}" for finding in sorted(opa.findings - regopy.findings)]
    found += [f"only regopy: {finding}" for finding in sorted(regopy.findings - opa.findings)]
    if opa.exemptions != regopy.exemptions:
        found.append(f"exemptions in force: OPA {opa.exemptions}, regopy {regopy.exemptions}")
    return found


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_case_agrees(case, outcomes):
    assert _differences(*outcomes[case.id]) == [], case.id


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("bundle", bundle_names())
def test_bundle_agrees(bundle, env, outcomes):
    assert _differences(*outcomes[_bundle_id(bundle, env)]) == []


@pytest.mark.parametrize("env", ENVS)
def test_real_env_agrees(env, outcomes):
    """The rendered envs as they are (none carries an exemption today; the corpus has those)."""
    assert _differences(*outcomes[_env_id(env)]) == []


def test_the_comparison_sees_findings_and_exemptions(outcomes):
    """Two empty outcomes agree too: OPA must report the corpus's violations and the exemptions it grants."""
    opa = {key: pair[0] for key, pair in outcomes.items()}
    failing = [case for case in CASES if case.expect]
    assert all({f[0] for f in opa[case.id].findings} == set(case.expect) for case in failing)
    assert any(opa[case.id].exemptions for case in CASES)
