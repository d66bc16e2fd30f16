# Argo Rollouts: a release in staging and prod is gated by analysis that can actually fail.
package votingplatform.policies.rollouts

import rego.v1

import data.votingplatform.lib

_rollouts := [obj | some obj in lib.objects; obj.kind == "Rollout"; startswith(obj.apiVersion, "argoproj.io/")]

# Analysis references of a Rollout, each with where it is used: step and blue-green analyses must end.
# Arrays, not sets: regopy's sets of objects grow worse than linearly.
_references := array.concat(array.concat(_step_references, _background_references), _blue_green_references)

_step_references := [reference |
	some obj in _rollouts
	steps := object.get(obj, ["spec", "strategy", "canary", "steps"], [])
	some i
	step := steps[i]
	some ref in object.get(step, ["analysis", "templates"], [])
	path := concat("", ["spec.strategy.canary.steps[", format_int(i, 10), "].analysis"])
	reference := {"rollout": lib.identity(obj), "ref": ref, "key": _template_key(ref, obj), "finite": true, "path": path}
]

_background_references := [reference |
	some obj in _rollouts
	some ref in object.get(obj, ["spec", "strategy", "canary", "analysis", "templates"], [])
	path := "spec.strategy.canary.analysis"
	reference := {"rollout": lib.identity(obj), "ref": ref, "key": _template_key(ref, obj), "finite": false, "path": path}
]

_blue_green_references := [reference |
	some obj in _rollouts
	some field in ["prePromotionAnalysis", "postPromotionAnalysis"]
	some ref in object.get(obj, ["spec", "strategy", "blueGreen", field, "templates"], [])
	path := concat("", ["spec.strategy.blueGreen.", field])
	reference := {"rollout": lib.identity(obj), "ref": ref, "key": _template_key(ref, obj), "finite": true, "path": path}
]

# Rollouts ("namespace/name") gated by analysis before promotion (post-promotion analysis comes too late).
_analysed := {concat("/", [reference.rollout.metadata.namespace, reference.rollout.metadata.name]): true |
	some reference in _references
	reference.path != "spec.strategy.blueGreen.postPromotionAnalysis"
}

findings contains lib.finding("ROL-001", obj, msg) if {
	lib.pinned_env
	some obj in _rollouts
	not _analysed[concat("/", [lib.namespace(obj), lib.name(obj)])]
	msg := concat("", ["has no analysis in ", lib.env_name, "; add background analysis or an analysis step (canary) or prePromotionAnalysis (blue-green)"])
}

# Templates indexed once by "namespace/name" (namespaced) and name (cluster-scoped).
# Templates by the key a reference resolves to (a namespaced template lives in the Rollout's namespace).
_template_key(ref, _) := concat("/", ["ClusterAnalysisTemplate", ref.templateName]) if ref.clusterScope == true

_template_key(ref, rollout) := concat("/", ["AnalysisTemplate", lib.namespace(rollout), ref.templateName]) if {
	not ref.clusterScope == true
}

_templates := object.union(
	{concat("/", ["AnalysisTemplate", lib.namespace(t), lib.name(t)]): t | some t in lib.objects; t.kind == "AnalysisTemplate"},
	{concat("/", ["ClusterAnalysisTemplate", lib.name(t)]): t | some t in lib.objects; t.kind == "ClusterAnalysisTemplate"},
)

findings contains lib.finding("ROL-002", reference.rollout, msg) if {
	some reference in _references
	not _templates[reference.key]
	msg := concat("", [reference.path, " references AnalysisTemplate ", reference.ref.templateName, ", which does not exist in this env; add it or fix templateName"])
}

# Without either condition a measurement counts as Successful: the analysis could never stop a release.
findings contains lib.finding("ROL-003", template, msg) if {
	some template in lib.objects
	template.kind in {"AnalysisTemplate", "ClusterAnalysisTemplate"}
	some i, metric in object.get(template, ["spec", "metrics"], [])
	not metric.provider.job
	not metric.successCondition
	not metric.failureCondition
	msg := concat("", ["spec.metrics", lib.index(i), " (", metric.name, ") has neither successCondition nor failureCondition; add one so a bad measurement fails"])
}

# An interval without a positive count runs until terminated: a step or blue-green analysis would never end.
_unbounded(metric) if {
	metric.interval
	not _positive_count(metric)
}

_positive_count(metric) if {
	is_number(metric.count)
	metric.count > 0
}

# A templated count ("{{args.count}}") is resolved by the controller and checked there.
_positive_count(metric) if {
	is_string(metric.count)
	metric.count != "0"
}

findings contains lib.finding("ROL-004", reference.rollout, msg) if {
	some reference in _references
	reference.finite
	template := _templates[reference.key]
	some metric in object.get(template, ["spec", "metrics"], [])
	_unbounded(metric)
	msg := concat("", [reference.path, " uses ", template.kind, " ", lib.name(template), " whose metric ", metric.name, " sets an interval without a count; set count so the analysis ends"])
}

# "namespace/name" of every Service an Ingress sends traffic to.
_ingress_backends := {concat("/", [lib.namespace(ingress), name]): true |
	some ingress in lib.objects
	ingress.kind == "Ingress"
	some name in _ingress_service_names(ingress)
}

_ingress_service_names(ingress) := {name |
	some rule in object.get(ingress, ["spec", "rules"], [])
	some path in rule.http.paths
	name := path.backend.service.name
} | {name | name := ingress.spec.defaultBackend.service.name}

_ingress_selectors := [{"namespace": lib.namespace(service), "selector": service.spec.selector} |
	some service in lib.objects
	service.kind == "Service"
	_ingress_backends[concat("/", [lib.namespace(service), lib.name(service)])]
]

# Keys of the workloads behind an Ingress.
_behind_ingress := {w.key: true |
	some backend in _ingress_selectors
	some w in lib.workloads_by_namespace[backend.namespace]
	lib.selector_matches(backend.selector, w.labels)
}

findings contains lib.finding("ROL-005", w.id, msg) if {
	lib.pinned_env
	some w in lib.workloads
	w.kind == "Rollout"
	canary := w.obj.spec.strategy.canary
	_behind_ingress[w.key]
	not canary.trafficRouting
	msg := concat("", ["spec.strategy.canary.trafficRouting is not set although the Rollout serves Ingress traffic in ", lib.env_name, "; route by weight (nginx stableIngress with canaryService and stableService)"])
}

findings contains lib.finding("ROL-005", obj, msg) if {
	lib.pinned_env
	some obj in _rollouts
	canary := obj.spec.strategy.canary
	canary.trafficRouting
	some field in ["canaryService", "stableService"]
	not canary[field]
	msg := concat("", ["spec.strategy.canary.", field, " is not set; traffic routing needs both canaryService and stableService"])
}
