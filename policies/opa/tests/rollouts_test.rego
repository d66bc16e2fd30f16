# ROL-*: Argo Rollouts gated by analysis that exists, can fail and ends, with weighted traffic routing.
package votingplatform.tests.rollouts

import rego.v1

import data.votingplatform.policies.rollouts
import data.votingplatform.tests.fixtures as fx

# A canary voting-prod/vote with one analysis step on template `errors`, merged with `strategy`.
_rollout(strategy) := {
	"apiVersion": "argoproj.io/v1alpha1",
	"kind": "Rollout",
	"metadata": {"name": "vote", "namespace": "voting-prod"},
	"spec": {
		"replicas": 3,
		"selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
		"template": {"metadata": {"labels": fx.labels}, "spec": fx.pod_spec},
		"strategy": object.union({"canary": {"steps": [{"setWeight": 20}, {"analysis": {"templates": [{"templateName": "errors"}]}}]}}, strategy),
	},
}

_canary := _rollout({})

_metric := {"name": "error-ratio", "successCondition": "result[0] < 0.01", "provider": {"prometheus": {"query": "q"}}}

_template(kind, metrics) := {
	"apiVersion": "argoproj.io/v1alpha1",
	"kind": kind,
	"metadata": {"name": "errors", "namespace": "voting-prod"},
	"spec": {"metrics": metrics},
}

_errors := _template("AnalysisTemplate", [_metric])

# ROL-001

test_rol_001_passes_for_a_canary_with_an_analysis_step if {
	fx.ids(rollouts.findings) == set() with input as [_canary, _errors] with data.votingplatform.env as fx.prod
}

test_rol_001_fires_for_a_canary_without_analysis_in_prod if {
	fx.ids(rollouts.findings) == {"ROL-001"} with input as [_rollout({"canary": {"steps": [{"setWeight": 20}]}})]
		with data.votingplatform.env as fx.prod
}

test_rol_001_passes_without_analysis_in_dev if {
	fx.ids(rollouts.findings) == set() with input as [_rollout({"canary": {"steps": [{"setWeight": 20}]}})]
		with data.votingplatform.env as fx.dev
}

test_rol_001_fires_for_post_promotion_analysis_only if {
	blue_green := json.patch(_canary, [{"op": "replace", "path": "/spec/strategy", "value": {"blueGreen": {
		"activeService": "vote",
		"postPromotionAnalysis": {"templates": [{"templateName": "errors"}]},
	}}}])
	fx.ids(rollouts.findings) == {"ROL-001"} with input as [blue_green, _errors] with data.votingplatform.env as fx.staging
}

test_rol_001_passes_for_background_analysis if {
	background := _rollout({"canary": {"steps": [{"setWeight": 20}], "analysis": {"templates": [{"templateName": "errors"}]}}})
	fx.ids(rollouts.findings) == set() with input as [background, _errors] with data.votingplatform.env as fx.prod
}

# ROL-002

test_rol_002_fires_for_a_missing_template_in_dev_too if {
	fx.ids(rollouts.findings) == {"ROL-002"} with input as [_canary] with data.votingplatform.env as fx.dev
}

test_rol_002_fires_for_a_template_in_another_namespace if {
	elsewhere := object.union(_errors, {"metadata": {"namespace": "voting-dev"}})
	fx.ids(rollouts.findings) == {"ROL-002"} with input as [_canary, elsewhere] with data.votingplatform.env as fx.prod
}

test_rol_002_fires_for_a_cluster_scope_reference_to_a_namespaced_template if {
	cluster_ref := json.patch(_canary, [{"op": "add", "path": "/spec/strategy/canary/steps/1/analysis/templates/0/clusterScope", "value": true}])
	fx.ids(rollouts.findings) == {"ROL-002"} with input as [cluster_ref, _errors] with data.votingplatform.env as fx.prod
}

test_rol_002_passes_for_a_cluster_analysis_template if {
	cluster_ref := json.patch(_canary, [{"op": "add", "path": "/spec/strategy/canary/steps/1/analysis/templates/0/clusterScope", "value": true}])
	template := json.remove(_template("ClusterAnalysisTemplate", [_metric]), ["metadata/namespace"])
	fx.ids(rollouts.findings) == set() with input as [cluster_ref, template] with data.votingplatform.env as fx.prod
}

# ROL-003

test_rol_003_fires_for_a_metric_without_conditions if {
	fx.ids(rollouts.findings) == {"ROL-003"} with input as [_canary, _template("AnalysisTemplate", [json.remove(_metric, ["successCondition"])])]
		with data.votingplatform.env as fx.prod
}

test_rol_003_passes_for_a_failure_condition if {
	metric := object.union(json.remove(_metric, ["successCondition"]), {"failureCondition": "result[0] > 0.05"})
	fx.ids(rollouts.findings) == set() with input as [_canary, _template("AnalysisTemplate", [metric])]
		with data.votingplatform.env as fx.prod
}

test_rol_003_passes_for_a_job_metric if {
	job := {"name": "smoke", "provider": {"job": {"spec": {}}}}
	fx.ids(rollouts.findings) == set() with input as [_canary, _template("AnalysisTemplate", [job])]
		with data.votingplatform.env as fx.prod
}

# ROL-004

test_rol_004_fires_for_a_step_metric_with_an_interval_and_no_count if {
	fx.ids(rollouts.findings) == {"ROL-004"} with input as [_canary, _template("AnalysisTemplate", [object.union(_metric, {"interval": "1m"})])]
		with data.votingplatform.env as fx.prod
}

test_rol_004_fires_for_a_zero_count if {
	metric := object.union(_metric, {"interval": "1m", "count": "0"})
	fx.ids(rollouts.findings) == {"ROL-004"} with input as [_canary, _template("AnalysisTemplate", [metric])]
		with data.votingplatform.env as fx.prod
}

test_rol_004_passes_for_a_count if {
	metric := object.union(_metric, {"interval": "1m", "count": 5})
	fx.ids(rollouts.findings) == set() with input as [_canary, _template("AnalysisTemplate", [metric])]
		with data.votingplatform.env as fx.prod
}

test_rol_004_passes_for_a_templated_count if {
	metric := object.union(_metric, {"interval": "1m", "count": "{{args.count}}"})
	fx.ids(rollouts.findings) == set() with input as [_canary, _template("AnalysisTemplate", [metric])]
		with data.votingplatform.env as fx.prod
}

test_rol_004_passes_for_an_endless_background_analysis if {
	background := _rollout({"canary": {"steps": [{"setWeight": 20}], "analysis": {"templates": [{"templateName": "errors"}]}}})
	fx.ids(rollouts.findings) == set() with input as [background, _template("AnalysisTemplate", [object.union(_metric, {"interval": "1m"})])]
		with data.votingplatform.env as fx.prod
}

# ROL-005

_stable := fx.service({"metadata": {"name": "vote-stable"}})

_ingress := {
	"apiVersion": "networking.k8s.io/v1",
	"kind": "Ingress",
	"metadata": {"name": "vote", "namespace": "voting-prod"},
	"spec": {"rules": [{"http": {"paths": [{"path": "/", "backend": {"service": {"name": "vote-stable"}}}]}}]},
}

_routed(fields) := _rollout({"canary": object.union(
	{"canaryService": "vote-canary", "stableService": "vote-stable", "trafficRouting": {"nginx": {"stableIngress": "vote"}}},
	fields,
)})

test_rol_005_fires_for_an_unrouted_canary_behind_an_ingress if {
	fx.ids(rollouts.findings) == {"ROL-005"} with input as [_canary, _errors, _stable, _ingress]
		with data.votingplatform.env as fx.prod
}

test_rol_005_passes_for_an_unrouted_canary_in_dev if {
	fx.ids(rollouts.findings) == set() with input as [_canary, _errors, _stable, _ingress] with data.votingplatform.env as fx.dev
}

test_rol_005_passes_for_an_unrouted_canary_no_ingress_reaches if {
	fx.ids(rollouts.findings) == set() with input as [_canary, _errors, _stable] with data.votingplatform.env as fx.prod
}

test_rol_005_passes_for_weighted_routing if {
	fx.ids(rollouts.findings) == set() with input as [_routed({}), _errors, _stable, _ingress]
		with data.votingplatform.env as fx.prod
}

test_rol_005_fires_for_routing_without_a_canary_service if {
	routed := json.remove(_routed({}), ["spec/strategy/canary/canaryService"])
	fx.ids(rollouts.findings) == {"ROL-005"} with input as [routed, _errors, _stable, _ingress]
		with data.votingplatform.env as fx.prod
}
