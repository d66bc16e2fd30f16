// Not built: pins the operator modules whose CRDs the platform uses. `votectl engines crds` takes the CRD
// YAMLs out of these module zips (verified against go.sum), installs them into the local control plane and
// generates the offline gate's schemas (engines/crd-schemas) from them. Versions match what the clusters run.
module votingplatform.local/engines/crds

go 1.26.0

require (
	github.com/argoproj/argo-cd/v3 v3.2.11
	github.com/argoproj/argo-rollouts v1.9.1
	github.com/cloudnative-pg/cloudnative-pg v1.27.0
	github.com/external-secrets/external-secrets v0.16.2
	github.com/kedacore/keda/v2 v2.21.0
	github.com/prometheus-operator/prometheus-operator v0.85.0
	github.com/tektoncd/pipeline v1.15.0
	github.com/tektoncd/triggers v0.37.0
)
