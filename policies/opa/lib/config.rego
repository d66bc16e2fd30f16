# Settings the policies read: the values that are decisions, kept in one place.
package votingplatform.config

import rego.v1

# Image sources we build or vetted. Our images come from our GHCR org; third-party images are listed
# repository by repository (not registry-wide) so a new upstream image is a reviewed change here.
allowed_image_prefixes := [
	"ghcr.io/votingplatform/",
	"docker.io/library/redis:",
	"docker.io/library/redis@",
	"ghcr.io/cloudnative-pg/postgresql:",
	"ghcr.io/cloudnative-pg/postgresql@",
	"docker.io/curlimages/curl:",
	"docker.io/curlimages/curl@",
]

# Volume types a pod may mount: config, secrets, scratch space and claimed storage. hostPath is refused
# by its own policy (SEC-009).
allowed_volume_types := {
	"configMap", "secret", "emptyDir", "projected", "downwardAPI", "persistentVolumeClaim", "ephemeral",
}

# Labels every workload and Service carries (Kubernetes recommended labels), on the object and on the
# pod template so metrics and logs can be grouped by them.
required_labels := ["app.kubernetes.io/name", "app.kubernetes.io/part-of"]

# Minimum running replicas in production envs (after autoscaler minimums): two survive a node loss; vote takes the
# user traffic and keeps three so a canary pod is never a third of the capacity.
production_min_replicas := {"default": 2, "vote": 3}

# Services declared to be reachable from outside the cluster ("namespace/name"). None: traffic enters
# through the nginx Ingress only.
exposed_services := set()

# What every nginx Ingress must say so that slow or greedy clients wait at the edge, not in gunicorn
# (NET-005, docs/architecture.md): annotation (after nginx.ingress.kubernetes.io/) -> what its value must be.
# "on" is that exact value; "limit" a positive whole number (0 or none means no limit to ingress-nginx);
# "size" a body size such as 8k or 1m, not 0 (which turns the size check off).
ingress_client_protection := {
	"proxy-request-buffering": "on",
	"proxy-body-size": "size",
	"limit-connections": "limit",
	"limit-rps": "limit",
	"proxy-read-timeout": "limit",
	"proxy-send-timeout": "limit",
}

# Env literal and ConfigMap key names that hold credentials (matched lowercased: regopy has no (?i)).
# Their value must come from a Secret (valueFrom).
secret_name_pattern := `(password|passwd|secret|token|api_?key|private_?key|credential)`

# Credentials embedded in a URL (scheme://user:password@host).
url_credentials_pattern := `[a-zA-Z][a-zA-Z0-9+.-]*://[^/\s:@]+:[^/\s@]+@`

# What Pod Security "restricted" (the level our namespaces enforce) still allows; anything else set in a
# pod's securityContext is refused when the pod is created.
pod_security_sysctls := {
	"kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_local_reserved_ports",
	"net.ipv4.ip_unprivileged_port_start", "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range",
	"net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
	"net.ipv4.tcp_keepalive_probes",
}

pod_security_selinux_types := {"", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"}

pod_security_profile_types := {"RuntimeDefault", "Localhost"}
