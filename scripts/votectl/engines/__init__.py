"""The real engines built from pinned Go modules: catalog, builds, and the CRDs the modules carry."""
