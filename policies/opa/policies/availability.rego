# Availability: enough replicas in prod, and disruption budgets that protect them without blocking drains.
package votingplatform.policies.availability

import rego.v1

import data.votingplatform.config
import data.votingplatform.lib

# Autoscaler minimums by target ("namespace/Kind/name"): HPAs, and KEDA ScaledObjects (which default to 0).
_hpa_minimums := {_target_key(scaler): object.get(scaler, ["spec", "minReplicas"], 1) |
	some scaler in lib.objects
	scaler.kind == "HorizontalPodAutoscaler"
}

_keda_minimums := {_target_key(scaler): object.get(scaler, ["spec", "minReplicaCount"], 0) |
	some scaler in lib.objects
	scaler.kind == "ScaledObject"
}

_target_key(scaler) := concat("/", [
	lib.namespace(scaler),
	object.get(scaler.spec.scaleTargetRef, "kind", "Deployment"),
	scaler.spec.scaleTargetRef.name,
])

_autoscaler_min(w) := min({m | some m in [_hpa_minimums[w.key], _keda_minimums[w.key]]})

_autoscaler_min(w) := _hpa_minimums[w.key] if not _keda_minimums[w.key]

_autoscaler_min(w) := _keda_minimums[w.key] if not _hpa_minimums[w.key]

# The fewest replicas a workload runs with: its autoscaler's minimum, else spec.replicas (default 1).
min_replicas(w) := _autoscaler_min(w)

min_replicas(w) := object.get(w.obj, ["spec", "replicas"], 1) if not _autoscaler_min(w)

_required(name) := object.get(config.production_min_replicas, name, config.production_min_replicas["default"])

findings contains lib.finding("AVL-001", w.id, msg) if {
	lib.production_env
	some w in lib.workloads
	w.kind in lib.replicated_kinds
	min_replicas(w) < _required(w.name)
	msg := concat("", [
		"runs ", format_int(min_replicas(w), 10), " replica(s) at minimum in ", lib.env_name, "; set spec.replicas (or the autoscaler minimum) to at least ",
		format_int(_required(w.name), 10),
	])
}

findings contains lib.finding("AVL-001", obj, msg) if {
	lib.production_env
	some obj in lib.objects
	obj.kind == "Cluster"
	startswith(obj.apiVersion, "postgresql.cnpg.io/")
	instances := object.get(obj, ["spec", "instances"], 1)
	instances < _required(lib.name(obj))
	msg := concat("", ["spec.instances is ", format_int(instances, 10), " in ", lib.env_name, "; run at least ", format_int(_required(lib.name(obj)), 10), " so a failover has a standby"])
}

_pdbs := [{"obj": obj, "namespace": lib.namespace(obj), "selector": lib.match_labels(obj.spec.selector)} |
	some obj in lib.objects
	obj.kind == "PodDisruptionBudget"
]

# Keys of the workloads some budget covers, computed once (an object: cheaper to probe than a set).
_covered := {w.key: true |
	some pdb in _pdbs
	some w in lib.workloads_by_namespace[pdb.namespace]
	lib.selector_matches(pdb.selector, w.labels)
}

findings contains lib.finding("AVL-002", w.id, msg) if {
	lib.production_env
	some w in lib.workloads
	w.kind in lib.replicated_kinds
	min_replicas(w) > 1
	not _covered[w.key]
	msg := concat("", ["has several replicas in ", lib.env_name, " but no PodDisruptionBudget selects its pods; add one with maxUnavailable: 1"])
}

# A budget that allows no eviction turns every node drain into a stuck upgrade.
findings contains lib.finding("AVL-003", pdb, msg) if {
	some pdb in lib.objects
	pdb.kind == "PodDisruptionBudget"
	pdb.spec.maxUnavailable in {0, "0%"}
	msg := "spec.maxUnavailable allows no eviction and blocks node drains; use maxUnavailable: 1"
}

findings contains lib.finding("AVL-003", pdb, msg) if {
	some pdb in lib.objects
	pdb.kind == "PodDisruptionBudget"
	pdb.spec.minAvailable == "100%"
	msg := "spec.minAvailable is 100% and blocks node drains; use maxUnavailable: 1"
}

findings contains lib.finding("AVL-003", pdb.obj, msg) if {
	some pdb in _pdbs
	minimum := pdb.obj.spec.minAvailable
	is_number(minimum)
	some w in lib.workloads_by_namespace[pdb.namespace]
	lib.selector_matches(pdb.selector, w.labels)
	minimum >= min_replicas(w)
	msg := concat("", [
		"spec.minAvailable ", format_int(minimum, 10), " is not below the ", format_int(min_replicas(w), 10),
		" replica(s) of ", w.kind, " ", w.name, " and blocks node drains; use maxUnavailable: 1",
	])
}
