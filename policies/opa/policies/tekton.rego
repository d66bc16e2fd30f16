# Tekton: pipelines are code that runs with credentials; keep them current, pinned and injection-free.
package votingplatform.policies.tekton

import rego.v1

import data.votingplatform.lib

_is_tekton(obj) if startswith(obj.apiVersion, "tekton.dev/")

findings contains lib.finding("TKN-001", obj, msg) if {
	some obj in lib.objects
	obj.apiVersion == "tekton.dev/v1beta1"
	obj.kind in {"Pipeline", "Task", "ClusterTask", "PipelineRun", "TaskRun"}
	msg := "apiVersion is tekton.dev/v1beta1 (deprecated); migrate to tekton.dev/v1"
}

# Task specs with their path: Tasks, and tasks embedded in Pipelines (tasks and finally).
_task_specs contains {"obj": lib.identity(obj), "spec": obj.spec, "path": "spec"} if {
	some obj in lib.objects
	_is_tekton(obj)
	obj.kind in {"Task", "ClusterTask"}
}

_task_specs contains {"obj": lib.identity(obj), "spec": task.taskSpec, "path": path} if {
	some obj in lib.objects
	_is_tekton(obj)
	obj.kind == "Pipeline"
	some field in ["tasks", "finally"]
	some i, task in object.get(obj, ["spec", field], [])
	task.taskSpec
	path := concat("", ["spec.", field, lib.index(i), ".taskSpec"])
}

_steps contains {"obj": task.obj, "step": step, "path": path} if {
	some task in _task_specs
	some field in ["steps", "sidecars"]
	some i, step in object.get(task.spec, field, [])
	path := concat("", [task.path, ".", field, lib.index(i)])
}

_steps contains {"obj": task.obj, "step": task.spec.stepTemplate, "path": path} if {
	some task in _task_specs
	task.spec.stepTemplate.image
	path := concat("", [task.path, ".stepTemplate"])
}

findings contains lib.finding("TKN-002", s.obj, msg) if {
	some s in _steps
	is_string(s.step.image)
	not regex.match(`@sha256:[a-f0-9]{64}$`, s.step.image)
	msg := concat("", [s.path, ".image ", s.step.image, " is not pinned by digest; use name@sha256:<digest>"])
}

findings contains lib.finding("TKN-003", s.obj, msg) if {
	some s in _steps
	contains(s.step.script, "$(params.")
	msg := concat("", [s.path, ".script interpolates $(params.*) into shell code (injection); pass the value through env and use the variable"])
}

# Interceptor lists of EventListener triggers and of Trigger objects.
_interceptors contains {"obj": lib.identity(obj), "interceptor": interceptor, "path": path} if {
	some obj in lib.objects
	obj.kind == "EventListener"
	some i, trigger in object.get(obj, ["spec", "triggers"], [])
	some j, interceptor in object.get(trigger, "interceptors", [])
	path := concat("", ["spec.triggers", lib.index(i), ".interceptors", lib.index(j)])
}

_interceptors contains {"obj": lib.identity(obj), "interceptor": interceptor, "path": path} if {
	some obj in lib.objects
	obj.kind == "Trigger"
	some j, interceptor in object.get(obj, ["spec", "interceptors"], [])
	path := concat("", ["spec.interceptors", lib.index(j)])
}

_github_secret(interceptor) if {
	some param in object.get(interceptor, "params", [])
	param.name == "secretRef"
	param.value.secretName != ""
	param.value.secretKey != ""
}

findings contains lib.finding("TKN-004", entry.obj, msg) if {
	some entry in _interceptors
	entry.interceptor.ref.name == "github"
	not _github_secret(entry.interceptor)
	msg := concat("", [entry.path, " (github) has no secretRef param with secretName and secretKey; without it anyone can trigger the pipeline"])
}

# PipelineRuns, direct or in a TriggerTemplate, with their path.
_pipeline_runs contains {"obj": lib.identity(obj), "spec": object.get(obj, "spec", {}), "path": "spec"} if {
	some obj in lib.objects
	obj.kind == "PipelineRun"
}

_pipeline_runs contains {"obj": lib.identity(obj), "spec": object.get(run, "spec", {}), "path": path} if {
	some obj in lib.objects
	obj.kind == "TriggerTemplate"
	some i, run in object.get(obj, ["spec", "resourcetemplates"], [])
	run.kind == "PipelineRun"
	path := concat("", ["spec.resourcetemplates", lib.index(i), ".spec"])
}

findings contains lib.finding("TKN-005", entry.obj, msg) if {
	some entry in _pipeline_runs
	not entry.spec.timeouts.pipeline
	msg := concat("", [entry.path, ".timeouts.pipeline is not set; bound the run (e.g. 1h) so a hung step cannot hold the workspace forever"])
}

findings contains lib.finding("TKN-005", entry.obj, msg) if {
	some entry in _pipeline_runs
	entry.spec.timeouts.pipeline in {"0", "0s", "0h", "0m"}
	msg := concat("", [entry.path, ".timeouts.pipeline is 0 (no timeout); set a finite duration"])
}
