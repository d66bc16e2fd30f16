# Resources and probes: the scheduler and the kubelet need both to keep a node and a rollout healthy.
package votingplatform.policies.resources_probes

import rego.v1

import data.votingplatform.lib

findings contains lib.finding("RES-001", w.id, msg) if {
	some w in lib.workloads
	some entry in w.containers
	entry.field != "ephemeralContainers" # debug containers may not set resources
	some resource in ["cpu", "memory"]
	not entry.container.resources.requests[resource]
	msg := concat("", [entry.path, ".resources.requests.", resource, " is not set; request what the container needs"])
}

findings contains lib.finding("RES-002", w.id, msg) if {
	some w in lib.workloads
	some entry in w.containers
	entry.field != "ephemeralContainers" # debug containers may not set resources
	some resource in ["cpu", "memory"]
	not entry.container.resources.limits[resource]
	msg := concat("", [entry.path, ".resources.limits.", resource, " is not set; cap it so one pod cannot starve its node"])
}

# Jobs run to completion: a liveness or readiness probe means nothing there.
findings contains lib.finding("RES-003", w.id, msg) if {
	some w in lib.workloads
	w.kind in lib.long_running_kinds
	some entry in w.containers
	entry.field == "containers"
	not entry.container.livenessProbe
	msg := concat("", [entry.path, ".livenessProbe is not set; probe /healthz so a hung process is restarted"])
}

findings contains lib.finding("RES-004", w.id, msg) if {
	some w in lib.workloads
	w.kind in lib.long_running_kinds
	some entry in w.containers
	entry.field == "containers"
	not entry.container.readinessProbe
	msg := concat("", [entry.path, ".readinessProbe is not set; probe /readyz so traffic waits for a ready pod"])
}
