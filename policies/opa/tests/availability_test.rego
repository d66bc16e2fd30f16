# AVL-*: replica minimums and covering budgets in production envs; budgets that never block a drain.
package votingplatform.tests.availability

import rego.v1

import data.votingplatform.policies.availability
import data.votingplatform.tests.fixtures as fx

_replicas(n) := object.union(fx.web({}), {"spec": {"replicas": n}})

_budget := fx.pdb({"maxUnavailable": 1})

_autoscaler(kind, spec) := {
	"apiVersion": "autoscaling/v2",
	"kind": kind,
	"metadata": {"name": "web", "namespace": "voting-prod"},
	"spec": object.union({"scaleTargetRef": {"kind": "Deployment", "name": "web"}}, spec),
}

_database(instances) := {
	"apiVersion": "postgresql.cnpg.io/v1",
	"kind": "Cluster",
	"metadata": {"name": "db", "namespace": "voting-prod"},
	"spec": {"instances": instances},
}

# AVL-001

test_avl_001_passes_for_two_replicas_with_a_budget_in_prod if {
	fx.ids(availability.findings) == set() with input as [_replicas(2), _budget] with data.votingplatform.env as fx.prod
}

test_avl_001_fires_for_one_replica_in_prod if {
	fx.ids(availability.findings) == {"AVL-001"} with input as [_replicas(1)] with data.votingplatform.env as fx.prod
}

test_avl_001_fires_for_a_missing_replica_count_without_env_data if {
	fx.ids(availability.findings) == {"AVL-001"} with input as [json.remove(fx.web({}), ["spec/replicas"])]
}

test_avl_001_passes_for_one_replica_in_staging if {
	fx.ids(availability.findings) == set() with input as [_replicas(1)] with data.votingplatform.env as fx.staging
}

test_avl_001_fires_for_vote_below_its_own_minimum if {
	vote := object.union(_replicas(2), {"metadata": {"name": "vote"}})
	fx.ids(availability.findings) == {"AVL-001"} with input as [vote, _budget] with data.votingplatform.env as fx.prod
}

test_avl_001_passes_when_the_hpa_minimum_is_high_enough if {
	objects := [_replicas(1), _autoscaler("HorizontalPodAutoscaler", {"minReplicas": 2, "maxReplicas": 5}), _budget]
	fx.ids(availability.findings) == set() with input as objects with data.votingplatform.env as fx.prod
}

test_avl_001_fires_for_a_keda_object_scaling_to_zero if {
	scaler := object.union(_autoscaler("ScaledObject", {}), {"apiVersion": "keda.sh/v1alpha1"})
	fx.ids(availability.findings) == {"AVL-001"} with input as [_replicas(3), scaler, _budget] with data.votingplatform.env as fx.prod
}

test_avl_001_fires_for_a_single_instance_database_in_prod if {
	fx.ids(availability.findings) == {"AVL-001"} with input as [_database(1)] with data.votingplatform.env as fx.prod
}

test_avl_001_passes_for_a_database_with_a_standby if {
	fx.ids(availability.findings) == set() with input as [_database(2)] with data.votingplatform.env as fx.prod
}

# AVL-002

test_avl_002_fires_for_replicas_without_a_budget_in_prod if {
	fx.ids(availability.findings) == {"AVL-002"} with input as [_replicas(2)] with data.votingplatform.env as fx.prod
}

test_avl_002_fires_when_the_budget_selects_other_pods if {
	other := fx.pdb({"selector": {"matchLabels": {"app.kubernetes.io/name": "vote"}}, "maxUnavailable": 1})
	fx.ids(availability.findings) == {"AVL-002"} with input as [_replicas(2), other] with data.votingplatform.env as fx.prod
}

test_avl_002_passes_without_a_budget_in_dev if {
	fx.ids(availability.findings) == set() with input as [_replicas(2)] with data.votingplatform.env as fx.dev
}

# AVL-003

test_avl_003_fires_for_max_unavailable_0 if {
	fx.ids(availability.findings) == {"AVL-003"} with input as [_replicas(2), fx.pdb({"maxUnavailable": 0})]
		with data.votingplatform.env as fx.prod
}

test_avl_003_fires_for_min_available_100_percent if {
	fx.ids(availability.findings) == {"AVL-003"} with input as [_replicas(2), fx.pdb({"minAvailable": "100%"})]
		with data.votingplatform.env as fx.prod
}

test_avl_003_fires_for_min_available_equal_to_the_replicas if {
	fx.ids(availability.findings) == {"AVL-003"} with input as [_replicas(2), fx.pdb({"minAvailable": 2})]
		with data.votingplatform.env as fx.dev
}

test_avl_003_passes_for_min_available_below_the_replicas if {
	fx.ids(availability.findings) == set() with input as [_replicas(3), fx.pdb({"minAvailable": 2})]
		with data.votingplatform.env as fx.prod
}

test_avl_003_passes_for_max_unavailable_1 if {
	fx.ids(availability.findings) == set() with input as [_replicas(2), _budget] with data.votingplatform.env as fx.prod
}
