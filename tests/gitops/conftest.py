"""The envs and the Argo CD folder rendered once per session by the pinned kustomize."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from votectl.render import ENVS, render_dirs, render_envs
from votectl.verify.schemas import CRD_SCHEMA_ENV, SchemaStore

SHARED_SCHEMAS = Path("/work/shared/crd-schemas")
ARGOCD_DIR = Path(__file__).resolve().parents[2] / "gitops" / "argocd"


@pytest.fixture(scope="session")
def rendered() -> dict[str, list[dict]]:
    return render_envs(ENVS)


@pytest.fixture(scope="session")
def argocd() -> list[dict]:
    return render_dirs([ARGOCD_DIR])[0]


@pytest.fixture(scope="session")
def schema_store() -> SchemaStore:
    """CRD_SCHEMA_DIR as CI sets it, else the shared copy; skip with the reason when neither exists."""
    configured = os.environ.get(CRD_SCHEMA_ENV)
    path = Path(configured) if configured else SHARED_SCHEMAS
    if not path.is_dir():
        pytest.skip(f"no CRD schemas: set {CRD_SCHEMA_ENV} or run `make crd-schemas` ({path} missing)")
    return SchemaStore(path)
