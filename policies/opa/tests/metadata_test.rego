# META-*: the recommended labels on objects and pod templates, and an explicit namespace.
package votingplatform.tests.metadata

import rego.v1

import data.votingplatform.policies.metadata
import data.votingplatform.tests.fixtures as fx

test_labelled_deployment_and_service_pass if {
	fx.ids(metadata.findings) == set() with input as [fx.web({}), fx.service({})]
}

# META-001

test_meta_001_fires_for_a_service_without_part_of if {
	service := json.remove(fx.service({}), ["metadata/labels/app.kubernetes.io~1part-of"])
	fx.ids(metadata.findings) == {"META-001"} with input as [service]
}

test_meta_001_fires_for_a_pod_template_without_labels if {
	unlabelled := json.remove(fx.web({}), ["spec/template/metadata/labels"])
	some finding in metadata.findings with input as [unlabelled]
	finding.policy == "META-001"
	startswith(finding.detail, "spec.template.metadata.labels.app.kubernetes.io/name is missing")
}

test_meta_001_fires_for_an_unlabelled_ingress if {
	ingress := {"apiVersion": "networking.k8s.io/v1", "kind": "Ingress", "metadata": {"name": "vote", "namespace": "voting-prod"}}
	fx.ids(metadata.findings) == {"META-001"} with input as [ingress]
}

test_meta_001_passes_for_kinds_that_need_no_labels if {
	fx.ids(metadata.findings) == set() with input as [fx.deny_all]
}

# META-002

_config_map(metadata) := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata}

test_meta_002_fires_without_a_namespace if {
	fx.ids(metadata.findings) == {"META-002"} with input as [_config_map({"name": "web"})]
}

test_meta_002_fires_for_the_default_namespace if {
	fx.ids(metadata.findings) == {"META-002"} with input as [_config_map({"name": "web", "namespace": "default"})]
}

test_meta_002_passes_for_an_env_namespace if {
	fx.ids(metadata.findings) == set() with input as [_config_map({"name": "web", "namespace": "voting-dev"})]
}

test_meta_002_passes_for_cluster_scoped_kinds if {
	objects := [
		{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "voting-dev"}},
		{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "reader"}},
	]
	fx.ids(metadata.findings) == set() with input as objects
}
