# NET-*: no entry point but the Ingress, default deny per namespace, and Services that select something.
package votingplatform.tests.networking

import rego.v1

import data.votingplatform.policies.networking
import data.votingplatform.tests.fixtures as fx

test_deployment_service_and_default_deny_pass if {
	fx.ids(networking.findings) == set() with input as [fx.web({}), fx.service({}), fx.deny_all]
}

# NET-001

test_net_001_fires_for_a_load_balancer if {
	fx.ids(networking.findings) == {"NET-001"} with input as [fx.web({}), fx.deny_all, fx.service({"spec": {"type": "LoadBalancer"}})]
}

test_net_001_fires_for_a_node_port if {
	fx.ids(networking.findings) == {"NET-001"} with input as [fx.web({}), fx.deny_all, fx.service({"spec": {"type": "NodePort"}})]
}

test_net_001_passes_for_a_declared_service if {
	fx.ids(networking.findings) == set() with input as [fx.web({}), fx.deny_all, fx.service({"spec": {"type": "LoadBalancer"}})]
		with data.votingplatform.config.exposed_services as {"voting-prod/web"}
}

test_net_001_passes_for_cluster_ip if {
	fx.ids(networking.findings) == set() with input as [fx.web({}), fx.deny_all, fx.service({"spec": {"type": "ClusterIP"}})]
}

# NET-002

test_net_002_fires_for_external_ips if {
	fx.ids(networking.findings) == {"NET-002"} with input as [fx.web({}), fx.deny_all, fx.service({"spec": {"externalIPs": ["203.0.113.7"]}})]
}

test_net_002_passes_for_an_empty_list if {
	fx.ids(networking.findings) == set() with input as [fx.web({}), fx.deny_all, fx.service({"spec": {"externalIPs": []}})]
}

# NET-003

test_net_003_fires_for_a_namespace_without_default_deny if {
	some finding in networking.findings with input as [fx.web({})]
	finding == {"policy": "NET-003", "kind": "Namespace", "namespace": "", "name": "voting-prod", "detail": finding.detail}
}

test_net_003_fires_when_the_policy_allows_some_traffic if {
	allowing := object.union(fx.deny_all, {"spec": {"ingress": [{"from": [{"podSelector": {}}]}]}})
	fx.ids(networking.findings) == {"NET-003"} with input as [fx.web({}), allowing]
}

test_net_003_fires_when_the_policy_covers_ingress_only if {
	ingress_only := object.union(fx.deny_all, {"spec": {"policyTypes": ["Ingress"]}})
	fx.ids(networking.findings) == {"NET-003"} with input as [fx.web({}), ingress_only]
}

test_net_003_fires_when_the_default_deny_is_in_another_namespace if {
	elsewhere := object.union(fx.deny_all, {"metadata": {"namespace": "voting-dev"}})
	fx.ids(networking.findings) == {"NET-003"} with input as [fx.web({}), elsewhere]
}

test_net_003_passes_for_a_namespace_without_workloads if {
	fx.ids(networking.findings) == set() with input as [{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x", "namespace": "voting-prod"}}]
}

# NET-004

test_net_004_fires_for_a_service_without_selector if {
	fx.ids(networking.findings) == {"NET-004"} with input as [fx.web({}), fx.deny_all, json.remove(fx.service({}), ["spec/selector"])]
}

test_net_004_fires_for_a_selector_that_matches_nothing if {
	fx.ids(networking.findings) == {"NET-004"} with input as [fx.web({}), fx.deny_all, fx.service({"spec": {"selector": {"app.kubernetes.io/name": "vote"}}})]
}

test_net_004_fires_when_the_workload_is_in_another_namespace if {
	fx.ids(networking.findings) == {"NET-004"} with input as [fx.web({}), fx.deny_all, fx.service({"metadata": {"namespace": "voting-dev"}})]
}

test_net_004_passes_for_an_external_name_service if {
	external := {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "db", "namespace": "voting-prod"}, "spec": {"type": "ExternalName", "externalName": "db.example.org"}}
	fx.ids(networking.findings) == set() with input as [external]
}

# NET-005

_protected := {
	"nginx.ingress.kubernetes.io/proxy-request-buffering": "on",
	"nginx.ingress.kubernetes.io/proxy-body-size": "8k",
	"nginx.ingress.kubernetes.io/limit-connections": "20",
	"nginx.ingress.kubernetes.io/limit-rps": "20",
	"nginx.ingress.kubernetes.io/proxy-read-timeout": "10",
	"nginx.ingress.kubernetes.io/proxy-send-timeout": "10",
}

_ingress(class, annotations) := {
	"apiVersion": "networking.k8s.io/v1",
	"kind": "Ingress",
	"metadata": {"name": "web", "namespace": "voting-prod", "annotations": annotations},
	"spec": {"ingressClassName": class},
}

test_net_005_passes_for_a_protected_nginx_ingress if {
	fx.ids(networking.findings) == set() with input as [fx.web({}), fx.service({}), fx.deny_all, _ingress("nginx", _protected)]
}

test_net_005_fires_once_per_missing_annotation if {
	found := [f | some f in networking.findings; f.policy == "NET-005"] with input as [_ingress("nginx", {})]
	count(found) == 6
}

test_net_005_fires_when_buffering_is_off if {
	annotations := object.union(_protected, {"nginx.ingress.kubernetes.io/proxy-request-buffering": "off"})
	some f in networking.findings with input as [_ingress("nginx", annotations)]
	f.policy == "NET-005"
	contains(f.detail, `proxy-request-buffering is "off"`)
}

test_net_005_fires_for_a_zero_limit if {
	annotations := object.union(_protected, {"nginx.ingress.kubernetes.io/limit-connections": "0"})
	fx.ids(networking.findings) == {"NET-005"} with input as [_ingress("nginx", annotations)]
}

test_net_005_ignores_other_ingress_classes if {
	fx.ids(networking.findings) == set() with input as [_ingress("traefik", {})]
}
