# The entry point: every package's findings with catalogue severity and title, minus exemptions in force.
package votingplatform.tests.main

import rego.v1

import data.main
import data.votingplatform.catalog
import data.votingplatform.exemptions
import data.votingplatform.tests.fixtures as fx

_noon := time.parse_rfc3339_ns("2027-01-31T12:00:00Z")

_writable := fx.web({"securityContext": {"readOnlyRootFilesystem": false}})

# What the prod rules want around the Deployment: a default deny, a Service and a budget.
_compliant := [fx.deny_all, fx.service({}), fx.pdb({"maxUnavailable": 1})]

_deny_keys := {[d.policy, d.kind, d.namespace, d.name] | some d in main.deny}

test_compliant_objects_give_no_findings if {
	count(main.deny) == 0 with input as array.concat(_compliant, [fx.web({})]) with data.votingplatform.env as fx.prod
}

test_a_finding_carries_catalogue_severity_title_and_a_message if {
	[finding] := [d | some d in main.deny] with input as array.concat(_compliant, [_writable])
	finding.policy == "SEC-002"
	finding.severity == catalog.policies["SEC-002"].severity
	finding.title == catalog.policies["SEC-002"].title
	startswith(finding.msg, "SEC-002 (medium) Deployment voting-prod/web: spec.template.spec.containers[0]")
}

# Exemptions in force.

test_an_exemption_in_force_is_listed_and_suppresses_its_policy if {
	exempted := fx.exempt(_writable, "SEC-002", "cache in /app; #42", "2027-01-31")
	objects := array.concat(_compliant, [exempted])
	count(main.deny) == 0 with input as objects with time.now_ns as _noon
	main.exemptions_in_force == {{
		"kind": "Deployment", "namespace": "voting-prod", "name": "web", "policies": ["SEC-002"],
		"reason": "cache in /app; #42", "until": "2027-01-31",
	}} with input as objects with time.now_ns as _noon
}

test_an_exemption_covers_only_its_object_and_policies if {
	privileged := fx.web({"securityContext": {"readOnlyRootFilesystem": false, "privileged": true}})
	exempted := fx.exempt(privileged, "SEC-002", "#42", "2027-12-31")
	other := object.union(_writable, {"metadata": {"name": "worker"}})
	_deny_keys == {["SEC-005", "Deployment", "voting-prod", "web"], ["SEC-002", "Deployment", "voting-prod", "worker"]} with input as array.concat(_compliant, [exempted, other])
		with time.now_ns as _noon
}

test_an_expired_exemption_is_not_in_force if {
	objects := array.concat(_compliant, [fx.exempt(_writable, "SEC-002", "#42", "2027-01-30")])
	count(exemptions.in_force) == 0 with input as objects with time.now_ns as _noon
	_deny_keys == {["SEC-002", "Deployment", "voting-prod", "web"], ["EXC-002", "Deployment", "voting-prod", "web"]} with input as objects
		with time.now_ns as _noon
}

test_an_exemption_without_reason_is_not_in_force if {
	objects := array.concat(_compliant, [fx.exempt(_writable, "SEC-002", "", "2027-12-31")])
	count(main.exemptions_in_force) == 0 with input as objects with time.now_ns as _noon
	{"SEC-002", "EXC-001"} == fx.ids(main.deny) with input as objects with time.now_ns as _noon
}

test_an_exemption_cannot_cover_exc_findings if {
	objects := array.concat(_compliant, [fx.exempt(_writable, "SEC-002,EXC-004", "#42", "2027-12-31")])

	# EXC-004 flags the EXC ID, and naming it exempts nothing; SEC-002 is exempted.
	_deny_keys == {["EXC-004", "Deployment", "voting-prod", "web"]} with input as objects with time.now_ns as _noon
}

test_the_env_name_comes_from_data if {
	main.env == "staging" with data.votingplatform.env as fx.staging
}
