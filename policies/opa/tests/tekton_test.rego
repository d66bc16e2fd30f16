# TKN-*: current APIs, digest-pinned steps, no parameter injection, verified webhooks, bounded runs.
package votingplatform.tests.tekton

import rego.v1

import data.votingplatform.policies.tekton
import data.votingplatform.tests.fixtures as fx

_step(patch) := object.union({"name": "build", "image": concat("@", ["ghcr.io/votingplatform/builder", fx.digest]), "script": "make test"}, patch)

_task(steps) := {
	"apiVersion": "tekton.dev/v1",
	"kind": "Task",
	"metadata": {"name": "build", "namespace": "voting-ci"},
	"spec": {"params": [{"name": "revision"}], "steps": steps},
}

_pipeline(tasks) := {
	"apiVersion": "tekton.dev/v1",
	"kind": "Pipeline",
	"metadata": {"name": "ci", "namespace": "voting-ci"},
	"spec": {"tasks": tasks},
}

_github(params) := {"ref": {"name": "github"}, "params": params}

_secret_ref := {"name": "secretRef", "value": {"secretName": "github-webhook", "secretKey": "token"}}

_listener(interceptors) := {
	"apiVersion": "triggers.tekton.dev/v1beta1",
	"kind": "EventListener",
	"metadata": {"name": "github", "namespace": "voting-ci"},
	"spec": {"triggers": [{"name": "push", "interceptors": interceptors}]},
}

_run(spec) := {
	"apiVersion": "tekton.dev/v1",
	"kind": "PipelineRun",
	"metadata": {"name": "ci-1", "namespace": "voting-ci"},
	"spec": object.union({"pipelineRef": {"name": "ci"}}, spec),
}

# TKN-001

test_tkn_001_fires_for_a_v1beta1_pipeline if {
	fx.ids(tekton.findings) == {"TKN-001"} with input as [object.union(_pipeline([]), {"apiVersion": "tekton.dev/v1beta1"})]
}

test_tkn_001_passes_for_a_v1_pipeline if {
	fx.ids(tekton.findings) == set() with input as [_pipeline([])]
}

test_tkn_001_passes_for_v1beta1_triggers if {
	fx.ids(tekton.findings) == set() with input as [_listener([_github([_secret_ref])])]
}

# TKN-002

test_tkn_002_passes_for_a_step_by_digest if {
	fx.ids(tekton.findings) == set() with input as [_task([_step({})])]
}

test_tkn_002_fires_for_a_step_by_tag if {
	fx.ids(tekton.findings) == {"TKN-002"} with input as [_task([_step({"image": "ghcr.io/votingplatform/builder:1.0"})])]
}

test_tkn_002_fires_for_a_sidecar_by_tag if {
	task := object.union(_task([_step({})]), {"spec": {"sidecars": [{"name": "docker", "image": "docker:dind"}]}})
	fx.ids(tekton.findings) == {"TKN-002"} with input as [task]
}

test_tkn_002_fires_for_a_step_template_by_tag if {
	task := object.union(_task([_step({})]), {"spec": {"stepTemplate": {"image": "alpine:3"}}})
	fx.ids(tekton.findings) == {"TKN-002"} with input as [task]
}

test_tkn_002_fires_in_an_embedded_task_and_names_its_path if {
	pipeline := _pipeline([{"name": "build", "taskSpec": {"steps": [_step({"image": "alpine:3"})]}}])
	some finding in tekton.findings with input as [pipeline]
	finding.policy == "TKN-002"
	startswith(finding.detail, "spec.tasks[0].taskSpec.steps[0].image alpine:3")
}

# TKN-003

test_tkn_003_fires_for_params_in_a_script if {
	fx.ids(tekton.findings) == {"TKN-003"} with input as [_task([_step({"script": "git checkout $(params.revision)"})])]
}

test_tkn_003_passes_for_params_through_env if {
	step := _step({"script": "git checkout \"$REVISION\"", "env": [{"name": "REVISION", "value": "$(params.revision)"}]})
	fx.ids(tekton.findings) == set() with input as [_task([step])]
}

# TKN-004

test_tkn_004_fires_for_a_github_interceptor_without_secret if {
	fx.ids(tekton.findings) == {"TKN-004"} with input as [_listener([_github([])])]
}

test_tkn_004_fires_for_a_secret_ref_without_key if {
	fx.ids(tekton.findings) == {"TKN-004"} with input as [_listener([_github([{"name": "secretRef", "value": {"secretName": "github-webhook", "secretKey": ""}}])])]
}

test_tkn_004_fires_in_a_trigger_object if {
	trigger := {"apiVersion": "triggers.tekton.dev/v1beta1", "kind": "Trigger", "metadata": {"name": "push", "namespace": "voting-ci"}, "spec": {"interceptors": [_github([])]}}
	fx.ids(tekton.findings) == {"TKN-004"} with input as [trigger]
}

test_tkn_004_passes_with_a_secret_ref if {
	fx.ids(tekton.findings) == set() with input as [_listener([_github([_secret_ref])])]
}

test_tkn_004_passes_for_other_interceptors if {
	fx.ids(tekton.findings) == set() with input as [_listener([{"ref": {"name": "cel"}, "params": [{"name": "filter", "value": "true"}]}])]
}

# TKN-005

test_tkn_005_fires_for_a_run_without_timeout if {
	fx.ids(tekton.findings) == {"TKN-005"} with input as [_run({})]
}

test_tkn_005_fires_for_a_zero_timeout if {
	fx.ids(tekton.findings) == {"TKN-005"} with input as [_run({"timeouts": {"pipeline": "0s"}})]
}

test_tkn_005_fires_in_a_trigger_template if {
	template := {
		"apiVersion": "triggers.tekton.dev/v1beta1",
		"kind": "TriggerTemplate",
		"metadata": {"name": "ci", "namespace": "voting-ci"},
		"spec": {"resourcetemplates": [json.remove(_run({}), ["metadata/name"])]},
	}
	fx.ids(tekton.findings) == {"TKN-005"} with input as [template]
}

test_tkn_005_passes_for_a_bounded_run if {
	fx.ids(tekton.findings) == set() with input as [_run({"timeouts": {"pipeline": "1h"}})]
}
