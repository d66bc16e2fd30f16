"""The local Kubernetes control plane of real engines (votectl cluster) and the client that talks to it."""
