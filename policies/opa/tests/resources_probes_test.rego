# RES-*: requests, limits and probes on the containers that need them, and only there.
package votingplatform.tests.resources_probes

import rego.v1

import data.votingplatform.policies.resources_probes as rp
import data.votingplatform.tests.fixtures as fx

_job(container) := {
	"apiVersion": "batch/v1",
	"kind": "Job",
	"metadata": {"name": "migrate", "namespace": "voting-prod"},
	"spec": {"template": {"spec": object.union(fx.pod_spec, {"containers": [container]})}},
}

test_compliant_deployment_passes if {
	fx.ids(rp.findings) == set() with input as [fx.web({})]
}

# RES-001

test_res_001_fires_without_requests if {
	fx.ids(rp.findings) == {"RES-001"} with input as [fx.web_without(["resources/requests"])]
}

test_res_001_fires_without_a_memory_request if {
	fx.ids(rp.findings) == {"RES-001"} with input as [fx.web_without(["resources/requests/memory"])]
}

test_res_001_fires_for_an_init_container_without_requests if {
	init := json.remove(fx.container, ["resources/requests"])
	fx.ids(rp.findings) == {"RES-001"} with input as [fx.deployment({"initContainers": [init]})]
}

test_res_001_passes_for_an_ephemeral_debug_container_without_resources if {
	debug := json.remove(fx.container, ["resources", "livenessProbe", "readinessProbe"])
	fx.ids(rp.findings) == set() with input as [fx.deployment({"ephemeralContainers": [debug]})]
}

# RES-002

test_res_002_fires_without_limits if {
	fx.ids(rp.findings) == {"RES-002"} with input as [fx.web_without(["resources/limits"])]
}

test_res_002_fires_without_a_cpu_limit if {
	fx.ids(rp.findings) == {"RES-002"} with input as [fx.web_without(["resources/limits/cpu"])]
}

test_res_002_passes_with_cpu_and_memory_limits if {
	fx.ids(rp.findings) == set() with input as [fx.web({"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}})]
}

# RES-003 and RES-004: long-running workloads' main containers only.

_unprobed := json.remove(fx.container, ["livenessProbe", "readinessProbe"])

test_res_003_fires_without_a_liveness_probe if {
	fx.ids(rp.findings) == {"RES-003"} with input as [fx.web_without(["livenessProbe"])]
}

test_res_003_passes_for_a_job_without_probes if {
	fx.ids(rp.findings) == set() with input as [_job(_unprobed)]
}

test_res_003_passes_for_an_init_container_without_probes if {
	fx.ids(rp.findings) == set() with input as [fx.deployment({"initContainers": [_unprobed], "containers": [fx.container]})]
}

test_res_004_fires_without_a_readiness_probe if {
	fx.ids(rp.findings) == {"RES-004"} with input as [fx.web_without(["readinessProbe"])]
}

test_res_004_names_the_container_field if {
	some finding in rp.findings with input as [fx.deployment({"containers": [fx.container, _unprobed]})]
	finding.policy == "RES-004"
	finding.detail == "spec.template.spec.containers[1].readinessProbe is not set; probe /readyz so traffic waits for a ready pod"
}

test_res_004_passes_for_a_job_without_probes if {
	fx.ids(rp.findings) == set() with input as [_job(_unprobed)]
}
