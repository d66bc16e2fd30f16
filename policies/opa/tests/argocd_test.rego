# ACD-*: Applications in the platform project, projects that restrict, and production self-healing.
package votingplatform.tests.argocd

import rego.v1

import data.votingplatform.policies.argocd
import data.votingplatform.tests.fixtures as fx

_production_namespaces := ["voting-prod"]

# An Application deploying to `namespace` in the platform project with self-healing sync, merged with `patch`.
_application(namespace, patch) := object.union(
	{
		"apiVersion": "argoproj.io/v1alpha1",
		"kind": "Application",
		"metadata": {"name": namespace, "namespace": "argocd"},
		"spec": {
			"project": "voting-platform",
			"destination": {"server": "https://kubernetes.default.svc", "namespace": namespace},
			"syncPolicy": {"automated": {"prune": true, "selfHeal": true}},
		},
	},
	patch,
)

_prod_app(patch) := _application("voting-prod", patch)

_dev_app(patch) := _application("voting-dev", patch)

_application_set(spec) := {
	"apiVersion": "argoproj.io/v1alpha1",
	"kind": "ApplicationSet",
	"metadata": {"name": "previews", "namespace": "argocd"},
	"spec": {"template": {"spec": object.union(_prod_app({}).spec, spec)}},
}

_project(spec) := {
	"apiVersion": "argoproj.io/v1alpha1",
	"kind": "AppProject",
	"metadata": {"name": "voting-platform", "namespace": "argocd"},
	"spec": object.union(
		{
			"sourceRepos": ["https://github.com/votingplatform/voting-platform.git"],
			"destinations": [{"server": "https://kubernetes.default.svc", "namespace": "voting-prod"}],
			"clusterResourceWhitelist": [{"group": "", "kind": "Namespace"}],
		},
		spec,
	),
}

test_compliant_application_and_project_pass if {
	fx.ids(argocd.findings) == set() with input as [_prod_app({}), _project({})]
		with data.votingplatform.production_namespaces as _production_namespaces
}

# ACD-001

test_acd_001_fires_for_the_default_project if {
	fx.ids(argocd.findings) == {"ACD-001"} with input as [_prod_app({"spec": {"project": "default"}})]
		with data.votingplatform.production_namespaces as _production_namespaces
}

test_acd_001_fires_without_a_project if {
	fx.ids(argocd.findings) == {"ACD-001"} with input as [json.remove(_prod_app({}), ["spec/project"])]
		with data.votingplatform.production_namespaces as _production_namespaces
}

test_acd_001_fires_for_an_application_set_template if {
	fx.ids(argocd.findings) == {"ACD-001"} with input as [_application_set({"project": "default"})]
}

test_acd_001_passes_for_an_application_set_in_the_platform_project if {
	fx.ids(argocd.findings) == set() with input as [_application_set({})]
}

# ACD-002

test_acd_002_fires_for_any_source_repo if {
	fx.ids(argocd.findings) == {"ACD-002"} with input as [_project({"sourceRepos": ["*"]})]
}

test_acd_002_fires_for_any_destination_namespace if {
	fx.ids(argocd.findings) == {"ACD-002"} with input as [_project({"destinations": [{"server": "https://kubernetes.default.svc", "namespace": "*"}]})]
}

test_acd_002_passes_for_named_repos_and_destinations if {
	fx.ids(argocd.findings) == set() with input as [_project({})]
}

# ACD-003

test_acd_003_fires_for_every_cluster_scoped_kind if {
	fx.ids(argocd.findings) == {"ACD-003"} with input as [_project({"clusterResourceWhitelist": [{"group": "*", "kind": "*"}]})]
}

test_acd_003_passes_for_listed_kinds if {
	fx.ids(argocd.findings) == set() with input as [_project({"clusterResourceWhitelist": [{"group": "rbac.authorization.k8s.io", "kind": "ClusterRole"}]})]
}

# ACD-004

test_acd_004_fires_for_a_prod_application_synced_by_hand if {
	fx.ids(argocd.findings) == {"ACD-004"} with input as [json.remove(_prod_app({}), ["spec/syncPolicy"])]
		with data.votingplatform.production_namespaces as _production_namespaces
}

test_acd_004_fires_without_self_heal if {
	fx.ids(argocd.findings) == {"ACD-004"} with input as [_prod_app({"spec": {"syncPolicy": {"automated": {"selfHeal": false}}}})]
		with data.votingplatform.production_namespaces as _production_namespaces
}

test_acd_004_fires_when_automation_is_switched_off if {
	fx.ids(argocd.findings) == {"ACD-004"} with input as [_prod_app({"spec": {"syncPolicy": {"automated": {"enabled": false}}}})]
		with data.votingplatform.production_namespaces as _production_namespaces
}

test_acd_004_passes_for_a_dev_application_synced_by_hand if {
	fx.ids(argocd.findings) == set() with input as [json.remove(_dev_app({}), ["spec/syncPolicy"])]
		with data.votingplatform.production_namespaces as _production_namespaces
}

test_acd_004_fires_for_any_application_without_production_namespaces_data if {
	fx.ids(argocd.findings) == {"ACD-004"} with input as [json.remove(_dev_app({}), ["spec/syncPolicy"])]
}

test_acd_004_fires_for_an_application_set_template_without_self_heal if {
	fx.ids(argocd.findings) == {"ACD-004"} with input as [_application_set({"syncPolicy": {"automated": {"selfHeal": false}}})]
		with data.votingplatform.production_namespaces as _production_namespaces
}
