//go:build tools

// The kustomize main package is in the required module; this import keeps its dependencies in go.sum.
package tools

import _ "sigs.k8s.io/kustomize/kustomize/v5"
