# Small compliant objects the policy tests start from: each test changes one thing with object.union
# (which merges nested objects) or json.remove, so what a test breaks is all it states.
package votingplatform.tests.fixtures

import rego.v1

# The env data votectl passes (`votingplatform.env`, from gitops/promotion.yaml).
dev := {"name": "dev", "pinned_images": false, "production": false}

staging := {"name": "staging", "pinned_images": true, "production": false}

prod := {"name": "prod", "pinned_images": true, "production": true}

# The policy IDs of a set of findings: tests compare whole sets, so an extra finding fails them too.
ids(findings) := {f.policy | some f in findings}

digest := "sha256:1111111111111111111111111111111111111111111111111111111111111111"

image := concat("@", ["ghcr.io/votingplatform/vote", digest])

labels := {"app.kubernetes.io/name": "web", "app.kubernetes.io/part-of": "voting-platform"}

# A container that passes every container rule (its pod supplies runAsNonRoot, runAsUser and seccomp).
container := {
	"name": "web",
	"image": image,
	"ports": [{"name": "http", "containerPort": 5000}],
	"securityContext": {
		"readOnlyRootFilesystem": true,
		"allowPrivilegeEscalation": false,
		"capabilities": {"drop": ["ALL"]},
	},
	"resources": {
		"requests": {"cpu": "100m", "memory": "128Mi"},
		"limits": {"cpu": "200m", "memory": "256Mi"},
	},
	"livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}},
	"readinessProbe": {"httpGet": {"path": "/readyz", "port": "http"}},
}

pod_spec := {
	"automountServiceAccountToken": false,
	"securityContext": {"runAsNonRoot": true, "runAsUser": 10001, "seccompProfile": {"type": "RuntimeDefault"}},
	"containers": [container],
	"volumes": [{"name": "tmp", "emptyDir": {}}],
}

# A compliant two-replica Deployment voting-prod/web whose pod spec is merged with `patch`.
deployment(patch) := deployment_of(object.union(pod_spec, patch))

# The Deployment with exactly the pod spec `pod` (to drop a field the compliant pod sets).
deployment_of(pod) := {
	"apiVersion": "apps/v1",
	"kind": "Deployment",
	"metadata": {"name": "web", "namespace": "voting-prod", "labels": labels},
	"spec": {
		"replicas": 2,
		"selector": {"matchLabels": {"app.kubernetes.io/name": "web"}},
		"template": {"metadata": {"labels": labels}, "spec": pod},
	},
}

# The Deployment with its only container merged with `patch`.
web(patch) := deployment({"containers": [object.union(container, patch)]})

# The Deployment with its only container minus the fields at `paths` (json.remove paths, e.g. "resources/limits").
web_without(paths) := deployment({"containers": [json.remove(container, paths)]})

# The Deployment with one more container (e.g. an init container) in `field`.
web_with(field, extra) := deployment({field: [object.union(container, object.union({"name": "extra"}, extra))]})

# Namespace-wide default deny: no pod talks or is reached unless a further policy allows it.
deny_all := {
	"apiVersion": "networking.k8s.io/v1",
	"kind": "NetworkPolicy",
	"metadata": {"name": "default-deny", "namespace": "voting-prod"},
	"spec": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
}

# A ClusterIP Service voting-prod/web selecting the Deployment's pods, merged with `patch`.
service(patch) := object.union(
	{
		"apiVersion": "v1",
		"kind": "Service",
		"metadata": {"name": "web", "namespace": "voting-prod", "labels": labels},
		"spec": {"selector": {"app.kubernetes.io/name": "web"}, "ports": [{"port": 80, "targetPort": "http"}]},
	},
	patch,
)

# A budget voting-prod/web over the Deployment's pods with the given spec fields.
pdb(spec) := {
	"apiVersion": "policy/v1",
	"kind": "PodDisruptionBudget",
	"metadata": {"name": "web", "namespace": "voting-prod"},
	"spec": object.union({"selector": {"matchLabels": {"app.kubernetes.io/name": "web"}}}, spec),
}

# The exemption annotations of policy.votingplatform.io, on `obj`.
exempt(obj, policies, reason, until) := object.union(obj, {"metadata": {"annotations": {
	"policy.votingplatform.io/exempt": policies,
	"policy.votingplatform.io/exempt-reason": reason,
	"policy.votingplatform.io/exempt-until": until,
}}})
