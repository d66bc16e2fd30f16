# The entry point conftest queries by default (`data.main.deny`) and votectl queries in-process: every
# violation of every policy package, minus those covered by an exemption in force.
package main

import rego.v1

import data.votingplatform.catalog
import data.votingplatform.exemptions
import data.votingplatform.lib

deny contains finding if {
	some v in data.votingplatform.policies[_].findings
	not _exempted[concat("|", [v.kind, v.namespace, v.name, v.policy])]
	entry := object.get(catalog.policies, v.policy, {"severity": "high", "title": "uncatalogued policy"})
	finding := object.union(v, {
		"severity": entry.severity,
		"title": entry.title,
		"msg": concat("", [v.policy, " (", entry.severity, ") ", v.kind, " ", _qualified(v), ": ", v.detail]),
	})
}

# "kind|namespace|name|policy" for every policy an exemption in force covers (EXC-* are never covered).
_exempted := {concat("|", [e.kind, e.namespace, e.name, id]): true |
	some e in exemptions.in_force
	some id in e.policies
	not startswith(id, "EXC-")
}

_qualified(v) := concat("/", [v.namespace, v.name]) if v.namespace != ""

_qualified(v) := v.name if v.namespace == ""

# The exemptions in force, for the report (conftest ignores this rule; votectl lists it).
exemptions_in_force := exemptions.in_force

env := lib.env_name
