//go:build tools

// The argocd main package is in the required module; this import keeps it (and its dependencies) in go.sum.
package tools

import _ "github.com/argoproj/argo-cd/v3/cmd"
