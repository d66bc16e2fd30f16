# EXC-*: an exemption needs a reason, a live YYYY-MM-DD expiry and real policy IDs, or it is a finding.
# The clock is fixed with `with time.now_ns`, so the expiry tests do not age.
package votingplatform.tests.exemptions

import rego.v1

import data.votingplatform.policies.exemptions
import data.votingplatform.tests.fixtures as fx

# Noon UTC on the last day of January 2027.
_noon := time.parse_rfc3339_ns("2027-01-31T12:00:00Z")

_exempted(policies, reason, until) := [fx.exempt(fx.web({}), policies, reason, until)]

test_a_complete_exemption_passes if {
	fx.ids(exemptions.findings) == set() with input as _exempted("SEC-002", "cache in /app; #42", "2027-01-31")
		with time.now_ns as _noon
}

test_objects_without_exemptions_pass if {
	fx.ids(exemptions.findings) == set() with input as [fx.web({})] with time.now_ns as _noon
}

# EXC-001

test_exc_001_fires_without_a_reason if {
	objects := [json.remove(fx.exempt(fx.web({}), "SEC-002", "", "2027-12-31"), ["metadata/annotations/policy.votingplatform.io~1exempt-reason"])]
	fx.ids(exemptions.findings) == {"EXC-001"} with input as objects with time.now_ns as _noon
}

test_exc_001_fires_for_a_blank_reason if {
	fx.ids(exemptions.findings) == {"EXC-001"} with input as _exempted("SEC-002", "   ", "2027-12-31") with time.now_ns as _noon
}

test_exc_001_passes_with_a_reason if {
	fx.ids(exemptions.findings) == set() with input as _exempted("SEC-002", "vendor image writes /var/cache; #123", "2027-12-31")
		with time.now_ns as _noon
}

test_exc_001_names_the_exempted_object if {
	some finding in exemptions.findings with input as _exempted("SEC-002", "", "2027-12-31") with time.now_ns as _noon
	[finding.policy, finding.kind, finding.namespace, finding.name] == ["EXC-001", "Deployment", "voting-prod", "web"]
}

# EXC-002: the until day is inclusive.

test_exc_002_passes_on_the_until_day if {
	fx.ids(exemptions.findings) == set() with input as _exempted("SEC-002", "#42", "2027-01-31") with time.now_ns as _noon
}

test_exc_002_fires_the_day_after if {
	fx.ids(exemptions.findings) == {"EXC-002"} with input as _exempted("SEC-002", "#42", "2027-01-30") with time.now_ns as _noon
}

test_exc_002_fires_at_midnight_after_the_until_day if {
	midnight := time.parse_rfc3339_ns("2027-02-01T00:00:00Z")
	fx.ids(exemptions.findings) == {"EXC-002"} with input as _exempted("SEC-002", "#42", "2027-01-31") with time.now_ns as midnight
}

# EXC-003

test_exc_003_fires_without_an_until_date if {
	objects := [json.remove(fx.exempt(fx.web({}), "SEC-002", "#42", ""), ["metadata/annotations/policy.votingplatform.io~1exempt-until"])]
	fx.ids(exemptions.findings) == {"EXC-003"} with input as objects with time.now_ns as _noon
}

test_exc_003_fires_for_a_date_in_another_format if {
	fx.ids(exemptions.findings) == {"EXC-003"} with input as _exempted("SEC-002", "#42", "31/01/2027") with time.now_ns as _noon
}

test_exc_003_passes_for_an_iso_date if {
	fx.ids(exemptions.findings) == set() with input as _exempted("SEC-002", "#42", "2099-12-31") with time.now_ns as _noon
}

# EXC-004

test_exc_004_fires_for_an_unknown_id if {
	fx.ids(exemptions.findings) == {"EXC-004"} with input as _exempted("SEC-002,SEC-999", "#42", "2027-12-31") with time.now_ns as _noon
}

test_exc_004_fires_for_an_exc_id if {
	fx.ids(exemptions.findings) == {"EXC-004"} with input as _exempted("EXC-002", "#42", "2027-12-31") with time.now_ns as _noon
}

test_exc_004_passes_for_listed_ids_with_spaces if {
	fx.ids(exemptions.findings) == set() with input as _exempted(" SEC-002 , IMG-003 ,", "#42", "2027-12-31") with time.now_ns as _noon
}
