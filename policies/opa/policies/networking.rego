# Networking: traffic enters through the Ingress only, and every namespace starts from deny-all.
package votingplatform.policies.networking

import rego.v1

import data.votingplatform.config
import data.votingplatform.lib

_declared_exposed(obj) if lib.qualified_name(obj) in config.exposed_services

findings contains lib.finding("NET-001", obj, msg) if {
	some obj in lib.objects
	obj.kind == "Service"
	obj.spec.type in {"LoadBalancer", "NodePort"}
	not _declared_exposed(obj)
	msg := concat("", ["spec.type is ", obj.spec.type, "; use ClusterIP behind the Ingress, or declare the Service in exposed_services (policies/opa/lib/config.rego)"])
}

findings contains lib.finding("NET-002", obj, msg) if {
	some obj in lib.objects
	obj.kind == "Service"
	count(object.get(obj, ["spec", "externalIPs"], [])) > 0
	not _declared_exposed(obj)
	msg := "spec.externalIPs is set; remove it (it lets anyone who can create Services capture traffic), or declare the Service in exposed_services"
}

# Namespaces that run pods, as found in the evaluated objects.
_workload_namespaces contains w.namespace if {
	some w in lib.workloads
}

_default_deny(policy) if {
	policy.kind == "NetworkPolicy"
	count(object.get(policy, ["spec", "podSelector"], {})) == 0
	types := object.get(policy, ["spec", "policyTypes"], [])
	"Ingress" in types
	"Egress" in types
	count(object.get(policy, ["spec", "ingress"], [])) == 0
	count(object.get(policy, ["spec", "egress"], [])) == 0
}

_denied_namespaces contains lib.namespace(obj) if {
	some obj in lib.objects
	_default_deny(obj)
}

findings contains lib.finding("NET-003", namespace_obj, msg) if {
	some namespace in _workload_namespaces
	not namespace in _denied_namespaces
	namespace_obj := {"kind": "Namespace", "metadata": {"name": namespace}}
	msg := "has no default-deny NetworkPolicy; add one with podSelector: {}, policyTypes [Ingress, Egress] and no rules, then allow each flow explicitly"
}

# "namespace/name" of the Services whose selector matches some workload of their namespace, built once.
_selecting := {concat("/", [namespace, service.metadata.name]): true |
	some service in lib.objects
	service.kind == "Service"
	namespace := lib.namespace(service)
	some w in lib.workloads_by_namespace[namespace]
	lib.selector_matches(service.spec.selector, w.labels)
}

findings contains lib.finding("NET-004", obj, msg) if {
	some obj in lib.objects
	obj.kind == "Service"
	object.get(obj, ["spec", "type"], "ClusterIP") != "ExternalName"
	count(object.get(obj, ["spec", "selector"], {})) == 0
	msg := "spec.selector is empty; select the pods of a workload (a selector-less Service routes nowhere)"
}

findings contains lib.finding("NET-004", obj, msg) if {
	some obj in lib.objects
	obj.kind == "Service"
	count(object.get(obj, ["spec", "selector"], {})) > 0
	not _selecting[concat("/", [lib.namespace(obj), obj.metadata.name])]
	msg := "spec.selector matches no workload's pod template labels in this namespace; fix the selector or the labels"
}
