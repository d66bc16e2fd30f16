# Input normalisation and Kubernetes helpers shared by every policy package.
#
# The same files run under `conftest test --combine` (input: a list of {path, contents}, where contents is
# one document or the list of a multi-document YAML), under `opa eval` with a plain list of objects or a
# `kind: List`, and in-process through votectl (which feeds the conftest shape). Every policy reads
# `objects`, never `input`, so all three see the same thing.
package votingplatform.lib

import rego.v1

_entries := input if is_array(input)

_entries := [input] if is_object(input)

_documents(entry) := entry.contents if is_array(entry.contents)

_documents(entry) := [entry.contents] if is_object(entry.contents)

_documents(entry) := [entry] if {
	is_object(entry)
	not entry.contents
}

_all_documents := [doc | some entry in _entries; some doc in _documents(entry)]

# Every Kubernetes object of the evaluated set, `kind: List` items included (no function call per object:
# regopy makes those expensive).
objects := array.concat(
	[doc | some doc in _all_documents; is_string(doc.kind); doc.kind != "List"],
	[item | some doc in _all_documents; doc.kind == "List"; some item in doc.items; is_string(item.kind)],
)

# The env whose rules apply, given as data by whoever evaluates (votectl always; conftest and opa with
# --data): `votingplatform.env` = {name, pinned_images, production}, from gitops/promotion.yaml. Without it
# the strictest rules apply, so a forgotten --data can only make the gate stricter.
default env := {"name": "an env not named in data", "pinned_images": true, "production": true}

env := data.votingplatform.env if {
	is_string(data.votingplatform.env.name)
	is_boolean(data.votingplatform.env.pinned_images)
	is_boolean(data.votingplatform.env.production)
}

env_name := env.name

# Images by digest and analysed Rollouts: the envs where a movable tag must never reach users.
pinned_env if env.pinned_images

# Replica minimums and disruption budgets: the envs that must survive a node loss.
production_env if env.production

namespace(obj) := object.get(obj, ["metadata", "namespace"], "")

name(obj) := object.get(obj, ["metadata", "name"], "")

labels(obj) := object.get(obj, ["metadata", "labels"], {})

annotations(obj) := object.get(obj, ["metadata", "annotations"], {})

# "ns/name" for messages, or just the name of a cluster-scoped or namespace-less object.
qualified_name(obj) := concat("/", [namespace(obj), name(obj)]) if namespace(obj) != ""

qualified_name(obj) := name(obj) if namespace(obj) == ""

# Messages are built with concat, not sprintf: regopy's sprintf quotes string literals passed to %s.
# "[i]" for a field path.
index(i) := concat("", ["[", format_int(i, 10), "]"])

# One finding of policy `id` on `obj`; `detail` names the field and the fix. (Not named `violation`:
# conftest treats rules named deny*, violation* and warn* in any package as results.)
finding(id, obj, detail) := {
	"policy": id,
	"kind": obj.kind,
	"namespace": namespace(obj),
	"name": name(obj),
	"detail": detail,
}

# The identity of an object in the shape lib.finding accepts: keeping whole objects out of sets and
# comparisons keeps them cheap.
identity(obj) := {"kind": obj.kind, "metadata": {"namespace": namespace(obj), "name": name(obj)}}

# Workloads: where each kind keeps its pod template (Argo Rollouts included: common scanners skip it).
# Some lookups below build keyed indexes once instead of scanning all objects per object: regopy spends
# about 25 us per loop iteration, so pairwise scans dominate the cost of an env.
_template_kinds := {"Deployment", "StatefulSet", "DaemonSet", "Job", "ReplicaSet", "Rollout"}

# Workloads with their pod template, found without a function call per object.
_templates := array.concat(
	[[obj, "spec.template", obj.spec.template] | some obj in objects; obj.kind in _template_kinds; obj.spec.template],
	[[obj, "spec.jobTemplate.spec.template", obj.spec.jobTemplate.spec.template] |
		some obj in objects
		obj.kind == "CronJob"
		obj.spec.jobTemplate.spec.template
	],
)

# One record per workload, built once: policies read its fields instead of calling helpers in every rule.
# Helpers are inlined here on purpose: a regopy function call costs as much as a whole record field.
workloads := [record |
	some entry in _templates
	[obj, path, template] := entry
	spec := object.get(template, "spec", {})
	ns := object.get(obj.metadata, "namespace", "")
	record := {
		"obj": obj,
		"id": {"kind": obj.kind, "metadata": {"namespace": ns, "name": obj.metadata.name}},
		"kind": obj.kind,
		"namespace": ns,
		"name": obj.metadata.name,
		"key": concat("/", [ns, obj.kind, obj.metadata.name]),
		"path": path,
		"spec": spec,
		"labels": object.get(template, ["metadata", "labels"], {}),
		"annotations": object.get(template, ["metadata", "annotations"], {}),
		"containers": [c |
			some field in ["initContainers", "containers", "ephemeralContainers"]
			listed := object.get(spec, field, [])
			some i
			container := listed[i]
			c := {
				"container": container,
				"field": field,
				"path": concat("", [path, ".spec.", field, "[", format_int(i, 10), "]"]),
				# the effective securityContext: the container's fields over the pod's
				"security": object.union(object.get(spec, "securityContext", {}), object.get(container, "securityContext", {})),
			}
		],
	}
]

# Workload records grouped by namespace: selector matching pairs an object with the workloads of its own
# namespace only, so the cost grows with objects per namespace, not with the whole env squared.
workloads_by_namespace := {ns: [w | some w in workloads; w.namespace == ns] | some ns in {w.namespace | some w in workloads}}

# Long-running workloads serve or consume continuously; Jobs and CronJobs run to completion.
long_running_kinds := {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Rollout"}

# Kinds whose replica count is set by `spec.replicas` (or an autoscaler).
replicated_kinds := {"Deployment", "StatefulSet", "ReplicaSet", "Rollout"}

# Whether a label selector (matchLabels or a plain map) selects the given labels.
selector_matches(selector, target) if {
	count(selector) > 0
	every k, v in selector {
		target[k] == v
	}
}

match_labels(sel) := sel.matchLabels if is_object(sel.matchLabels)

# object.get: OPA evaluates a call's arguments outside `not` (undefined there is not false).
match_labels(sel) := {} if not is_object(object.get(sel, "matchLabels", null))

cluster_scoped_kinds := {
	"Namespace", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "PersistentVolume",
	"StorageClass", "PriorityClass", "IngressClass", "ValidatingWebhookConfiguration",
	"MutatingWebhookConfiguration", "ClusterSecretStore", "ClusterIssuer", "ClusterAnalysisTemplate",
	"APIService", "RuntimeClass", "ClusterTriggerBinding", "ClusterInterceptor",
}
