# Networking: traffic enters through the Ingress only, which holds slow clients at the edge, and every
# namespace starts from deny-all.
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

_annotation_prefix := "nginx.ingress.kubernetes.io/"

_protection_ok("on", value) if value == "on"

_protection_ok("limit", value) if regex.match(`^0*[1-9][0-9]*$`, value)

_protection_ok("size", value) if regex.match(`^0*[1-9][0-9]*[kKmM]?$`, value)

findings contains lib.finding("NET-005", obj, msg) if {
	some obj in lib.objects
	obj.kind == "Ingress"
	object.get(obj, ["spec", "ingressClassName"], "") == "nginx"
	annotations := object.get(obj, ["metadata", "annotations"], {})
	some name, wanted in config.ingress_client_protection
	value := object.get(annotations, concat("", [_annotation_prefix, name]), "")
	not _protection_ok(wanted, value)
	msg := concat("", ["annotation ", _annotation_prefix, name, " is ", _shown(value), "; it must be ", _wanted_text[wanted], " so slow and greedy clients are held at the edge (see ingress_client_protection in policies/opa/lib/config.rego)"])
}

_shown("") := "missing"

_shown(value) := concat("", [`"`, value, `"`]) if value != ""

_wanted_text := {"on": `"on"`, "limit": "a positive whole number", "size": "a size such as 8k (not 0)"}
