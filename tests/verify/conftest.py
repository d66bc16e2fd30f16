"""Fixtures of the verify gate tests: the CRD schema directory and the rendered fixture overlays."""

from __future__ import annotations

from pathlib import Path

import pytest
from votectl.render import render_dirs
from votectl.verify.schemas import SchemaStore

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture(scope="session")
def store(crd_schema_dir: Path) -> SchemaStore:
    return SchemaStore(crd_schema_dir)


@pytest.fixture(scope="session")
def rendered_fixtures() -> dict[str, list[dict]]:
    """Every fixture overlay rendered once, concurrently, by the real kubectl kustomize."""
    dirs = sorted(path for path in FIXTURES.iterdir() if (path / "kustomization.yaml").is_file())
    return {path.name: objects for path, objects in zip(dirs, render_dirs(dirs), strict=True)}
