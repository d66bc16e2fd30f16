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

# The pod-level value counts even where every container overrides it: Pod Security refuses the pod.
findings contains lib.finding("SEC-001", w.id, msg) if {
	some w in lib.workloads
	w.spec.securityContext.runAsUser == 0
	msg := concat("", [w.path, ".spec.securityContext.runAsUser is 0 (root); set a non-zero runAsUser"])
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

findings contains lib.finding("SEC-008", w.id, msg) if {
	some w in lib.workloads
	profile := w.spec.securityContext.seccompProfile.type
	not profile in config.pod_security_profile_types
	msg := concat("", [w.path, ".spec.securityContext.seccompProfile.type is ", profile, "; Pod Security restricted refuses the pod even where containers override it: use RuntimeDefault"])
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
	not is_boolean(object.get(spec, "automountServiceAccountToken", null)) # object.get: OPA hoists call args out of `not`
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

# Pod Security "restricted" fields beyond the ones above: the namespace refuses such pods outright.
findings contains lib.finding("SEC-015", w.id, msg) if {
	some w in lib.workloads
	some sysctl in object.get(w.spec, ["securityContext", "sysctls"], [])
	not sysctl.name in config.pod_security_sysctls
	msg := concat("", [w.path, ".spec.securityContext.sysctls sets ", sysctl.name, ", which Pod Security forbids; remove it"])
}

findings contains lib.finding("SEC-015", w.id, msg) if {
	some w in lib.workloads
	some where, context in _security_contexts(w)
	profile := context.appArmorProfile.type
	not profile in config.pod_security_profile_types
	msg := concat("", [where, ".securityContext.appArmorProfile.type is ", profile, "; use RuntimeDefault"])
}

findings contains lib.finding("SEC-015", w.id, msg) if {
	some w in lib.workloads
	some key, value in w.annotations
	startswith(key, "container.apparmor.security.beta.kubernetes.io/")
	value != "runtime/default"
	not startswith(value, "localhost/")
	msg := concat("", [w.path, ".metadata.annotations[", key, "] is ", value, "; use runtime/default"])
}

findings contains lib.finding("SEC-015", w.id, msg) if {
	some w in lib.workloads
	some where, context in _security_contexts(w)
	options := context.seLinuxOptions
	_selinux_forbidden(options)
	msg := concat("", [where, ".securityContext.seLinuxOptions sets a type, user or role Pod Security forbids; remove it"])
}

findings contains lib.finding("SEC-015", w.id, msg) if {
	some w in lib.workloads
	some entry in w.containers
	mount := entry.container.securityContext.procMount
	mount != "Default"
	msg := concat("", [entry.path, ".securityContext.procMount is ", mount, "; remove it (Default)"])
}

findings contains lib.finding("SEC-015", w.id, msg) if {
	some w in lib.workloads
	some where, context in _security_contexts(w)
	context.windowsOptions.hostProcess == true
	msg := concat("", [where, ".securityContext.windowsOptions.hostProcess is true; remove it"])
}

# path -> securityContext, for the pod and for each of its containers (as written, not merged).
_security_contexts(w) := object.union(
	{concat("", [w.path, ".spec"]): w.spec.securityContext | is_object(w.spec.securityContext)},
	{entry.path: entry.container.securityContext | some entry in w.containers; is_object(entry.container.securityContext)},
)

_selinux_forbidden(options) if not object.get(options, "type", "") in config.pod_security_selinux_types

_selinux_forbidden(options) if object.get(options, "user", "") != ""

_selinux_forbidden(options) if object.get(options, "role", "") != ""
