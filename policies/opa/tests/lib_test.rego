# The shared helpers: which env's rules apply, what counts as an object, and workload records.
package votingplatform.tests.lib

import rego.v1

import data.votingplatform.lib
import data.votingplatform.tests.fixtures as fx

# The env: given as data, else the strictest rules.

test_without_env_data_the_strictest_rules_apply if {
	lib.env == {"name": "an env not named in data", "pinned_images": true, "production": true}
	lib.pinned_env
	lib.production_env
}

test_env_data_selects_the_rules if {
	lib.env_name == "dev" with data.votingplatform.env as fx.dev
	not lib.pinned_env with data.votingplatform.env as fx.dev
	not lib.production_env with data.votingplatform.env as fx.dev
	lib.pinned_env with data.votingplatform.env as fx.staging
	not lib.production_env with data.votingplatform.env as fx.staging
}

test_malformed_env_data_falls_back_to_the_strictest_rules if {
	# a string "false" (e.g. from a YAML typo) must not switch a rule off
	lib.pinned_env with data.votingplatform.env as {"name": "dev", "pinned_images": "false", "production": false}
	lib.production_env with data.votingplatform.env as {"name": "dev", "pinned_images": false}
}

# The objects: every input shape conftest, opa and votectl produce gives the same list.

_service := fx.service({})

_map := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web", "namespace": "voting-prod"}}

test_objects_of_conftest_combine_input if {
	combined := [{"path": "a.yaml", "contents": [_service, _map]}, {"path": "b.yaml", "contents": fx.deny_all}]
	lib.objects == [_service, _map, fx.deny_all] with input as combined
}

test_objects_of_a_plain_list_and_a_single_object if {
	lib.objects == [_service, _map] with input as [_service, _map]
	lib.objects == [_service] with input as _service
}

test_objects_of_a_kind_list if {
	lib.objects == [_map, _service] with input as [_map, {"apiVersion": "v1", "kind": "List", "items": [_service]}]
}

test_objects_skip_documents_without_a_kind if {
	lib.objects == [_map] with input as [{"path": "empty.yaml", "contents": [{}, _map, {"kind": 3}]}]
}

# Workloads: every kind with a pod template, containers with their effective securityContext.

test_workloads_cover_every_template_kind if {
	pod := {"metadata": {"labels": fx.labels}, "spec": fx.pod_spec}
	objects := [
	{"kind": kind, "metadata": {"name": "w", "namespace": "n"}, "spec": {"template": pod}} |
		some kind in ["Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet", "Rollout"]
	]
	cron := {"kind": "CronJob", "metadata": {"name": "c", "namespace": "n"}, "spec": {"jobTemplate": {"spec": {"template": pod}}}}
	records := {[w.kind, w.path] | some w in lib.workloads} with input as array.concat(objects, [cron, _map])
	records == {
		["Deployment", "spec.template"], ["StatefulSet", "spec.template"], ["DaemonSet", "spec.template"],
		["Job", "spec.template"], ["ReplicaSet", "spec.template"], ["Rollout", "spec.template"],
		["CronJob", "spec.jobTemplate.spec.template"],
	}
}

test_container_security_is_the_containers_over_the_pods if {
	deployment := fx.web({"securityContext": {"runAsUser": 20002}})
	[w] := lib.workloads with input as [deployment]
	[entry] := w.containers
	entry.path == "spec.template.spec.containers[0]"
	entry.security.runAsUser == 20002
	entry.security.runAsNonRoot == true
	entry.security.readOnlyRootFilesystem == true
}

test_containers_of_every_field_in_order if {
	deployment := fx.deployment({"initContainers": [fx.container], "ephemeralContainers": [fx.container]})
	[w] := lib.workloads with input as [deployment]
	[c.path | some c in w.containers] == [
		"spec.template.spec.initContainers[0]",
		"spec.template.spec.containers[0]",
		"spec.template.spec.ephemeralContainers[0]",
	]
}

# Selectors.

test_selector_matches_a_subset_of_labels if {
	lib.selector_matches({"app.kubernetes.io/name": "web"}, fx.labels)
	not lib.selector_matches({"app.kubernetes.io/name": "vote"}, fx.labels)
}

test_an_empty_selector_matches_nothing if {
	not lib.selector_matches({}, fx.labels)
}

test_match_labels_of_a_selector_without_them_is_empty if {
	lib.match_labels({"matchLabels": {"a": "b"}}) == {"a": "b"}
	lib.match_labels({"matchExpressions": []}) == {}
	lib.match_labels({}) == {}
}

# Names in findings.

test_qualified_name_of_namespaced_and_cluster_objects if {
	lib.qualified_name(_map) == "voting-prod/web"
	lib.qualified_name({"kind": "Namespace", "metadata": {"name": "voting-prod"}}) == "voting-prod"
}

test_finding_shape if {
	lib.finding("META-002", _map, "why") == {"policy": "META-002", "kind": "ConfigMap", "namespace": "voting-prod", "name": "web", "detail": "why"}
}
