# Workload security: what a pod may do to its node and to the cluster.
package votingplatform.policies.workload_security

import rego.v1

import data.votingplatform.config
import data.votingplatform.lib

# entry.security is the effective securityContext of a container: its own fields over the pod's.
findings contains lib.finding("SEC-001", w.id, msg) if {
	some w in lib.workloads
	some entry in w.containers
	not entry.security.runAsNonRoot == true
	msg := concat("", [entry.path, ".securityContext.runAsNonRoot is not true; set runAsNonRoot: true on the pod or container and run as a numeric non-root user"])
}

findings contains lib.finding("SEC-001", w.id, msg) if {
	some w in lib.workloads
	some entry in w.containers
	entry.security.runAsUser == 0
	msg := concat("", [entry.path, ".securityContext.runAsUser is 0 (root); set a non-zero runAsUser"])
}

findings contains lib.finding("SEC-002", w.id, msg) if {
	some w in lib.workloads
	some entry in w.containers
	not entry.security.readOnlyRootFilesystem == true
	msg := concat("", [entry.path, ".securityContext.readOnlyRootFilesystem is not true; set it and mount an emptyDir where the process writes"])
}

findings contains lib.finding("SEC-003", w.id, msg) if {
	some w in lib.workloads
	some entry in w.containers
	not "ALL" in object.get(entry.security, ["capabilities", "drop"], [])
	msg := concat("", [entry.path, ".securityContext.capabilities.drop does not contain ALL; drop ALL capabilities"])
}

findings contains lib.finding("SEC-003", w.id, msg) if {
	some w in lib.workloads
	some entry in w.containers
	added := object.get(entry.security, ["capabilities", "add"], [])
	count(added) > 0
	msg := concat("", [entry.path, ".securityContext.capabilities.add lists ", concat(",", added), "; add no capabilities"])
}

findings contains lib.finding("SEC-004", w.id, msg) if {
	some w in lib.workloads
	some entry in w.containers
	not entry.security.allowPrivilegeEscalation == false
	msg := concat("", [entry.path, ".securityContext.allowPrivilegeEscalation is not false; set allowPrivilegeEscalation: false"])
}

findings contains lib.finding("SEC-005", w.id, msg) if {
	some w in lib.workloads
	some entry in w.containers
	entry.security.privileged == true
	msg := concat("", [entry.path, ".securityContext.privileged is true; remove it (a privileged container owns the node)"])
}

findings contains lib.finding("SEC-006", w.id, msg) if {
	some w in lib.workloads
	some field in ["hostNetwork", "hostPID", "hostIPC"]
	w.spec[field] == true
	msg := concat("", [w.path, ".spec.", field, " is true; remove it so the pod keeps its own namespaces"])
}

findings contains lib.finding("SEC-007", w.id, msg) if {
	some w in lib.workloads
	some entry in w.containers
	some i, port in object.get(entry.container, "ports", [])
	port.hostPort
	msg := concat("", [entry.path, ".ports", lib.index(i), ".hostPort is set; remove it and expose the port through a Service"])
}

findings contains lib.finding("SEC-008", w.id, msg) if {
	some w in lib.workloads
	some entry in w.containers
	not entry.security.seccompProfile.type == "RuntimeDefault"
	msg := concat("", [entry.path, ".securityContext.seccompProfile.type is not RuntimeDefault; set seccompProfile: {type: RuntimeDefault} on the pod"])
}

findings contains lib.finding("SEC-009", w.id, msg) if {
	some w in lib.workloads
	some i, volume in object.get(w.spec, "volumes", [])
	volume.hostPath
	msg := concat("", [w.path, ".spec.volumes", lib.index(i), " (", volume.name, ") is a hostPath; use an emptyDir or a PersistentVolumeClaim"])
}

findings contains lib.finding("SEC-010", w.id, msg) if {
	some w in lib.workloads
	some i, volume in object.get(w.spec, "volumes", [])
	not volume.hostPath
	refused := (object.keys(volume) - {"name"}) - config.allowed_volume_types
	count(refused) > 0
	msg := concat("", [
		w.path, ".spec.volumes", lib.index(i), " (", volume.name, ") has type ",
		concat(",", sort(refused)), "; use one of ", concat(",", sort(config.allowed_volume_types)),
	])
}

# Tokens are mounted only where a pod talks to the API server: an account that RBAC grants nothing to
# has no use for one. Accounts bound by a (Cluster)RoleBinding are meant to call the API (e.g. the Tekton
# EventListener) and keep their token.
findings contains lib.finding("SEC-011", obj, msg) if {
	some obj in lib.objects
	obj.kind == "ServiceAccount"
	not obj.automountServiceAccountToken == false
	not _bound_accounts[concat("/", [lib.namespace(obj), lib.name(obj)])]
	msg := "automountServiceAccountToken is not false and no RoleBinding grants this account anything; set automountServiceAccountToken: false"
}

# "namespace/name" of the ServiceAccounts that some RoleBinding or ClusterRoleBinding names.
_bound_accounts := {concat("/", [object.get(subject, "namespace", lib.namespace(binding)), subject.name]): true |
	some binding in lib.objects
	binding.kind in {"RoleBinding", "ClusterRoleBinding"}
	some subject in object.get(binding, "subjects", [])
	subject.kind == "ServiceAccount"
}

findings contains lib.finding("SEC-011", w.id, msg) if {
	some w in lib.workloads
	w.spec.automountServiceAccountToken == true
	not _bound_accounts[concat("/", [w.namespace, object.get(w.spec, "serviceAccountName", "default")])]
	msg := concat("", [w.path, ".spec.automountServiceAccountToken is true; set it to false"])
}

findings contains lib.finding("SEC-011", w.id, msg) if {
	some w in lib.workloads
	spec := w.spec
	not is_boolean(spec.automountServiceAccountToken)
	account := object.get(spec, "serviceAccountName", "default")
	not _accounts_without_token[concat("/", [w.namespace, account])]
	not _bound_accounts[concat("/", [w.namespace, account])]
	msg := concat("", [w.path, ".spec mounts the token of ServiceAccount ", account, "; set automountServiceAccountToken: false on the pod or on a ServiceAccount of this env it names"])
}

# "namespace/name" of the ServiceAccounts that turn the token off, built once for all pods.
_accounts_without_token := {concat("/", [lib.namespace(obj), lib.name(obj)]): true |
	some obj in lib.objects
	obj.kind == "ServiceAccount"
	obj.automountServiceAccountToken == false
}

findings contains lib.finding("SEC-012", w.id, msg) if {
	some w in lib.workloads
	some entry in w.containers
	some i, var in object.get(entry.container, "env", [])
	regex.match(config.secret_name_pattern, lower(var.name))
	is_string(var.value)
	var.value != ""
	msg := concat("", [entry.path, ".env", lib.index(i), " (", var.name, ") holds a literal credential; take it from a Secret with valueFrom.secretKeyRef"])
}

findings contains lib.finding("SEC-012", w.id, msg) if {
	some w in lib.workloads
	some entry in w.containers
	some i, var in object.get(entry.container, "env", [])
	is_string(var.value)
	regex.match(config.url_credentials_pattern, var.value)
	msg := concat("", [entry.path, ".env", lib.index(i), " (", var.name, ") embeds a password in a URL; build the URL from a Secret with valueFrom.secretKeyRef"])
}

findings contains lib.finding("SEC-013", obj, msg) if {
	some obj in lib.objects
	obj.kind == "ConfigMap"
	some key, _ in object.get(obj, "data", {})
	regex.match(config.secret_name_pattern, lower(key))
	msg := concat("", ["data.", key, " is named like a credential; move it to a Secret delivered by an ExternalSecret"])
}

findings contains lib.finding("SEC-013", obj, msg) if {
	some obj in lib.objects
	obj.kind == "ConfigMap"
	some key, value in object.get(obj, "data", {})
	regex.match(config.url_credentials_pattern, value)
	msg := concat("", ["data.", key, " embeds a password in a URL; move it to a Secret delivered by an ExternalSecret"])
}

# Secret values never live in git: Secrets are produced in the cluster (ExternalSecret, SealedSecret).
findings contains lib.finding("SEC-014", obj, msg) if {
	some obj in lib.objects
	obj.kind == "Secret"
	some field in ["data", "stringData"]
	count(object.get(obj, field, {})) > 0
	msg := concat("", [field, " carries secret values in git; deliver them with an ExternalSecret instead"])
}
