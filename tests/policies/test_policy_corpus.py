"""Every case of the corpus through the real engine: the exact set of policy IDs, no more, no less."""

from __future__ import annotations

import pytest
from policy_corpus import bundle_names, load_bundle, load_cases
from votectl.policy import catalog, evaluate

CASES = load_cases()


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_case_triggers_exactly_its_policies(case):
    result = evaluate(case.objects(), case.env)
    assert sorted({finding.rule for finding in result.findings}) == sorted(set(case.expect)), result.findings


@pytest.mark.parametrize("env", ["dev", "staging", "prod"])
@pytest.mark.parametrize("bundle", bundle_names())
def test_bundle_is_compliant(bundle, env):
    assert evaluate(load_bundle(bundle), env).findings == []


def test_every_policy_has_a_passing_and_two_failing_cases():
    passing = {case.policy for case in CASES if not case.expect}
    failing: dict[str, int] = {}
    for case in CASES:
        for policy in case.expect:
            failing[policy] = failing.get(policy, 0) + 1
    policies = set(catalog())
    assert policies - passing == set(), "policies without a passing case"
    thin = {policy for policy in policies if failing.get(policy, 0) < 2}
    assert thin == set(), "policies with fewer than two failing cases"
    assert sum(1 for case in CASES if case.expect) >= 60


def test_cases_name_catalogued_policies():
    policies = set(catalog())
    assert {case.policy for case in CASES} | {p for case in CASES for p in case.expect} <= policies
