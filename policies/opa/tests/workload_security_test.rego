# SEC-*: each rule fires on the one field a test breaks and stays quiet on the compliant fixture.
package votingplatform.tests.workload_security

import rego.v1

import data.votingplatform.policies.workload_security as ws
import data.votingplatform.tests.fixtures as fx

test_compliant_deployment_passes if {
	fx.ids(ws.findings) == set() with input as [fx.web({})]
}

# SEC-001

test_sec_001_fires_when_the_container_overrides_run_as_non_root if {
	fx.ids(ws.findings) == {"SEC-001"} with input as [fx.web({"securityContext": {"runAsNonRoot": false}})]
}

test_sec_001_fires_for_run_as_user_0 if {
	fx.ids(ws.findings) == {"SEC-001"} with input as [fx.web({"securityContext": {"runAsUser": 0}})]
}

test_sec_001_fires_for_an_init_container_and_names_it if {
	some finding in ws.findings with input as [fx.web_with("initContainers", {"securityContext": {"runAsNonRoot": false}})]
	finding.policy == "SEC-001"
	startswith(finding.detail, "spec.template.spec.initContainers[0].securityContext.runAsNonRoot")
}

test_sec_001_passes_when_set_on_the_container_only if {
	pod := object.union(fx.pod_spec, {
		"securityContext": {"runAsNonRoot": false},
		"containers": [object.union(fx.container, {"securityContext": {"runAsNonRoot": true}})],
	})
	fx.ids(ws.findings) == set() with input as [fx.deployment(pod)]
}

# SEC-002

test_sec_002_fires_for_a_writable_root_filesystem if {
	fx.ids(ws.findings) == {"SEC-002"} with input as [fx.web({"securityContext": {"readOnlyRootFilesystem": false}})]
}

test_sec_002_passes_for_a_read_only_root_filesystem if {
	fx.ids(ws.findings) == set() with input as [fx.web({"securityContext": {"readOnlyRootFilesystem": true}})]
}

# SEC-003

test_sec_003_fires_when_all_is_not_dropped if {
	fx.ids(ws.findings) == {"SEC-003"} with input as [fx.web({"securityContext": {"capabilities": {"drop": ["NET_RAW"]}}})]
}

test_sec_003_fires_for_an_added_capability if {
	fx.ids(ws.findings) == {"SEC-003"} with input as [fx.web({"securityContext": {"capabilities": {"add": ["NET_BIND_SERVICE"]}}})]
}

test_sec_003_passes_with_all_dropped_and_an_empty_add if {
	fx.ids(ws.findings) == set() with input as [fx.web({"securityContext": {"capabilities": {"drop": ["ALL"], "add": []}}})]
}

# SEC-004

test_sec_004_fires_when_privilege_escalation_is_allowed if {
	fx.ids(ws.findings) == {"SEC-004"} with input as [fx.web({"securityContext": {"allowPrivilegeEscalation": true}})]
}

test_sec_004_passes_when_escalation_is_off_on_the_pod_level if {
	# allowPrivilegeEscalation is a container field, but the effective context merges the pod's first.
	pod := object.union(fx.pod_spec, {"securityContext": {"allowPrivilegeEscalation": false}})
	fx.ids(ws.findings) == set() with input as [fx.deployment(pod)]
}

# SEC-005

test_sec_005_fires_for_a_privileged_container if {
	fx.ids(ws.findings) == {"SEC-005"} with input as [fx.web({"securityContext": {"privileged": true}})]
}

test_sec_005_passes_for_privileged_false if {
	fx.ids(ws.findings) == set() with input as [fx.web({"securityContext": {"privileged": false}})]
}

# SEC-006

test_sec_006_fires_for_host_network if {
	fx.ids(ws.findings) == {"SEC-006"} with input as [fx.deployment({"hostNetwork": true})]
}

test_sec_006_fires_for_host_pid if {
	fx.ids(ws.findings) == {"SEC-006"} with input as [fx.deployment({"hostPID": true})]
}

test_sec_006_passes_for_host_namespaces_set_false if {
	fx.ids(ws.findings) == set() with input as [fx.deployment({"hostNetwork": false, "hostPID": false, "hostIPC": false})]
}

# SEC-007

test_sec_007_fires_for_a_host_port if {
	fx.ids(ws.findings) == {"SEC-007"} with input as [fx.web({"ports": [{"containerPort": 5000, "hostPort": 5000}]})]
}

test_sec_007_passes_for_a_container_port if {
	fx.ids(ws.findings) == set() with input as [fx.web({"ports": [{"containerPort": 5000}]})]
}

# SEC-008

test_sec_008_fires_for_an_unconfined_container if {
	fx.ids(ws.findings) == {"SEC-008"} with input as [fx.web({"securityContext": {"seccompProfile": {"type": "Unconfined"}}})]
}

test_sec_008_fires_without_any_profile if {
	pod := json.remove(fx.pod_spec, ["securityContext/seccompProfile"])
	fx.ids(ws.findings) == {"SEC-008"} with input as [fx.deployment_of(pod)]
}

test_sec_008_passes_for_runtime_default_on_the_pod if {
	fx.ids(ws.findings) == set() with input as [fx.web({})]
}

# SEC-009 and SEC-010

test_sec_009_fires_for_a_host_path_volume if {
	# hostPath is SEC-009's alone: SEC-010 does not report it a second time.
	fx.ids(ws.findings) == {"SEC-009"} with input as [fx.deployment({"volumes": [{"name": "node", "hostPath": {"path": "/var/run"}}]})]
}

test_sec_009_passes_for_an_empty_dir if {
	fx.ids(ws.findings) == set() with input as [fx.deployment({"volumes": [{"name": "scratch", "emptyDir": {}}]})]
}

test_sec_010_fires_for_an_nfs_volume if {
	fx.ids(ws.findings) == {"SEC-010"} with input as [fx.deployment({"volumes": [{"name": "share", "nfs": {"server": "nas", "path": "/"}}]})]
}

test_sec_010_passes_for_allowed_volume_types if {
	volumes := [
		{"name": "config", "configMap": {"name": "web"}},
		{"name": "creds", "secret": {"secretName": "web"}},
		{"name": "data", "persistentVolumeClaim": {"claimName": "web"}},
		{"name": "token", "projected": {"sources": []}},
	]
	fx.ids(ws.findings) == set() with input as [fx.deployment({"volumes": volumes})]
}

# SEC-011

_account(fields) := object.union({"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "web", "namespace": "voting-prod"}}, fields)

_binding := {
	"apiVersion": "rbac.authorization.k8s.io/v1",
	"kind": "RoleBinding",
	"metadata": {"name": "web", "namespace": "voting-prod"},
	"roleRef": {"kind": "Role", "name": "reader"},
	"subjects": [{"kind": "ServiceAccount", "name": "web"}],
}

# A pod of ServiceAccount web that leaves the token to its account unless `fields` say otherwise.
_pod_of_account(fields) := fx.deployment_of(object.union(
	object.remove(fx.pod_spec, ["automountServiceAccountToken"]),
	object.union({"serviceAccountName": "web"}, fields),
))

test_sec_011_fires_for_an_account_that_mounts_its_token if {
	fx.ids(ws.findings) == {"SEC-011"} with input as [_account({})]
}

test_sec_011_passes_for_an_account_without_token if {
	fx.ids(ws.findings) == set() with input as [_account({"automountServiceAccountToken": false})]
}

test_sec_011_passes_for_an_account_a_role_binding_grants_to if {
	fx.ids(ws.findings) == set() with input as [_account({}), _binding, _pod_of_account({"automountServiceAccountToken": true})]
}

test_sec_011_fires_for_a_pod_that_turns_the_token_on if {
	fx.ids(ws.findings) == {"SEC-011"} with input as [_account({"automountServiceAccountToken": false}), _pod_of_account({"automountServiceAccountToken": true})]
}

test_sec_011_fires_for_a_pod_whose_account_keeps_the_token if {
	# the pod's own finding only: the account is named by no ServiceAccount object of the input
	fx.ids(ws.findings) == {"SEC-011"} with input as [_pod_of_account({})]
}

test_sec_011_passes_for_a_pod_whose_account_turns_the_token_off if {
	fx.ids(ws.findings) == set() with input as [_account({"automountServiceAccountToken": false}), _pod_of_account({})]
}

# SEC-012

test_sec_012_fires_for_a_literal_password if {
	fx.ids(ws.findings) == {"SEC-012"} with input as [fx.web({"env": [{"name": "REDIS_PASSWORD", "value": "hunter2"}]})]
}

test_sec_012_fires_for_a_lowercase_api_key if {
	fx.ids(ws.findings) == {"SEC-012"} with input as [fx.web({"env": [{"name": "stripe_apikey", "value": "sk_live"}]})]
}

test_sec_012_fires_for_a_password_in_a_url if {
	fx.ids(ws.findings) == {"SEC-012"} with input as [fx.web({"env": [{"name": "DATABASE_URL", "value": "postgres://vote:s3cret@db:5432/votes"}]})]
}

test_sec_012_passes_for_values_from_secrets_and_urls_without_credentials if {
	env := [
		{"name": "REDIS_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "redis", "key": "password"}}},
		{"name": "TOKEN_TTL", "value": ""},
		{"name": "DATABASE_URL", "value": "postgres://db:5432/votes"},
	]
	fx.ids(ws.findings) == set() with input as [fx.web({"env": env})]
}

# SEC-013

_config_map(entries) := {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "web", "namespace": "voting-prod"}, "data": entries}

test_sec_013_fires_for_a_credential_key if {
	fx.ids(ws.findings) == {"SEC-013"} with input as [_config_map({"API_KEY": "x"})]
}

test_sec_013_fires_for_a_password_in_a_url_value if {
	fx.ids(ws.findings) == {"SEC-013"} with input as [_config_map({"redis": "redis://default:s3cret@redis:6379"})]
}

test_sec_013_passes_for_plain_settings if {
	fx.ids(ws.findings) == set() with input as [_config_map({"VOTE_OPTIONS": "Cats,Dogs", "REDIS_URL": "redis://redis:6379"})]
}

# SEC-014

_secret(fields) := object.union({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "web", "namespace": "voting-prod"}}, fields)

test_sec_014_fires_for_secret_data if {
	fx.ids(ws.findings) == {"SEC-014"} with input as [_secret({"data": {"password": "aHVudGVyMg=="}})]
}

test_sec_014_fires_for_string_data if {
	fx.ids(ws.findings) == {"SEC-014"} with input as [_secret({"stringData": {"password": "hunter2"}})]
}

test_sec_014_passes_for_a_secret_without_values if {
	fx.ids(ws.findings) == set() with input as [_secret({"type": "Opaque"})]
}

# The pod-level runAsUser and seccomp type count even where each container overrides them.

test_sec_001_fires_for_a_root_pod_whose_containers_override_the_user if {
	pod := object.union(fx.pod_spec, {
		"securityContext": {"runAsUser": 0},
		"containers": [object.union(fx.container, {"securityContext": {"runAsUser": 10001}})],
	})
	fx.ids(ws.findings) == {"SEC-001"} with input as [fx.deployment(pod)]
}

test_sec_008_fires_for_an_unconfined_pod_whose_containers_override_it if {
	pod := object.union(fx.pod_spec, {
		"securityContext": {"seccompProfile": {"type": "Unconfined"}},
		"containers": [object.union(fx.container, {"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}})],
	})
	fx.ids(ws.findings) == {"SEC-008"} with input as [fx.deployment(pod)]
}

test_sec_008_passes_for_a_localhost_pod_profile_with_runtime_default_containers if {
	pod := object.union(fx.pod_spec, {
		"securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "web.json"}},
		"containers": [object.union(fx.container, {"securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}})],
	})
	fx.ids(ws.findings) == set() with input as [fx.deployment(pod)]
}

# SEC-015: what else Pod Security "restricted" refuses.

test_sec_015_fires_for_an_unsafe_sysctl if {
	fx.ids(ws.findings) == {"SEC-015"} with input as [fx.deployment({"securityContext": {"sysctls": [{"name": "kernel.msgmax", "value": "65536"}]}})]
}

test_sec_015_passes_for_a_safe_sysctl if {
	sysctls := [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "80"}]
	fx.ids(ws.findings) == set() with input as [fx.deployment({"securityContext": {"sysctls": sysctls}})]
}

test_sec_015_fires_for_an_unconfined_app_armor_profile if {
	fx.ids(ws.findings) == {"SEC-015"} with input as [fx.web({"securityContext": {"appArmorProfile": {"type": "Unconfined"}}})]
}

test_sec_015_passes_for_the_runtime_default_app_armor_profile if {
	fx.ids(ws.findings) == set() with input as [fx.web({"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}})]
}

_apparmor_annotated(value) := object.union(fx.web({}), {"spec": {"template": {"metadata": {"annotations": {"container.apparmor.security.beta.kubernetes.io/web": value}}}}})

test_sec_015_fires_for_an_unconfined_app_armor_annotation if {
	fx.ids(ws.findings) == {"SEC-015"} with input as [_apparmor_annotated("unconfined")]
}

test_sec_015_passes_for_a_localhost_app_armor_annotation if {
	fx.ids(ws.findings) == set() with input as [_apparmor_annotated("localhost/web")]
}

test_sec_015_fires_for_a_forbidden_se_linux_type if {
	fx.ids(ws.findings) == {"SEC-015"} with input as [fx.deployment({"securityContext": {"seLinuxOptions": {"type": "spc_t"}}})]
}

test_sec_015_fires_for_a_se_linux_user if {
	fx.ids(ws.findings) == {"SEC-015"} with input as [fx.web({"securityContext": {"seLinuxOptions": {"user": "system_u"}}})]
}

test_sec_015_passes_for_the_container_se_linux_type if {
	fx.ids(ws.findings) == set() with input as [fx.web({"securityContext": {"seLinuxOptions": {"type": "container_t", "level": "s0:c1,c2"}}})]
}

test_sec_015_fires_for_an_unmasked_proc_mount if {
	fx.ids(ws.findings) == {"SEC-015"} with input as [fx.web({"securityContext": {"procMount": "Unmasked"}})]
}

test_sec_015_passes_for_the_default_proc_mount if {
	fx.ids(ws.findings) == set() with input as [fx.web({"securityContext": {"procMount": "Default"}})]
}

test_sec_015_fires_for_a_windows_host_process if {
	fx.ids(ws.findings) == {"SEC-015"} with input as [fx.deployment({"securityContext": {"windowsOptions": {"hostProcess": true}}})]
}
