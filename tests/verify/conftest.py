"""Fixtures of the verify gate tests: the CRD schema directory and the rendered fixture overlays."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from votectl.render import render_dirs
from votectl.verify.schemas import CRD_SCHEMA_ENV, SchemaStore

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_SCHEMAS = Path("/work/shared/crd-schemas")


@pytest.fixture(scope="session")
def crd_dir() -> Path:
    """CRD_SCHEMA_DIR as CI sets it, else the shared copy on dev machines; otherwise skip with the why."""
    configured = os.environ.get(CRD_SCHEMA_ENV)
    path = Path(configured) if configured else SHARED_SCHEMAS
    if not path.is_dir():
        pytest.skip(f"no CRD schemas: set {CRD_SCHEMA_ENV} or run `make crd-schemas` ({path} missing)")
    return path.resolve()


@pytest.fixture(scope="session")
def store(crd_dir: Path) -> SchemaStore:
    return SchemaStore(crd_dir)


@pytest.fixture(scope="session")
def rendered_fixtures() -> dict[str, list[dict]]:
    """Every fixture overlay rendered once, concurrently, by the real kubectl kustomize."""
    dirs = sorted(path for path in FIXTURES.iterdir() if (path / "kustomization.yaml").is_file())
    return {path.name: objects for path, objects in zip(dirs, render_dirs(dirs), strict=True)}
