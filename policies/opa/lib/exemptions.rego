# Exemptions: an object opts out of named policies with three annotations, e.g.
#   policy.votingplatform.io/exempt: "IMG-003,SEC-002"
#   policy.votingplatform.io/exempt-reason: "vendor image writes to /var/cache; tracked in #123"
#   policy.votingplatform.io/exempt-until: "2027-01-31"
# An exemption is in force only with a reason and an expiry date that has not passed (the date is
# inclusive, UTC). Incomplete or expired ones exempt nothing and are violations themselves (EXC-*).
package votingplatform.exemptions

import rego.v1

import data.votingplatform.lib

prefix := "policy.votingplatform.io/"

declared contains exemption if {
	some obj in lib.objects
	annotations := lib.annotations(obj)
	listed := annotations[concat("", [prefix, "exempt"])]
	exemption := {
		"kind": obj.kind,
		"namespace": lib.namespace(obj),
		"name": lib.name(obj),
		"policies": [id | some part in split(listed, ","); id := trim_space(part); id != ""],
		"reason": trim_space(object.get(annotations, concat("", [prefix, "exempt-reason"]), "")),
		"until": object.get(annotations, concat("", [prefix, "exempt-until"]), ""),
	}
}

_day_ns := ((24 * 60) * 60) * 1000000000

# Nanoseconds at which the exemption lapses: the end of its `until` day. Undefined when unparseable.
lapses_ns(exemption) := time.parse_ns("2006-01-02", exemption.until) + _day_ns if is_string(exemption.until)

valid(exemption) if {
	exemption.reason != ""
	lapses_ns(exemption) > time.now_ns()
}

in_force contains exemption if {
	some exemption in declared
	valid(exemption)
}
