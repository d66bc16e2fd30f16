"""The Rego library under the real OPA: `opa check --strict` and the Rego unit tests of policies/opa/tests.

regopy (the in-process engine) neither runs `*_test.rego` nor applies OPA's strict checks, so these run
through the pinned OPA binary. A count and a per-policy naming rule keep an emptied or thinned test set
from passing.
"""

from __future__ import annotations

import json
import subprocess
from functools import cache

from votectl.engines.build import path
from votectl.policy.engine import policy_dir

# About 220 tests today; a floor well below that still catches a lost file or package.
MIN_TESTS = 200

CATALOGUE_IDS = "object.keys(data.votingplatform.catalog.policies)"


def _opa(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(path("opa")), *args], capture_output=True, text=True, check=False, timeout=120)


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n{result.stdout}{result.stderr}"


@cache
def _test_run() -> subprocess.CompletedProcess[str]:
    """One `opa test` run (JSON: one record per test) for all the tests below."""
    return _opa("test", "--format", "json", str(policy_dir()))


def _test_records() -> list[dict]:
    result = _test_run()
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:  # a compile error: OPA printed it instead of results
        raise AssertionError(f"opa test gave no results:\n{_output(result)}") from None


def test_library_passes_strict_check():
    result = _opa("check", "--strict", str(policy_dir()))
    assert result.returncode == 0, f"opa check --strict failed:\n{_output(result)}"


def test_rego_unit_tests_pass():
    if _test_run().returncode != 0:
        # OPA's text output lists just the failing tests with their locations (or the errors)
        raise AssertionError(f"opa test failed:\n{_output(_opa('test', str(policy_dir())))}")
    assert [r["name"] for r in _test_records() if r.get("fail") or r.get("error")] == []


def test_enough_rego_tests_ran():
    results = _test_records()
    assert len(results) >= MIN_TESTS, f"opa test ran only {len(results)} tests"


def test_every_policy_package_has_a_test_file():
    policies = {p.stem for p in (policy_dir() / "policies").glob("*.rego")}
    tests = {p.name.removesuffix("_test.rego") for p in (policy_dir() / "tests").glob("*_test.rego")}
    assert policies - tests == set()


def test_every_catalogued_policy_has_a_firing_and_a_passing_test():
    """Tests are named `test_<id>_fires_...` / `test_<id>_passes_...` (e.g. test_img_002_fires_for_a_tag)."""
    catalogue = _opa("eval", "--format", "raw", "--data", str(policy_dir()), CATALOGUE_IDS)
    assert catalogue.returncode == 0, _output(catalogue)
    names = [r["name"] for r in _test_records()]
    missing = []
    for policy in sorted(json.loads(catalogue.stdout)):
        prefix = "test_" + policy.lower().replace("-", "_") + "_"
        for kind in ("fires", "passes"):
            if not any(name.startswith(prefix + kind) for name in names):
                missing.append(f"{prefix}{kind}_*")
    assert missing == [], "catalogued policies without a firing or passing Rego test"
