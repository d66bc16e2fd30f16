# Exemptions: an exemption that lacks a reason or a live expiry date exempts nothing and is itself flagged.
package votingplatform.policies.exemptions

import rego.v1

import data.votingplatform.catalog
import data.votingplatform.exemptions
import data.votingplatform.lib

_object(exemption) := {"kind": exemption.kind, "metadata": {"namespace": exemption.namespace, "name": exemption.name}}

findings contains lib.finding("EXC-001", _object(exemption), msg) if {
	some exemption in exemptions.declared
	exemption.reason == ""
	msg := concat("", ["metadata.annotations.", exemptions.prefix, "exempt-reason is missing; say why the exemption is needed (and link the issue)"])
}

findings contains lib.finding("EXC-002", _object(exemption), msg) if {
	some exemption in exemptions.declared
	exemptions.lapses_ns(exemption) <= time.now_ns()
	msg := concat("", ["metadata.annotations.", exemptions.prefix, "exempt-until ", exemption.until, " has passed; fix the violation or renew the exemption with a new reason"])
}

findings contains lib.finding("EXC-003", _object(exemption), msg) if {
	some exemption in exemptions.declared
	not exemptions.lapses_ns(exemption)
	msg := concat("", ["metadata.annotations.", exemptions.prefix, "exempt-until is missing or not a YYYY-MM-DD date; every exemption expires"])
}

findings contains lib.finding("EXC-004", _object(exemption), msg) if {
	some exemption in exemptions.declared
	some id in exemption.policies
	not _exemptable(id)
	msg := concat("", ["metadata.annotations.", exemptions.prefix, "exempt names ", id, ", which is not an exemptable policy ID; use IDs from docs/policies.md"])
}

_exemptable(id) if {
	catalog.policies[id]
	not startswith(id, "EXC-")
}
