# Metadata: labels that tie every object to the platform, and an explicit namespace.
package votingplatform.policies.metadata

import rego.v1

import data.votingplatform.config
import data.votingplatform.lib

# Objects that carry the labels themselves: Services, Ingresses and workloads.
_labelled := array.concat([obj | some obj in lib.objects; obj.kind in {"Service", "Ingress"}], [w.obj | some w in lib.workloads])

findings contains lib.finding("META-001", obj, msg) if {
	some obj in _labelled
	some label in config.required_labels
	not lib.labels(obj)[label]
	msg := concat("", ["metadata.labels.", label, " is missing; add it (kustomize labels: in the base)"])
}

findings contains lib.finding("META-001", w.id, msg) if {
	some w in lib.workloads
	some label in config.required_labels
	not w.labels[label]
	msg := concat("", [w.path, ".metadata.labels.", label, " is missing; add it (kustomize labels: with includeTemplates: true)"])
}

findings contains lib.finding("META-002", obj, msg) if {
	some obj in lib.objects
	not obj.kind in lib.cluster_scoped_kinds
	lib.namespace(obj) in {"", "default"}
	msg := "metadata.namespace is empty or default; set the env namespace (kustomize namespace: in the overlay)"
}
